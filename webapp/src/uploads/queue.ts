import { createContext, useContext } from 'react'
import type { Receipt } from '../api/types'

export type UploadPhase = 'queued' | 'preparing' | 'uploading' | 'processing' | 'done' | 'failed' | 'timeout' | 'cancelled'

export interface UploadItem {
  key: string
  file: File
  name: string
  size: number
  phase: UploadPhase
  percent: number
  receiptId: string | null
  duplicateOf: string | null
  receipt: Receipt | null
  error: string | null
}

export interface UploadQueue {
  items: UploadItem[]
  add: (files: Iterable<File>) => void
  cancel: (key: string) => void
  clearFinished: () => void
  active: number
}

export const UploadContext = createContext<UploadQueue | null>(null)

export function useUploads(): UploadQueue {
  const q = useContext(UploadContext)
  if (!q) throw new Error('useUploads() outside <UploadProvider>')
  return q
}

export const FINISHED: ReadonlySet<UploadPhase> = new Set(['done', 'failed', 'timeout', 'cancelled'])
