// Editable form state for a receipt, and the PATCH body for what changed.
import type { LineItem, Receipt, ReceiptPatch, Vendor } from '../api/types'
import { MONEY_FIELDS } from '../api/types'

export interface LineItemForm {
  description: string
  quantity: string
  unit_price: string
  amount: string
  category: string
  /** the item as read, to keep its category confidence when the category is unchanged */
  orig?: LineItem
}

export interface ReceiptForm {
  vendor_name: string
  vendor_legal_name: string
  vendor_address: string
  vendor_phone: string
  purchase_date: string
  currency: string
  subtotal: string
  tax: string
  tip: string
  discount: string
  total: string
  payment_method: string
  category: string
  line_items: LineItemForm[]
}

const s = (v: string | null | undefined) => v ?? ''
const orNull = (v: string) => (v.trim() === '' ? null : v.trim())

export function itemToForm(it: LineItem): LineItemForm {
  return {
    description: s(it.description),
    quantity: s(it.quantity),
    unit_price: s(it.unit_price),
    amount: s(it.amount),
    category: s(it.category),
    orig: it,
  }
}

export function formFromReceipt(r: Receipt): ReceiptForm {
  return {
    vendor_name: s(r.vendor?.name),
    vendor_legal_name: s(r.vendor?.legal_name),
    vendor_address: s(r.vendor?.address),
    vendor_phone: s(r.vendor?.phone),
    purchase_date: s(r.purchase_date),
    currency: s(r.currency),
    subtotal: s(r.subtotal),
    tax: s(r.tax),
    tip: s(r.tip),
    discount: s(r.discount),
    total: s(r.total),
    payment_method: s(r.payment_method),
    category: s(r.category),
    line_items: (r.line_items ?? []).map(itemToForm),
  }
}

export function emptyItem(): LineItemForm {
  return { description: '', quantity: '', unit_price: '', amount: '', category: '' }
}

function itemFromForm(f: LineItemForm): LineItem {
  const category = orNull(f.category)
  return {
    description: f.description.trim(),
    quantity: orNull(f.quantity),
    unit_price: orNull(f.unit_price),
    amount: orNull(f.amount),
    category,
    category_confidence: f.orig && (f.orig.category ?? null) === category ? (f.orig.category_confidence ?? null) : null,
  }
}

function sameItem(a: LineItem, b: LineItem): boolean {
  return (
    (a.description ?? '') === (b.description ?? '') &&
    (a.quantity ?? null) === (b.quantity ?? null) &&
    (a.unit_price ?? null) === (b.unit_price ?? null) &&
    (a.amount ?? null) === (b.amount ?? null) &&
    (a.category ?? null) === (b.category ?? null)
  )
}

/** The fields that differ from the receipt, as a PATCH body (without version). */
export function diffForm(form: ReceiptForm, r: Receipt): ReceiptPatch {
  const patch: ReceiptPatch = {}
  const vendor: Vendor = {
    name: orNull(form.vendor_name),
    legal_name: orNull(form.vendor_legal_name),
    address: orNull(form.vendor_address),
    phone: orNull(form.vendor_phone),
  }
  const rv = r.vendor ?? { name: null, address: null, phone: null }
  if (
    vendor.name !== (rv.name ?? null) ||
    vendor.legal_name !== (rv.legal_name ?? null) ||
    vendor.address !== (rv.address ?? null) ||
    vendor.phone !== (rv.phone ?? null)
  ) {
    patch.vendor = vendor
  }
  const scalar = ['purchase_date', 'currency', 'payment_method', 'category', ...MONEY_FIELDS] as const
  for (const k of scalar) {
    const v = orNull(form[k])
    const value = k === 'currency' && v ? v.toUpperCase() : v
    if (value !== (r[k] ?? null)) patch[k] = value
  }
  const items = form.line_items.map(itemFromForm)
  const orig = r.line_items ?? []
  if (items.length !== orig.length || items.some((it, i) => !sameItem(it, orig[i]))) patch.line_items = items
  return patch
}

