import { describe, expect, it } from 'vitest'
import { fakeFetch, json, makeApi, makeReceipt, problem } from '../test/helpers'
import { ApiError, buildQuery, errorMessage, problemFromResponse } from './client'

describe('ApiClient', () => {
  it('sends the bearer ID token and JSON', async () => {
    const f = fakeFetch({ 'POST /receipts': () => json({ receipt: makeReceipt({ status: 'PENDING' }), upload: { url: 'https://s3', fields: {} }, duplicate_of: null }, 201) })
    const api = makeApi(f.fetch, 'id.token.value')
    const out = await api.createUpload({ filename: 'a.jpg', content_type: 'image/jpeg', size_bytes: 3 })
    expect(out.receipt.status).toBe('PENDING')
    expect(f.calls[0].headers.Authorization).toBe('Bearer id.token.value')
    expect(f.calls[0].headers['Content-Type']).toBe('application/json')
    expect(f.calls[0].body).toEqual({ filename: 'a.jpg', content_type: 'image/jpeg', size_bytes: 3 })
  })

  it('omits Authorization when signed out', async () => {
    const f = fakeFetch({ 'GET /insights': () => json({ insights: null, reason: 'x', model_version: null }) })
    await makeApi(f.fetch, null).insights()
    expect(f.calls[0].headers.Authorization).toBeUndefined()
  })

  it('turns problem+json into ApiError with the detail', async () => {
    const f = fakeFetch({ 'GET /receipts/:id': () => problem(404, 'No receipt r9.', 'Not Found') })
    const err = await makeApi(f.fetch).getReceipt('r9').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 404, title: 'Not Found', detail: 'No receipt r9.', type: 'about:blank' })
    expect(errorMessage(err)).toBe('No receipt r9.')
  })

  it('reports 409 on a stale version and sends the version', async () => {
    const f = fakeFetch({ 'PATCH /receipts/:id': () => problem(409, 'The receipt changed (version 4).', 'Conflict') })
    const err = await makeApi(f.fetch).updateReceipt('r1', { total: '9.99' }, 3).catch((e: unknown) => e)
    expect((err as ApiError).status).toBe(409)
    expect(f.calls[0].body).toEqual({ total: '9.99', version: 3 })
  })

  it('copes with non-JSON and empty error bodies', async () => {
    const text = await problemFromResponse(new Response('upstream timeout', { status: 504, statusText: 'Gateway Timeout' }))
    expect(text.detail).toBe('upstream timeout')
    const html = await problemFromResponse(new Response('<html>oops</html>', { status: 502, headers: { 'Content-Type': 'text/html' } }))
    expect(html.detail).toBeNull()
    expect(errorMessage(html)).toMatch(/502|Bad/i)
    const gw = await problemFromResponse(json({ message: 'Forbidden by the gateway' }, 403))
    expect(errorMessage(gw)).toBe('Forbidden by the gateway')
    const expired = await problemFromResponse(problem(401, "Sign in and send the ID token as 'Authorization: Bearer <token>'.", 'Not signed in'))
    expect(errorMessage(expired)).toBe('Your session has expired. Please sign out and sign in again.')
  })

  it('explains network failures in words', () => {
    expect(errorMessage(new TypeError('Failed to fetch'))).toMatch(/could not reach the server/i)
  })

  it('pages with the cursor and skips empty filters', async () => {
    const pages: Record<string, { items: ReturnType<typeof makeReceipt>[]; next_cursor: string | null }> = {
      '': { items: [makeReceipt({ receipt_id: 'a' })], next_cursor: 'c1' },
      c1: { items: [makeReceipt({ receipt_id: 'b' })], next_cursor: null },
    }
    const f = fakeFetch({ 'GET /receipts': (c) => json(pages[c.query.get('cursor') ?? '']) })
    const api = makeApi(f.fetch)
    const first = await api.listReceipts({ status: 'NEEDS_REVIEW', q: '', vendor: undefined, from: '2026-01-01' }, null, 10)
    expect(first.next_cursor).toBe('c1')
    const second = await api.listReceipts({ status: 'NEEDS_REVIEW' }, first.next_cursor, 10)
    expect(second.items.map((r) => r.receipt_id)).toEqual(['b'])
    expect(second.next_cursor).toBeNull()
    expect(Object.fromEntries(f.calls[0].query)).toEqual({ status: 'NEEDS_REVIEW', from: '2026-01-01', limit: '10' })
    expect(f.calls[1].query.get('cursor')).toBe('c1')
  })

  it('handles 204, 202 and blobs', async () => {
    const f = fakeFetch({
      'DELETE /receipts/:id': () => new Response(null, { status: 204 }),
      'POST /receipts/:id/retry': () => json({ receipt: makeReceipt({ status: 'PENDING' }) }, 202),
      'GET /export.csv': () => new Response('receipt_id,total\nr1,12.10\n', { headers: { 'Content-Type': 'text/csv' } }),
      'DELETE /me': () => json({ erased: { receipts: 2, images: 2, raw_documents: 1 } }),
    })
    const api = makeApi(f.fetch)
    await expect(api.deleteReceipt('r1')).resolves.toBeUndefined()
    expect((await api.retryReceipt('r1')).status).toBe('PENDING')
    const blob = await api.exportCsv('2026-01-01')
    expect(await blob.text()).toContain('r1,12.10')
    expect(f.calls[2].query.get('from')).toBe('2026-01-01')
    expect(f.calls[2].headers.Authorization).toBe('Bearer test-token')
    expect((await api.eraseMyData()).erased.receipts).toBe(2)
  })

  it('encodes ids and builds analytics queries', async () => {
    const f = fakeFetch({
      'GET /receipts/:id': () => json({ receipt: makeReceipt(), image_url: null }),
      'GET /analytics/summary': () => json({ from: '2026-01', to: '2026-03', group: 'category', currencies: [] }),
      'GET /analytics/items': () => json({ query: 'milk', points: [] }),
    })
    const api = makeApi(f.fetch)
    await api.getReceipt('a/b')
    expect(f.mock.mock.calls[0][0]).toBe('/api/receipts/a%2Fb')
    await api.summary('category', '2026-01', '2026-03')
    expect(Object.fromEntries(f.calls[1].query)).toEqual({ from: '2026-01', to: '2026-03', group: 'category' })
    await api.itemHistory('oat milk')
    expect(f.calls[2].query.get('q')).toBe('oat milk')
    await api.summary('vendor', '2026-01', '2026-03', undefined, 10)
    expect(f.calls[3].query.get('top')).toBe('10')
  })

  it('buildQuery', () => {
    expect(buildQuery({})).toBe('')
    expect(buildQuery({ a: 'x y', b: null, c: 0 })).toBe('?a=x+y&c=0')
  })
})
