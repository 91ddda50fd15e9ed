import { useState, type FormEvent } from 'react'
import { useApi } from '../api/context'
import type { EraseResult } from '../api/types'
import { PageHeader, ProblemAlert } from '../components/common'
import { saveBlob } from '../lib/download'

const ERASE_PHRASE = 'erase my data'

function ExportSection() {
  const api = useApi()
  const [from, setFrom] = useState('')
  const [to, setTo] = useState('')
  const [state, setState] = useState<{ busy: boolean; error: unknown; done: string | null }>({ busy: false, error: null, done: null })
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setState({ busy: true, error: null, done: null })
    try {
      // fetch + blob, because a plain link cannot carry the bearer token
      const blob = await api.exportCsv(from || undefined, to || undefined)
      const name = `receipts${from ? `-from-${from}` : ''}${to ? `-to-${to}` : ''}.csv`
      saveBlob(blob, name)
      setState({ busy: false, error: null, done: `Downloaded ${name}.` })
    } catch (error) {
      setState({ busy: false, error, done: null })
    }
  }
  return (
    <section className="card" aria-labelledby="export-heading">
      <h2 id="export-heading">Export</h2>
      <p>Download your receipts as a CSV file, for a spreadsheet or your accountant. Leave the dates empty to export everything.</p>
      <form className="inline-form" onSubmit={submit}>
        <label htmlFor="x-from">From</label>
        <input id="x-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        <label htmlFor="x-to">To</label>
        <input id="x-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        <button type="submit" className="btn" disabled={state.busy}>
          {state.busy ? 'Preparing…' : 'Download CSV'}
        </button>
      </form>
      <ProblemAlert error={state.error} />
      {state.done && (
        <p className="notice" role="status">
          {state.done}
        </p>
      )}
    </section>
  )
}

function EraseSection({ onErased }: { onErased?: () => void }) {
  const api = useApi()
  const [typed, setTyped] = useState('')
  const [state, setState] = useState<{ busy: boolean; error: unknown; result: EraseResult | null }>({ busy: false, error: null, result: null })
  const matches = typed.trim().toLowerCase() === ERASE_PHRASE
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!matches) return
    setState({ busy: true, error: null, result: null })
    try {
      const result = await api.eraseMyData()
      setState({ busy: false, error: null, result })
      setTyped('')
      onErased?.()
    } catch (error) {
      setState({ busy: false, error, result: null })
    }
  }
  const e = state.result?.erased
  return (
    <section className="card danger-zone" aria-labelledby="erase-heading">
      <h2 id="erase-heading">Erase my data</h2>
      <p>
        This deletes every receipt, image and document you have uploaded, and your analytics. It cannot be undone. Export first if you
        want to keep a copy.
      </p>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="erase-confirm">
            Type <strong>{ERASE_PHRASE}</strong> to confirm
          </label>
          <input id="erase-confirm" value={typed} autoComplete="off" onChange={(ev) => setTyped(ev.target.value)} />
        </div>
        <button type="submit" className="btn btn-danger" disabled={!matches || state.busy}>
          {state.busy ? 'Erasing…' : 'Erase all my data'}
        </button>
      </form>
      <ProblemAlert error={state.error} />
      {e && (
        <p className="notice" role="status" data-testid="erase-result">
          Erased {e.receipts} receipt{e.receipts === 1 ? '' : 's'}, {e.images} image{e.images === 1 ? '' : 's'} and {e.raw_documents}{' '}
          stored document{e.raw_documents === 1 ? '' : 's'}.
        </p>
      )}
    </section>
  )
}

export default function SettingsPage() {
  return (
    <div>
      <PageHeader title="Settings" />
      <ExportSection />
      <EraseSection />
    </div>
  )
}
