// Pure shaping of analytics API answers into chart rows (kept apart from recharts so it
// can be tested, and so the numbers shown in words stay exact decimal strings).
import type { CurrencySummary, ItemPricePoint, Summary, SummaryGroupRow } from '../api/types'
import { withoutLegacy } from './categories'
import { addDecimals, compareDecimals, toChartNumber } from './money'
import { formatMonth } from './format'

export function currencyList(...summaries: Array<Summary | undefined>): string[] {
  const counts = new Map<string, number>()
  for (const s of summaries) for (const c of s?.currencies ?? []) counts.set(c.currency, Math.max(counts.get(c.currency) ?? 0, c.count))
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([c]) => c)
}

export function forCurrency(s: Summary | undefined, currency: string): CurrencySummary | undefined {
  return s?.currencies.find((c) => c.currency === currency)
}

const MONTH = /^\d{4}-\d{2}$/

/** The month of a category group: its `month`, else a "YYYY-MM|category" key. */
export function groupMonth(g: SummaryGroupRow): string | null {
  if (g.month && MONTH.test(g.month)) return g.month
  const head = g.key.split('|')[0]
  return g.key.includes('|') && MONTH.test(head) ? head : null
}

/** The category of a category group, legacy names mapped onto today's taxonomy so that
 * old and new receipts add up in one series. */
export function groupCategory(g: SummaryGroupRow): string {
  const parts = g.key.split('|')
  return withoutLegacy(g.label || parts[parts.length - 1] || 'uncategorized')
}

export interface ChartRow {
  [series: string]: string | number | Record<string, string> | undefined
  /** exact decimal strings behind each numeric series, for tooltips and tables */
  exact: Record<string, string>
}

export interface CategoryChart {
  byMonth: boolean
  categories: string[]
  rows: ChartRow[]
  totals: Record<string, string>
}

/** Monthly spend per category (stacked), or per category only when months are absent. */
export function categoryChart(cs: CurrencySummary | undefined): CategoryChart {
  const groups = cs?.groups ?? []
  const totals: Record<string, string> = {}
  for (const g of groups) {
    const cat = groupCategory(g)
    totals[cat] = addDecimals([totals[cat], g.total])
  }
  const categories = Object.keys(totals).sort((a, b) => compareDecimals(totals[b], totals[a]) || a.localeCompare(b))
  const byMonth = groups.length > 0 && groups.every((g) => groupMonth(g) !== null)
  if (!byMonth) {
    return {
      byMonth: false,
      categories,
      totals,
      rows: categories.map((c) => ({ name: c, total: toChartNumber(totals[c]), exact: { total: totals[c] } })),
    }
  }
  const months = new Map<string, ChartRow>()
  for (const g of groups) {
    const m = groupMonth(g)!
    const cat = groupCategory(g)
    const row: ChartRow = months.get(m) ?? { month: m, name: formatMonth(m), exact: {} }
    row.exact[cat] = addDecimals([row.exact[cat], g.total])
    row[cat] = toChartNumber(row.exact[cat])
    months.set(m, row)
  }
  const rows = [...months.values()].sort((a, b) => String(a.month).localeCompare(String(b.month)))
  return { byMonth: true, categories, totals, rows }
}

/** Vendors ranked by exact total over the period (groups may repeat per month: "YYYY-MM|key"). */
export function topVendors(cs: CurrencySummary | undefined, n = 10): SummaryGroupRow[] {
  const by = new Map<string, SummaryGroupRow>()
  for (const g of cs?.groups ?? []) {
    const key = groupMonth(g) ? g.key.slice(g.key.indexOf('|') + 1) : g.key
    const prev = by.get(key)
    by.set(key, prev ? { ...prev, total: addDecimals([prev.total, g.total]), count: prev.count + g.count } : { key, label: g.label || key, total: g.total, count: g.count })
  }
  return [...by.values()].sort((a, b) => compareDecimals(b.total, a.total) || b.count - a.count || a.label.localeCompare(b.label)).slice(0, n)
}

export interface PriceSeries {
  vendor: string
  points: Array<{ t: number; date: string; price: number; exact: string; description: string; receipt_id: string }>
}

/** Unit price over time per vendor, for one currency. */
export function priceSeries(points: ItemPricePoint[], currency: string): PriceSeries[] {
  const by = new Map<string, PriceSeries>()
  for (const p of points) {
    if ((p.currency ?? currency) !== currency) continue
    const price = p.unit_price ?? (p.quantity === null || p.quantity === '1' ? p.amount : null)
    if (price === null || price === undefined) continue
    const vendor = p.vendor || 'Unknown vendor'
    const s = by.get(vendor) ?? { vendor, points: [] }
    s.points.push({ t: Date.parse(p.date), date: p.date, price: toChartNumber(price), exact: price, description: p.description, receipt_id: p.receipt_id })
    by.set(vendor, s)
  }
  for (const s of by.values()) s.points.sort((a, b) => a.t - b.t)
  return [...by.values()].sort((a, b) => b.points.length - a.points.length || a.vendor.localeCompare(b.vendor))
}

/** Okabe–Ito, a palette people with colour-vision deficiencies can tell apart. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000', '#999999', '#7B3294']
