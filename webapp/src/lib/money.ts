// Exact decimal arithmetic and formatting for money carried as decimal strings.
// Nothing here goes through a binary float, so "0.1" + "0.2" is "0.3" and
// "1.005" never displays as "1.00".

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/

export interface Decimal {
  /** value = units / 10^scale */
  units: bigint
  scale: number
}

export function isDecimalString(text: string): boolean {
  return DECIMAL.test(text.trim())
}

export function parseDecimal(text: string | number): Decimal {
  const s = typeof text === 'number' ? numberToPlain(text) : text.trim()
  const m = DECIMAL.exec(s)
  if (!m) throw new Error(`not a decimal amount: ${JSON.stringify(text)}`)
  const frac = m[3] ?? ''
  const units = BigInt(m[2] + frac)
  return { units: m[1] === '-' ? -units : units, scale: frac.length }
}

function numberToPlain(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`not a decimal amount: ${n}`)
  // Shortest round-trip representation, expanded out of exponent form.
  const s = String(n)
  if (!/e/i.test(s)) return s
  return n.toFixed(20).replace(/\.?0+$/, '')
}

function rescale(d: Decimal, scale: number): bigint {
  return d.units * 10n ** BigInt(scale - d.scale)
}

export function decimalToString(d: Decimal): string {
  const neg = d.units < 0n
  let digits = (neg ? -d.units : d.units).toString()
  if (d.scale > 0) {
    digits = digits.padStart(d.scale + 1, '0')
    digits = `${digits.slice(0, -d.scale)}.${digits.slice(-d.scale)}`
  }
  return (neg && d.units !== 0n ? '-' : '') + digits
}

/** Exact sum of decimal strings; null/empty values are skipped. */
export function addDecimals(values: Array<string | number | null | undefined>): string {
  const ds = values.filter((v): v is string | number => v !== null && v !== undefined && v !== '').map(parseDecimal)
  const scale = Math.max(0, ...ds.map((d) => d.scale))
  const units = ds.reduce((acc, d) => acc + rescale(d, scale), 0n)
  return decimalToString({ units, scale })
}

export function compareDecimals(a: string, b: string): number {
  const da = parseDecimal(a)
  const db = parseDecimal(b)
  const scale = Math.max(da.scale, db.scale)
  const x = rescale(da, scale)
  const y = rescale(db, scale)
  return x < y ? -1 : x > y ? 1 : 0
}

/** Round half away from zero to `digits` fraction digits (string in, string out). */
export function roundDecimal(value: string, digits: number): string {
  const d = parseDecimal(value)
  if (d.scale <= digits) return decimalToString({ units: rescale(d, digits), scale: digits })
  const div = 10n ** BigInt(d.scale - digits)
  const neg = d.units < 0n
  const abs = neg ? -d.units : d.units
  let q = abs / div
  if ((abs % div) * 2n >= div) q += 1n
  return decimalToString({ units: neg ? -q : q, scale: digits })
}

/** For charts only: a plotting coordinate, never used for sums or display. */
export function toChartNumber(value: string | number | null | undefined): number {
  if (value === null || value === undefined || value === '') return 0
  return typeof value === 'number' ? value : Number(value)
}

const fractionDigitsCache = new Map<string, number>()
function currencyDigits(currency: string): number {
  let n = fractionDigitsCache.get(currency)
  if (n === undefined) {
    try {
      n = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
    } catch {
      n = 2
    }
    fractionDigitsCache.set(currency, n)
  }
  return n
}

function groupThousands(intDigits: string, sep: string): string {
  return intDigits.replace(/\B(?=(\d{3})+(?!\d))/g, sep)
}

/**
 * Format a decimal string as money, exactly: at least the currency's minor digits, and
 * more when the value has them (a unit price of 1.459 stays 1.459). Digits are grouped and
 * placed with the locale's pattern, taken from Intl, but the digits themselves never pass
 * through a float.
 */
export function formatMoney(
  value: string | number | null | undefined,
  currency?: string | null,
  locale?: string,
): string {
  if (value === null || value === undefined || value === '') return '—'
  let d: Decimal
  try {
    d = parseDecimal(value)
  } catch {
    return String(value)
  }
  const minDigits = currency ? currencyDigits(currency) : 2
  const digits = Math.max(minDigits, d.scale)
  const plain = decimalToString({ units: rescale(d, digits), scale: digits })
  const neg = plain.startsWith('-')
  const [intPart, fracPart] = (neg ? plain.slice(1) : plain).split('.')

  let nf: Intl.NumberFormat
  try {
    nf = currency
      ? new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: 1 })
      : new Intl.NumberFormat(locale, { minimumFractionDigits: 1 })
  } catch {
    nf = new Intl.NumberFormat(locale, { minimumFractionDigits: 1 })
  }
  // Use a template number to learn the locale's symbols and their order, then put our
  // exact digits in place of the template's.
  const parts = nf.formatToParts(neg ? -1234.5 : 1234.5)
  const group = parts.find((p) => p.type === 'group')?.value ?? ','
  let out = ''
  let intDone = false
  for (const p of parts) {
    if (p.type === 'integer') {
      if (!intDone) out += groupThousands(intPart, group)
      intDone = true
    } else if (p.type === 'group') {
      // swallowed: grouping is redone on our digits
    } else if (p.type === 'fraction') {
      out += fracPart ?? ''
    } else if (p.type === 'decimal') {
      out += fracPart ? p.value : ''
    } else {
      out += p.value
    }
  }
  return out
}

/** Axis ticks: compact money ("€1.2K"), for charts only. */
export function axisMoney(currency: string): (v: number) => string {
  let nf: Intl.NumberFormat | null = null
  try {
    nf = new Intl.NumberFormat(undefined, { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 })
  } catch {
    nf = null
  }
  return (v: number) => (nf ? nf.format(v) : String(v))
}
