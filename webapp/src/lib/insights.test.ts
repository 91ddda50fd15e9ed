import { describe, expect, it } from 'vitest'
import type { Anomaly, CurrencySummary, Forecast } from '../api/types'
import { anomaliesFor, anomalyTitle, categoryForecasts, driverRows, forecastSentence, spendForecastRows } from './insights'

const eur = (groups: CurrencySummary['groups']): CurrencySummary => ({ currency: 'EUR', total: '0', count: 9, groups })
const fc = (over: Partial<Forecast>): Forecast => ({ currency: 'EUR', month: '2026-03', category: null, predicted: '130.00', lower: '110.00', upper: '150.00', ...over })
const anomaly = (over: Partial<Anomaly>): Anomaly => ({
  kind: 'receipt',
  receipt_id: null,
  month: null,
  category: null,
  vendor: null,
  currency: 'EUR',
  amount: '245.00',
  expected: null,
  explanation: 'x',
  score: 1,
  drivers: [],
  ...over,
})

describe('insights shaping', () => {
  it('puts the total forecast after the months spent, with whiskers to the interval', () => {
    const rows = spendForecastRows(
      eur([
        { key: '2026-01', label: '2026-01', total: '100.00', count: 3 },
        { key: '2026-02', month: '2026-02', label: 'Feb', total: '120.00', count: 4 },
        { key: '2026-02', month: '2026-02', label: 'Feb', total: '0.10', count: 1 },
      ]),
      [fc({}), fc({ category: 'dining', predicted: '40' }), fc({ currency: 'USD', predicted: '1' })],
      'EUR',
    )
    expect(rows.map((r) => r.month)).toEqual(['2026-01', '2026-02', '2026-03'])
    expect(rows[1]).toMatchObject({ actual: 120.1, exact: { actual: '120.10' } })
    expect(rows[1].forecast).toBeUndefined()
    expect(rows[2]).toMatchObject({ forecast: 130, range: [20, 20], exact: { predicted: '130.00', lower: '110.00', upper: '150.00' } })
    expect(rows[2].actual).toBeUndefined()
  })

  it('stacks the forecast on what a month already has, whiskers still at the interval', () => {
    const [row] = spendForecastRows(eur([{ key: '2026-03', month: '2026-03', label: '', total: '50.00', count: 1 }]), [fc({})], 'EUR')
    expect(row).toMatchObject({ actual: 50, forecast: 80, range: [20, 20] })
    const [over] = spendForecastRows(eur([{ key: '2026-03', month: '2026-03', label: '', total: '140.00', count: 1 }]), [fc({})], 'EUR')
    expect(over).toMatchObject({ actual: 140, forecast: 0, range: [30, 10] })
  })

  it('says the forecast in a sentence', () => {
    const rows = spendForecastRows(eur([{ key: '2026-02', month: '2026-02', label: '', total: '120.00', count: 1 }]), [fc({})], 'EUR')
    expect(forecastSentence(rows, 'EUR')).toBe('Mar 2026: about €130.00 is forecast, likely between €110.00 and €150.00 (80% interval). Feb 2026: €120.00 spent.')
    expect(forecastSentence(rows.slice(0, 1), 'EUR')).toBeNull()
  })

  it('lists category forecasts of the first month, biggest first, with taxonomy labels', () => {
    const out = categoryForecasts(
      [
        fc({ category: 'groceries_fresh', predicted: '80.00', lower: '60.00', upper: '95.00' }),
        fc({ category: 'dining', predicted: '120.00', lower: '70.00', upper: '180.00' }),
        fc({ category: 'dining', month: '2026-04' }),
        fc({}),
      ],
      'EUR',
    )
    expect(out.month).toBe('2026-03')
    expect(out.rows.map((r) => [r.name, r.range])).toEqual([
      ['Dining out', [50, 60]],
      ['Groceries: fresh', [20, 15]],
    ])
    expect(categoryForecasts([fc({})], 'EUR')).toEqual({ month: null, rows: [] })
  })

  it('orders anomalies of a currency by score and names them', () => {
    const insights = { insights: { forecasts: [], anomalies: [anomaly({ score: 1 }), anomaly({ score: 5 }), anomaly({ currency: 'USD' })] }, reason: null, model_version: 'v' }
    expect(anomaliesFor(insights, 'EUR').map((a) => a.score)).toEqual([5, 1])
    expect(anomalyTitle(anomaly({ kind: 'category', category: 'dining', month: '2026-03' }))).toBe('Dining out in Mar 2026')
    expect(anomalyTitle(anomaly({ kind: 'month', month: '2026-03' }))).toBe('Total spending in Mar 2026')
    expect(anomalyTitle(anomaly({ kind: 'vendor', vendor: 'Bistro 9' }))).toBe('Bistro 9')
    expect(anomalyTitle(anomaly({ vendor: 'Corner Market', month: '2026-02' }))).toBe('A receipt from Corner Market in Feb 2026')
  })

  it('sorts drivers by amount', () => {
    const rows = driverRows(
      anomaly({
        drivers: [
          { kind: 'item', label: 'Bread', amount: '2.50', receipt_id: null },
          { kind: 'vendor', label: 'Wine bar', amount: '180.00', receipt_id: 'r7' },
        ],
      }),
    )
    expect(rows.map((r) => [r.label, r.value])).toEqual([
      ['Wine bar', 180],
      ['Bread', 2.5],
    ])
  })
})
