import { useState, type FormEvent } from 'react'
import { STATUSES, type ReceiptFilters } from '../api/types'
import { filtersFromQuery } from '../lib/filters'
import { Empty, Loading, PageHeader, ProblemAlert } from '../components/common'
import { ReceiptList } from '../components/ReceiptList'
import { CATEGORY_SUGGESTIONS, categoryLabel } from '../lib/categories'
import { STATUS_LABELS } from '../lib/format'
import { usePagedReceipts, type PagedReceipts } from '../lib/usePagedReceipts'
import { buildQuery } from '../api/client'
import { Link } from '../components/Link'
import { navigate } from '../router'

function FilterForm({ initial }: { initial: ReceiptFilters }) {
  const [f, setF] = useState<ReceiptFilters>(initial)
  const set = (k: keyof ReceiptFilters) => (e: { target: { value: string } }) => setF((p) => ({ ...p, [k]: e.target.value }))
  const submit = (e: FormEvent) => {
    e.preventDefault()
    navigate(`/receipts${buildQuery({ ...f })}`)
  }
  const active = Object.values(initial).some(Boolean)
  return (
    <form className="filters" role="search" aria-label="Search receipts" onSubmit={submit}>
      <div className="field field-wide">
        <label htmlFor="f-q">Search</label>
        <input id="f-q" type="search" value={f.q ?? ''} onChange={set('q')} placeholder="Vendor, item, note…" />
      </div>
      <div className="field">
        <label htmlFor="f-from">From</label>
        <input id="f-from" type="date" value={f.from ?? ''} onChange={set('from')} />
      </div>
      <div className="field">
        <label htmlFor="f-to">To</label>
        <input id="f-to" type="date" value={f.to ?? ''} onChange={set('to')} />
      </div>
      <div className="field">
        <label htmlFor="f-category">Category</label>
        <input id="f-category" list="category-options" value={f.category ?? ''} onChange={set('category')} />
        <datalist id="category-options">
          {CATEGORY_SUGGESTIONS.map((c) => (
            <option key={c} value={c} label={categoryLabel(c)} />
          ))}
        </datalist>
      </div>
      <div className="field">
        <label htmlFor="f-vendor">Vendor</label>
        <input id="f-vendor" value={f.vendor ?? ''} onChange={set('vendor')} />
      </div>
      <div className="field">
        <label htmlFor="f-status">Status</label>
        <select id="f-status" value={f.status ?? ''} onChange={set('status')}>
          <option value="">Any</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {STATUS_LABELS[s]}
            </option>
          ))}
        </select>
      </div>
      <div className="filter-buttons">
        <button type="submit" className="btn">
          Search
        </button>
        {active && (
          <button type="button" className="btn btn-secondary" onClick={() => navigate('/receipts')}>
            Clear filters
          </button>
        )}
      </div>
    </form>
  )
}

function PagedSection({ paged, label, emptyText, testId }: { paged: PagedReceipts; label: string; emptyText: string; testId: string }) {
  const { items, loading, error, hasMore, loadMore, reload } = paged
  return (
    <div data-testid={testId}>
      {items.length > 0 && <ReceiptList items={items} label={label} />}
      {!loading && !error && items.length === 0 && <Empty>{emptyText}</Empty>}
      {error ? <ProblemAlert error={error} onRetry={items.length ? loadMore : reload} /> : null}
      {loading && <Loading label={items.length ? 'Loading more…' : 'Loading receipts…'} />}
      {hasMore && !loading && !error && (
        <button type="button" className="btn btn-secondary load-more" onClick={loadMore}>
          Load more
        </button>
      )}
    </div>
  )
}

export function ReceiptsPage({ query }: { query: URLSearchParams }) {
  const filters = filtersFromQuery(query)
  const showQueue = !filters.status
  const review = usePagedReceipts({ ...filters, status: 'NEEDS_REVIEW' }, 10, showQueue)
  const all = usePagedReceipts(filters, 25)
  const filtered = Object.values(filters).some(Boolean)

  return (
    <div>
      <PageHeader title="Receipts">
        <Link to="/upload" className="btn">
          Upload
        </Link>
      </PageHeader>
      {/* keyed: a new URL query (back button, a link) resets the form */}
      <FilterForm key={JSON.stringify(filters)} initial={filters} />

      {showQueue && (review.loading || review.error || review.items.length > 0) && (
        <section className="section review-queue" aria-labelledby="review-heading">
          <h2 id="review-heading">Needs review</h2>
          <p className="muted">These receipts were read with doubts. Check them and correct anything that is wrong.</p>
          <PagedSection paged={review} label="Receipts that need review" emptyText="Nothing to review." testId="review-queue" />
        </section>
      )}

      <section className="section" aria-labelledby="all-heading">
        <h2 id="all-heading">{filters.status ? STATUS_LABELS[filters.status] : filtered ? 'Matching receipts' : 'All receipts'}</h2>
        <PagedSection
          paged={all}
          label="Receipts"
          testId="all-receipts"
          emptyText={filtered ? 'No receipts match these filters.' : 'No receipts yet. Upload your first one from the Upload page.'}
        />
      </section>
    </div>
  )
}
