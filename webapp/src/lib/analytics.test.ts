import { describe, expect, it } from 'vitest'
import type { CurrencySummary, Summary } from '../api/types'
import { categoryChart, currencyList, priceSeries, topVendors } from './analytics'

const eur = (groups: CurrencySummary['groups']): CurrencySummary => ({ currency: 'EUR', total: '0', count: 9, groups })

describe('analytics shaping', () => {
  it('pivots category groups into monthly stacked rows, exactly', () => {
    const chart = categoryChart(
      eur([
        { key: '2026-03|groceries_fresh', month: '2026-03', label: 'groceries_fresh', total: '0.10', count: 1 },
        { key: '2026-03|groceries_fresh', month: '2026-03', label: 'groceries_fresh', total: '0.20', count: 1 },
        { key: '2026-02|dining', label: 'dining', total: '40.00', count: 2 }, // month only in the key
        { key: '2026-03|dining', month: '2026-03', label: 'dining', total: '5.5', count: 1 },
      ]),
    )
    expect(chart.byMonth).toBe(true)
    expect(chart.categories).toEqual(['dining', 'groceries_fresh'])
    expect(chart.totals).toEqual({ groceries_fresh: '0.30', dining: '45.50' })
    expect(chart.rows.map((r) => r.month)).toEqual(['2026-02', '2026-03'])
    expect(chart.rows[1].exact.groceries_fresh).toBe('0.30')
    expect(chart.rows[1].groceries_fresh).toBe(0.3)
  })

  it('falls back to per-category totals when groups carry no month', () => {
    const chart = categoryChart(
      eur([
        { key: 'groceries', label: 'groceries', total: '10', count: 1 },
        { key: 'fuel', label: 'fuel', total: '60', count: 1 },
      ]),
    )
    expect(chart.byMonth).toBe(false)
    // legacy names are read as today's categories
    expect(chart.rows.map((r) => r.name)).toEqual(['transport', 'groceries_pantry'])
  })

  it('adds legacy names to the category they became', () => {
    const chart = categoryChart(
      eur([
        { key: '2026-03|groceries', month: '2026-03', label: 'groceries', total: '1.10', count: 1 },
        { key: '2026-03|groceries_pantry', month: '2026-03', label: 'groceries_pantry', total: '2.20', count: 1 },
        { key: '2026-03|bakery', month: '2026-03', label: 'bakery', total: '0.50', count: 1 },
      ]),
    )
    expect(chart.totals).toEqual({ groceries_pantry: '3.30', bakery: '0.50' })
  })

  it('ranks vendors by exact totals', () => {
    const v = topVendors(
      eur([
        { key: 'a', label: 'A', total: '9.99', count: 3 },
        { key: 'b', label: 'B', total: '10.00', count: 1 },
        { key: 'c', label: 'C', total: '100', count: 1 },
      ]),
      2,
    )
    expect(v.map((x) => x.label)).toEqual(['C', 'B'])
  })

  it('adds up a vendor across months (the API repeats vendors per month)', () => {
    const v = topVendors(
      eur([
        { key: '2026-02|corner', month: '2026-02', label: 'Corner Market', total: '0.10', count: 1 },
        { key: '2026-02|bistro', month: '2026-02', label: 'Bistro', total: '0.25', count: 1 },
        { key: '2026-03|corner', month: '2026-03', label: 'Corner Market', total: '0.20', count: 2 },
      ]),
    )
    expect(v).toEqual([
      { key: 'corner', label: 'Corner Market', total: '0.30', count: 3 },
      { key: 'bistro', label: 'Bistro', total: '0.25', count: 1 },
    ])
  })

  it('lists currencies by how much they are used', () => {
    const s = (cs: Array<[string, number]>): Summary => ({ from: '', to: '', group: 'month', currencies: cs.map(([currency, count]) => ({ currency, count, total: '1', groups: [] })) })
    expect(currencyList(s([['USD', 2], ['EUR', 10]]), undefined, s([['GBP', 1]]))).toEqual(['EUR', 'USD', 'GBP'])
  })

  it('builds price series per vendor for one currency', () => {
    const s = priceSeries(
      [
        { date: '2026-02-01', vendor: 'A', description: 'Milk 1L', quantity: '1', unit_price: '1.09', amount: '1.09', currency: 'EUR', receipt_id: 'r2' },
        { date: '2026-01-01', vendor: 'A', description: 'Milk 1L', quantity: '2', unit_price: '0.99', amount: '1.98', currency: 'EUR', receipt_id: 'r1' },
        { date: '2026-01-05', vendor: null, description: 'milk', quantity: '1', unit_price: null, amount: '1.20', currency: 'EUR', receipt_id: 'r3' },
        { date: '2026-01-05', vendor: 'B', description: 'milk', quantity: '1', unit_price: '2', amount: '2', currency: 'USD', receipt_id: 'r4' },
      ],
      'EUR',
    )
    expect(s.map((x) => x.vendor)).toEqual(['A', 'Unknown vendor'])
    expect(s[0].points.map((p) => p.exact)).toEqual(['0.99', '1.09'])
    expect(s[1].points[0].exact).toBe('1.20')
  })
})
