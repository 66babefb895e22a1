// Micro-benchmark of the sqlite sink: insert throughput of 1M records of 8 fields into a file
// database in batches of 10,000, through the real declaration (schema parsing, build, open),
// beside the raw better-sqlite3 ceiling (same statement, values pre-shaped) with the two ways of
// binding: an args array, and spread arguments.
// Run: npx tsx bench/micro/sinks/sqlite.bench.ts [records] [batch] [rounds]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { sqlite } from '../../../src/sinks/sqlite/index.js'
import { silentLogger } from '../../../src/observe/log.js'
import type { Rec } from '../../../src/core/batch.js'

const TOTAL = Number(process.argv[2] ?? 1_000_000)
const BATCH = Number(process.argv[3] ?? 10_000)
const ROUNDS = Number(process.argv[4] ?? 3)
const COUNTRIES = ['FR', 'DE', 'US', 'JP', 'BR', 'IN', 'NG', 'AU']
const FIELDS = ['id', 'ts', 'user', 'country', 'amount', 'quantity', 'paid', 'note']

/** Batches are built before timing so only the writing is measured. */
function makeBatches(): Rec[][] {
  const batches: Rec[][] = []
  for (let start = 0; start < TOTAL; start += BATCH) {
    const batch: Rec[] = []
    for (let i = start; i < Math.min(TOTAL, start + BATCH); i++) {
      batch.push({
        id: i,
        ts: `2024-05-01T12:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
        user: `user-${i % 5000}`,
        country: COUNTRIES[i % COUNTRIES.length],
        amount: (i % 1000) + 0.25,
        quantity: i % 17,
        paid: i % 3 !== 0,
        note: i % 10 === 0 ? null : 'standard order',
      })
    }
    batches.push(batch)
  }
  return batches
}

type Candidate = (dir: string, batches: Rec[][]) => Promise<void>

function raw(bind: 'array' | 'spread'): Candidate {
  return async (dir, batches) => {
    const db = new Database(path.join(dir, 'raw.db'))
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.exec(`CREATE TABLE orders (id INTEGER, ts TEXT, user TEXT, country TEXT, amount REAL, quantity INTEGER, paid INTEGER, note TEXT)`)
    const st = db.prepare(`INSERT INTO orders VALUES (${FIELDS.map(() => '?').join(', ')})`)
    const args = new Array<unknown>(FIELDS.length)
    const tx = db.transaction((records: Rec[]) => {
      for (const r of records) {
        for (let j = 0; j < FIELDS.length; j++) {
          const v = r[FIELDS[j]!]
          args[j] = typeof v === 'boolean' ? (v ? 1 : 0) : v
        }
        if (bind === 'array') st.run(args)
        else st.run(...args)
      }
    }).immediate
    for (const b of batches) tx(b)
    db.close()
  }
}

function sink(options: Record<string, unknown>): Candidate {
  return async (dir, batches) => {
    const s = sqlite.build(sqlite.options.parse({ path: 'sink.db', table: 'orders', ...options }), {
      id: 'bench', baseDir: dir, dataDir: dir, log: silentLogger(),
    })
    await s.open?.()
    const signal = new AbortController().signal
    for (const b of batches) await s.write(b, signal)
    await s.close()
  }
}

const candidates: [string, Candidate][] = [
  ['raw better-sqlite3, array', raw('array')],
  ['raw better-sqlite3, spread', raw('spread')],
  ['sink, wal + normal', sink({})],
  ['sink, wal + normal, upsert', sink({ upsert_key: ['id'] })],
  ['sink, wal + full', sink({ synchronous: 'full' })],
]

const batches = makeBatches()
console.log(`${TOTAL} records of ${FIELDS.length} fields, batches of ${BATCH}, median of ${ROUNDS} rounds`)
for (const [label, run] of candidates) {
  const rates: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-sqlite-'))
    try {
      const t0 = performance.now()
      await run(dir, batches)
      rates.push((TOTAL / (performance.now() - t0)) * 1000)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  rates.sort((a, b) => a - b)
  const median = rates[Math.floor(rates.length / 2)]!
  console.log(`${label.padEnd(30)} ${Math.round(median).toLocaleString('en-US').padStart(10)} records/s   (min ${Math.round(rates[0]!).toLocaleString('en-US')}, max ${Math.round(rates.at(-1)!).toLocaleString('en-US')})`)
}
