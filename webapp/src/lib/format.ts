import type { ReceiptStatus } from '../api/types'

const dateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' })
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
const monthFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', timeZone: 'UTC' })

/** "2026-03-14" → "Mar 14, 2026" (a calendar date, so no time zone shift). */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—'
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso)
  if (!m) return iso
  return dateFmt.format(new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])))
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : dateTimeFmt.format(d)
}

/** "2026-03" → "Mar 2026" */
export function formatMonth(ym: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(ym)
  if (!m) return ym
  return monthFmt.format(new Date(Date.UTC(+m[1], +m[2] - 1, 1)))
}

export const STATUS_LABELS: Record<ReceiptStatus, string> = {
  PENDING: 'Processing',
  PROCESSED: 'Processed',
  NEEDS_REVIEW: 'Needs review',
  FAILED: 'Failed',
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—'
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

/** "YYYY-MM" of a date, months before (negative) or after. */
export function monthOffset(base: Date, months: number): string {
  const d = new Date(Date.UTC(base.getUTCFullYear(), base.getUTCMonth() + months, 1))
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`
}

/** A category key as people read it: "personal_care" → "personal care". */
export function formatCategory(category: string): string {
  return category.replace(/_+/g, ' ').trim()
}

/** A message shown inside a sentence, ending with exactly one full stop. */
export function sentence(text: string): string {
  const t = text.trim()
  return /[.!?]$/.test(t) ? t : `${t}.`
}
