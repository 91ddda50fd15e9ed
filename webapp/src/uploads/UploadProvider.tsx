import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import { errorMessage } from '../api/client'
import { useApi } from '../api/context'
import { contentTypeOf, sha256Hex, unsupportedReason, uploadToPresignedPost } from '../api/upload'
import { PollTimeout, pollUntilProcessed } from '../lib/poll'
import { FINISHED, UploadContext, type UploadItem, type UploadQueue } from './queue'

export interface UploadProviderProps {
  children: ReactNode
  /** files uploaded at once */
  concurrency?: number
  pollIntervalMs?: number
  pollTimeoutMs?: number
  createXhr?: () => XMLHttpRequest
}

let seq = 0

/**
 * Holds the upload queue above the pages, so uploads and their processing status carry on
 * while the person moves to another page.
 */
export function UploadProvider({ children, concurrency = 3, pollIntervalMs = 1500, pollTimeoutMs = 120_000, createXhr }: UploadProviderProps) {
  const api = useApi()
  const [items, setItems] = useState<UploadItem[]>([])
  const itemsRef = useRef<UploadItem[]>([])
  const running = useRef(new Map<string, AbortController>())
  const pumpRef = useRef<() => void>(() => {})

  const update = useCallback((key: string, patch: Partial<UploadItem>) => {
    setItems((prev) => {
      const next = prev.map((it) => (it.key === key ? { ...it, ...patch } : it))
      itemsRef.current = next
      return next
    })
  }, [])

  const process = useCallback(
    async (item: UploadItem, ctrl: AbortController) => {
      const { key, file } = item
      try {
        update(key, { phase: 'preparing' })
        const type = contentTypeOf(file)!
        const sha256 = await sha256Hex(file)
        const created = await api.createUpload({ filename: file.name, content_type: type, size_bytes: file.size, ...(sha256 ? { sha256 } : {}) })
        const id = created.receipt.receipt_id
        update(key, { phase: 'uploading', percent: 0, receiptId: id, receipt: created.receipt, duplicateOf: created.duplicate_of ?? created.receipt.duplicate_of ?? null })
        await uploadToPresignedPost(created.upload, file, {
          signal: ctrl.signal,
          createXhr,
          onProgress: (p) => update(key, { percent: p.percent }),
        })
        update(key, { phase: 'processing', percent: 100 })
        const final = await pollUntilProcessed(api, id, {
          intervalMs: pollIntervalMs,
          timeoutMs: pollTimeoutMs,
          signal: ctrl.signal,
          onUpdate: (r) => update(key, { receipt: r, duplicateOf: r.duplicate_of ?? itemsRef.current.find((i) => i.key === key)?.duplicateOf ?? null }),
        })
        update(key, { phase: 'done', receipt: final })
      } catch (err) {
        if ((err as Error).name === 'AbortError') update(key, { phase: 'cancelled', error: 'Cancelled.' })
        else if (err instanceof PollTimeout) update(key, { phase: 'timeout', error: err.message })
        else update(key, { phase: 'failed', error: errorMessage(err) })
      }
    },
    [api, createXhr, pollIntervalMs, pollTimeoutMs, update],
  )

  const pump = useCallback(() => {
    const queued = itemsRef.current.filter((i) => i.phase === 'queued' && !running.current.has(i.key))
    for (const item of queued) {
      if (running.current.size >= concurrency) break
      const ctrl = new AbortController()
      running.current.set(item.key, ctrl)
      void process(item, ctrl).finally(() => {
        running.current.delete(item.key)
        pumpRef.current()
      })
    }
  }, [concurrency, process])
  useEffect(() => {
    pumpRef.current = pump
  }, [pump])

  const add = useCallback(
    (files: Iterable<File>) => {
      const fresh: UploadItem[] = []
      for (const file of files) {
        const type = contentTypeOf(file)
        const reason = unsupportedReason(type)
        fresh.push({
          key: `u${++seq}`,
          file,
          name: file.name,
          size: file.size,
          phase: reason ? 'failed' : 'queued',
          percent: 0,
          receiptId: null,
          duplicateOf: null,
          receipt: null,
          error: reason,
        })
      }
      if (!fresh.length) return
      itemsRef.current = [...fresh, ...itemsRef.current]
      setItems(itemsRef.current)
      pump()
    },
    [pump],
  )

  const cancel = useCallback(
    (key: string) => {
      const ctrl = running.current.get(key)
      if (ctrl) ctrl.abort()
      else if (itemsRef.current.find((i) => i.key === key)?.phase === 'queued') update(key, { phase: 'cancelled', error: 'Cancelled.' })
    },
    [update],
  )

  const clearFinished = useCallback(() => {
    itemsRef.current = itemsRef.current.filter((i) => !FINISHED.has(i.phase))
    setItems(itemsRef.current)
  }, [])

  // Abort everything on sign-out / unmount.
  useEffect(() => {
    const map = running.current
    return () => {
      for (const c of map.values()) c.abort()
    }
  }, [])

  const active = items.filter((i) => !FINISHED.has(i.phase)).length
  const value = useMemo<UploadQueue>(() => ({ items, add, cancel, clearFinished, active }), [items, add, cancel, clearFinished, active])
  return <UploadContext.Provider value={value}>{children}</UploadContext.Provider>
}
