import { describe, expect, it } from 'vitest'
import { makeReceipt } from '../test/helpers'
import { diffForm, fieldAttention, formFromReceipt, itemsWithCategory, rebaseForm, validateForm } from './receiptForm'

describe('receipt form', () => {
  it('round-trips with no changes', () => {
    const r = makeReceipt()
    expect(diffForm(formFromReceipt(r), r)).toEqual({})
  })

  it('patches only what changed, money as strings, blanks as null', () => {
    const r = makeReceipt()
    const f = formFromReceipt(r)
    f.total = ' 12.20 '
    f.tip = ''
    f.discount = '0.50'
    f.currency = 'usd'
    expect(diffForm(f, r)).toEqual({ total: '12.20', discount: '0.50', currency: 'USD' })
  })

  it('sends the whole vendor when one part changes', () => {
    const r = makeReceipt()
    const f = formFromReceipt(r)
    f.vendor_name = 'Corner Market Ltd'
    expect(diffForm(f, r).vendor).toEqual({ name: 'Corner Market Ltd', legal_name: null, address: '1 Main St', phone: null })
  })

  it('sends the whole line item list, keeping confidence only for unchanged categories', () => {
    const r = makeReceipt()
    const f = formFromReceipt(r)
    f.line_items[1] = { ...f.line_items[1], category: 'bakery' }
    const p = diffForm(f, r)
    expect(p.line_items).toEqual([
      { description: 'Milk', quantity: '2', unit_price: '1.05', amount: '2.10', category: 'groceries', category_confidence: 0.95 },
      { description: 'Bread', quantity: '1', unit_price: '7.90', amount: '7.90', category: 'bakery', category_confidence: null },
    ])
    f.line_items = f.line_items.slice(0, 1)
    expect(diffForm(f, r).line_items).toHaveLength(1)
  })

  it('validates amounts, currency, dates and items', () => {
    const f = formFromReceipt(makeReceipt())
    f.total = '12,50'
    f.currency = 'EURO'
    f.line_items[0].description = ' '
    f.line_items[1].amount = 'abc'
    f.tax = '1.23456' // the API takes at most 4 decimal places
    expect(validateForm(f)).toEqual({
      total: 'Enter an amount like 12.50',
      tax: 'Enter an amount like 12.50',
      currency: 'Use a 3-letter code such as EUR or USD',
      'line_items.0.description': 'Describe the item',
      'line_items.1.amount': 'Enter a number like 2 or 3.49',
    })
  })

  it('flags low confidence and fields named by review reasons (whole words only)', () => {
    const r = makeReceipt({
      confidence: { total: 0.62, vendor: 0.95, tax: 0.81 },
      review_reasons: ['line items + tax do not add up to total', 'purchase_date is in the future'],
    })
    expect(fieldAttention(r, 'total')).toEqual({ confidence: 0.62, reasons: ['line items + tax do not add up to total'] })
    expect(fieldAttention(r, 'tax')).toEqual({ confidence: undefined, reasons: ['line items + tax do not add up to total'] })
    expect(fieldAttention(r, 'subtotal')).toBeNull()
    expect(fieldAttention(r, 'vendor_name')).toBeNull()
    expect(fieldAttention(r, 'purchase_date')?.reasons).toEqual(['purchase_date is in the future'])
    expect(fieldAttention(r, 'line_items')?.reasons).toHaveLength(1)
    expect(fieldAttention(makeReceipt({ confidence: { 'vendor.name': 0.4 } }), 'vendor_name')?.confidence).toBe(0.4)
  })
  it('carries unsaved edits over to the version an item category was saved in', () => {
    const before = makeReceipt()
    const f = formFromReceipt(before)
    f.tip = '1.00'
    f.line_items[0] = { ...f.line_items[0], amount: '2.20' }
    f.line_items[1] = { ...f.line_items[1], category: 'groceries_fresh' }
    const items = itemsWithCategory(before.line_items, 1, 'groceries_fresh')
    expect(items[1]).toMatchObject({ category: 'groceries_fresh', category_confidence: null })
    expect(items[0]).toBe(before.line_items[0])
    const after = makeReceipt({ line_items: items.map((it) => ({ ...it })), version: 4 })
    const next = rebaseForm(f, before, after, 1)
    expect(next.line_items[1].orig).toBe(after.line_items[1])
    // only the edits not saved yet remain to save
    expect(diffForm(next, after)).toEqual({ tip: '1.00', line_items: [{ ...after.line_items[0], amount: '2.20' }, after.line_items[1]] })
  })
})
