// The insights of the latest training run for one currency: the forecast per category and
// the unusual spending. When there is nothing, the API's reason is shown as it is.
import type { Insights } from '../api/types'
import { anomaliesFor, categoryForecasts } from '../lib/insights'
import { AnomalyCard } from './AnomalyCard'
import { ChartCard } from './ChartCard'
import { Empty, Loading, ProblemAlert } from './common'
import { CategoryForecastChart, CategoryForecastTable } from './ForecastChart'

interface Props {
  insights: Insights | undefined
  loading: boolean
  error: unknown
  onRetry: () => void
  currency: string
}

function Status({ loading, error, onRetry }: Pick<Props, 'loading' | 'error' | 'onRetry'>) {
  if (loading) return <Loading label="Loading insights…" />
  return error ? <ProblemAlert error={error} onRetry={onRetry} /> : null
}

export function InsightsPanel({ insights, loading, error, onRetry, currency }: Props) {
  const waiting = loading || !!error
  const reason = insights?.reason ?? null
  const byCategory = categoryForecasts(insights?.insights?.forecasts ?? [], currency)
  const anomalies = anomaliesFor(insights, currency)
  return (
    <>
      <ChartCard
        title="Next month by category"
        id="chart-category-forecast"
        table={!waiting && byCategory.rows.length > 0 ? <CategoryForecastTable rows={byCategory.rows} currency={currency} /> : undefined}
      >
        {waiting ? (
          <Status loading={loading} error={error} onRetry={onRetry} />
        ) : byCategory.month && byCategory.rows.length ? (
          <CategoryForecastChart month={byCategory.month} rows={byCategory.rows} currency={currency} />
        ) : (
          <Empty>{reason ?? `No forecast by category yet for ${currency}.`}</Empty>
        )}
      </ChartCard>
      <ChartCard title="Unusual spending" id="anomalies">
        {waiting ? (
          <Status loading={loading} error={error} onRetry={onRetry} />
        ) : anomalies.length ? (
          <ul className="anomaly-list">
            {anomalies.map((a, i) => (
              <li key={`${a.kind}-${a.receipt_id ?? a.month ?? ''}-${a.category ?? a.vendor ?? ''}-${i}`}>
                <AnomalyCard anomaly={a} />
              </li>
            ))}
          </ul>
        ) : (
          // The API explains an empty answer (e.g. no model run yet); say that rather than "all clear".
          <Empty>{reason ?? (insights ? 'Nothing unusual in your spending.' : 'No insights yet.')}</Empty>
        )}
      </ChartCard>
    </>
  )
}
