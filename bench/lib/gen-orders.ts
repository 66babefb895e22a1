// F1's input: the quickstart's orders table (scripts/orders-data.ts, which also makes the
// committed 30k-row sample) at benchmark size, without the sample's deliberately broken rows.
// Cached in bench/data/ by row count and seed, with what the F1 pipeline must write: the rows
// with status "paid" and amount > 0, and their amounts in cents.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { ORDERS_HEADER, orderRow, xorshift } from '../../scripts/orders-data.js'

export interface Orders {
  csv: string
  rows: number
  /** Rows the F1 pipeline keeps (status "paid", amount > 0) and the sum of their amounts in cents. */
  expected: { rows: number; cents: number }
}

export function generateOrders(rows: number, seed: number, dir: string): Orders {
  mkdirSync(dir, { recursive: true })
  const csv = join(dir, `quickstart-orders-${rows}-s${seed}.csv`)
  const meta = `${csv}.expected.json`
  if (existsSync(csv) && existsSync(meta)) return { csv, rows, expected: JSON.parse(readFileSync(meta, 'utf8')) }
  const random = xorshift(seed)
  const start = Date.UTC(2026, 0, 1)
  const tmp = `${csv}.tmp`
  const fd = openSync(tmp, 'w')
  let out = `${ORDERS_HEADER}\n`
  const expected = { rows: 0, cents: 0 }
  for (let i = 1; i <= rows; i++) {
    const { line, status, cents } = orderRow(i, random, start)
    out += `${line}\n`
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
