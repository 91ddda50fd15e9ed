import { useEffect, useState, type FormEvent, type ReactNode } from 'react'
import { ApiError } from '../api/client'
import { useApi } from '../api/context'
import type { Receipt, ReceiptDetail } from '../api/types'
import { Loading, PageHeader, ProblemAlert, StatusBadge } from '../components/common'
import { CategorySelect } from '../components/CategorySelect'
import { CATEGORY_SUGGESTIONS, categoryLabel } from '../lib/categories'
import { formatBytes, formatDateTime, sentence } from '../lib/format'
import { addDecimals, compareDecimals, formatMoney, isDecimalString } from '../lib/money'
import { pollUntilProcessed } from '../lib/poll'
import {
  diffForm,
  emptyItem,
  fieldAttention,
  formFromReceipt,
  itemsWithCategory,
  rebaseForm,
  validateForm,
  LOW_CONFIDENCE,
  type Attention,
  type FormErrors,
  type LineItemForm,
  type ReceiptForm,
} from '../lib/receiptForm'
import { useAsync } from '../lib/useAsync'
import { Link } from '../components/Link'
import { navigate } from '../router'

type ScalarKey = Exclude<keyof ReceiptForm, 'line_items'>

/** Where saving one item's category on its own stands, for the row that shows it. */
interface ItemStatus {
  row: number
  state: 'saving' | 'saved' | 'failed'
}

const ITEM_STATUS_WORDS: Record<ItemStatus['state'], string> = { saving: 'Saving…', saved: '✓ Saved', failed: 'Not saved' }

/** What a new version of the receipt starts from after a category was saved on its own. */
interface Carried {
  key: string
  form: ReceiptForm
  status: ItemStatus
}

const FIELD_LABELS: Record<ScalarKey, string> = {
  vendor_name: 'Vendor',
  vendor_legal_name: 'Legal name',
  vendor_address: 'Address',
  vendor_phone: 'Phone',
  purchase_date: 'Purchase date',
  currency: 'Currency',
  subtotal: 'Subtotal',
  tax: 'Tax',
  tip: 'Tip',
  discount: 'Discount',
  total: 'Total',
  payment_method: 'Payment method',
  category: 'Category',
}
const CORRECTED_NAME: Partial<Record<ScalarKey, string>> = {
  vendor_name: 'vendor',
  vendor_legal_name: 'vendor',
  vendor_address: 'vendor',
  vendor_phone: 'vendor',
}

function AttentionNote({ id, att }: { id: string; att: Attention }) {
  const parts: string[] = []
  if (att.confidence !== undefined) parts.push(`Low confidence (${Math.round(att.confidence * 100)}%)`)
  if (att.reasons.length) parts.push(att.reasons.join('; '))
  return (
    <span id={id} className="attention-note">
      <span aria-hidden="true">⚠ </span>
      {parts.join(' — ')}
    </span>
  )
}

