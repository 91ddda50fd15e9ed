import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import type { Insights, Summary } from '../api/types'
import { fakeFetch, json, makeApi, problem, renderWithApi, sizeCharts } from '../test/helpers'
import AnalyticsPage from './AnalyticsPage'

const summaries: Record<string, Summary> = {
  category: {
    from: '2026-01',
    to: '2026-03',
    group: 'category',
    currencies: [
      {
        currency: 'EUR',
        total: '130.50',
        count: 6,
        groups: [
          { key: '2026-02|groceries', month: '2026-02', label: 'groceries', total: '80.25', count: 3 },
          { key: '2026-03|dining', month: '2026-03', label: 'dining', total: '50.25', count: 3 },
        ],
      },
      { currency: 'USD', total: '20.00', count: 1, groups: [{ key: '2026-03|travel', month: '2026-03', label: 'travel', total: '20.00', count: 1 }] },
    ],
  },
  vendor: {
    from: '2026-01',
    to: '2026-03',
    group: 'vendor',
    currencies: [
      {
        currency: 'EUR',
        total: '130.50',
        count: 6,
        groups: [
          // as the API sends them: one group per vendor and month
          { key: '2026-02|corner', month: '2026-02', label: 'Corner Market', total: '80.15', count: 2 },
          { key: '2026-03|bistro', month: '2026-03', label: 'Bistro 9', total: '50.25', count: 3 },
          { key: '2026-03|corner', month: '2026-03', label: 'Corner Market', total: '0.10', count: 1 },
        ],
      },
      { currency: 'USD', total: '20.00', count: 1, groups: [{ key: '2026-03|cab', month: '2026-03', label: 'City Cab', total: '20.00', count: 1 }] },
    ],
  },
  month: {
    from: '2026-01',
    to: '2026-03',
    group: 'month',
    currencies: [
      {
        currency: 'EUR',
        total: '130.50',
        count: 6,
        groups: [
          { key: '2026-02', month: '2026-02', label: '2026-02', total: '80.25', count: 3 },
          { key: '2026-03', month: '2026-03', label: '2026-03', total: '50.25', count: 3 },
        ],
      },
      { currency: 'USD', total: '20.00', count: 1, groups: [{ key: '2026-03', label: '2026-03', total: '20.00', count: 1 }] },
    ],
  },
}

const insights: Insights = {
  insights: {
    forecasts: [
      { currency: 'EUR', month: '2026-04', category: null, predicted: '95.00', lower: '70.00', upper: '120.50' },
      { currency: 'EUR', month: '2026-04', category: 'dining', predicted: '60.00', lower: '40.00', upper: '85.00' },
      { currency: 'EUR', month: '2026-04', category: 'groceries_fresh', predicted: '30.00', lower: '25.00', upper: '36.00' },
    ],
    anomalies: [
      {
        kind: 'category',
        receipt_id: null,
        month: '2026-03',
        category: 'dining',
        vendor: null,
        currency: 'EUR',
        amount: '245.00',
        expected: '60.00',
        explanation: 'Dining out in March was about 4 times your usual',
        score: 3.9,
        drivers: [
          { kind: 'vendor', label: 'Wine bar', amount: '180.00', receipt_id: 'r7' },
          { kind: 'vendor', label: 'Bistro 9', amount: '50.25', receipt_id: null },
        ],
      },
      {
        kind: 'receipt',
        receipt_id: 'r9',
        month: '2026-02',
        category: null,
        vendor: 'Corner Market',
        currency: 'EUR',
        amount: '80.15',
        expected: null,
        explanation: 'One receipt far above your usual at Corner Market.',
        score: 2.1,
        drivers: [{ kind: 'item', label: 'Olive oil 5L', amount: '42.00', receipt_id: 'r9' }],
      },
    ],
  },
  reason: null,
  model_version: 'v3',
}

