// Browser → S3 upload with a presigned POST, reporting progress (fetch cannot).

import type { PresignedPost } from './types'

export interface UploadProgress {
  loaded: number
  total: number
  /** 0..100, integer */
  percent: number
}

export class UploadError extends Error {
  readonly status: number
  constructor(message: string, status: number) {
    super(message)
    this.name = 'UploadError'
    this.status = status
  }
}

/** The form body S3 expects: every policy field first, the file last. */
export function buildUploadForm(post: PresignedPost, file: Blob, filename?: string): FormData {
  const form = new FormData()
  for (const [k, v] of Object.entries(post.fields)) form.append(k, v)
  if (filename !== undefined) form.append('file', file, filename)
  else form.append('file', file)
  return form
}

/** S3 answers errors as XML: <Error><Code>EntityTooLarge</Code><Message>...</Message></Error> */
export function s3ErrorMessage(status: number, body: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1]
  const msg = /<Message>([^<]*)<\/Message>/.exec(body)?.[1]
  if (code === 'EntityTooLarge') return 'The file is larger than the upload limit.'
  if (code === 'AccessDenied' && msg && /expired/i.test(msg)) return 'The upload slot expired. Please try again.'
  if (msg) return `Upload rejected: ${msg}${code ? ` (${code})` : ''}`
  return `Upload failed (HTTP ${status}).`
}

export interface UploadOptions {
  onProgress?: (p: UploadProgress) => void
  signal?: AbortSignal
  /** injectable for tests */
  createXhr?: () => XMLHttpRequest
}

export function uploadToPresignedPost(post: PresignedPost, file: File | Blob, opts: UploadOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = opts.createXhr ? opts.createXhr() : new XMLHttpRequest()
    const size = file.size
    const report = (loaded: number, total: number) => {
      const t = total || size || 1
      opts.onProgress?.({ loaded, total: t, percent: Math.min(100, Math.floor((loaded / t) * 100)) })
    }
    xhr.upload.addEventListener('progress', (e: ProgressEvent) => {
      report(e.loaded, e.lengthComputable ? e.total : size)
    })
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        report(size, size)
        resolve()
      } else {
        reject(new UploadError(s3ErrorMessage(xhr.status, String(xhr.responseText ?? '')), xhr.status))
      }
    })
    xhr.addEventListener('error', () => reject(new UploadError('Network error while uploading. Please try again.', 0)))
    xhr.addEventListener('timeout', () => reject(new UploadError('The upload timed out. Please try again.', 0)))
    xhr.addEventListener('abort', () => reject(new DOMException('Upload cancelled', 'AbortError')))
    if (opts.signal) {
      if (opts.signal.aborted) {
        reject(new DOMException('Upload cancelled', 'AbortError'))
        return
      }
      opts.signal.addEventListener('abort', () => xhr.abort(), { once: true })
    }
    xhr.open('POST', post.url)
    const name = file instanceof File ? file.name : undefined
    xhr.send(buildUploadForm(post, file, name))
    report(0, size)
  })
}

const EXT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  pdf: 'application/pdf',
}

/** The content type to declare: the browser's, else guessed from the extension. */
export function contentTypeOf(file: { name: string; type: string }): string | null {
  if (file.type) return file.type
  const ext = file.name.split('.').pop()?.toLowerCase() ?? ''
  return EXT_TYPES[ext] ?? null
}

/** What the API issues upload slots for (lambda_src/api/schemas.py ALLOWED_CONTENT_TYPES). */
export const ACCEPTED_TYPES = ['image/jpeg', 'image/png', 'image/tiff', 'application/pdf'] as const

/** The file picker's filter. Naming the types (not image/*) also makes iOS Safari hand over
 * camera photos as JPEG instead of HEIC. */
export const ACCEPT_ATTRIBUTE = ACCEPTED_TYPES.join(',')

const ACCEPTED_WORDS = 'upload a photo (JPEG or PNG), a TIFF scan or a PDF' // ingest's words (validation.py)

/** Why a file of this type cannot be uploaded, in words a person can act on (the same advice
 * ingest gives), or null when it can. */
export function unsupportedReason(type: string | null): string | null {
  if (type && (ACCEPTED_TYPES as readonly string[]).includes(type)) return null
  if (type === 'image/heic' || type === 'image/heif') {
    return 'HEIC photos are not supported: export the photo as JPEG (on an iPhone: Settings > Camera > Formats > Most Compatible) and upload it again.'
  }
  if (type?.startsWith('image/')) {
    const name = type.slice('image/'.length).replace(/^svg\+xml$/, 'SVG').toUpperCase()
    return `${name} images are not supported: ${ACCEPTED_WORDS}.`
  }
  return `Not a receipt photo or PDF: ${ACCEPTED_WORDS}.`
}

/** Hex SHA-256 of the file, or undefined where WebCrypto is unavailable (non-secure origin). */
export async function sha256Hex(file: Blob): Promise<string | undefined> {
  const subtle = globalThis.crypto?.subtle
  if (!subtle) return undefined
  try {
    const digest = await subtle.digest('SHA-256', await file.arrayBuffer())
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
  } catch {
    return undefined
  }
}
