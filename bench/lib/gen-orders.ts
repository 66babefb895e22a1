// Seeded generator of F1's input: the quickstart's orders table (examples/quickstart.yaml, made at
// 30k rows by scripts/gen-sample-data.ts) at benchmark size, without the quickstart's deliberately
// broken rows. Cached in bench/data/ by row count and seed, with what the F1 pipeline must write:
// the rows with status "paid" and amount > 0, and their amounts in cents.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'

const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN', 'CA', 'AU', 'ES', 'IT', 'NL']
const STATUSES = ['paid', 'paid', 'paid', 'pending', 'refunded', 'cancelled']
// As in the quickstart: one agent has a comma, one has quotes (so CSV quotes both).
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64)', 'curl/8.5.0', '"Sluice-Test, v1"', '"Mozilla/5.0 (Macintosh; ""Intel"")"']

export interface Orders {
  csv: string
  rows: number
  /** Rows the F1 pipeline keeps (status "paid", amount > 0) and the sum of their amounts in cents. */
  expected: { rows: number; cents: number }
}

export function generateOrders(rows: number, seed: number, dir: string): Orders {
  mkdirSync(dir, { recursive: true })
  const csv = join(dir, `orders-${rows}-s${seed}.csv`)
  const meta = `${csv}.expected.json`
  if (existsSync(csv) && existsSync(meta)) return { csv, rows, expected: JSON.parse(readFileSync(meta, 'utf8')) }
  let state = seed >>> 0 || 1
  const random = () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return state / 0x1_0000_0000
  }
  const start = Date.UTC(2026, 0, 1)
  const tmp = `${csv}.tmp`
  const fd = openSync(tmp, 'w')
  let out = 'order_id,ts,customer_id,country,status,amount,items,user_agent\n'
  const expected = { rows: 0, cents: 0 }
  for (let i = 1; i <= rows; i++) {
    const ts = new Date(start + i * 2_000 + Math.floor(random() * 1_500)).toISOString()
    const cents = Math.round(random() * 50_000)
    const status = STATUSES[Math.floor(random() * STATUSES.length)]!
    out += `${i},${ts},${1 + Math.floor(random() * 5_000)},${COUNTRIES[Math.floor(random() * COUNTRIES.length)]},${status},${(cents / 100).toFixed(2)},${1 + Math.floor(random() * 5)},${AGENTS[Math.floor(random() * AGENTS.length)]}\n`
    if (status === 'paid' && cents > 0) {
      expected.rows++
      expected.cents += cents
    }
    if (out.length > 4_000_000) {
      writeSync(fd, out)
      out = ''
    }
  }
  writeSync(fd, out)
  closeSync(fd)
  renameSync(tmp, csv)
  writeFileSync(meta, JSON.stringify(expected))
  return { csv, rows, expected }
}
