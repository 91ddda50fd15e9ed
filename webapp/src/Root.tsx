import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react'
import { Hub } from 'aws-amplify/utils'
import { signOut } from 'aws-amplify/auth'
import { ApiClient } from './api/client'
import type { AppConfig } from './api/types'
import { getIdToken, currentUser, type SignedInUser } from './auth'
import { authFlowFor, isLocal } from './config'
import { App } from './App'
import { Loading } from './components/common'

// The Authenticator (and its stylesheet) is only downloaded when there is no session,
// which keeps it out of the initial bundle for people who are already signed in.
const SignIn = lazy(() => import('./SignIn'))

type State = { kind: 'checking' } | { kind: 'signedOut' } | { kind: 'signedIn'; user: SignedInUser }

export function Root({ config }: { config: AppConfig }) {
  const [state, setState] = useState<State>({ kind: 'checking' })

  useEffect(() => {
    let live = true
    const refresh = () =>
      currentUser().then((user) => {
        if (live) setState(user ? { kind: 'signedIn', user } : { kind: 'signedOut' })
      })
    void refresh()
    const stop = Hub.listen('auth', ({ payload }) => {
      if (payload.event === 'signedIn') void refresh()
      else if (payload.event === 'signedOut' || payload.event === 'tokenRefresh_failure') setState({ kind: 'signedOut' })
    })
    return () => {
      live = false
      stop()
    }
  }, [])

  const api = useMemo(() => new ApiClient({ base: config.apiBase, getToken: getIdToken }), [config.apiBase])

  const onSignOut = useCallback(async () => {
    try {
      await signOut()
    } finally {
      setState({ kind: 'signedOut' })
    }
  }, [])

  if (state.kind === 'checking') {
    return (
      <main className="centered">
        <Loading label="Starting…" />
      </main>
    )
  }
  if (state.kind === 'signedOut') {
    return (
      <Suspense
        fallback={
          <main className="centered">
            <Loading label="Loading sign-in…" />
          </main>
        }
      >
        <SignIn local={isLocal(config)} authFlowType={authFlowFor(config)} />
      </Suspense>
    )
  }
  return <App api={api} user={state.user} environment={config.environment} onSignOut={onSignOut} />
}
