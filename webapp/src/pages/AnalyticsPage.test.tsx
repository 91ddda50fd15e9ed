import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import type { Summary } from '../api/types'
import { fakeFetch, json, makeApi, problem, renderWithApi } from '../test/helpers'
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

function routes(over: Parameters<typeof fakeFetch>[0] = {}) {
  return fakeFetch({
    'GET /analytics/summary': (c) => json(summaries[c.query.get('group')!]),
    'GET /insights': () =>
      json({
        insights: {
          forecasts: [{ currency: 'EUR', month: '2026-04', predicted: '95.00', lower: '70.00', upper: '120.50' }],
          anomalies: [{ receipt_id: 'r9', currency: 'EUR', amount: '245.00', explanation: 'about 4 times your usual dining spend', score: 3.9 }],
        },
        reason: null,
        model_version: 'v3',
      }),
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
    expect(within(categories).getByRole('columnheader', { name: 'groceries' })).toBeInTheDocument()
    expect(within(categories).getByText('€80.25')).toBeInTheDocument()

    expect(await screen.findByText('€245.00 stood out: about 4 times your usual dining spend.')).toBeInTheDocument()
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
