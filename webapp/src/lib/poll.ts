import type { ApiClient } from '../api/client'
import type { Receipt } from '../api/types'

export class PollTimeout extends Error {
  readonly last: Receipt | null
  constructor(last: Receipt | null) {
    super('Still processing. This is taking longer than usual; the receipt will appear in your list when it is done.')
    this.name = 'PollTimeout'
    this.last = last
  }
}

export interface PollOptions {
  intervalMs?: number
  timeoutMs?: number
  signal?: AbortSignal
  onUpdate?: (r: Receipt) => void
  /** how many consecutive failed requests to tolerate before giving up */
  maxErrors?: number
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        reject(new DOMException('Polling cancelled', 'AbortError'))
      },
      { once: true },
    )
  })

/** GET the receipt every `intervalMs` until its status is not PENDING. */
export async function pollUntilProcessed(api: ApiClient, id: string, opts: PollOptions = {}): Promise<Receipt> {
  const interval = opts.intervalMs ?? 1500
  const timeout = opts.timeoutMs ?? 120_000
  const maxErrors = opts.maxErrors ?? 3
  const started = Date.now()
  let last: Receipt | null = null
  let errors = 0
  for (;;) {
    if (opts.signal?.aborted) throw new DOMException('Polling cancelled', 'AbortError')
    try {
      const { receipt } = await api.getReceipt(id, opts.signal)
      errors = 0
      last = receipt
      opts.onUpdate?.(receipt)
      if (receipt.status !== 'PENDING') return receipt
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err
      errors += 1
      if (errors >= maxErrors) throw err
    }
    if (Date.now() - started + interval > timeout) throw new PollTimeout(last)
    await sleep(interval, opts.signal)
  }
}
