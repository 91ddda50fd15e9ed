// The receipt model as the API serves it (see lambda_src/common/model.py).
// Money is a decimal STRING, never a number; dates are ISO strings.

export type Money = string

export const STATUSES = ['PENDING', 'PROCESSED', 'NEEDS_REVIEW', 'FAILED'] as const
export type ReceiptStatus = (typeof STATUSES)[number]

export interface Vendor {
  name: string | null
  legal_name?: string | null
  address: string | null
  phone: string | null
}

export interface LineItem {
  description: string
  quantity: Money | null
  unit_price: Money | null
  amount: Money | null
  category: string | null
  category_confidence?: number | null
}

export interface Receipt {
  receipt_id: string
  user_id: string
  status: ReceiptStatus
  failure_reason: string | null
  review_reasons: string[]
  object_key: string | null
  content_type: string | null
  size_bytes: number | null
  image_sha256: string | null
  uploaded_at: string
  processed_at: string | null
  vendor: Vendor
  purchase_date: string | null
  currency: string | null
  subtotal: Money | null
  tax: Money | null
  tip: Money | null
  discount: Money | null
  total: Money | null
  payment_method: string | null
  line_items: LineItem[]
  category: string | null
  confidence: Record<string, number>
  ocr_engine: 'textract' | 'local' | null
  corrected_fields: string[]
  duplicate_of: string | null
  version: number
}

export interface PresignedPost {
  url: string
  fields: Record<string, string>
}

export interface CreateUploadRequest {
  filename: string
  content_type: string
  size_bytes: number
  sha256?: string
}

export interface CreateUploadResponse {
  receipt: Receipt
  upload: PresignedPost
  duplicate_of: string | null
}

export interface ReceiptFilters {
  from?: string
  to?: string
  category?: string
  vendor?: string
  status?: ReceiptStatus | ''
  q?: string
}

export interface ReceiptPage {
  items: Receipt[]
  next_cursor: string | null
}

export interface ReceiptDetail {
  receipt: Receipt
  image_url: string | null
}

export const MONEY_FIELDS = ['subtotal', 'tax', 'tip', 'discount', 'total'] as const
export type MoneyField = (typeof MONEY_FIELDS)[number]

export interface ReceiptPatch {
  vendor?: Vendor
  purchase_date?: string | null
  currency?: string | null
  subtotal?: Money | null
  tax?: Money | null
  tip?: Money | null
  discount?: Money | null
  total?: Money | null
  payment_method?: string | null
  category?: string | null
  line_items?: LineItem[]
}

export type SummaryGroup = 'month' | 'category' | 'vendor'

export interface SummaryGroupRow {
  key: string
  label: string
  total: Money
  count: number
  month?: string
}

export interface CurrencySummary {
  currency: string
  total: Money
  count: number
  groups: SummaryGroupRow[]
}

export interface Summary {
  from: string
  to: string
  group: SummaryGroup
  currencies: CurrencySummary[]
}

export interface ItemPricePoint {
  date: string
  vendor: string | null
  description: string
  quantity: Money | null
  unit_price: Money | null
  amount: Money | null
  currency: string | null
  receipt_id: string
}

export interface ItemHistory {
  query: string
  points: ItemPricePoint[]
}

/** Next month's spend in one currency: all spending (`category` null) or one category. */
export interface Forecast {
  currency: string
  /** YYYY-MM, the forecast month */
  month: string
  /** a taxonomy slug (lib/categories.ts); null = all spending */
  category: string | null
  predicted: Money
  /** lower end of the 80% interval */
  lower: Money
  /** upper end of the 80% interval */
  upper: Money
}

/** What made an anomaly: a vendor, an item or a category, with the money it added. */
export interface Driver {
  kind: 'vendor' | 'item' | 'category'
  label: string
  amount: Money
  receipt_id: string | null
}

export type AnomalyKind = 'receipt' | 'month' | 'category' | 'vendor'

/** Spending far from the user's own baseline, explained by its drivers. */
export interface Anomaly {
  kind: AnomalyKind
  /** set when kind is receipt */
  receipt_id: string | null
  /** YYYY-MM */
  month: string | null
  category: string | null
  vendor: string | null
  currency: string
  /** what was spent */
  amount: Money
  /** the user's usual amount */
  expected: Money | null
  /** a plain sentence */
  explanation: string
  /** how unusual: robust z-score, higher is stranger */
  score: number
  drivers: Driver[]
}

export interface InsightSet {
  forecasts: Forecast[]
  anomalies: Anomaly[]
}

export interface Insights {
  insights: InsightSet
  /** why there is nothing to show (no model run yet, being regenerated), else null */
  reason: string | null
  model_version: string | null
}

export interface EraseResult {
  erased: { receipts: number; images: number; raw_documents: number }
}

export interface AppConfig {
  apiBase: string
  region: string
  userPoolId: string
  userPoolClientId: string
  cognitoEndpoint?: string
  environment?: string
  /** Optional override; default USER_PASSWORD_AUTH in local mode, SRP when hosted. */
  authFlowType?: 'USER_SRP_AUTH' | 'USER_PASSWORD_AUTH'
}
