import { render, type RenderResult } from '@testing-library/react'
import type { ReactElement } from 'react'
import { vi, type Mock } from 'vitest'
import { ApiClient } from '../api/client'
import { ApiContext } from '../api/context'
import type { Receipt } from '../api/types'

export function makeReceipt(over: Partial<Receipt> = {}): Receipt {
  return {
    receipt_id: 'r1',
    user_id: 'u1',
    status: 'PROCESSED',
    failure_reason: null,
    review_reasons: [],
    object_key: 'uploads/u1/r1.jpg',
    content_type: 'image/jpeg',
    size_bytes: 12345,
    image_sha256: null,
    uploaded_at: '2026-03-14T10:00:00Z',
    processed_at: '2026-03-14T10:00:05Z',
    vendor: { name: 'Corner Market', legal_name: null, address: '1 Main St', phone: null },
    purchase_date: '2026-03-14',
    currency: 'EUR',
    subtotal: '10.00',
    tax: '2.10',
    tip: null,
    discount: null,
    total: '12.10',
    payment_method: 'card',
    line_items: [
      { description: 'Milk', quantity: '2', unit_price: '1.05', amount: '2.10', category: 'groceries', category_confidence: 0.95 },
      { description: 'Bread', quantity: '1', unit_price: '7.90', amount: '7.90', category: 'groceries', category_confidence: 0.5 },
    ],
    category: 'groceries',
    confidence: { total: 0.99, vendor: 0.97, purchase_date: 0.9 },
    ocr_engine: 'local',
    corrected_fields: [],
    duplicate_of: null,
    version: 3,
    ...over,
  }
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

export function problem(status: number, detail: string, title = 'Problem'): Response {
  return new Response(JSON.stringify({ type: 'about:blank', title, status, detail }), {
    status,
    headers: { 'Content-Type': 'application/problem+json' },
  })
}

export interface Call {
  method: string
  path: string
  query: URLSearchParams
  headers: Record<string, string>
  body: unknown
}

type Handler = (call: Call) => Response | Promise<Response>

/**
 * A fetch double that routes "METHOD /path/:param" patterns (matched against the path
 * after the API base) and records every call.
 */
export function fakeFetch(routes: Record<string, Handler>) {
  const calls: Call[] = []
  const fn: Mock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://localhost')
    const method = (init.method ?? 'GET').toUpperCase()
    const path = url.pathname.replace(/^\/api/, '')
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>))
    let body: unknown = init.body
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body)
      } catch {
        // leave as text
      }
    }
    const call: Call = { method, path, query: url.searchParams, headers, body }
    calls.push(call)
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError')
    for (const [pattern, handler] of Object.entries(routes)) {
      const [m, p] = pattern.split(' ')
      if (m !== method) continue
      const re = new RegExp('^' + p.replace(/:[a-z_]+/g, '[^/]+') + '$')
      if (re.test(path)) return handler(call)
    }
    return problem(404, `no fake route for ${method} ${path}`, 'Not Found')
  })
  return { fetch: fn as unknown as typeof fetch, calls, mock: fn }
}

export function makeApi(f: typeof fetch, token: string | null = 'test-token') {
  return new ApiClient({ base: '/api', getToken: async () => token, fetch: f })
}

export function renderWithApi(ui: ReactElement, api: ApiClient): RenderResult {
  return render(<ApiContext.Provider value={api}>{ui}</ApiContext.Provider>)
}

/** An XMLHttpRequest double for presigned POST uploads. */
export class FakeXhr extends EventTarget {
  static instances: FakeXhr[] = []
  upload = new EventTarget()
  status = 0
  responseText = ''
  method = ''
  url = ''
  body: FormData | null = null
  aborted = false

  constructor() {
    super()
    FakeXhr.instances.push(this)
  }
  open(method: string, url: string) {
    this.method = method
    this.url = url
  }
  send(body: FormData) {
    this.body = body
  }
  abort() {
    this.aborted = true
    this.dispatchEvent(new Event('abort'))
  }
  progress(loaded: number, total: number) {
    const e = new Event('progress') as Event & { loaded: number; total: number; lengthComputable: boolean }
    Object.assign(e, { loaded, total, lengthComputable: true })
    this.upload.dispatchEvent(e)
  }
  respond(status: number, text = '') {
    this.status = status
    this.responseText = text
    this.dispatchEvent(new Event('load'))
  }
  fail() {
    this.dispatchEvent(new Event('error'))
  }
  static create = () => new FakeXhr() as unknown as XMLHttpRequest
  static reset() {
    FakeXhr.instances = []
  }
}

/**
 * Give recharts' ResponsiveContainer a size (jsdom lays nothing out, so charts would draw
 * nothing): the container measures itself with getBoundingClientRect once, on mount.
 */
export function sizeCharts(width = 600, height = 300) {
  const original = HTMLElement.prototype.getBoundingClientRect
  vi.spyOn(HTMLElement.prototype, 'getBoundingClientRect').mockImplementation(function (this: HTMLElement) {
    if (!this.classList.contains('recharts-responsive-container')) return original.call(this)
    const h = Number.parseFloat(this.style.height) || height
    return { x: 0, y: 0, top: 0, left: 0, right: width, bottom: h, width, height: h, toJSON: () => ({}) } as DOMRect
  })
}
