import { screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { fakeFetch, json, makeApi, problem, renderWithApi } from '../test/helpers'
import SettingsPage from './SettingsPage'

describe('SettingsPage', () => {
  const created: Blob[] = []
  let clicked: string[] = []
  beforeEach(() => {
    clicked = []
    URL.createObjectURL = vi.fn((b: Blob) => {
      created.push(b)
      return 'blob:test/1'
    })
    URL.revokeObjectURL = vi.fn()
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(`${this.download}|${this.getAttribute('href')}`)
    })
  })
  afterEach(() => {
    created.length = 0
  })

  it('downloads the CSV through fetch with the bearer token', async () => {
    const f = fakeFetch({ 'GET /export.csv': () => new Response('receipt_id,total\nr1,12.10\n', { headers: { 'Content-Type': 'text/csv' } }) })
    renderWithApi(<SettingsPage />, makeApi(f.fetch))
    await userEvent.type(screen.getByLabelText('From'), '2026-01-01')
    await userEvent.click(screen.getByRole('button', { name: 'Download CSV' }))
    expect(await screen.findByText('Downloaded receipts-from-2026-01-01.csv.')).toBeInTheDocument()
    expect(f.calls[0].headers.Authorization).toBe('Bearer test-token')
    expect(f.calls[0].query.get('from')).toBe('2026-01-01')
    expect(f.calls[0].query.has('to')).toBe(false)
    expect(await created[0].text()).toContain('r1,12.10')
    expect(clicked).toEqual(['receipts-from-2026-01-01.csv|blob:test/1'])
  })

  it('shows export errors', async () => {
    const f = fakeFetch({ 'GET /export.csv': () => problem(400, '"from" must be before "to".') })
    renderWithApi(<SettingsPage />, makeApi(f.fetch))
    await userEvent.click(screen.getByRole('button', { name: 'Download CSV' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('"from" must be before "to".')
  })

  it('erases only after the phrase is typed', async () => {
    const f = fakeFetch({ 'DELETE /me': () => json({ erased: { receipts: 12, images: 11, raw_documents: 1 } }) })
    renderWithApi(<SettingsPage />, makeApi(f.fetch))
    const button = screen.getByRole('button', { name: 'Erase all my data' })
    expect(button).toBeDisabled()
    const input = screen.getByLabelText(/to confirm/)
    await userEvent.type(input, 'erase my')
    expect(button).toBeDisabled()
    await userEvent.type(input, ' data')
    expect(button).toBeEnabled()
    await userEvent.click(button)
    expect(await screen.findByTestId('erase-result')).toHaveTextContent('Erased 12 receipts, 11 images and 1 stored document.')
    expect(f.calls).toHaveLength(1)
    expect(f.calls[0].method).toBe('DELETE')
    expect(input).toHaveValue('')
  })
})
