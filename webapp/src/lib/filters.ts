import { STATUSES, type ReceiptFilters, type ReceiptStatus } from '../api/types'

const FILTER_KEYS = ['from', 'to', 'category', 'vendor', 'status', 'q'] as const

/** Receipt filters from the page's hash query (#/receipts?status=FAILED&q=milk). */
export function filtersFromQuery(query: URLSearchParams): ReceiptFilters {
  const f: ReceiptFilters = {}
  for (const k of FILTER_KEYS) {
    const v = query.get(k)?.trim()
    if (!v) continue
    if (k === 'status') {
      if ((STATUSES as readonly string[]).includes(v)) f.status = v as ReceiptStatus
    } else f[k] = v
  }
  return f
}
