import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { fakeFetch, json, makeApi, makeReceipt, problem, renderWithApi } from '../test/helpers'
import { ReceiptsPage } from './ReceiptsPage'

const r = (id: string, over = {}) => makeReceipt({ receipt_id: id, vendor: { name: `Vendor ${id}`, address: null, phone: null }, ...over })

describe('ReceiptsPage', () => {
  it('shows the review queue first, then all receipts with "load more"', async () => {
    const f = fakeFetch({
      'GET /receipts': (c) => {
        if (c.query.get('status') === 'NEEDS_REVIEW') return json({ items: [r('q1', { status: 'NEEDS_REVIEW' })], next_cursor: null })
        if (c.query.get('cursor') === 'p2') return json({ items: [r('a3'), r('a2')], next_cursor: null })
        return json({ items: [r('a1'), r('a2')], next_cursor: 'p2' })
      },
    })
    renderWithApi(<ReceiptsPage query={new URLSearchParams()} />, makeApi(f.fetch))

    const queue = await screen.findByRole('list', { name: 'Receipts that need review' })
    expect(within(queue).getByText('Vendor q1')).toBeInTheDocument()
    const headings = screen.getAllByRole('heading', { level: 2 }).map((h) => h.textContent)
    expect(headings).toEqual(['Needs review', 'All receipts'])

    const all = await screen.findByRole('list', { name: 'Receipts' })
    expect(within(all).getAllByTestId('receipt-row')).toHaveLength(2)
    await userEvent.click(screen.getByRole('button', { name: 'Load more' }))
    await waitFor(() => expect(within(all).getAllByTestId('receipt-row')).toHaveLength(3)) // a2 not repeated
    expect(f.calls.find((c) => c.query.get('cursor') === 'p2')).toBeTruthy()
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument()
    expect(within(all).getAllByRole('link')[0]).toHaveAttribute('href', '#/receipts/a1')
  })

  it('applies filters from the URL and writes new ones to it', async () => {
    const f = fakeFetch({ 'GET /receipts': () => json({ items: [], next_cursor: null }) })
    renderWithApi(<ReceiptsPage query={new URLSearchParams('status=FAILED&q=milk')} />, makeApi(f.fetch))
    expect(await screen.findByText('No receipts match these filters.')).toBeInTheDocument()
    expect(screen.queryByRole('heading', { name: 'Needs review' })).not.toBeInTheDocument()
    expect(Object.fromEntries(f.calls[0].query)).toMatchObject({ status: 'FAILED', q: 'milk' })
    expect(screen.getByLabelText('Search')).toHaveValue('milk')
    expect(screen.getByLabelText('Status')).toHaveValue('FAILED')

    await userEvent.type(screen.getByLabelText('Vendor'), 'Lidl')
    await userEvent.type(screen.getByLabelText('From'), '2026-01-01')
    await userEvent.selectOptions(screen.getByLabelText('Status'), '')
    await userEvent.click(screen.getByRole('button', { name: 'Search' }))
    const q = new URLSearchParams(window.location.hash.split('?')[1])
    expect(window.location.hash.startsWith('#/receipts?')).toBe(true)
    expect(Object.fromEntries(q)).toEqual({ q: 'milk', vendor: 'Lidl', from: '2026-01-01' })
  })

  it('shows an empty state and API errors with retry', async () => {
    let fail = true
    const f = fakeFetch({
      'GET /receipts': (c) =>
        c.query.get('status') ? json({ items: [], next_cursor: null }) : fail ? problem(500, 'The receipts table is unavailable.') : json({ items: [], next_cursor: null }),
    })
    renderWithApi(<ReceiptsPage query={new URLSearchParams()} />, makeApi(f.fetch))
    expect(await screen.findByRole('alert')).toHaveTextContent('The receipts table is unavailable.')
    fail = false
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }))
    expect(await screen.findByText(/No receipts yet/)).toBeInTheDocument()
    expect(screen.queryByRole('heading', { name: 'Needs review' })).not.toBeInTheDocument()
  })
})
