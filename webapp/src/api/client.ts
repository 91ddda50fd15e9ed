import type {
  CreateUploadRequest,
  CreateUploadResponse,
  EraseResult,
  Insights,
  ItemHistory,
  Receipt,
  ReceiptDetail,
  ReceiptFilters,
  ReceiptPage,
  ReceiptPatch,
  Summary,
  SummaryGroup,
} from './types'

/** An error answered by the API, carrying the RFC 9457 problem details when present. */
export class ApiError extends Error {
  readonly status: number
  readonly title: string
  readonly detail: string | null
  readonly type: string | null

  constructor(status: number, title: string, detail: string | null, type: string | null = null) {
    super(detail || title || `Request failed (HTTP ${status})`)
    this.name = 'ApiError'
    this.status = status
    this.title = title
    this.detail = detail
    this.type = type
  }
}

/** The words to show a person for any error thrown by the client (or anything else). */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    // A 401's detail is written for developers ("send the ID token as ..."); say what to do.
    if (err.status === 401) return 'Your session has expired. Please sign out and sign in again.'
    if (err.detail) return err.detail
    return err.title || `Request failed (HTTP ${err.status})`
  }
  if (err instanceof TypeError) return 'Could not reach the server. Check your connection and try again.'
  if (err instanceof Error) return err.message
  return String(err)
}

export async function problemFromResponse(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '')
  const ctype = res.headers.get('content-type') ?? ''
  if (text && (ctype.includes('json') || text.trimStart().startsWith('{'))) {
    try {
      const body = JSON.parse(text) as Record<string, unknown>
      const str = (v: unknown) => (typeof v === 'string' && v ? v : null)
      // Problem details first; tolerate {message} / {error} from gateways in front of us.
      const detail = str(body.detail) ?? str(body.message) ?? str(body.error)
      const title = str(body.title) ?? res.statusText ?? ''
      return new ApiError(typeof body.status === 'number' ? body.status : res.status, title, detail, str(body.type))
    } catch {
      // fall through to plain text
    }
  }
  const plain = text && !ctype.includes('html') && text.length < 500 ? text.trim() : null
  return new ApiError(res.status, res.statusText || `HTTP ${res.status}`, plain)
}

export type TokenProvider = () => Promise<string | null>

export interface ApiClientOptions {
  base: string
  getToken: TokenProvider
  fetch?: typeof fetch
}

type Query = Record<string, string | number | null | undefined>

export function buildQuery(params: Query): string {
  const sp = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue
    sp.set(k, String(v))
  }
  const s = sp.toString()
  return s ? `?${s}` : ''
}

export class ApiClient {
  private readonly base: string
  private readonly getToken: TokenProvider
  private readonly fetchImpl: typeof fetch

  constructor(opts: ApiClientOptions) {
    this.base = opts.base.replace(/\/+$/, '')
    this.getToken = opts.getToken
    this.fetchImpl = opts.fetch ?? ((...args) => globalThis.fetch(...args))
  }

  url(path: string, query: Query = {}): string {
    return `${this.base}${path}${buildQuery(query)}`
  }

  /** Low level: an authorized fetch that throws ApiError for non-2xx answers. */
  async raw(method: string, path: string, opts: { query?: Query; body?: unknown; signal?: AbortSignal } = {}): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' }
    const token = await this.getToken()
    if (token) headers.Authorization = `Bearer ${token}`
    let body: string | undefined
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json'
      body = JSON.stringify(opts.body)
    }
    const res = await this.fetchImpl(this.url(path, opts.query), { method, headers, body, signal: opts.signal })
    if (!res.ok) throw await problemFromResponse(res)
    return res
  }

  async json<T>(method: string, path: string, opts: { query?: Query; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    const res = await this.raw(method, path, opts)
    if (res.status === 204) return undefined as T
    return (await res.json()) as T
  }

  createUpload(req: CreateUploadRequest): Promise<CreateUploadResponse> {
    return this.json('POST', '/receipts', { body: req })
  }

  listReceipts(filters: ReceiptFilters = {}, cursor?: string | null, limit?: number, signal?: AbortSignal): Promise<ReceiptPage> {
    return this.json('GET', '/receipts', {
      query: { ...filters, cursor: cursor ?? undefined, limit },
      signal,
    })
  }

  getReceipt(id: string, signal?: AbortSignal): Promise<ReceiptDetail> {
    return this.json('GET', `/receipts/${encodeURIComponent(id)}`, { signal })
  }

  async updateReceipt(id: string, patch: ReceiptPatch, version: number): Promise<Receipt> {
    const out = await this.json<{ receipt: Receipt }>('PATCH', `/receipts/${encodeURIComponent(id)}`, {
      body: { ...patch, version },
    })
    return out.receipt
  }

  async deleteReceipt(id: string): Promise<void> {
    await this.raw('DELETE', `/receipts/${encodeURIComponent(id)}`)
  }

  async retryReceipt(id: string): Promise<Receipt> {
    const out = await this.json<{ receipt: Receipt }>('POST', `/receipts/${encodeURIComponent(id)}/retry`)
    return out.receipt
  }

  /** `top`: only the groups of the N largest keys per currency (currency totals stay whole). */
  summary(group: SummaryGroup, from?: string, to?: string, signal?: AbortSignal, top?: number): Promise<Summary> {
    return this.json('GET', '/analytics/summary', { query: { from, to, group, top }, signal })
  }

  itemHistory(q: string, signal?: AbortSignal): Promise<ItemHistory> {
    return this.json('GET', '/analytics/items', { query: { q }, signal })
  }

  insights(signal?: AbortSignal): Promise<Insights> {
    return this.json('GET', '/insights', { signal })
  }

  async exportCsv(from?: string, to?: string): Promise<Blob> {
    const res = await this.raw('GET', '/export.csv', { query: { from, to } })
    return res.blob()
  }

  eraseMyData(): Promise<EraseResult> {
    return this.json('DELETE', '/me')
  }
}
