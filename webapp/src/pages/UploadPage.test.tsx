import { fireEvent, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { beforeEach, describe, expect, it } from 'vitest'
import { FakeXhr, fakeFetch, json, makeApi, makeReceipt, problem, renderWithApi } from '../test/helpers'
import { UploadProvider } from '../uploads/UploadProvider'
import { UploadPage } from './UploadPage'

function setup(routes: Parameters<typeof fakeFetch>[0], opts: { pollTimeoutMs?: number } = {}) {
  const f = fakeFetch(routes)
  renderWithApi(
    <UploadProvider createXhr={FakeXhr.create} pollIntervalMs={10} pollTimeoutMs={opts.pollTimeoutMs ?? 5000}>
      <UploadPage />
    </UploadProvider>,
    makeApi(f.fetch),
  )
  return f
}

const created = (id: string, over = {}) =>
  json(
    {
      receipt: makeReceipt({ receipt_id: id, status: 'PENDING', vendor: { name: null, address: null, phone: null }, total: null }),
      upload: { url: 'https://s3.local/uploads', fields: { key: `uploads/u1/${id}.jpg`, policy: 'p' } },
      duplicate_of: null,
      ...over,
    },
    201,
  )

async function xhr(n: number) {
  await waitFor(() => expect(FakeXhr.instances.length).toBeGreaterThan(n))
  return FakeXhr.instances[n]
}

describe('UploadPage', () => {
  beforeEach(() => FakeXhr.reset())

  it('offers camera capture and multi-file selection with labels', () => {
    setup({})
    const cam = screen.getByLabelText('Take a photo')
    expect(cam).toHaveAttribute('capture', 'environment')
    expect(cam).toHaveAttribute('accept', 'image/jpeg,image/png,image/tiff,application/pdf')
    expect(cam).toHaveAttribute('multiple')
    expect(screen.getByLabelText('Choose files')).toHaveAttribute('multiple')
    expect(screen.getByText(/Nothing uploaded yet/)).toBeInTheDocument()
  })

  it('uploads with a progress bar, then follows processing to the result', async () => {
    let polls = 0
    const f = setup({
      'POST /receipts': () => created('r1'),
      'GET /receipts/:id': () =>
        json({ receipt: polls++ < 1 ? makeReceipt({ status: 'PENDING' }) : makeReceipt({ receipt_id: 'r1' }), image_url: null }),
    })
    const file = new File(['0123456789'], 'lunch.jpg', { type: 'image/jpeg' })
    await userEvent.upload(screen.getByLabelText('Choose files'), file)

    const x = await xhr(0)
    expect(f.calls[0].body).toMatchObject({ filename: 'lunch.jpg', content_type: 'image/jpeg', size_bytes: 10 })
    expect([...x.body!.keys()]).toEqual(['key', 'policy', 'file'])
    x.progress(4, 10)
    const bar = await screen.findByRole('progressbar', { name: 'Upload progress for lunch.jpg' })
    await waitFor(() => expect(bar).toHaveAttribute('value', '40'))
    expect(screen.getByText('Uploading 40%')).toBeInTheDocument()

    x.respond(204)
    const item = screen.getByTestId('upload-item')
    await waitFor(() => expect(item).toHaveAttribute('data-phase', 'done'))
    expect(within(item).getByTestId('status-badge')).toHaveTextContent('Processed')
    expect(within(item).getByText(/Corner Market · €12.10/)).toBeInTheDocument()
    expect(within(item).getByRole('link', { name: 'View receipt' })).toHaveAttribute('href', '#/receipts/r1')
    expect(polls).toBeGreaterThanOrEqual(2)
  })

  it('takes many dropped files, refusing what is not a photo or PDF', async () => {
    let n = 0
    setup({
      'POST /receipts': () => created(`r${++n}`),
      'GET /receipts/:id': () => json({ receipt: makeReceipt({ status: 'PENDING' }), image_url: null }),
    })
    const files = [
      new File(['a'], 'a.jpg', { type: 'image/jpeg' }),
      new File(['b'], 'b.pdf', { type: 'application/pdf' }),
      new File(['c'], 'notes.txt', { type: 'text/plain' }),
      new File(['d'], 'IMG_0001.HEIC', { type: 'image/heic' }),
    ]
    fireEvent.drop(screen.getByTestId('dropzone'), { dataTransfer: { files } })
    expect(await screen.findAllByTestId('upload-item')).toHaveLength(4)
    expect(screen.getByText(/Not a receipt photo or PDF/)).toBeInTheDocument()
    expect(screen.getByText(/HEIC photos are not supported: export the photo as JPEG/)).toBeInTheDocument()
    await xhr(1)
    expect(FakeXhr.instances).toHaveLength(2)
  })

  it('takes a file dropped beside the drop zone instead of letting the browser open it', async () => {
    setup({ 'POST /receipts': () => created('r1') })
    const file = new File(['a'], 'beside.jpg', { type: 'image/jpeg' })
    const notCancelled = fireEvent.drop(document.body, { dataTransfer: { files: [file] } })
    expect(notCancelled).toBe(false) // default prevented
    expect(await screen.findAllByTestId('upload-item')).toHaveLength(1)
    expect(screen.getByText('beside.jpg')).toBeInTheDocument()
  })

  it('shows the problem detail when the API refuses an upload', async () => {
    setup({ 'POST /receipts': () => problem(413, 'Files up to 10 MB are accepted.', 'Payload Too Large') })
    await userEvent.upload(screen.getByLabelText('Choose files'), new File(['x'], 'big.png', { type: 'image/png' }))
    expect(await screen.findByText('Files up to 10 MB are accepted.')).toBeInTheDocument()
    expect(screen.getByTestId('upload-item')).toHaveAttribute('data-phase', 'failed')
  })

  it('says so when processing takes too long', async () => {
    setup(
      {
        'POST /receipts': () => created('r1'),
        'GET /receipts/:id': () => json({ receipt: makeReceipt({ status: 'PENDING' }), image_url: null }),
      },
      { pollTimeoutMs: 60 },
    )
    await userEvent.upload(screen.getByLabelText('Choose files'), new File(['x'], 'slow.jpg', { type: 'image/jpeg' }))
    ;(await xhr(0)).respond(204)
    expect(await screen.findByText(/taking longer than usual/)).toBeInTheDocument()
    expect(screen.getByTestId('upload-item')).toHaveAttribute('data-phase', 'timeout')
    expect(screen.getByRole('link', { name: 'View receipt' })).toBeInTheDocument()
  })

  it('warns about a duplicate and shows the S3 error', async () => {
    setup({ 'POST /receipts': () => created('r2', { duplicate_of: 'r1' }) })
    await userEvent.upload(screen.getByLabelText('Take a photo'), new File(['x'], 'again.jpg', { type: 'image/jpeg' }))
    ;(await xhr(0)).respond(400, '<Error><Code>EntityTooLarge</Code><Message>too big</Message></Error>')
    expect(await screen.findByText('The file is larger than the upload limit.')).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'See the earlier one' })).toHaveAttribute('href', '#/receipts/r1')
  })

  it('can cancel an upload in progress', async () => {
    setup({ 'POST /receipts': () => created('r1') })
    await userEvent.upload(screen.getByLabelText('Choose files'), new File(['x'], 'oops.jpg', { type: 'image/jpeg' }))
    const x = await xhr(0)
    await userEvent.click(await screen.findByRole('button', { name: 'Cancel upload of oops.jpg' }))
    expect(x.aborted).toBe(true)
    await waitFor(() => expect(screen.getByTestId('upload-item')).toHaveAttribute('data-phase', 'cancelled'))
    await userEvent.click(screen.getByRole('button', { name: 'Clear finished' }))
    expect(screen.queryByTestId('upload-item')).not.toBeInTheDocument()
  })
})
