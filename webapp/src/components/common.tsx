import { useRef, type ReactNode } from 'react'
import { errorMessage } from '../api/client'
import type { ReceiptStatus } from '../api/types'
import { STATUS_LABELS } from '../lib/format'
import { useFocusOnNavigate } from '../lib/focus'

export function ProblemAlert({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  if (!error) return null
  return (
    <div className="alert alert-error" role="alert">
      {title && <strong>{title} </strong>}
      <span>{errorMessage(error)}</span>
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  )
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  )
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>
}

export function StatusBadge({ status }: { status: ReceiptStatus }) {
  return (
    <span className={`badge badge-${status.toLowerCase()}`} data-testid="status-badge" data-status={status}>
      {STATUS_LABELS[status] ?? status}
    </span>
  )
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null)
  useFocusOnNavigate(ref)
  return (
    <div className="page-header">
      <h1 tabIndex={-1} ref={ref}>
        {title}
      </h1>
      {children}
    </div>
  )
}
