import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import type { Receipt } from '../api/types'
import { fakeFetch, json, makeApi, makeReceipt, problem, renderWithApi } from '../test/helpers'
import ReceiptDetailPage from './ReceiptDetailPage'

function setup(receipt: Receipt, routes: Parameters<typeof fakeFetch>[0] = {}) {
  const f = fakeFetch({ 'GET /receipts/:id': () => json({ receipt, image_url: 'https://img.local/r1.jpg' }), ...routes })
  renderWithApi(<ReceiptDetailPage id={receipt.receipt_id} pollIntervalMs={10} />, makeApi(f.fetch))
  return f
}

describe('ReceiptDetailPage', () => {
  it('shows the image beside the fields and highlights what needs a look', async () => {
    setup(
      makeReceipt({
        status: 'NEEDS_REVIEW',
        confidence: { total: 0.55, vendor: 0.99 },
        review_reasons: ['line items do not add up to the subtotal'],
      }),
    )
    expect(await screen.findByRole('heading', { name: 'Corner Market', level: 1 })).toBeInTheDocument()
    expect(screen.getByRole('img', { name: 'Receipt image' })).toHaveAttribute('src', 'https://img.local/r1.jpg')
    expect(screen.getByLabelText('Total')).toHaveValue('12.10')
    expect(screen.getByTestId('field-total')).toHaveAttribute('data-attention', 'true')
    expect(screen.getByLabelText('Total')).toHaveAccessibleDescription(/Low confidence \(55%\)/)
    expect(screen.getByTestId('field-subtotal')).toHaveAttribute('data-attention', 'true')
    expect(screen.getByTestId('field-vendor_name')).not.toHaveAttribute('data-attention')
    expect(screen.getByTestId('line-items')).toHaveAttribute('data-attention', 'true')
    expect(screen.getByTestId('review-reasons')).toHaveTextContent('line items do not add up to the subtotal')
    // Bread's category was read with 50% confidence
    expect(screen.getByLabelText('Category, item 2').closest('td')).toHaveClass('attention')
    expect(screen.getByTestId('items-sum')).toHaveTextContent('Items add up to €10.00')
  })

  it('says why a receipt failed, in one sentence', async () => {
    setup(
      makeReceipt({
        status: 'FAILED',
        failure_reason: 'The image is incomplete or damaged (the file ends early): upload it again.',
      }),
    )
    expect(
      await screen.findByText('This receipt could not be read: The image is incomplete or damaged (the file ends early): upload it again.'),
    ).toBeInTheDocument()
  })

  it('saves corrections with the version and shows the new state', async () => {
    const r = makeReceipt()
    const f = setup(r, {
      'PATCH /receipts/:id': (c) =>
        json({ receipt: { ...r, ...(c.body as object), version: 4, corrected_fields: ['total', 'line_items'] } }),
    })
    const total = await screen.findByLabelText('Total')
    const save = screen.getByRole('button', { name: 'Save corrections' })
    expect(save).toBeDisabled()
    await userEvent.clear(total)
    await userEvent.type(total, '12.20')
    await userEvent.clear(screen.getByLabelText('Amount, item 1'))
    await userEvent.type(screen.getByLabelText('Amount, item 1'), '2.20')
    await userEvent.click(save)
    expect(await screen.findByText('Saved.')).toBeInTheDocument()
    const patch = f.calls.find((c) => c.method === 'PATCH')!
    expect(patch.body).toMatchObject({ total: '12.20', version: 3 })
    expect((patch.body as { line_items: Array<{ amount: string }> }).line_items[0].amount).toBe('2.20')
    expect(screen.getByText('Total').closest('label')).toHaveTextContent('Total (corrected)')
    expect(screen.getByRole('button', { name: 'Save corrections' })).toBeDisabled()
  })

  it('saves one item\'s category at once, sending the whole list with its confidence cleared', async () => {
    const r = makeReceipt()
    const f = setup(r, {
      'PATCH /receipts/:id': (c) => json({ receipt: { ...r, ...(c.body as object), version: 4, corrected_fields: ['line_items'] } }),
    })
    const select = await screen.findByLabelText('Category, item 2')
    // a legacy name is kept as it is, and said in today's words
    expect(select).toHaveValue('groceries')
    expect(within(select).getByRole('option', { selected: true })).toHaveTextContent('Groceries: pantry (old name “groceries”)')
    expect(within(select).getByRole('group', { name: 'Groceries' })).toBeInTheDocument()
    expect(select.closest('td')).toHaveClass('attention') // read with 50% confidence
    await userEvent.type(screen.getByLabelText('Tip'), '1') // an unsaved edit elsewhere

    await userEvent.selectOptions(select, 'Groceries: fresh')

    expect(await screen.findByText('Saved: “Bread” is now Groceries: fresh.')).toBeInTheDocument()
    const patches = f.calls.filter((c) => c.method === 'PATCH')
    expect(patches).toHaveLength(1)
    expect(patches[0].body).toEqual({
      line_items: [
        { description: 'Milk', quantity: '2', unit_price: '1.05', amount: '2.10', category: 'groceries', category_confidence: 0.95 },
        { description: 'Bread', quantity: '1', unit_price: '7.90', amount: '7.90', category: 'groceries_fresh', category_confidence: null },
      ],
      version: 3,
    })
    const saved = screen.getByLabelText('Category, item 2')
    expect(saved).toHaveValue('groceries_fresh')
    expect(saved).toHaveFocus()
    expect(saved.closest('td')).not.toHaveClass('attention') // a person chose it
    expect(within(saved.closest('td')!).getByTestId('item-category-status')).toHaveTextContent('✓ Saved')
    expect(screen.getByText('Line items').closest('legend')).toHaveTextContent('(corrected)')

    // the other edit is still there, unsaved, and is saved on the new version
    expect(screen.getByLabelText('Tip')).toHaveValue('1')
    await userEvent.click(screen.getByRole('button', { name: 'Save corrections' }))
    await screen.findByText('Saved.')
    expect(f.calls.filter((c) => c.method === 'PATCH')[1].body).toEqual({ tip: '1', version: 4 })
  })

  it('says when a category could not be saved because the receipt changed', async () => {
    setup(makeReceipt(), { 'PATCH /receipts/:id': () => problem(409, 'This receipt was changed (now version 4).', 'Conflict') })
    await userEvent.selectOptions(await screen.findByLabelText('Category, item 1'), 'Dining out')
    expect(await screen.findByText('This receipt was changed (now version 4).')).toBeInTheDocument()
    expect(screen.getByTestId('conflict')).toHaveTextContent('This receipt was changed somewhere else since you opened it.')
    const select = screen.getByLabelText('Category, item 1')
    expect(select).toHaveValue('groceries') // back to what is stored
    expect(within(select.closest('td')!).getByTestId('item-category-status')).toHaveTextContent('Not saved')
    expect(screen.queryByText(/^Saved/)).not.toBeInTheDocument()
  })

  it('keeps a new item\'s category for the form to save', async () => {
    const r = makeReceipt()
    const f = setup(r, { 'PATCH /receipts/:id': (c) => json({ receipt: { ...r, ...(c.body as object), version: 4 } }) })
    await userEvent.click(await screen.findByRole('button', { name: 'Add item' }))
    await userEvent.type(screen.getByLabelText('Description, item 3'), 'Wine')
    await userEvent.selectOptions(screen.getByLabelText('Category, item 3'), 'alcohol_tobacco')
    expect(f.calls.some((c) => c.method === 'PATCH')).toBe(false)
    await userEvent.click(screen.getByRole('button', { name: 'Save corrections' }))
    await screen.findByText('Saved.')
    const items = (f.calls.find((c) => c.method === 'PATCH')!.body as { line_items: Array<{ category: string | null }> }).line_items
    expect(items.map((i) => i.category)).toEqual(['groceries', 'groceries', 'alcohol_tobacco'])
  })

  it('refuses invalid amounts before calling the API', async () => {
    const f = setup(makeReceipt())
    const tax = await screen.findByLabelText('Tax')
    await userEvent.clear(tax)
    await userEvent.type(tax, '2,10')
    await userEvent.click(screen.getByRole('button', { name: 'Save corrections' }))
    expect(tax).toHaveAttribute('aria-invalid', 'true')
    expect(screen.getByText('Enter an amount like 12.50')).toBeInTheDocument()
    expect(f.calls.some((c) => c.method === 'PATCH')).toBe(false)
  })

  it('explains a version conflict and reloads', async () => {
    let version = 3
    const f = setup(makeReceipt(), {
      'GET /receipts/:id': () => json({ receipt: makeReceipt({ version, total: version > 3 ? '99.00' : '12.10' }), image_url: null }),
      'PATCH /receipts/:id': () => problem(409, 'This receipt was changed (now version 4).', 'Conflict'),
    })
    await userEvent.type(await screen.findByLabelText('Tip'), '1')
    await userEvent.click(screen.getByRole('button', { name: 'Save corrections' }))
    expect(await screen.findByText('This receipt was changed (now version 4).')).toBeInTheDocument()
    version = 4
    await userEvent.click(within(screen.getByTestId('conflict')).getByRole('button', { name: 'Load the latest version' }))
    await waitFor(() => expect(screen.getByLabelText('Total')).toHaveValue('99.00'))
    expect(screen.queryByTestId('conflict')).not.toBeInTheDocument()
    expect(f.calls.filter((c) => c.method === 'GET')).toHaveLength(2)
  })

  it('retries a failed receipt and follows it until read', async () => {
    let state: Receipt = makeReceipt({ status: 'FAILED', failure_reason: 'The image is too blurry to read', total: null })
    setup(state, {
      'GET /receipts/:id': () => json({ receipt: state, image_url: null }),
      'POST /receipts/:id/retry': () => {
        const pending = { ...state, status: 'PENDING' as const, failure_reason: null, version: 4 }
        state = { ...pending, status: 'PROCESSED', total: '12.10', version: 5 }
        return json({ receipt: pending }, 202)
      },
    })
    expect(await screen.findByRole('alert')).toHaveTextContent('The image is too blurry to read')
    await userEvent.click(screen.getByRole('button', { name: 'Read again' }))
    await waitFor(() => expect(screen.getByTestId('status-badge')).toHaveAttribute('data-status', 'PROCESSED'))
    expect(screen.getByLabelText('Total')).toHaveValue('12.10')
    expect(screen.queryByRole('button', { name: 'Read again' })).not.toBeInTheDocument()
  })

  it('deletes after confirmation', async () => {
    const f = setup(makeReceipt(), { 'DELETE /receipts/:id': () => new Response(null, { status: 204 }) })
    await userEvent.click(await screen.findByRole('button', { name: 'Delete' }))
    const confirm = screen.getByRole('group', { name: 'Confirm delete' })
    await userEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }))
    expect(f.calls.some((c) => c.method === 'DELETE')).toBe(false)
    await userEvent.click(screen.getByRole('button', { name: 'Delete' }))
    await userEvent.click(screen.getByRole('button', { name: 'Yes, delete' }))
    await waitFor(() => expect(window.location.hash).toBe('#/receipts'))
    expect(f.calls.filter((c) => c.method === 'DELETE')).toHaveLength(1)
  })

  it('warns about duplicates', async () => {
    setup(makeReceipt({ duplicate_of: 'r0' }))
    const warning = await screen.findByTestId('duplicate-warning')
    expect(within(warning).getByRole('link', { name: 'another receipt' })).toHaveAttribute('href', '#/receipts/r0')
  })

  it('says when a receipt does not exist', async () => {
    setup(makeReceipt(), { 'GET /receipts/:id': () => problem(404, 'No such receipt.', 'Not Found') })
    expect(await screen.findByRole('heading', { name: 'Receipt not found' })).toBeInTheDocument()
    expect(screen.getByRole('alert')).toHaveTextContent('No such receipt.')
  })

  it('adds and removes line items', async () => {
    const r = makeReceipt()
    const f = setup(r, { 'PATCH /receipts/:id': (c) => json({ receipt: { ...r, ...(c.body as object), version: 4 } }) })
    await userEvent.click(await screen.findByRole('button', { name: 'Remove item 2' }))
    await userEvent.click(screen.getByRole('button', { name: 'Add item' }))
    await userEvent.type(screen.getByLabelText('Description, item 2'), 'Eggs')
    await userEvent.type(screen.getByLabelText('Amount, item 2'), '3.30')
    await userEvent.click(screen.getByRole('button', { name: 'Save corrections' }))
    await screen.findByText('Saved.')
    const items = (f.calls.find((c) => c.method === 'PATCH')!.body as { line_items: Array<{ description: string; amount: string | null }> }).line_items
    expect(items.map((i) => [i.description, i.amount])).toEqual([
      ['Milk', '2.10'],
      ['Eggs', '3.30'],
    ])
  })
})
