// One anomaly: what stood out, in the model's own sentence; the amount against the usual;
// what drove it, as small horizontal bars; and links to the receipts behind it.
import { useId } from 'react'
import { Bar, BarChart, LabelList, ResponsiveContainer, XAxis, YAxis } from 'recharts'
import type { Anomaly } from '../api/types'
import { sentence } from '../lib/format'
import { anomalyTitle, driverRows, type DriverRow } from '../lib/insights'
import { formatMoney } from '../lib/money'
import { Link } from './Link'

const BAR = '#D55E00'
const ROW_HEIGHT = 30
const KIND_WORDS: Record<DriverRow['kind'], string> = { vendor: 'Vendor', item: 'Item', category: 'Category' }

function DriverChart({ rows, currency, title }: { rows: DriverRow[]; currency: string; title: string }) {
  const height = rows.length * ROW_HEIGHT + 12
  return (
    <ResponsiveContainer width="100%" height={height}>
      <BarChart data={rows} layout="vertical" margin={{ top: 0, right: 72, bottom: 0, left: 0 }} role="img" title={title} accessibilityLayer={false}>
        <XAxis type="number" hide domain={[0, 'dataMax']} />
        <YAxis type="category" dataKey="label" width={140} interval={0} tickLine={false} axisLine={false} />
        <Bar dataKey="value" fill={BAR} barSize={16} isAnimationActive={false}>
          <LabelList dataKey="amount" position="right" formatter={((v: unknown) => formatMoney(String(v), currency)) as never} className="driver-amount" />
        </Bar>
      </BarChart>
    </ResponsiveContainer>
  )
}

export function AnomalyCard({ anomaly }: { anomaly: Anomaly }) {
  const id = useId()
  const money = (v: string | null | undefined) => formatMoney(v, anomaly.currency)
  const drivers = driverRows(anomaly)
  const title = anomalyTitle(anomaly)
  const explanation = anomaly.explanation?.trim() ? sentence(anomaly.explanation) : `${money(anomaly.amount)} is unusual compared with your other spending.`
  // a receipt's own items point at the receipt itself: one link for it is enough
  const receiptDrivers = drivers.filter((d, i) => d.receipt_id && d.receipt_id !== anomaly.receipt_id && drivers.findIndex((x) => x.receipt_id === d.receipt_id) === i)
  return (
    <article className="anomaly-card" aria-labelledby={id} data-testid="anomaly">
      <h3 id={id}>{title}</h3>
      <p className="anomaly-explanation">{explanation}</p>
      <p className="anomaly-figures">
        <span>
          Spent <strong>{money(anomaly.amount)}</strong>
        </span>
        {anomaly.expected && (
          <span>
            {' '}
            · usually about <strong>{money(anomaly.expected)}</strong>
          </span>
        )}
      </p>
      {drivers.length > 0 && (
        <div className="anomaly-drivers">
          <h4 className="small muted">What made it stand out</h4>
          <DriverChart rows={drivers} currency={anomaly.currency} title={`What made “${title}” stand out`} />
          <table className="visually-hidden">
            <caption>What made “{title}” stand out</caption>
            <thead>
              <tr>
                <th scope="col">What</th>
                <th scope="col">Kind</th>
                <th scope="col">Amount</th>
              </tr>
            </thead>
            <tbody>
              {drivers.map((d, i) => (
                <tr key={`${d.label}-${i}`}>
                  <th scope="row">{d.label}</th>
                  <td>{KIND_WORDS[d.kind] ?? d.kind}</td>
                  <td>{money(d.amount)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {(anomaly.receipt_id || receiptDrivers.length > 0) && (
        <ul className="anomaly-links">
          {anomaly.receipt_id && (
            <li>
              <Link to={`/receipts/${encodeURIComponent(anomaly.receipt_id)}`}>Open the receipt</Link>
            </li>
          )}
          {receiptDrivers.map((d) => (
            <li key={d.receipt_id}>
              <Link to={`/receipts/${encodeURIComponent(d.receipt_id!)}`}>Open the receipt: {d.label}</Link>
            </li>
          ))}
        </ul>
      )}
    </article>
  )
}
