// Windowed aggregation survives kill -9: a 1M-record run killed at several random points and
// restarted each time ends with the same SQLite table as an uninterrupted run (positions and
// window state are saved together at checkpoint barriers; rows are upserted on their window key).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import Database from 'better-sqlite3'

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'sluice.js')
const RECORDS = 1_000_000
const dir = mkdtempSync(join(tmpdir(), 'sluice-aggkill-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Seeded xorshift, so the kill points and the data are the same on every run of the test. */
function rng(seed: number) {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x1_0000_0000
  }
}

function writeEvents(path: string): void {
  const random = rng(42)
  const countries = ['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN', 'CA']
  const fd = openSync(path, 'w')
  writeSync(fd, 'ts,country,amount\n')
  const start = Date.UTC(2026, 0, 1)
  let chunk = ''
  for (let i = 0; i < RECORDS; i++) {
    // ~12 records per second of event time, slightly out of order (within the allowed lateness).
    const ts = start + i * 83 - Math.floor(random() * 2000)
    chunk += `${new Date(ts).toISOString()},${countries[Math.floor(random() * countries.length)]},${(Math.floor(random() * 100_000) / 100).toFixed(2)}\n`
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk)
      chunk = ''
    }
  }
  writeSync(fd, chunk)
  closeSync(fd)
}

const config = (data: string) => `
data_dir: ${data}
state_checkpoint_interval: 300ms
sources:
  events: { type: file, path: ../events.csv, format: csv, csv: { columns: { ts: timestamp, country: string, amount: float } } }
transforms:
  per_minute:
    type: aggregate
    inputs: [events]
    group_by: [country]
    window: { type: tumbling, size: 1m }
    time_field: ts
    allowed_lateness: 5s
    aggregations: { orders: count(), revenue: sum(amount), top: max(amount) }
sinks:
  db:
    type: sqlite
    inputs: [per_minute]
    path: out.db
    table: revenue
    upsert_key: [window_start, country]
`

function rows(db: string): string[] {
  const conn = new Database(db, { readonly: true })
  try {
    return (conn.prepare('SELECT window_start, window_end, country, orders, revenue, top FROM revenue ORDER BY window_start, country').all() as Record<string, unknown>[]).map(
      (r) => `${r.window_start}|${r.window_end}|${r.country}|${r.orders}|${(r.revenue as number).toFixed(4)}|${r.top}`,
    )
  } finally {
    conn.close()
  }
}

function countRows(db: string): number {
  try {
    const conn = new Database(db, { readonly: true, fileMustExist: true })
    try {
      return (conn.prepare('SELECT count(*) AS n FROM revenue').get() as { n: number }).n
    } finally {
      conn.close()
    }
  } catch {
    return 0
  }
}

function run(folder: string, killAtRows?: number): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'run', 'pipeline.yaml', '--log-level', 'warn'], { cwd: folder, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const poll =
      killAtRows === undefined
        ? undefined
        : setInterval(() => {
            if (countRows(join(folder, 'out.db')) >= killAtRows) {
              clearInterval(poll)
              child.kill('SIGKILL')
            }
          }, 15)
    const timeout = setTimeout(() => child.kill('SIGKILL'), 180_000)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearInterval(poll)
      clearTimeout(timeout)
      resolve({ code, signal, stderr })
    })
  })
}

test('aggregate: killed 3 times at random points and restarted, the final table equals an uninterrupted run', { timeout: 600_000 }, async () => {
  writeEvents(join(dir, 'events.csv'))
  const straight = join(dir, 'straight')
  const killed = join(dir, 'killed')
  for (const d of [straight, killed]) {
    mkdirSync(d)
    writeFileSync(join(d, 'pipeline.yaml'), config('state'))
  }
  const reference = await run(straight)
  assert.equal(reference.code, 0, reference.stderr)
  const expected = rows(join(straight, 'out.db'))
  // ~83 ms per record × 1M ≈ 23 h of event time ≈ 1 390 windows × 8 countries.
  assert.ok(expected.length > 10_000, `expected many window rows, got ${expected.length}`)

  const random = rng(7)
  const kills: number[] = []
  for (let k = 0; k < 3; k++) {
    // Random points, increasing, spread over the run: somewhere in each third of the output.
    const at = Math.floor(expected.length * ((k + 0.2 + 0.6 * random()) / 3.2))
    const r = await run(killed, at)
    if (r.signal === 'SIGKILL') kills.push(at)
    else assert.equal(r.code, 0, r.stderr)
  }
  const last = await run(killed)
  assert.equal(last.code, 0, last.stderr)
  const readByLast = Number(/Read ([\d,]+) records/.exec(last.stderr)?.[1]?.replaceAll(',', ''))
  assert.ok(readByLast < RECORDS, `the last run resumed from a checkpoint barrier (read ${readByLast} of ${RECORDS})`)
  const got = rows(join(killed, 'out.db'))
  console.log(`# killed at ${kills.join(', ')} output rows (of ${expected.length}); last run read ${readByLast} records; final tables equal: ${JSON.stringify(got) === JSON.stringify(expected)}`)
  assert.ok(kills.length >= 2, `at least two runs should have been killed mid-way (killed: ${kills.length})`)
  assert.equal(got.length, expected.length)
  assert.deepEqual(got, expected)
})
