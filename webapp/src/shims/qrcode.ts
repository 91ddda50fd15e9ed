// Stands in for the `qrcode` package (see vite.config.ts): Amplify UI only uses it to draw
// the TOTP set-up QR code, so the real library is fetched when that screen needs it
// instead of being part of the sign-in bundle. Its toDataURL already returns a Promise.
type ToDataURL = (text: string, options?: unknown) => Promise<string>

export async function toDataURL(text: string, options?: unknown): Promise<string> {
  // @ts-expect-error -- untyped CommonJS module; the path is the package's browser build
  const mod = (await import('qrcode/lib/browser.js')) as { toDataURL: ToDataURL; default?: { toDataURL: ToDataURL } }
  const fn = mod.toDataURL ?? mod.default?.toDataURL
  return options === undefined ? fn(text) : fn(text, options)
}

export default { toDataURL }