function Field({
  name,
  receipt,
  form,
  errors,
  onChange,
  disabled,
  type = 'text',
  inputMode,
  list,
}: {
  name: ScalarKey
  receipt: Receipt
  form: ReceiptForm
  errors: FormErrors
  onChange: (name: ScalarKey, value: string) => void
  disabled: boolean
  type?: string
  inputMode?: 'decimal' | 'text' | 'tel'
  list?: string
}) {
  const id = `field-${name}`
  const att = fieldAttention(receipt, name)
  const corrected = receipt.corrected_fields?.includes(CORRECTED_NAME[name] ?? name)
  const err = errors[name]
  const described = [att ? `${id}-att` : '', err ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined
  return (
    <div className={`field${att ? ' attention' : ''}`} data-testid={`field-${name}`} data-attention={att ? 'true' : undefined}>
      <label htmlFor={id}>
        {FIELD_LABELS[name]}
        {corrected && <span className="corrected-tag"> (corrected)</span>}
      </label>
      <input
        id={id}
        type={type}
        inputMode={inputMode}
        list={list}
        value={form[name]}
        disabled={disabled}
        aria-invalid={err ? true : undefined}
        aria-describedby={described}
        onChange={(e) => onChange(name, e.target.value)}
      />
      {att && <AttentionNote id={`${id}-att`} att={att} />}
      {err && (
        <span id={`${id}-err`} className="field-error">
          {err}
        </span>
      )}
    </div>
  )
}

function ReceiptImage({ detail }: { detail: ReceiptDetail }) {
  const { receipt, image_url } = detail
  if (!image_url) return <div className="image-placeholder">No image available.</div>
  if (receipt.content_type === 'application/pdf') {
    return (
      <div className="receipt-image">
        <object data={image_url} type="application/pdf" aria-label="Receipt document">
          <p>
            <a href={image_url} target="_blank" rel="noreferrer">
              Open the PDF
            </a>
          </p>
        </object>
      </div>
    )
  }
  return (
    <div className="receipt-image">
      <a href={image_url} target="_blank" rel="noreferrer" title="Open full size">
        <img src={image_url} alt="Receipt image" data-testid="receipt-image" />
      </a>
    </div>
  )
}

function LineItemsEditor({
  receipt,
  items,
  errors,
  disabled,
  status,
  onChange,
  onCategory,
}: {
  receipt: Receipt
  items: LineItemForm[]
  errors: FormErrors
  disabled: boolean
  status: ItemStatus | null
  onChange: (items: LineItemForm[]) => void
  onCategory: (row: number, category: string) => void
}) {
  const att = fieldAttention(receipt, 'line_items')
  const set = (i: number, k: keyof Omit<LineItemForm, 'orig'>, v: string) => onChange(items.map((it, j) => (j === i ? { ...it, [k]: v } : it)))
  const amounts = items.map((i) => i.amount.trim()).filter((a) => a && isDecimalString(a))
  const sum = amounts.length ? addDecimals(amounts) : null
  const cols: Array<[keyof Omit<LineItemForm, 'orig'>, string, 'decimal' | 'text']> = [
    ['description', 'Description', 'text'],
    ['quantity', 'Qty', 'decimal'],
    ['unit_price', 'Unit price', 'decimal'],
    ['amount', 'Amount', 'decimal'],
  ]
  return (
    <fieldset className={`line-items${att ? ' attention' : ''}`} data-testid="line-items" data-attention={att ? 'true' : undefined}>
      <legend>Line items{receipt.corrected_fields?.includes('line_items') && <span className="corrected-tag"> (corrected)</span>}</legend>
      {att && <AttentionNote id="line-items-att" att={att} />}
      {items.length > 0 && <p className="muted small">A category you choose is saved straight away; other changes are saved with “Save corrections”.</p>}
      {items.length === 0 ? (
        <p className="muted">No line items were read.</p>
      ) : (
        <div className="table-scroll">
          <table className="items-table">
            <thead>
              <tr>
                {cols.map(([k, label]) => (
                  <th key={k} scope="col">
                    {label}
                  </th>
                ))}
                <th scope="col">Category</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((it, i) => {
                const lowCat = it.orig && it.orig.category === (it.category || null) && typeof it.orig.category_confidence === 'number' && it.orig.category_confidence < LOW_CONFIDENCE
                return (
                  <tr key={i} data-testid="line-item">
                    {cols.map(([k, label, mode]) => {
                      const err = errors[`line_items.${i}.${k}`]
                      return (
                        <td key={k}>
                          <input
                            aria-label={`${label}, item ${i + 1}`}
                            value={it[k]}
                            inputMode={mode}
                            disabled={disabled}
                            aria-invalid={err ? true : undefined}
                            title={err}
                            onChange={(e) => set(i, k, e.target.value)}
                          />
                          {err && <span className="field-error">{err}</span>}
                        </td>
                      )
                    })}
                    <td className={lowCat ? 'attention' : undefined} data-testid="item-category">
                      <CategorySelect
                        label={`Category, item ${i + 1}`}
                        value={it.category}
                        disabled={disabled}
                        autoFocus={status?.row === i && status.state === 'saved'}
                        title={lowCat ? `Low confidence (${Math.round((it.orig!.category_confidence ?? 0) * 100)}%): please check` : undefined}
                        onChange={(v) => onCategory(i, v)}
                      />
                      {status?.row === i && (
                        <span className={`item-status item-status-${status.state}`} data-testid="item-category-status">
                          {ITEM_STATUS_WORDS[status.state]}
                        </span>
                      )}
                    </td>
                    <td>
                      <button
                        type="button"
                        className="btn btn-small btn-secondary"
                        disabled={disabled}
                        aria-label={`Remove item ${i + 1}`}
                        onClick={() => onChange(items.filter((_, j) => j !== i))}
                      >
                        Remove
                      </button>
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
      <div className="items-footer">
        <button type="button" className="btn btn-small btn-secondary" disabled={disabled} onClick={() => onChange([...items, emptyItem()])}>
          Add item
        </button>
        {sum !== null && (
          <span className="muted" data-testid="items-sum">
            Items add up to {formatMoney(sum, receipt.currency)}
            {receipt.subtotal && compareDecimals(sum, receipt.subtotal) !== 0 && receipt.total && compareDecimals(sum, receipt.total) !== 0
              ? ` (subtotal ${formatMoney(receipt.subtotal, receipt.currency)}, total ${formatMoney(receipt.total, receipt.currency)})`
              : ''}
          </span>
        )}
      </div>
    </fieldset>
  )
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <fieldset className="field-group">
      <legend>{title}</legend>
      <div className="field-grid">{children}</div>
    </fieldset>
  )
}

interface EditorProps {
  detail: ReceiptDetail
  /** the form and row status to start from, after a category was saved on its own */
  carried?: Carried
  onChanged: (d: ReceiptDetail, notice?: string, carry?: Omit<Carried, 'key'>) => void
  onReload: () => void
}

/**
 * The fields of one version of a receipt. Keyed by id + version + status, so a new version
 * (saved, re-read, reloaded) starts from a fresh form.
 */
function ReceiptEditor({ detail, carried, onChanged, onReload }: EditorProps) {
  const api = useApi()
  const receipt = detail.receipt
  const [form, setForm] = useState<ReceiptForm>(() => carried?.form ?? formFromReceipt(receipt))
  const [itemStatus, setItemStatus] = useState<ItemStatus | null>(carried?.status ?? null)
  const [errors, setErrors] = useState<FormErrors>({})
  const [saving, setSaving] = useState(false)
  const [actionError, setActionError] = useState<unknown>(null)
  const [conflict, setConflict] = useState(false)
  const [confirmDelete, setConfirmDelete] = useState(false)
  const [busy, setBusy] = useState<null | 'retry' | 'delete'>(null)

  const pending = receipt.status === 'PENDING'
  const disabled = pending || saving || busy !== null || itemStatus?.state === 'saving'
  const patch = diffForm(form, receipt)
  const dirty = Object.keys(patch).length > 0

  const onField = (name: ScalarKey, value: string) => setForm({ ...form, [name]: value })

  const save = async (e: FormEvent) => {
    e.preventDefault()
    const errs = validateForm(form)
    setErrors(errs)
    if (Object.keys(errs).length) {
      setActionError(new Error('Some fields need fixing before saving.'))
      return
    }
    if (!dirty) return
    setSaving(true)
    setActionError(null)
    setConflict(false)
    try {
      const updated = await api.updateReceipt(receipt.receipt_id, patch, receipt.version)
      onChanged({ receipt: updated, image_url: detail.image_url }, 'Saved.')
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) setConflict(true)
      setActionError(err)
      setSaving(false)
    }
  }

  /** One item's category, saved at once (the rest of the form stays as it is, unsaved). */
  const saveCategory = async (row: number, category: string) => {
    const setRow = (value: string) => setForm((f) => ({ ...f, line_items: f.line_items.map((it, i) => (i === row ? { ...it, category: value } : it)) }))
    const item = form.line_items[row]
    const index = item.orig ? receipt.line_items.indexOf(item.orig) : -1
    setRow(category)
    if (index < 0) return // a new item: saved with the rest of the form
    setItemStatus({ row, state: 'saving' })
    setActionError(null)
    setConflict(false)
    try {
      const updated = await api.updateReceipt(receipt.receipt_id, { line_items: itemsWithCategory(receipt.line_items, index, category) }, receipt.version)
      const chosen = { ...form, line_items: form.line_items.map((it, i) => (i === row ? { ...it, category } : it)) }
      const name = item.orig?.description || `item ${row + 1}`
      onChanged({ receipt: updated, image_url: detail.image_url }, `Saved: “${name}” is now ${categoryLabel(category)}.`, {
        form: rebaseForm(chosen, receipt, updated, row),
        status: { row, state: 'saved' },
      })
    } catch (err) {
      setRow(item.category)
      setItemStatus({ row, state: 'failed' })
      if (err instanceof ApiError && err.status === 409) setConflict(true)
      setActionError(err)
    }
  }

  const retry = async () => {
    setBusy('retry')
    setActionError(null)
    try {
      const r = await api.retryReceipt(receipt.receipt_id)
      onChanged({ receipt: r, image_url: detail.image_url }, 'Reading the receipt again…')
    } catch (err) {
      setActionError(err)
      setBusy(null)
    }
  }

  const remove = async () => {
    setBusy('delete')
    setActionError(null)
    try {
      await api.deleteReceipt(receipt.receipt_id)
      navigate('/receipts')
    } catch (err) {
      setActionError(err)
      setBusy(null)
      setConfirmDelete(false)
    }
  }

  const fieldProps = { receipt, form, errors, onChange: onField, disabled }

  return (
    <form className="detail-form" aria-label="Receipt fields" onSubmit={save} noValidate>
      <Section title="Vendor">
        <Field name="vendor_name" {...fieldProps} />
        <Field name="vendor_legal_name" {...fieldProps} />
        <Field name="vendor_address" {...fieldProps} />
        <Field name="vendor_phone" {...fieldProps} type="tel" inputMode="tel" />
      </Section>
      <Section title="Purchase">
        <Field name="purchase_date" {...fieldProps} type="date" />
        <Field name="currency" {...fieldProps} />
        <Field name="payment_method" {...fieldProps} />
        <Field name="category" {...fieldProps} list="category-suggestions" />
      </Section>
      <Section title="Amounts">
        <Field name="subtotal" {...fieldProps} inputMode="decimal" />
        <Field name="tax" {...fieldProps} inputMode="decimal" />
        <Field name="tip" {...fieldProps} inputMode="decimal" />
        <Field name="discount" {...fieldProps} inputMode="decimal" />
        <Field name="total" {...fieldProps} inputMode="decimal" />
      </Section>
      <datalist id="category-suggestions">
        {CATEGORY_SUGGESTIONS.map((c) => (
          <option key={c} value={c} label={categoryLabel(c)} />
        ))}
      </datalist>
      <LineItemsEditor
        receipt={receipt}
        items={form.line_items}
        errors={errors}
        disabled={disabled}
        status={itemStatus}
        onChange={(line_items) => setForm({ ...form, line_items })}
        onCategory={saveCategory}
      />

      {actionError ? <ProblemAlert error={actionError} /> : null}
      {conflict && (
        <div className="alert alert-warn" data-testid="conflict">
          This receipt was changed somewhere else since you opened it.{' '}
          <button type="button" className="btn btn-small" onClick={onReload}>
            Load the latest version
          </button>{' '}
          (your unsaved edits will be lost).
        </div>
      )}

      <div className="form-actions">
        <button type="submit" className="btn" disabled={!dirty || disabled}>
          {saving ? 'Saving…' : 'Save corrections'}
        </button>
        <button type="button" className="btn btn-secondary" disabled={!dirty || disabled} onClick={() => setForm(formFromReceipt(receipt))}>
          Undo changes
        </button>
        {(receipt.status === 'FAILED' || receipt.status === 'NEEDS_REVIEW') && (
          <button type="button" className="btn btn-secondary" disabled={disabled} onClick={retry}>
            {busy === 'retry' ? 'Starting…' : 'Read again'}
          </button>
        )}
        {!confirmDelete ? (
          <button type="button" className="btn btn-danger" disabled={busy !== null} onClick={() => setConfirmDelete(true)}>
            Delete
          </button>
        ) : (
          <span className="confirm" role="group" aria-label="Confirm delete">
            <span>Delete this receipt and its image for good?</span>{' '}
            <button type="button" className="btn btn-danger" onClick={remove} disabled={busy === 'delete'} autoFocus>
              {busy === 'delete' ? 'Deleting…' : 'Yes, delete'}
            </button>{' '}
            <button type="button" className="btn btn-secondary" onClick={() => setConfirmDelete(false)}>
              Cancel
            </button>
          </span>
        )}
      </div>
    </form>
  )
}

export default function ReceiptDetailPage({ id, pollIntervalMs = 1500 }: { id: string; pollIntervalMs?: number }) {
  const api = useApi()
  const { data: detail, error: loadError, loading, reload, setData } = useAsync((signal) => api.getReceipt(id, signal), id)
  const [notice, setNotice] = useState<{ text: string; version: string } | null>(null)
  const [carried, setCarried] = useState<Carried | null>(null)
  const [pollError, setPollError] = useState<unknown>(null)
  const receipt = detail?.receipt
  const versionKey = receipt ? `${receipt.receipt_id}:${receipt.version}:${receipt.status}` : ''

  // A receipt still being read: follow it until it is done (the effect syncs with the API).
  const pendingId = receipt?.status === 'PENDING' ? receipt.receipt_id : null
  const imageUrl = detail?.image_url ?? null
  useEffect(() => {
    if (!pendingId) return
    const ctrl = new AbortController()
    pollUntilProcessed(api, pendingId, { intervalMs: pollIntervalMs, signal: ctrl.signal })
      .then((final) => api.getReceipt(final.receipt_id, ctrl.signal).catch(() => ({ receipt: final, image_url: imageUrl })))
      .then(
        (fresh) => {
          if (!ctrl.signal.aborted) setData(fresh)
        },
        (err: unknown) => {
          if (!ctrl.signal.aborted) setPollError(err)
        },
      )
    return () => ctrl.abort()
  }, [api, pendingId, pollIntervalMs, imageUrl, setData])

  if (loading && !detail) return <Loading label="Loading receipt…" />
  if (loadError && !detail) {
    const notFound = loadError instanceof ApiError && loadError.status === 404
    return (
      <div>
        <PageHeader title={notFound ? 'Receipt not found' : 'Receipt'} />
        <ProblemAlert error={loadError} onRetry={notFound ? undefined : reload} />
        <p>
          <Link to="/receipts">Back to receipts</Link>
        </p>
      </div>
    )
  }
  if (!detail || !receipt) return <Loading label="Loading receipt…" />

  const onChanged = (d: ReceiptDetail, text?: string, carry?: Omit<Carried, 'key'>) => {
    const key = `${d.receipt.receipt_id}:${d.receipt.version}:${d.receipt.status}`
    setPollError(null)
    setData(d)
    setNotice(text ? { text, version: key } : null)
    setCarried(carry ? { ...carry, key } : null)
  }
  const pending = receipt.status === 'PENDING'

  return (
    <div className="detail">
      <PageHeader title={receipt.vendor?.name || 'Receipt'}>
        <StatusBadge status={receipt.status} />
      </PageHeader>
      <p>
        <Link to="/receipts">← Back to receipts</Link>
      </p>

      {receipt.duplicate_of && (
        <div className="alert alert-warn" data-testid="duplicate-warning">
          This may be a duplicate of <Link to={`/receipts/${receipt.duplicate_of}`}>another receipt</Link>. If it is, delete one of
          them so it is not counted twice.
        </div>
      )}
      {pending && <Loading label="Reading this receipt… this page updates by itself." />}
      {pollError ? <ProblemAlert error={pollError} onRetry={reload} /> : null}
      {receipt.status === 'FAILED' && (
        <div className="alert alert-error" role="alert">
          This receipt could not be read: {sentence(receipt.failure_reason ?? 'unknown reason')}
        </div>
      )}
      {receipt.status === 'NEEDS_REVIEW' && receipt.review_reasons?.length > 0 && (
        <div className="alert alert-warn" data-testid="review-reasons">
          <strong>Please check:</strong>
          <ul>
            {receipt.review_reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        </div>
      )}
      {notice && notice.version === versionKey && (
        <p className="notice" role="status">
          {notice.text}
        </p>
      )}

      <div className="detail-layout">
        <ReceiptImage detail={detail} />
        <ReceiptEditor
          key={versionKey}
          detail={detail}
          carried={carried?.key === versionKey ? carried : undefined}
          onChanged={onChanged}
          onReload={() => {
            setNotice(null)
            reload()
          }}
        />
      </div>

      <details className="meta">
        <summary>Details</summary>
        <dl>
          <dt>Uploaded</dt>
          <dd>{formatDateTime(receipt.uploaded_at)}</dd>
          <dt>Processed</dt>
          <dd>{formatDateTime(receipt.processed_at)}</dd>
          <dt>File</dt>
          <dd>
            {receipt.content_type ?? '—'}, {formatBytes(receipt.size_bytes)}
          </dd>
          <dt>Read by</dt>
          <dd>{receipt.ocr_engine ?? '—'}</dd>
          <dt>Receipt id</dt>
          <dd>
            <code>{receipt.receipt_id}</code>
          </dd>
          <dt>Version</dt>
          <dd>{receipt.version}</dd>
        </dl>
      </details>
    </div>
  )
}
