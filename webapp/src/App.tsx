import { lazy, Suspense, useEffect, useRef, useState } from 'react'
import type { ApiClient } from './api/client'
import { ApiContext } from './api/context'
import type { SignedInUser } from './auth'
import { Loading, PageHeader } from './components/common'
import { createHeadingFocus, FocusOnNavigate } from './lib/focus'
import { Link } from './components/Link'
import { matchPath, navigate, useLocation } from './router'
import { UploadProvider } from './uploads/UploadProvider'
import { useUploads } from './uploads/queue'

// Every page loads on demand, so the shell (and the sign-in path) stays small;
// Analytics carries recharts.
const UploadPage = lazy(() => import('./pages/UploadPage').then((m) => ({ default: m.UploadPage })))
const ReceiptsPage = lazy(() => import('./pages/ReceiptsPage').then((m) => ({ default: m.ReceiptsPage })))
const ReceiptDetailPage = lazy(() => import('./pages/ReceiptDetailPage'))
const AnalyticsPage = lazy(() => import('./pages/AnalyticsPage'))
const SettingsPage = lazy(() => import('./pages/SettingsPage'))

const NAV = [
  { to: '/upload', label: 'Upload' },
  { to: '/receipts', label: 'Receipts' },
  { to: '/analytics', label: 'Analytics' },
  { to: '/settings', label: 'Settings' },
]

export interface AppProps {
  api: ApiClient
  user: SignedInUser
  environment?: string
  onSignOut: () => void
}

function Page({ path, query }: { path: string; query: URLSearchParams }) {
  if (path === '/' || path === '/upload') return <UploadPage />
  if (path === '/receipts') return <ReceiptsPage query={query} />
  const detail = matchPath('/receipts/:id', path)
  if (detail) return <ReceiptDetailPage id={detail.id} />
  if (path === '/analytics') return <AnalyticsPage />
  if (path === '/settings') return <SettingsPage />
  return (
    <div>
      <PageHeader title="Page not found" />
      <p>
        There is nothing at <code>{path}</code>. <Link to="/upload">Go to Upload</Link>.
      </p>
    </div>
  )
}

export function App({ api, ...rest }: AppProps) {
  return (
    <ApiContext.Provider value={api}>
      <UploadProvider>
        <Shell {...rest} />
      </UploadProvider>
    </ApiContext.Provider>
  )
}

function Shell({ user, environment, onSignOut }: Omit<AppProps, 'api'>) {
  const { path, query } = useLocation()
  const { active } = useUploads()
  const mainRef = useRef<HTMLElement>(null)
  // Page headings take focus after navigation (not on first load); see lib/focus.ts.
  const [headingFocus] = useState(() => createHeadingFocus(path === '/' ? '/upload' : path))

  useEffect(() => {
    if (path === '/') navigate('/upload', { replace: true })
  }, [path])

  const section = '/' + (path.split('/')[1] ?? '')

  return (
    <>
      <a className="skip-link" href="#main" onClick={(e) => { e.preventDefault(); mainRef.current?.focus() }}>
        Skip to content
      </a>
      <header className="app-header">
        <div className="brand">
          receiptlake
          {environment && environment !== 'prod' && <span className="env-badge">{environment}</span>}
        </div>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.to}>
                <Link to={n.to} aria-current={section === n.to || (n.to === '/upload' && path === '/') ? 'page' : undefined}>
                  {n.label}
                  {n.to === '/upload' && active > 0 && <span className="nav-count"> ({active})</span>}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="user">
          <span className="user-email" title={user.email ?? undefined}>
            {user.email}
          </span>
          <button type="button" className="btn btn-small btn-secondary" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        <FocusOnNavigate.Provider value={headingFocus}>
          <Suspense fallback={<Loading />}>
            <Page path={path} query={query} />
          </Suspense>
        </FocusOnNavigate.Provider>
      </main>
    </>
  )
}
