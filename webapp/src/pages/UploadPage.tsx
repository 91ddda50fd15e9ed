import { useEffect, useId, useRef, useState, type DragEvent } from 'react'
import { Empty, PageHeader, StatusBadge } from '../components/common'
import { formatBytes } from '../lib/format'
import { formatMoney } from '../lib/money'
import { Link } from '../components/Link'
import { FINISHED, useUploads, type UploadItem } from '../uploads/queue'
import { ACCEPT_ATTRIBUTE } from '../api/upload'

const PHASE_TEXT: Record<UploadItem['phase'], string> = {
  queued: 'Waiting…',
  preparing: 'Preparing…',
  uploading: 'Uploading',
  processing: 'Reading the receipt…',
  done: 'Done',
  failed: 'Failed',
  timeout: 'Still processing',
  cancelled: 'Cancelled',
}

function ItemStatus({ item }: { item: UploadItem }) {
  const r = item.receipt
  if (item.phase === 'uploading') return <>Uploading {item.percent}%</>
  if (item.phase === 'done' && r) {
    return (
      <>
        <StatusBadge status={r.status} />{' '}
        {r.status === 'PROCESSED' && (
          <span>
            {r.vendor?.name ?? 'Unknown vendor'} · {formatMoney(r.total, r.currency)}
          </span>
        )}
        {r.status === 'NEEDS_REVIEW' && <span>Please check what was read{r.review_reasons.length ? `: ${r.review_reasons.join('; ')}` : '.'}</span>}
        {r.status === 'FAILED' && <span>{r.failure_reason ?? 'The receipt could not be read.'}</span>}
      </>
    )
  }
  if (item.error) return <span className={item.phase === 'timeout' ? 'text-warn' : 'text-error'}>{item.error}</span>
  return <>{PHASE_TEXT[item.phase]}</>
}

function UploadRow({ item, onCancel }: { item: UploadItem; onCancel: () => void }) {
  const finished = FINISHED.has(item.phase)
  const showBar = item.phase === 'uploading' || item.phase === 'processing' || (item.phase === 'done' && item.percent > 0)
  return (
    <li className="upload-item" data-testid="upload-item" data-phase={item.phase} data-receipt-id={item.receiptId ?? undefined}>
      <div className="upload-head">
        <span className="upload-name">{item.name}</span>
        <span className="muted">{formatBytes(item.size)}</span>
      </div>
      {showBar && (
        <progress max={100} value={item.percent} aria-label={`Upload progress for ${item.name}`}>
          {item.percent}%
        </progress>
      )}
      <div className="upload-status" aria-live="polite">
        {(item.phase === 'processing' || item.phase === 'preparing') && <span className="spinner" aria-hidden="true" />}
        <ItemStatus item={item} />
      </div>
      {item.duplicateOf && (
        <p className="alert alert-warn">
          This looks like a receipt you already uploaded. <Link to={`/receipts/${item.duplicateOf}`}>See the earlier one</Link>.
        </p>
      )}
      <div className="upload-actions">
        {item.receiptId && (item.phase === 'done' || item.phase === 'timeout') && <Link to={`/receipts/${item.receiptId}`}>View receipt</Link>}
        {!finished && item.phase !== 'processing' && (
          <button type="button" className="btn btn-small btn-secondary" onClick={onCancel} aria-label={`Cancel upload of ${item.name}`}>
            Cancel
          </button>
        )}
      </div>
    </li>
  )
}

export function UploadPage() {
  const { items, add, cancel, clearFinished, active } = useUploads()
  const [dragging, setDragging] = useState(false)
  const depth = useRef(0)
  const camId = useId()
  const filesId = useId()

  // A file dropped beside the drop zone would make the browser open it and leave the app
  // (and its uploads); take such drops as uploads too.
  useEffect(() => {
    const over = (e: globalThis.DragEvent) => {
      if (e.dataTransfer?.types?.includes('Files')) e.preventDefault()
    }
    const drop = (e: globalThis.DragEvent) => {
      if (!e.dataTransfer?.files?.length) return
      e.preventDefault()
      add(Array.from(e.dataTransfer.files))
    }
    window.addEventListener('dragover', over)
    window.addEventListener('drop', drop)
    return () => {
      window.removeEventListener('dragover', over)
      window.removeEventListener('drop', drop)
    }
  }, [add])

  const onDrop = (e: DragEvent) => {
    e.preventDefault()
    e.stopPropagation() // handled here, not again by the window listener
    depth.current = 0
    setDragging(false)
    if (e.dataTransfer?.files?.length) add(Array.from(e.dataTransfer.files))
  }
  const finished = items.length - active

  return (
    <div>
      <PageHeader title="Upload receipts" />
      <div
        className={`dropzone${dragging ? ' dragging' : ''}`}
        data-testid="dropzone"
        onDragEnter={(e) => {
          e.preventDefault()
          depth.current += 1
          setDragging(true)
        }}
        onDragOver={(e) => e.preventDefault()}
        onDragLeave={() => {
          depth.current -= 1
          if (depth.current <= 0) setDragging(false)
        }}
        onDrop={onDrop}
      >
        <p className="dropzone-text">Drop photos or PDFs of receipts here, as many as you like.</p>
        <div className="dropzone-buttons">
          <input
            id={camId}
            className="visually-hidden"
            type="file"
            accept={ACCEPT_ATTRIBUTE}
            capture="environment"
            multiple
            data-testid="camera-input"
            onChange={(e) => {
              if (e.target.files) add(Array.from(e.target.files))
              e.target.value = ''
            }}
          />
          <label htmlFor={camId} className="btn">
            Take a photo
          </label>
          <input
            id={filesId}
            className="visually-hidden"
            type="file"
            accept={ACCEPT_ATTRIBUTE}
            multiple
            data-testid="file-input"
            onChange={(e) => {
              if (e.target.files) add(Array.from(e.target.files))
              e.target.value = ''
            }}
          />
          <label htmlFor={filesId} className="btn btn-secondary">
            Choose files
          </label>
        </div>
        <p className="muted small">JPEG, PNG, TIFF or PDF (multi-page PDFs welcome).</p>
      </div>

      <section aria-labelledby="uploads-heading" className="section">
        <div className="section-head">
          <h2 id="uploads-heading">
            This session{items.length ? ` (${active} in progress)` : ''}
          </h2>
          {finished > 0 && (
            <button type="button" className="btn btn-small btn-secondary" onClick={clearFinished}>
              Clear finished
            </button>
          )}
        </div>
        {items.length === 0 ? (
          <Empty>
            Nothing uploaded yet. Your receipts are read automatically after upload; you can follow each one here, or find
            them later under <Link to="/receipts">Receipts</Link>.
          </Empty>
        ) : (
          <ul className="upload-list">
            {items.map((it) => (
              <UploadRow key={it.key} item={it} onCancel={() => cancel(it.key)} />
            ))}
          </ul>
        )}
      </section>
    </div>
  )
}
