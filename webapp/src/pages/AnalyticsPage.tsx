import { useState, type FormEvent, type ReactNode } from 'react'
import {
  Area,
  Bar,
  BarChart,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts'
import { useApi } from '../api/context'
import type { Insights, ItemHistory, Summary } from '../api/types'
import { Empty, Loading, PageHeader, ProblemAlert } from '../components/common'
import { anomalySentence, categoryChart, currencyList, forCurrency, PALETTE, priceSeries, topVendors, trendRows, type ChartRow } from '../lib/analytics'
import { formatCategory, formatDate, formatMonth, monthOffset } from '../lib/format'
import { formatMoney } from '../lib/money'
import { useAsync } from '../lib/useAsync'
import { Link } from '../components/Link'

const TOP_VENDORS = 10

const CHART_HEIGHT = 300

function ChartCard({ title, id, children, table }: { title: string; id: string; children: ReactNode; table?: ReactNode }) {
  return (
    <section className="card chart-card" aria-labelledby={id} data-testid={id}>
      <h2 id={id}>{title}</h2>
      {children}
      {table && (
        <details className="as-table">
          <summary>Show as a table</summary>
          <div className="table-scroll">{table}</div>
        </details>
      )}
    </section>
  )
}

/** Tooltip rows use the exact decimal strings kept beside the plotted numbers. */
function exactFormatter(currency: string) {
  return (value: unknown, name: unknown, item: { payload?: ChartRow; dataKey?: unknown }) => {
    const key = String(item?.dataKey ?? name)
    const exact = item?.payload?.exact
    if (key === 'band' && exact?.lower !== undefined) return [`${formatMoney(exact.lower, currency)} – ${formatMoney(exact.upper, currency)}`, 'Likely range']
    const v = exact?.[key] ?? (typeof value === 'number' ? String(value) : String(value ?? ''))
    return [formatMoney(v, currency), String(name)]
  }
}

function axisMoney(currency: string) {
  const nf = new Intl.NumberFormat(undefined, { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 })
  return (v: number) => {
    try {
      return nf.format(v)
    } catch {
      return String(v)
    }
  }
}

function CategoryChartView({ summary, currency }: { summary: Summary | undefined; currency: string }) {
  const chart = categoryChart(forCurrency(summary, currency))
  if (!chart.rows.length) return <Empty>No spending in this period.</Empty>
  const fmt = exactFormatter(currency)
  return (
    <>
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <BarChart data={chart.rows} margin={{ top: 8, right: 8, bottom: 8, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="name" />
          <YAxis tickFormatter={axisMoney(currency)} width={70} />
          <Tooltip formatter={fmt as never} />
          <Legend />
          {chart.byMonth ? (
            chart.categories.map((c, i) => <Bar key={c} dataKey={c} name={formatCategory(c)} stackId="spend" fill={PALETTE[i % PALETTE.length]} />)
          ) : (
            <Bar dataKey="total" name="Total" fill={PALETTE[0]} />
          )}
        </BarChart>
      </ResponsiveContainer>
      {!chart.byMonth && <p className="muted small">Totals per category for the whole period.</p>}
    </>
  )
}

function CategoryTable({ summary, currency }: { summary: Summary | undefined; currency: string }) {
  const chart = categoryChart(forCurrency(summary, currency))
  if (!chart.rows.length) return null
  if (!chart.byMonth) {
    return (
      <table>
        <thead>
          <tr>
            <th scope="col">Category</th>
            <th scope="col">Total</th>
          </tr>
        </thead>
        <tbody>
          {chart.categories.map((c) => (
            <tr key={c}>
              <th scope="row">{formatCategory(c)}</th>
              <td className="num">{formatMoney(chart.totals[c], currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )
  }
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Month</th>
          {chart.categories.map((c) => (
            <th key={c} scope="col">
              {formatCategory(c)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {chart.rows.map((r) => (
          <tr key={String(r.month)}>
            <th scope="row">{String(r.name)}</th>
            {chart.categories.map((c) => (
              <td key={c} className="num">
                {r.exact[c] ? formatMoney(r.exact[c], currency) : '—'}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function VendorsView({ summary, currency }: { summary: Summary | undefined; currency: string }) {
  const vendors = topVendors(forCurrency(summary, currency), TOP_VENDORS)
  if (!vendors.length) return <Empty>No vendors in this period.</Empty>
  return (
    <ol className="vendor-list">
      {vendors.map((v) => (
        <li key={v.key}>
          <Link to={`/receipts?vendor=${encodeURIComponent(v.label || v.key)}`}>{v.label || v.key}</Link>
          <span className="num">{formatMoney(v.total, currency)}</span>
          <span className="muted small">
            {v.count} receipt{v.count === 1 ? '' : 's'}
          </span>
        </li>
      ))}
    </ol>
  )
}

function TrendView({ summary, insights, currency }: { summary: Summary | undefined; insights: Insights | undefined; currency: string }) {
  const rows = trendRows(forCurrency(summary, currency), insights?.insights?.forecasts ?? [], currency)
  if (!rows.length) return <Empty>No spending in this period.</Empty>
  const hasForecast = rows.some((r) => r.predicted !== undefined)
  return (
    <>
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <ComposedChart data={rows} margin={{ top: 8, right: 8, bottom: 8, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="name" />
          <YAxis tickFormatter={axisMoney(currency)} width={70} />
          <Tooltip formatter={exactFormatter(currency) as never} />
          <Legend />
          {hasForecast && <Area dataKey="band" name="Likely range" stroke="none" fill="#56B4E9" fillOpacity={0.3} isAnimationActive={false} />}
          <Line dataKey="actual" name="Spent" stroke="#0072B2" strokeWidth={2} dot isAnimationActive={false} />
          {hasForecast && <Line dataKey="predicted" name="Forecast" stroke="#D55E00" strokeDasharray="6 4" strokeWidth={2} dot isAnimationActive={false} />}
        </ComposedChart>
      </ResponsiveContainer>
      {!hasForecast && <p className="muted small">{insights?.reason ?? 'No forecast yet for this currency.'}</p>}
    </>
  )
}

function TrendTable({ summary, insights, currency }: { summary: Summary | undefined; insights: Insights | undefined; currency: string }) {
  const rows = trendRows(forCurrency(summary, currency), insights?.insights?.forecasts ?? [], currency)
  if (!rows.length) return null
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Month</th>
          <th scope="col">Spent</th>
          <th scope="col">Forecast</th>
          <th scope="col">Likely range</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={String(r.month)}>
            <th scope="row">{String(r.name)}</th>
            <td className="num">{r.exact.actual ? formatMoney(r.exact.actual, currency) : '—'}</td>
            <td className="num">{r.exact.predicted ? formatMoney(r.exact.predicted, currency) : '—'}</td>
            <td className="num">{r.exact.lower ? `${formatMoney(r.exact.lower, currency)} – ${formatMoney(r.exact.upper, currency)}` : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function AnomaliesView({ insights, currency }: { insights: Insights | undefined; currency: string }) {
  const all = insights?.insights?.anomalies ?? []
  const list = all.filter((a) => a.currency === currency).sort((a, b) => b.score - a.score)
  if (!list.length) {
    // The API explains an empty answer (e.g. no model run yet); say that rather than "all clear".
    return <Empty>{insights?.reason ?? (insights?.insights ? 'Nothing unusual in your spending.' : 'No insights yet.')}</Empty>
  }
  return (
    <ul className="anomaly-list">
      {list.map((a) => (
        <li key={a.receipt_id} data-testid="anomaly">
          <p>{anomalySentence(a)}</p>
          <Link to={`/receipts/${a.receipt_id}`}>Open the receipt</Link>
        </li>
      ))}
    </ul>
  )
}

function ItemHistoryView({ currency }: { currency: string }) {
  const api = useApi()
  const [q, setQ] = useState('')
  const [state, setState] = useState<{ loading: boolean; error: unknown; data: ItemHistory | null }>({ loading: false, error: null, data: null })
  const search = async (e: FormEvent) => {
    e.preventDefault()
    if (q.trim().length < 2) return
    setState({ loading: true, error: null, data: null })
    try {
      setState({ loading: false, error: null, data: await api.itemHistory(q.trim()) })
    } catch (error) {
      setState({ loading: false, error, data: null })
    }
  }
  const series = state.data ? priceSeries(state.data.points, currency) : []
  const fmt = axisMoney(currency)
  return (
    <>
      <form className="inline-form" role="search" aria-label="Item price history" onSubmit={search}>
        <label htmlFor="item-q">Item</label>
        <input id="item-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="e.g. milk" minLength={2} />
        <button type="submit" className="btn" disabled={q.trim().length < 2 || state.loading}>
          Show prices
        </button>
      </form>
      {state.loading && <Loading label="Looking up prices…" />}
      <ProblemAlert error={state.error} />
      {state.data && series.length === 0 && <Empty>No prices for “{state.data.query}” in {currency}.</Empty>}
      {series.length > 0 && (
        <>
          <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
            <LineChart margin={{ top: 8, right: 8, bottom: 8, left: 8 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="t" type="number" scale="time" domain={['dataMin', 'dataMax']} tickFormatter={(t: number) => formatDate(new Date(t).toISOString())} />
              <YAxis dataKey="price" tickFormatter={fmt} width={70} />
              <Tooltip
                labelFormatter={(t) => formatDate(new Date(Number(t)).toISOString())}
                formatter={((_v: unknown, name: unknown, item: { payload?: { exact: string } }) => [formatMoney(item?.payload?.exact, currency), String(name)]) as never}
              />
              <Legend />
              {series.map((s, i) => (
                <Line key={s.vendor} data={s.points} dataKey="price" name={s.vendor} stroke={PALETTE[i % PALETTE.length]} dot isAnimationActive={false} />
              ))}
            </LineChart>
          </ResponsiveContainer>
          <details className="as-table">
            <summary>Show as a table</summary>
            <div className="table-scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Date</th>
                    <th scope="col">Vendor</th>
                    <th scope="col">Item</th>
                    <th scope="col">Unit price</th>
                  </tr>
                </thead>
                <tbody>
                  {series
                    .flatMap((s) => s.points.map((p) => ({ ...p, vendor: s.vendor })))
                    .sort((a, b) => a.t - b.t)
                    .map((p, i) => (
                      <tr key={`${p.receipt_id}-${i}`}>
                        <td>
                          <Link to={`/receipts/${p.receipt_id}`}>{formatDate(p.date)}</Link>
                        </td>
                        <td>{p.vendor}</td>
                        <td>{p.description}</td>
                        <td className="num">{formatMoney(p.exact, currency)}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      )}
    </>
  )
}

export default function AnalyticsPage() {
  const api = useApi()
  const [range, setRange] = useState(() => {
    const now = new Date()
    return { from: monthOffset(now, -11), to: monthOffset(now, 0) }
  })
  const [draft, setDraft] = useState(range)
  const key = `${range.from}:${range.to}`
  const byCategory = useAsync((s) => api.summary('category', range.from, range.to, s), `c:${key}`)
  // The vendor list shows ten; the API ranks them the same way (total, then receipts).
  const byVendor = useAsync((s) => api.summary('vendor', range.from, range.to, s, TOP_VENDORS), `v:${key}`)
  const byMonth = useAsync((s) => api.summary('month', range.from, range.to, s), `m:${key}`)
  const insights = useAsync((s) => api.insights(s), 'insights')
  const currencies = currencyList(byMonth.data, byCategory.data, byVendor.data)
  const [chosen, setChosen] = useState<string | null>(null)
  const currency = chosen && currencies.includes(chosen) ? chosen : currencies[0]

  const loading = byCategory.loading || byVendor.loading || byMonth.loading
  const error = byCategory.error || byVendor.error || byMonth.error
  const retry = () => {
    byCategory.reload()
    byVendor.reload()
    byMonth.reload()
  }

  return (
    <div className="analytics">
      <PageHeader title="Analytics" />
      <form
        className="inline-form"
        aria-label="Period"
        onSubmit={(e) => {
          e.preventDefault()
          if (draft.from && draft.to) setRange(draft.from <= draft.to ? draft : { from: draft.to, to: draft.from })
        }}
      >
        <label htmlFor="a-from">From month</label>
        <input id="a-from" type="month" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        <label htmlFor="a-to">To month</label>
        <input id="a-to" type="month" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        <button type="submit" className="btn">
          Update
        </button>
        {currencies.length > 1 && (
          <>
            <label htmlFor="a-currency">Currency</label>
            <select id="a-currency" value={currency} onChange={(e) => setChosen(e.target.value)}>
              {currencies.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </>
        )}
      </form>
      <p className="muted small">
        {formatMonth(range.from)} – {formatMonth(range.to)}
        {currency ? `, amounts in ${currency}` : ''}. Each currency is shown on its own; amounts are never converted.
      </p>

      {error ? <ProblemAlert error={error} onRetry={retry} /> : null}
      {loading && !currency && <Loading label="Loading analytics…" />}
      {!loading && !error && !currency && (
        <Empty>
          No spending to show for this period yet. <Link to="/upload">Upload some receipts</Link> and they will appear here once read.
        </Empty>
      )}

      {currency && (
        <div className="chart-grid">
          <ChartCard title="Monthly spend by category" id="chart-categories" table={<CategoryTable summary={byCategory.data} currency={currency} />}>
            {byCategory.loading ? <Loading /> : <CategoryChartView summary={byCategory.data} currency={currency} />}
          </ChartCard>
          <ChartCard title="Spending trend and forecast" id="chart-trend" table={<TrendTable summary={byMonth.data} insights={insights.data} currency={currency} />}>
            {byMonth.loading ? <Loading /> : <TrendView summary={byMonth.data} insights={insights.data} currency={currency} />}
          </ChartCard>
          <ChartCard title="Top vendors" id="top-vendors">
            {byVendor.loading ? <Loading /> : <VendorsView summary={byVendor.data} currency={currency} />}
          </ChartCard>
          <ChartCard title="Unusual spending" id="anomalies">
            {insights.loading ? <Loading /> : insights.error ? <ProblemAlert error={insights.error} onRetry={insights.reload} /> : <AnomaliesView insights={insights.data} currency={currency} />}
          </ChartCard>
          <ChartCard title="Item price history" id="item-history">
            <ItemHistoryView currency={currency} />
          </ChartCard>
        </div>
      )}
    </div>
  )
}
