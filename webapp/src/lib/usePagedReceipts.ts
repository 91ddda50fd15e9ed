import { useCallback, useEffect, useState } from 'react'
import { useApi } from '../api/context'
import type { Receipt, ReceiptFilters } from '../api/types'

export interface PagedReceipts {
  items: Receipt[]
  loading: boolean
  error: unknown
  hasMore: boolean
  loadMore: () => void
  reload: () => void
}

interface Request {
  key: string
  cursor: string | null
  nonce: number
}

interface Result {
  key: string
  items: Receipt[]
  next: string | null
  error: unknown
  doneFor: string | null
}

/** Receipts for the filters, one page at a time, following next_cursor ("load more"). */
export function usePagedReceipts(filters: ReceiptFilters, pageSize = 25, enabled = true): PagedReceipts {
  const api = useApi()
  const key = JSON.stringify(filters)
  const [req, setReq] = useState<Request>({ key, cursor: null, nonce: 0 })
  // New filters start again from the first page.
  const cursor = req.key === key ? req.cursor : null
  const nonce = req.key === key ? req.nonce : 0
  const reqId = `${key}\n${cursor ?? ''}\n${nonce}`
  const [res, setRes] = useState<Result>({ key, items: [], next: null, error: null, doneFor: null })

  useEffect(() => {
    if (!enabled) return
    const ctrl = new AbortController()
    api.listReceipts(JSON.parse(key) as ReceiptFilters, cursor, pageSize, ctrl.signal).then(
      (page) => {
        if (ctrl.signal.aborted) return
        setRes((prev) => {
          const base = prev.key === key && cursor ? prev.items : []
          const seen = new Set(base.map((r) => r.receipt_id))
          return { key, items: [...base, ...page.items.filter((r) => !seen.has(r.receipt_id))], next: page.next_cursor, error: null, doneFor: reqId }
        })
      },
      (error: unknown) => {
        if (ctrl.signal.aborted) return
        setRes((prev) => (prev.key === key ? { ...prev, error, doneFor: reqId } : { key, items: [], next: null, error, doneFor: reqId }))
      },
    )
    return () => ctrl.abort()
  }, [api, key, cursor, pageSize, enabled, reqId])

  const current = res.key === key
  const next = current ? res.next : null
  const done = res.doneFor === reqId
  const loadMore = useCallback(() => {
    if (next) setReq((r) => ({ key, cursor: next, nonce: (r.key === key ? r.nonce : 0) + 1 }))
  }, [key, next])
  const reload = useCallback(() => setReq((r) => ({ key, cursor: null, nonce: (r.key === key ? r.nonce : 0) + 1 })), [key])

  return {
    items: current ? res.items : [],
    loading: enabled && !done,
    error: done ? res.error : null,
    hasMore: done && !res.error && !!next,
    loadMore,
    reload,
  }
}
