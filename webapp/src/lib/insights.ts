// Pure shaping of GET /insights (forecasts, anomalies) into chart rows and sentences, kept
// apart from recharts so it can be tested. Plotted numbers are floats; everything shown in
// words or tables comes from the exact decimal strings kept beside them.
import type { Anomaly, CurrencySummary, Driver, Forecast, Insights } from '../api/types'
import { categoryLabel } from './categories'
import { formatMonth } from './format'
import { addDecimals, formatMoney, toChartNumber } from './money'

const MONTH = /^\d{4}-\d{2}$/

export interface SpendRow {
  month: string
  name: string
  /** spent in the month (so far, for the forecast month) */
  actual?: number
  /** the rest of the forecast above what is already spent, stacked on `actual` */
  forecast?: number
  /** whisker lengths below and above the stack's top, to the interval's ends */
  range?: [number, number]
  exact: { actual?: string; predicted?: string; lower?: string; upper?: string }
}

/** Forecasts of all spending (no category) in one currency, by month. */
export function totalForecasts(forecasts: Forecast[], currency: string): Forecast[] {
  return forecasts.filter((f) => f.currency === currency && (f.category ?? null) === null && MONTH.test(f.month)).sort((a, b) => a.month.localeCompare(b.month))
}

/** Monthly spend (from the month summary) and the forecast month(s), one row a month. */
export function spendForecastRows(cs: CurrencySummary | undefined, forecasts: Forecast[], currency: string): SpendRow[] {
  const rows = new Map<string, SpendRow>()
  const row = (m: string) => rows.get(m) ?? rows.set(m, { month: m, name: formatMonth(m), exact: {} }).get(m)!
  for (const g of cs?.groups ?? []) {
    const m = g.month && MONTH.test(g.month) ? g.month : MONTH.test(g.key) ? g.key : null
    if (!m) continue
    const r = row(m)
    r.exact.actual = addDecimals([r.exact.actual, g.total])
  }
  for (const r of rows.values()) r.actual = toChartNumber(r.exact.actual)
  for (const f of totalForecasts(forecasts, currency)) {
    const r = row(f.month)
    const predicted = toChartNumber(f.predicted)
    const spent = r.actual ?? 0
    const top = Math.max(predicted, spent)
    r.forecast = top - spent
    r.range = [Math.max(top - toChartNumber(f.lower), 0), Math.max(toChartNumber(f.upper) - top, 0)]
    Object.assign(r.exact, { predicted: f.predicted, lower: f.lower, upper: f.upper })
  }
  return [...rows.values()].sort((a, b) => a.month.localeCompare(b.month))
}

/** The forecast in one sentence, with the last month spent for comparison. */
export function forecastSentence(rows: SpendRow[], currency: string): string | null {
  const next = rows.find((r) => r.exact.predicted !== undefined)
  if (!next) return null
  const money = (v?: string) => formatMoney(v, currency)
  const parts = [
    `${next.name}: about ${money(next.exact.predicted)} is forecast, likely between ${money(next.exact.lower)} and ${money(next.exact.upper)} (80% interval).`,
  ]
  if (next.exact.actual) parts.push(`${money(next.exact.actual)} is spent so far.`)
  const before = rows.filter((r) => r.month < next.month && r.exact.actual).pop()
  if (before) parts.push(`${before.name}: ${money(before.exact.actual)} spent.`)
  return parts.join(' ')
}

export interface CategoryForecastRow {
  category: string
  name: string
  predicted: number
  range: [number, number]
  exact: { predicted: string; lower: string; upper: string }
}

/** Per-category forecasts for the first forecast month in a currency, biggest first. */
export function categoryForecasts(forecasts: Forecast[], currency: string): { month: string | null; rows: CategoryForecastRow[] } {
  const mine = forecasts.filter((f) => f.currency === currency && !!f.category && MONTH.test(f.month))
  const month = mine.map((f) => f.month).sort()[0] ?? null
  const rows = mine
    .filter((f) => f.month === month)
    .map((f) => {
      const predicted = toChartNumber(f.predicted)
      return {
        category: f.category!,
        name: categoryLabel(f.category),
        predicted,
        range: [Math.max(predicted - toChartNumber(f.lower), 0), Math.max(toChartNumber(f.upper) - predicted, 0)] as [number, number],
        exact: { predicted: f.predicted, lower: f.lower, upper: f.upper },
      }
    })
    .sort((a, b) => b.predicted - a.predicted || a.name.localeCompare(b.name))
  return { month, rows }
}

/** One currency's anomalies, strangest first. */
export function anomaliesFor(insights: Insights | undefined, currency: string): Anomaly[] {
  return (insights?.insights?.anomalies ?? []).filter((a) => a.currency === currency).sort((a, b) => b.score - a.score)
}

/** A short heading for an anomaly card: what stood out, and when. */
export function anomalyTitle(a: Anomaly): string {
  const when = a.month ? ` in ${formatMonth(a.month)}` : ''
  switch (a.kind) {
    case 'month':
      return `Total spending${when}`
    case 'category':
      return `${categoryLabel(a.category)}${when}`
    case 'vendor':
      return `${a.vendor || 'A vendor'}${when}`
    default:
      return a.vendor ? `A receipt from ${a.vendor}${when}` : `A receipt${when}`
  }
}

export interface DriverRow extends Driver {
  value: number
}

/** Drivers as bars, biggest first. */
export function driverRows(a: Anomaly): DriverRow[] {
  return (a.drivers ?? []).map((d) => ({ ...d, value: toChartNumber(d.amount) })).sort((x, y) => y.value - x.value)
}
