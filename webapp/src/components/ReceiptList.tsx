import type { Receipt } from '../api/types'
import { categoryLabel } from '../lib/categories'
import { formatDate } from '../lib/format'
import { formatMoney } from '../lib/money'
import { Link } from './Link'
import { StatusBadge } from './common'

export function ReceiptRow({ r }: { r: Receipt }) {
  const vendor = r.vendor?.name || (r.status === 'PENDING' ? 'Reading…' : 'Unknown vendor')
  const date = r.purchase_date ? formatDate(r.purchase_date) : `uploaded ${formatDate(r.uploaded_at)}`
  return (
    <li className="receipt-row" data-testid="receipt-row" data-receipt-id={r.receipt_id}>
      <Link to={`/receipts/${r.receipt_id}`} className="receipt-link">
        <span className="receipt-vendor">{vendor}</span>
        <span className="receipt-amount">{r.total ? formatMoney(r.total, r.currency) : '—'}</span>
        <span className="receipt-meta">
          {date}
          {r.category ? ` · ${categoryLabel(r.category)}` : ''}
          {r.duplicate_of ? ' · possible duplicate' : ''}
        </span>
        <span className="receipt-status">
          <StatusBadge status={r.status} />
        </span>
      </Link>
    </li>
  )
}

export function ReceiptList({ items, label }: { items: Receipt[]; label: string }) {
  return (
    <ul className="receipt-list" aria-label={label}>
      {items.map((r) => (
        <ReceiptRow key={r.receipt_id} r={r} />
      ))}
    </ul>
  )
}
