import type { ReactNode } from 'react'

export const CHART_HEIGHT = 300

/** A titled card (a labelled region) holding a chart, with its data as a table on demand. */
export function ChartCard({ title, id, children, table }: { title: string; id: string; children: ReactNode; table?: ReactNode }) {
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
