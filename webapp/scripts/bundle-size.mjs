#!/usr/bin/env node
// Measures the JavaScript a browser must download before the app can start.
//
// "Initial" = the module scripts and modulepreload links in dist/index.html, plus every
// chunk they import statically (followed transitively). Chunks reached only through
// dynamic import() (lazy pages, recharts) are listed separately and not counted.
// Sizes are gzip level 9 of each file; 1 kB = 1000 bytes.
//
// The Authenticator is itself lazy (downloaded only when there is no session), so the
// script also reports a signed-out first visit: initial + the sign-in chunk and its deps.
//
// Usage: node scripts/bundle-size.mjs [--dist dist] [--budget 200] [--json]
// Exits 1 when the initial gzipped JS, or the signed-out first visit, exceeds the budget (kB).
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { join, dirname, relative, resolve, posix } from 'node:path'
import { gzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt
}
const here = dirname(fileURLToPath(import.meta.url))
const dist = resolve(here, '..', opt('dist', 'dist'))
const budget = Number(opt('budget', '200'))
const asJson = args.includes('--json')

if (!existsSync(join(dist, 'index.html'))) {
  console.error(`no ${join(dist, 'index.html')}: run "npm run build" first`)
  process.exit(2)
}

const html = readFileSync(join(dist, 'index.html'), 'utf8')
const entryRefs = new Set()
for (const m of html.matchAll(/<script\b[^>]*\bsrc="([^"]+\.js)"[^>]*>/g)) entryRefs.add(m[1])
for (const m of html.matchAll(/<link\b[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"[^>]*>/g)) entryRefs.add(m[1])
for (const m of html.matchAll(/<link\b[^>]*href="([^"]+\.js)"[^>]*rel="modulepreload"[^>]*>/g)) entryRefs.add(m[1])

const toFile = (ref) => join(dist, ref.replace(/^\//, ''))

// Static imports in minified ESM: import"./a.js" | import{x}from"./a.js" | export{x}from"./a.js"
// (a dynamic import is `import(` and is deliberately not matched).
const STATIC = /(?:^|[^.\w$])(?:import|export)\s*(?:[\w$*{][^'"()]*?from\s*)?["']([^"']+\.js)["']/g

function closure(starts, stopAt = new Set()) {
  const seen = new Set()
  const queue = [...starts]
  while (queue.length) {
    const file = queue.pop()
    if (seen.has(file) || stopAt.has(file) || !existsSync(file)) continue
    seen.add(file)
    const code = readFileSync(file, 'utf8')
    for (const m of code.matchAll(STATIC)) {
      const spec = m[1]
      if (!spec.startsWith('.') && !spec.startsWith('/')) continue
      queue.push(spec.startsWith('/') ? toFile(spec) : join(dirname(file), spec))
    }
  }
  return seen
}

const initial = closure([...entryRefs].map(toFile))
const assets = join(dist, 'assets')
const all = readdirSync(assets).filter((f) => f.endsWith('.js')).map((f) => join(assets, f))
const measure = (file) => {
  const buf = readFileSync(file)
  return { file: posix.normalize(relative(dist, file)), raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length }
}
const rows = all.map(measure).sort((a, b) => b.gzip - a.gzip)
const init = rows.filter((r) => initial.has(join(dist, r.file)))
const lazy = rows.filter((r) => !initial.has(join(dist, r.file)))
const sum = (rs, k) => rs.reduce((s, r) => s + r[k], 0)
const kb = (n) => (n / 1000).toFixed(1)
const initGz = sum(init, 'gzip')

// What each dynamic import() adds on top of the initial load (its chunk + its static deps).
const DYNAMIC = /import\(\s*[`'"](\.\/[^`'"]+\.js)[`'"]\s*\)/g
const byFile = new Map(rows.map((r) => [join(dist, r.file), r]))
const lazyEntries = new Map()
for (const r of rows) {
  const file = join(dist, r.file)
  for (const m of readFileSync(file, 'utf8').matchAll(DYNAMIC)) {
    const target = join(dirname(file), m[1])
    if (lazyEntries.has(target) || initial.has(target)) continue
    const files = closure([target], initial)
    lazyEntries.set(target, {
      entry: posix.normalize(relative(dist, target)),
      gzip: [...files].reduce((s, f) => s + (byFile.get(f)?.gzip ?? 0), 0),
      raw: [...files].reduce((s, f) => s + (byFile.get(f)?.raw ?? 0), 0),
    })
  }
}
const onDemand = [...lazyEntries.values()].sort((a, b) => b.gzip - a.gzip)
// A signed-out first visit needs the sign-in chunk as well (the Authenticator is lazy).
const signIn = onDemand.find((e) => /\/SignIn-[^/]*\.js$/.test(e.entry))

if (asJson) {
  console.log(
    JSON.stringify(
      { budget_kb: budget, initial: init, lazy, on_demand: onDemand, initial_gzip_bytes: initGz, signed_out_first_visit_gzip_bytes: initGz + (signIn?.gzip ?? 0) },
      null,
      2,
    ),
  )
} else {
  console.log('initial (loaded by index.html):')
  for (const r of init) console.log(`  ${r.file.padEnd(48)} ${kb(r.raw).padStart(8)} kB  ${kb(r.gzip).padStart(7)} kB gz`)
  console.log('lazy (dynamic import only):')
  for (const r of lazy) console.log(`  ${r.file.padEnd(48)} ${kb(r.raw).padStart(8)} kB  ${kb(r.gzip).padStart(7)} kB gz`)
  console.log(`initial JS: ${kb(sum(init, 'raw'))} kB raw, ${kb(initGz)} kB gzipped (budget ${budget} kB)`)
  console.log(`lazy JS:    ${kb(sum(lazy, 'raw'))} kB raw, ${kb(sum(lazy, 'gzip'))} kB gzipped in ${lazy.length} chunks`)
  console.log('added on demand by each import() (chunk + its static deps not already loaded):')
  for (const e of onDemand) console.log(`  ${e.entry.padEnd(48)} +${kb(e.gzip).padStart(6)} kB gz`)
  if (signIn) console.log(`signed-out first visit (initial + sign-in): ${kb(initGz + signIn.gzip)} kB gzipped`)
}
if (initGz > budget * 1000) {
  console.error(`over budget: initial ${kb(initGz)} kB > ${budget} kB`)
  process.exit(1)
}
if (signIn && initGz + signIn.gzip > budget * 1000) {
  console.error(`over budget: signed-out first visit ${kb(initGz + signIn.gzip)} kB > ${budget} kB`)
  process.exit(1)
}
