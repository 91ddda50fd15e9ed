// Forecast charts: monthly spend with next month's forecast and its 80% interval (whiskers),
// and the forecast per category. Each chart is an image named by its title, with a sentence
// under it saying what it shows, and its numbers as a table.
import { Bar, BarChart, CartesianGrid, ComposedChart, ErrorBar, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { formatMonth } from '../lib/format'
import { forecastSentence, type CategoryForecastRow, type SpendRow } from '../lib/insights'
import { axisMoney, formatMoney } from '../lib/money'
import { CHART_HEIGHT } from './ChartCard'

const SPENT = '#0072B2'
const FORECAST = '#E69F00'
const WHISKER = '#1b1f24'

type Formatter = (value: unknown, name: unknown, item: { payload?: unknown; dataKey?: unknown }) => [string, string]

function likely(exact: { predicted?: string; lower?: string; upper?: string }, currency: string): string {
  return `${formatMoney(exact.predicted, currency)} (likely ${formatMoney(exact.lower, currency)} – ${formatMoney(exact.upper, currency)})`
}

export function SpendForecastChart({ rows, currency, reason }: { rows: SpendRow[]; currency: string; reason: string | null }) {
  const caption = forecastSentence(rows, currency)
  const tooltip: Formatter = (_v, _n, item) => {
    const row = item.payload as SpendRow
    if (item.dataKey === 'forecast') return [likely(row.exact, currency), 'Forecast']
    return [formatMoney(row.exact.actual, currency), row.exact.predicted ? 'Spent so far' : 'Spent']
  }
  return (
    <figure className="chart-figure">
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <ComposedChart
          data={rows}
          margin={{ top: 12, right: 8, bottom: 8, left: 8 }}
          role="img"
          title={`Monthly spend in ${currency}${caption ? ' and the forecast' : ''}`}
        >
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="name" />
          <YAxis tickFormatter={axisMoney(currency)} width={70} />
          <Tooltip formatter={tooltip as never} />
          {/* series order, in the text colour: the forecast's orange is too pale for words */}
          <Legend itemSorter={null} formatter={(value: string) => <span className="legend-text">{value}</span>} />
          <Bar dataKey="actual" name="Spent" stackId="spend" fill={SPENT} isAnimationActive={false} />
          <Bar dataKey="forecast" name="Forecast (80% range)" stackId="spend" fill={FORECAST} fillOpacity={0.6} stroke={FORECAST} isAnimationActive={false}>
            <ErrorBar dataKey="range" direction="y" width={12} strokeWidth={2} stroke={WHISKER} />
          </Bar>
        </ComposedChart>
      </ResponsiveContainer>
      <figcaption className="muted small" data-testid="forecast-summary">
        {caption ?? reason ?? 'No forecast yet for this currency.'}
      </figcaption>
    </figure>
  )
}

export function SpendForecastTable({ rows, currency }: { rows: SpendRow[]; currency: string }) {
  if (!rows.length) return null
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Month</th>
          <th scope="col">Spent</th>
          <th scope="col">Forecast</th>
          <th scope="col">Likely range (80%)</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.month}>
            <th scope="row">{r.name}</th>
            <td className="num">{r.exact.actual ? formatMoney(r.exact.actual, currency) : '—'}</td>
            <td className="num">{r.exact.predicted ? formatMoney(r.exact.predicted, currency) : '—'}</td>
            <td className="num">{r.exact.lower ? `${formatMoney(r.exact.lower, currency)} – ${formatMoney(r.exact.upper, currency)}` : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

const ROW_HEIGHT = 34

export function CategoryForecastChart({ month, rows, currency }: { month: string; rows: CategoryForecastRow[]; currency: string }) {
  const top = rows[0]
  const caption = `${formatMonth(month)}, by category, with the 80% likely range. Biggest: ${top.name}, about ${likely(top.exact, currency)}.`
  const tooltip: Formatter = (_v, _n, item) => [likely((item.payload as CategoryForecastRow).exact, currency), 'Forecast']
  const height = Math.max(140, rows.length * ROW_HEIGHT + 48)
  return (
    <figure className="chart-figure">
      <ResponsiveContainer width="100%" height={height}>
        <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 16, bottom: 4, left: 8 }} role="img" title={`Forecast by category for ${formatMonth(month)}`}>
          <CartesianGrid strokeDasharray="3 3" horizontal={false} />
          <XAxis type="number" tickFormatter={axisMoney(currency)} />
          <YAxis type="category" dataKey="name" width={150} interval={0} />
          <Tooltip formatter={tooltip as never} />
          <Bar dataKey="predicted" name="Forecast" fill={FORECAST} fillOpacity={0.6} stroke={FORECAST} barSize={18} isAnimationActive={false}>
            <ErrorBar dataKey="range" direction="x" width={8} strokeWidth={2} stroke={WHISKER} />
          </Bar>
        </BarChart>
      </ResponsiveContainer>
      <figcaption className="muted small">{caption}</figcaption>
    </figure>
  )
}

export function CategoryForecastTable({ rows, currency }: { rows: CategoryForecastRow[]; currency: string }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Category</th>
          <th scope="col">Forecast</th>
          <th scope="col">Likely range (80%)</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.category}>
            <th scope="row">{r.name}</th>
            <td className="num">{formatMoney(r.exact.predicted, currency)}</td>
            <td className="num">{`${formatMoney(r.exact.lower, currency)} – ${formatMoney(r.exact.upper, currency)}`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