function routes(over: Parameters<typeof fakeFetch>[0] = {}) {
  return fakeFetch({
    'GET /analytics/summary': (c) => json(summaries[c.query.get('group')!]),
    'GET /insights': () => json(insights),
    'GET /analytics/items': (c) =>
      json({
        query: c.query.get('q'),
        points: [
          { date: '2026-02-01', vendor: 'Corner Market', description: 'Milk 1L', quantity: '1', unit_price: '1.09', amount: '1.09', currency: 'EUR', receipt_id: 'r2' },
          { date: '2026-01-03', vendor: 'Corner Market', description: 'Milk 1L', quantity: '2', unit_price: '0.99', amount: '1.98', currency: 'EUR', receipt_id: 'r1' },
        ],
      }),
    ...over,
  })
}

describe('AnalyticsPage', () => {
  it('draws the forecast: months spent, next month with its interval, and by category', async () => {
    sizeCharts()
    renderWithApi(<AnalyticsPage />, makeApi(routes().fetch))
    const trend = await screen.findByRole('region', { name: 'Spending trend and forecast' })
    const summary = await within(trend).findByText(/^Apr 2026: about €95.00 is forecast, likely between €70.00 and €120.50 \(80% interval\)\./)
    expect(summary).toHaveTextContent('Mar 2026: €50.25 spent.')
    const chart = await within(trend).findByRole('img', { name: 'Monthly spend in EUR and the forecast' })
    expect(chart.querySelectorAll('.recharts-bar-rectangle path').length).toBeGreaterThanOrEqual(3) // Feb, Mar, Apr
    expect(chart.querySelectorAll('.recharts-errorBar')).toHaveLength(1) // the forecast's whiskers
    const rows = within(trend).getAllByRole('row').slice(1)
    expect(rows.map((r) => r.textContent)).toEqual(['Feb 2026€80.25——', 'Mar 2026€50.25——', 'Apr 2026—€95.00€70.00 – €120.50'])

    const byCategory = screen.getByRole('region', { name: 'Next month by category' })
    const bars = await within(byCategory).findByRole('img', { name: 'Forecast by category for Apr 2026' })
    expect(bars.querySelectorAll('.recharts-errorBar')).toHaveLength(2)
    expect(within(byCategory).getByText(/Biggest: Dining out, about €60.00 \(likely €40.00 – €85.00\)\./)).toBeInTheDocument()
    expect(within(byCategory).getAllByRole('rowheader').map((h) => h.textContent)).toEqual(['Dining out', 'Groceries: fresh'])
  })

  it('shows each anomaly as a card: the explanation, amount against usual, drivers and receipts', async () => {
    sizeCharts()
    renderWithApi(<AnalyticsPage />, makeApi(routes().fetch))
    const region = await screen.findByRole('region', { name: 'Unusual spending' })
    const cards = await within(region).findAllByRole('article')
    expect(cards.map((c) => within(c).getByRole('heading', { level: 3 }).textContent)).toEqual(['Dining out in Mar 2026', 'A receipt from Corner Market in Feb 2026'])
    const [dining, receipt] = cards
    expect(within(dining).getByText('Dining out in March was about 4 times your usual.')).toBeInTheDocument()
    expect(dining).toHaveTextContent('Spent €245.00 · usually about €60.00')
    const drivers = within(dining).getByRole('table', { name: 'What made “Dining out in Mar 2026” stand out' })
    expect(within(drivers).getAllByRole('row').slice(1).map((r) => r.textContent)).toEqual(['Wine barVendor€180.00', 'Bistro 9Vendor€50.25'])
    expect((await within(dining).findByRole('img', { name: 'What made “Dining out in Mar 2026” stand out' })).querySelectorAll('.recharts-bar-rectangle')).toHaveLength(2)
    expect(within(dining).getByRole('link', { name: 'Open the receipt: Wine bar' })).toHaveAttribute('href', '#/receipts/r7')
    // the receipt's own item points at the receipt: one link
    expect(within(receipt).getAllByRole('link').map((a) => a.getAttribute('href'))).toEqual(['#/receipts/r9'])
    expect(receipt).not.toHaveTextContent('usually')
  })

  it("shows the API's reason when there are no insights yet", async () => {
    const reason = 'No insights yet: forecasts and anomaly alerts appear after the next training run has seen a few months of your receipts.'
    renderWithApi(<AnalyticsPage />, makeApi(routes({ 'GET /insights': () => json({ insights: { forecasts: [], anomalies: [] }, reason, model_version: null }) }).fetch))
    for (const name of ['Spending trend and forecast', 'Next month by category', 'Unusual spending']) {
      expect(await within(await screen.findByRole('region', { name })).findByText(reason)).toBeInTheDocument()
    }
  })

  it('shows categories, trend with forecast, top vendors and anomalies in words', async () => {
    const f = routes()
    renderWithApi(<AnalyticsPage />, makeApi(f.fetch))
    const vendors = await screen.findByTestId('top-vendors')
    expect(await within(vendors).findByText('Corner Market')).toBeInTheDocument()
    expect(within(vendors).getByText('€80.25')).toBeInTheDocument() // 80.15 + 0.10, summed exactly
    expect(within(vendors).getAllByRole('listitem')).toHaveLength(2)
    expect(within(vendors).getByRole('link', { name: 'Corner Market' })).toHaveAttribute('href', '#/receipts?vendor=Corner%20Market')

    const trend = screen.getByTestId('chart-trend')
    expect(await within(trend).findByText('€70.00 – €120.50')).toBeInTheDocument()
    const categories = screen.getByTestId('chart-categories')
    // a legacy name is shown as the category it became
    expect(within(categories).getByRole('columnheader', { name: 'Groceries: pantry' })).toBeInTheDocument()
    expect(within(categories).getByText('€80.25')).toBeInTheDocument()

    expect(await screen.findByText('Dining out in March was about 4 times your usual.')).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Open the receipt' })).toHaveAttribute('href', '#/receipts/r9')
    const groups = f.calls.filter((c) => c.path === '/analytics/summary').map((c) => c.query.get('group'))
    expect(groups.sort()).toEqual(['category', 'month', 'vendor'])
    expect(f.calls[0].query.get('from')).toMatch(/^\d{4}-\d{2}$/)
  })

  it('switches currency when there are several', async () => {
    renderWithApi(<AnalyticsPage />, makeApi(routes().fetch))
    const select = await screen.findByLabelText('Currency')
    expect(select).toHaveValue('EUR')
    await userEvent.selectOptions(select, 'USD')
    const vendors = screen.getByTestId('top-vendors')
    expect(within(vendors).getByText('City Cab')).toBeInTheDocument()
    expect(within(vendors).getByText('$20.00')).toBeInTheDocument()
    expect(screen.getByText('Nothing unusual in your spending.')).toBeInTheDocument()
  })

  it('shows item price history', async () => {
    const f = routes()
    renderWithApi(<AnalyticsPage />, makeApi(f.fetch))
    await userEvent.type(await screen.findByLabelText('Item'), 'milk')
    await userEvent.click(screen.getByRole('button', { name: 'Show prices' }))
    const history = screen.getByTestId('item-history')
    expect(await within(history).findByText('€0.99')).toBeInTheDocument()
    const rows = within(history).getAllByRole('row').slice(1)
    expect(rows.map((r) => r.textContent)).toEqual([expect.stringContaining('€0.99'), expect.stringContaining('€1.09')])
    expect(f.calls.find((c) => c.path === '/analytics/items')!.query.get('q')).toBe('milk')
  })

  it('has clear empty and error states', async () => {
    const empty = { from: '', to: '', group: 'month', currencies: [] }
    const f = routes({ 'GET /analytics/summary': () => json(empty), 'GET /insights': () => json({ insights: null, reason: 'Not enough history yet', model_version: null }) })
    renderWithApi(<AnalyticsPage />, makeApi(f.fetch))
    expect(await screen.findByText(/No spending to show for this period yet/)).toBeInTheDocument()
  })

  it('shows the problem detail when analytics fail', async () => {
    const f = routes({ 'GET /analytics/summary': () => problem(400, '"from" must be YYYY-MM.') })
    renderWithApi(<AnalyticsPage />, makeApi(f.fetch))
    expect(await screen.findByRole('alert')).toHaveTextContent('"from" must be YYYY-MM.')
  })
})
