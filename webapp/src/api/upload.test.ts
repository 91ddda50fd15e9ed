import { beforeEach, describe, expect, it, vi } from 'vitest'
import { FakeXhr } from '../test/helpers'
import { buildUploadForm, contentTypeOf, s3ErrorMessage, unsupportedReason, uploadToPresignedPost, type UploadProgress } from './upload'

const post = { url: 'https://uploads.example/bucket', fields: { key: 'uploads/u1/r1.jpg', policy: 'p', 'x-amz-signature': 's' } }

describe('uploadToPresignedPost', () => {
  beforeEach(() => FakeXhr.reset())

  it('posts every field then the file, and reports progress', async () => {
    const file = new File(['x'.repeat(200)], 'receipt.jpg', { type: 'image/jpeg' })
    const seen: UploadProgress[] = []
    const done = uploadToPresignedPost(post, file, { createXhr: FakeXhr.create, onProgress: (p) => seen.push(p) })
    const xhr = FakeXhr.instances[0]
    expect(xhr.method).toBe('POST')
    expect(xhr.url).toBe(post.url)
    expect([...xhr.body!.keys()]).toEqual(['key', 'policy', 'x-amz-signature', 'file'])
    expect((xhr.body!.get('file') as File).name).toBe('receipt.jpg')
    xhr.progress(50, 200)
    xhr.progress(150, 200)
    xhr.respond(204)
    await expect(done).resolves.toBeUndefined()
    expect(seen.map((p) => p.percent)).toEqual([0, 25, 75, 100])
  })

  it('explains S3 XML errors', async () => {
    const file = new File(['x'], 'a.png', { type: 'image/png' })
    const done = uploadToPresignedPost(post, file, { createXhr: FakeXhr.create })
    FakeXhr.instances[0].respond(400, '<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message></Error>')
    await expect(done).rejects.toThrow('The file is larger than the upload limit.')
  })

  it('rejects on network errors and on abort', async () => {
    const file = new File(['x'], 'a.png', { type: 'image/png' })
    const failing = uploadToPresignedPost(post, file, { createXhr: FakeXhr.create })
    FakeXhr.instances[0].fail()
    await expect(failing).rejects.toThrow(/Network error/)

    const ctrl = new AbortController()
    const cancelled = uploadToPresignedPost(post, file, { createXhr: FakeXhr.create, signal: ctrl.signal })
    ctrl.abort()
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' })
    expect(FakeXhr.instances[1].aborted).toBe(true)
  })

  it('falls back to the file size when the total is not computable', async () => {
    const file = new File(['x'.repeat(100)], 'a.pdf', { type: 'application/pdf' })
    const onProgress = vi.fn()
    const done = uploadToPresignedPost(post, file, { createXhr: FakeXhr.create, onProgress })
    const e = Object.assign(new Event('progress'), { loaded: 40, total: 0, lengthComputable: false })
    FakeXhr.instances[0].upload.dispatchEvent(e)
    FakeXhr.instances[0].respond(201)
    await done
    expect(onProgress).toHaveBeenCalledWith({ loaded: 40, total: 100, percent: 40 })
  })
})

describe('upload helpers', () => {
  it('builds the form in order', () => {
    const form = buildUploadForm({ url: 'u', fields: { a: '1', b: '2' } }, new Blob(['z']))
    expect([...form.keys()]).toEqual(['a', 'b', 'file'])
  })

  it('guesses content types and filters what is accepted', () => {
    expect(contentTypeOf({ name: 'IMG_1.HEIC', type: '' })).toBe('image/heic')
    expect(contentTypeOf({ name: 'scan.pdf', type: '' })).toBe('application/pdf')
    expect(contentTypeOf({ name: 'x.jpg', type: 'image/jpeg' })).toBe('image/jpeg')
    expect(contentTypeOf({ name: 'notes.txt', type: '' })).toBeNull()
    expect(unsupportedReason('image/png')).toBeNull()
    expect(unsupportedReason('image/jpeg')).toBeNull()
    expect(unsupportedReason('image/tiff')).toBeNull()
    expect(unsupportedReason('application/pdf')).toBeNull()
    expect(unsupportedReason('image/heic')).toMatch(/^HEIC photos are not supported: export the photo as JPEG/)
    expect(unsupportedReason('image/gif')).toBe('GIF images are not supported: upload a photo (JPEG or PNG), a TIFF scan or a PDF.')
    expect(unsupportedReason('image/svg+xml')).toMatch(/^SVG images/)
    expect(unsupportedReason('text/plain')).toMatch(/^Not a receipt photo or PDF/)
    expect(unsupportedReason(null)).toMatch(/^Not a receipt photo or PDF/)
  })

  it('s3ErrorMessage', () => {
    expect(s3ErrorMessage(403, '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>')).toMatch(/expired/)
    expect(s3ErrorMessage(403, '<Error><Code>AccessDenied</Code><Message>Policy Condition failed</Message></Error>')).toBe(
      'Upload rejected: Policy Condition failed (AccessDenied)',
    )
    expect(s3ErrorMessage(500, '')).toBe('Upload failed (HTTP 500).')
  })
})
