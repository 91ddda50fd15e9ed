import { describe, expect, it } from 'vitest'
import { fakeFetch, json, makeApi, makeReceipt, problem } from '../test/helpers'
import { PollTimeout, pollUntilProcessed } from './poll'

describe('pollUntilProcessed', () => {
  it('polls until the status is not PENDING', async () => {
    const statuses = ['PENDING', 'PENDING', 'NEEDS_REVIEW'] as const
    let n = 0
    const f = fakeFetch({ 'GET /receipts/:id': () => json({ receipt: makeReceipt({ status: statuses[Math.min(n++, 2)] }), image_url: null }) })
    const seen: string[] = []
    const r = await pollUntilProcessed(makeApi(f.fetch), 'r1', { intervalMs: 5, onUpdate: (x) => seen.push(x.status) })
    expect(r.status).toBe('NEEDS_REVIEW')
    expect(seen).toEqual(['PENDING', 'PENDING', 'NEEDS_REVIEW'])
    expect(f.calls).toHaveLength(3)
  })

  it('gives up with a timeout message', async () => {
    const f = fakeFetch({ 'GET /receipts/:id': () => json({ receipt: makeReceipt({ status: 'PENDING' }), image_url: null }) })
    const err = await pollUntilProcessed(makeApi(f.fetch), 'r1', { intervalMs: 5, timeoutMs: 30 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PollTimeout)
    expect((err as PollTimeout).message).toMatch(/longer than usual/)
    expect((err as PollTimeout).last?.status).toBe('PENDING')
  })

  it('tolerates a transient error but not repeated ones', async () => {
    let n = 0
    const flaky = fakeFetch({
      'GET /receipts/:id': () => (n++ === 0 ? problem(503, 'busy') : json({ receipt: makeReceipt(), image_url: null })),
    })
    await expect(pollUntilProcessed(makeApi(flaky.fetch), 'r1', { intervalMs: 5 })).resolves.toMatchObject({ status: 'PROCESSED' })
    const down = fakeFetch({ 'GET /receipts/:id': () => problem(503, 'Service unavailable.') })
    await expect(pollUntilProcessed(makeApi(down.fetch), 'r1', { intervalMs: 5, maxErrors: 2 })).rejects.toThrow('Service unavailable.')
  })

  it('stops when aborted', async () => {
    const f = fakeFetch({ 'GET /receipts/:id': () => json({ receipt: makeReceipt({ status: 'PENDING' }), image_url: null }) })
    const ctrl = new AbortController()
    const p = pollUntilProcessed(makeApi(f.fetch), 'r1', { intervalMs: 50, signal: ctrl.signal })
    setTimeout(() => ctrl.abort(), 10)
    await expect(p).rejects.toMatchObject({ name: 'AbortError' })
  })
})
