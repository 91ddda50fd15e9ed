import { useState, type FormEvent } from 'react'
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { useApi } from '../api/context'
import type { ItemHistory, Summary } from '../api/types'
import { ChartCard, CHART_HEIGHT } from '../components/ChartCard'
import { Empty, Loading, PageHeader, ProblemAlert } from '../components/common'
import { SpendForecastChart, SpendForecastTable } from '../components/ForecastChart'
import { InsightsPanel } from '../components/InsightsPanel'
import { Link } from '../components/Link'
import { categoryChart, currencyList, forCurrency, PALETTE, priceSeries, topVendors, type ChartRow } from '../lib/analytics'
import { categoryLabel } from '../lib/categories'
import { formatDate, formatMonth, monthOffset } from '../lib/format'
import { spendForecastRows } from '../lib/insights'
import { axisMoney, formatMoney } from '../lib/money'
import { useAsync } from '../lib/useAsync'

const TOP_VENDORS = 10

/** Tooltip rows use the exact decimal strings kept beside the plotted numbers. */
function exactFormatter(currency: string) {
  return (value: unknown, name: unknown, item: { payload?: ChartRow; dataKey?: unknown }) => {
    const key = String(item?.dataKey ?? name)
    const exact = item?.payload?.exact
    const v = exact?.[key] ?? (typeof value === 'number' ? String(value) : String(value ?? ''))
    return [formatMoney(v, currency), String(name)]
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
            chart.categories.map((c, i) => <Bar key={c} dataKey={c} name={categoryLabel(c)} stackId="spend" fill={PALETTE[i % PALETTE.length]} />)
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
              <th scope="row">{categoryLabel(c)}</th>
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
              {categoryLabel(c)}
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
  const trend = currency ? spendForecastRows(forCurrency(byMonth.data, currency), insights.data?.insights?.forecasts ?? [], currency) : []

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
          <ChartCard title="Spending trend and forecast" id="chart-trend" table={<SpendForecastTable rows={trend} currency={currency} />}>
            {byMonth.loading ? <Loading /> : trend.length ? <SpendForecastChart rows={trend} currency={currency} reason={insights.data?.reason ?? null} /> : <Empty>No spending in this period.</Empty>}
          </ChartCard>
          <InsightsPanel insights={insights.data} loading={insights.loading} error={insights.error} onRetry={insights.reload} currency={currency} />
          <ChartCard title="Top vendors" id="top-vendors">
            {byVendor.loading ? <Loading /> : <VendorsView summary={byVendor.data} currency={currency} />}
          </ChartCard>
          <ChartCard title="Item price history" id="item-history">
            <ItemHistoryView currency={currency} />
          </ChartCard>
        </div>
      )}
    </div>
  )
}
