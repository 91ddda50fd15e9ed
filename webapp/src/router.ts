// A tiny hash router: #/path?query. Hash URLs need no rewrite rules on S3/CloudFront
// or the local static server.
import { useEffect, useState } from 'react'

export interface Location {
  path: string
  query: URLSearchParams
}

export function parseHash(hash: string): Location {
  const raw = hash.replace(/^#/, '') || '/'
  const [p, q = ''] = raw.split('?', 2)
  const path = '/' + p.replace(/^\/+/, '').replace(/\/+$/, '')
  return { path, query: new URLSearchParams(q) }
}

export function useLocation(): Location {
  const [hash, setHash] = useState(() => window.location.hash)
  useEffect(() => {
    const on = () => setHash(window.location.hash)
    window.addEventListener('hashchange', on)
    return () => window.removeEventListener('hashchange', on)
  }, [])
  return parseHash(hash)
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const hash = `#${to}`
  if (opts.replace) {
    window.history.replaceState(null, '', hash)
    window.dispatchEvent(new HashChangeEvent('hashchange'))
  } else if (window.location.hash !== hash) {
    window.location.hash = to
  }
}

/** Match "/receipts/:id" against a path; returns params or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const ps = pattern.split('/').filter(Boolean)
  const xs = path.split('/').filter(Boolean)
  if (ps.length !== xs.length) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < ps.length; i++) {
    if (ps[i].startsWith(':')) params[ps[i].slice(1)] = decodeURIComponent(xs[i])
    else if (ps[i] !== xs[i]) return null
  }
  return params
}

export function hrefFor(to: string): string {
  return `#${to}`
}
