// Generates the quickstart's sample data (examples/data/orders.csv and events.jsonl) from a fixed
// seed, so the committed files can be re-made byte for byte: `npm run gen-sample-data`.
// A few malformed rows are included on purpose: the quickstart shows them in the dead-letter output.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { COUNTRIES, ORDERS_HEADER, orderRow, xorshift } from './orders-data.js'

const OUT = join(import.meta.dirname, '..', 'examples', 'data')
const EVENTS = ['view', 'view', 'view', 'click', 'click', 'cart', 'purchase']

const random = xorshift(0x5eed)
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!

const start = Date.UTC(2026, 0, 1)
const orders: string[] = [ORDERS_HEADER]
for (let i = 1; i <= 30_000; i++) {
  const { line, ts } = orderRow(i, random, start)
  orders.push(line)
  // Deliberately broken rows, for the dead-letter demo: a ragged row and a non-numeric amount.
  if (i === 1_000) orders.push('1000.5,2026-01-01T00:33:20Z,17,DE,paid')
  if (i === 20_000) orders.push(`20000.5,${ts},42,FR,paid,twelve,1,curl/8.5.0`)
}
writeFileSync(join(OUT, 'orders.csv'), orders.join('\n') + '\n')

const events: string[] = []
for (let i = 1; i <= 25_000; i++) {
  const ts = new Date(start + i * 2_400 + Math.floor(random() * 2_000)).toISOString()
  const e = { event_id: i, ts, user_id: 1 + Math.floor(random() * 5_000), event: pick(EVENTS), page: `/p/${Math.floor(random() * 300)}`, country: pick(COUNTRIES), latency_ms: Math.floor(random() * 400) }
  events.push(JSON.stringify(e))
  if (i === 12_345) events.push('{"event_id": 12345.5, "ts": "2026-01-01T08:13:00Z", "event": "view"')
}
writeFileSync(join(OUT, 'events.jsonl'), events.join('\n') + '\n')
console.log(`wrote ${orders.length - 1} order rows and ${events.length} event lines to ${OUT}`)
