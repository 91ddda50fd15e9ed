/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin } from 'vite'

// `npm run dev` proxies the API and /config.json to the local receiptlake server.
// Point it elsewhere with RECEIPTLAKE_DEV_API=http://127.0.0.1:PORT.
const devApi = process.env.RECEIPTLAKE_DEV_API ?? 'http://127.0.0.1:8000'

/**
 * @aws-amplify/ui builds each language's Authenticator dictionary as `{ ...xxDict$1 }`.
 * A spread may run getters, so the bundler keeps all twenty languages even though the app
 * never reads them. Rewriting the spreads as pure Object.assign calls (same values) lets
 * unused languages be dropped; they stay available to anyone who imports `translations`.
 */
function pureAmplifyDictionaries(): Plugin {
  const target = /@aws-amplify[\\/]ui[\\/]dist[\\/]esm[\\/]i18n[\\/]dictionaries[\\/]index\.mjs$/
  return {
    name: 'receiptlake:pure-amplify-dictionaries',
    apply: 'build',
    transform(code, id) {
      if (!target.test(id)) return null
      let n = 0
      const out = code.replace(/=\s*\{\s*\.\.\.([\w$]+),?\s*(?:\/\/[^\n]*\s*)*\}/g, (_m, name: string) => {
        n += 1
        return `= /* @__PURE__ */ Object.assign({}, ${name})`
      })
      if (n === 0) this.warn('no dictionary spreads found: @aws-amplify/ui changed, check the bundle size')
      return { code: out, map: null }
    },
  }
}

export default defineConfig({
  plugins: [react(), pureAmplifyDictionaries()],
  resolve: {
    // See src/shims/qrcode.ts: load the QR code library only on the TOTP set-up screen.
    alias: [{ find: /^qrcode$/, replacement: fileURLToPath(new URL('./src/shims/qrcode.ts', import.meta.url)) }],
  },
  server: {
    proxy: {
      '/api': { target: devApi, changeOrigin: true },
      '/config.json': { target: devApi, changeOrigin: true },
    },
  },
  build: {
    sourcemap: false,
    // The sign-in chunk (Amplify UI) is large but lazy; keep the warning for anything bigger.
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    restoreMocks: true,
  },
})
