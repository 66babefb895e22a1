// Seeded generator of the benchmark's events table, as CSV and as JSON lines, written in big
// string chunks. Files are cached in bench/data/, keyed by row count and seed; generation time is
// never part of a measurement.
//
//   npx tsx bench/lib/gen-data.ts <rows> <seed> <out-dir>
//
// Columns: ts (ISO-8601 UTC, increasing with jitter), user_id (int, ~100k distinct, skewed),
// country (50 two-letter codes, skewed), event (8 names, one is `purchase`), amount (2 decimals),
// latency_ms (int), ua (short string, sometimes with a comma, so quoted in CSV).
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs'
import { join } from 'node:path'

export const COUNTRIES = [
  'US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN', 'CA', 'AU', 'ES', 'IT', 'NL', 'SE', 'NO', 'DK', 'FI', 'PL', 'CZ', 'AT', 'CH',
  'BE', 'PT', 'IE', 'GR', 'TR', 'RU', 'UA', 'RO', 'HU', 'BG', 'MX', 'AR', 'CL', 'CO', 'PE', 'ZA', 'EG', 'NG', 'KE', 'MA',
  'CN', 'KR', 'TW', 'SG', 'MY', 'TH', 'VN', 'ID', 'PH', 'NZ',
]
export const EVENTS = ['view', 'click', 'scroll', 'search', 'cart', 'checkout', 'purchase', 'logout']
const EVENT_WEIGHTS = [40, 20, 10, 10, 8, 4, 6, 2]
const UAS = [
  'Mozilla/5.0', 'curl/8.5.0', 'okhttp/4.12', 'Safari/17.1', 'Chrome/126.0',
  'Mozilla/5.0 (X11, Linux x86_64)', 'Edge/125.0', 'Googlebot/2.1 (+bot, crawler)', 'python-requests/2.32', 'Firefox/128.0',
]

export function datasetPaths(dir: string, rows: number, seed: number): { csv: string; jsonl: string } {
  const stem = join(dir, `events-${rows}-s${seed}`)
  return { csv: `${stem}.csv`, jsonl: `${stem}.jsonl` }
}

function cumulative(weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0)
  let acc = 0
  return weights.map((w) => (acc += w) / total)
}

export function generate(rows: number, seed: number, dir: string): { csv: string; jsonl: string } {
  mkdirSync(dir, { recursive: true })
  const paths = datasetPaths(dir, rows, seed)
  if (existsSync(paths.csv) && existsSync(paths.jsonl)) return paths
  // mulberry32
  let s = seed >>> 0 || 1
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const countryCum = cumulative(COUNTRIES.map((_, i) => 1 / (i + 1) ** 0.8))
  const eventCum = cumulative(EVENT_WEIGHTS)
  const pick = (cum: number[]) => {
    const u = rand()
    let i = 0
    while (cum[i]! < u) i++
    return i
  }
  const uaCsv = UAS.map((u) => (u.includes(',') ? `"${u}"` : u))
  const uaJson = UAS.map((u) => JSON.stringify(u))
  const csvTmp = paths.csv + '.tmp'
  const jsonTmp = paths.jsonl + '.tmp'
  const fc = openSync(csvTmp, 'w')
  const fj = openSync(jsonTmp, 'w')
  writeSync(fc, 'ts,user_id,country,event,amount,latency_ms,ua\n')
  const base = Date.UTC(2024, 0, 1)
  let c = ''
  let j = ''
  for (let i = 0; i < rows; i++) {
    // ~8 ms apart on average, each jittered by up to 40 ms: increasing overall, sometimes out of order
    const ts = new Date(base + i * 8 + Math.floor(rand() * 40)).toISOString()
    const u = rand()
    const user = 1 + Math.floor(100000 * u * u * u)
    const country = COUNTRIES[pick(countryCum)]
    const event = EVENTS[pick(eventCum)]
    // amount: exponential, mean ~60, in cents
    const cents = 1 + Math.floor(-Math.log(1 - rand()) * 6000)
    const latency = 1 + Math.floor(-Math.log(1 - rand()) * 120)
    const ua = Math.floor(rand() * UAS.length)
    const whole = Math.floor(cents / 100)
    const frac = cents % 100
    c += `${ts},${user},${country},${event},${whole}.${frac < 10 ? '0' : ''}${frac},${latency},${uaCsv[ua]}\n`
    j += `{"ts":"${ts}","user_id":${user},"country":"${country}","event":"${event}","amount":${cents / 100},"latency_ms":${latency},"ua":${uaJson[ua]}}\n`
    if (c.length > 4_000_000) {
      writeSync(fc, c)
      writeSync(fj, j)
      c = ''
      j = ''
    }
  }
  writeSync(fc, c)
  writeSync(fj, j)
  closeSync(fc)
  closeSync(fj)
  renameSync(csvTmp, paths.csv)
  renameSync(jsonTmp, paths.jsonl)
  return paths
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/bench\//, '/bench/'))) {
  const [rows, seed, dir] = process.argv.slice(2)
  const t = performance.now()
  const p = generate(Number(rows), Number(seed), dir)
  console.error(`generated ${rows} rows in ${((performance.now() - t) / 1000).toFixed(1)} s: ${p.csv}, ${p.jsonl}`)
}
