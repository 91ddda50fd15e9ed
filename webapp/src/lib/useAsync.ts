import { useCallback, useEffect, useState } from 'react'

export interface AsyncState<T> {
  data?: T
  error: unknown
  loading: boolean
  reload: () => void
  setData: (d: T) => void
}

/**
 * Run `load` whenever `key` changes (or on reload), aborting the previous run.
 * `key` stands for everything `load` depends on.
 */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, key: string): AsyncState<T> {
  const [nonce, setNonce] = useState(0)
  const runId = `${key}\n${nonce}`
  const [res, setRes] = useState<{ data?: T; error: unknown; doneFor: string | null }>({ error: null, doneFor: null })

  useEffect(() => {
    const ctrl = new AbortController()
    load(ctrl.signal).then(
      (data) => {
        if (!ctrl.signal.aborted) setRes({ data, error: null, doneFor: runId })
      },
      (error: unknown) => {
        if (!ctrl.signal.aborted) setRes((s) => ({ ...s, error, doneFor: runId }))
      },
    )
    return () => ctrl.abort()
    // `load` is a fresh closure each render; `runId` covers what it reads.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runId])

  const reload = useCallback(() => setNonce((n) => n + 1), [])
  const setData = useCallback((data: T) => setRes((s) => ({ data, error: null, doneFor: s.doneFor })), [])
  const done = res.doneFor === runId
  return { data: res.data, error: done ? res.error : null, loading: !done, reload, setData }
}