/** A receipt's saved line items with one item's category chosen by a person: its confidence
 * is cleared (null), the other items are sent back as they are (the API replaces the list). */
export function itemsWithCategory(items: LineItem[], index: number, category: string): LineItem[] {
  const value = category.trim() || null
  return items.map((it, i) => (i === index ? { ...it, category: value, category_confidence: null } : it))
}

/**
 * The form carried over to the receipt's next version after one item's category was saved on
 * its own: every unsaved edit kept, each row pointed at its item in the new version, and the
 * saved row showing what was saved.
 */
export function rebaseForm(form: ReceiptForm, before: Receipt, after: Receipt, row: number): ReceiptForm {
  return {
    ...form,
    line_items: form.line_items.map((it, i) => {
      const j = it.orig ? before.line_items.indexOf(it.orig) : -1
      const orig = j >= 0 ? after.line_items[j] : it.orig
      return i === row ? { ...it, category: s(orig?.category), orig } : { ...it, orig }
    }),
  }
}

export type FormErrors = Partial<Record<string, string>>

/** What the API accepts for a typed amount: up to 12 digits, 4 decimal places. */
const AMOUNT = /^-?\d{1,12}(\.\d{1,4})?$/

/** Client-side checks; keys are field names or `line_items.<i>.<field>`. */
export function validateForm(form: ReceiptForm): FormErrors {
  const errors: FormErrors = {}
  for (const k of MONEY_FIELDS) {
    const v = form[k].trim()
    if (v && !AMOUNT.test(v)) errors[k] = 'Enter an amount like 12.50'
  }
  if (form.currency.trim() && !/^[A-Za-z]{3}$/.test(form.currency.trim())) errors.currency = 'Use a 3-letter code such as EUR or USD'
  if (form.purchase_date && !/^\d{4}-\d{2}-\d{2}$/.test(form.purchase_date)) errors.purchase_date = 'Enter a date'
  form.line_items.forEach((it, i) => {
    if (!it.description.trim()) errors[`line_items.${i}.description`] = 'Describe the item'
    for (const k of ['quantity', 'unit_price', 'amount'] as const) {
      const v = it[k].trim()
      if (v && !AMOUNT.test(v)) errors[`line_items.${i}.${k}`] = 'Enter a number like 2 or 3.49'
    }
  })
  return errors
}

const CONFIDENCE_KEYS: Record<string, string[]> = {
  vendor_name: ['vendor', 'vendor.name', 'vendor_name'],
  vendor_legal_name: ['vendor.legal_name', 'vendor_legal_name'],
  vendor_address: ['vendor.address', 'vendor_address'],
  vendor_phone: ['vendor.phone', 'vendor_phone'],
}
const REASON_WORDS: Record<string, string[]> = {
  vendor_name: ['vendor'],
  purchase_date: ['purchase_date', 'date'],
  line_items: ['line_items', 'line items', 'items'],
}

export const LOW_CONFIDENCE = 0.8

export interface Attention {
  confidence?: number
  reasons: string[]
}

/**
 * Why a field deserves a second look: a confidence under 0.8, or a review reason that
 * names it (as a whole word: "subtotal" does not name "total").
 */
export function fieldAttention(r: Receipt, field: string): Attention | null {
  const keys = CONFIDENCE_KEYS[field] ?? [field]
  let confidence: number | undefined
  for (const k of keys) {
    const c = r.confidence?.[k]
    if (typeof c === 'number') {
      confidence = c
      break
    }
  }
  const words = REASON_WORDS[field] ?? [field]
  const reasons = (r.review_reasons ?? []).filter((reason) =>
    words.some((w) => new RegExp(`(^|[^a-z_])${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z_])`, 'i').test(reason)),
  )
  const low = confidence !== undefined && confidence < LOW_CONFIDENCE
  if (!low && reasons.length === 0) return null
  return { confidence: low ? confidence : undefined, reasons }
}
