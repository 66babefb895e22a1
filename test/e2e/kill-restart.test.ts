// kill -9 in the middle of a 1M-line file, restart, and every input line is in SQLite exactly as
// often as the at-least-once contract allows: no line lost, duplicates only from what was in flight.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import Database from 'better-sqlite3'

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'sluice.js')
const LINES = 1_000_000
const dir = mkdtempSync(join(tmpdir(), 'sluice-kill-'))
after(() => rmSync(dir, { recursive: true, force: true }))

async function writeInput(path: string): Promise<void> {
  const out = createWriteStream(path)
  let chunk = ''
  for (let i = 1; i <= LINES; i++) {
    chunk += `line-${String(i).padStart(7, '0')} some payload text to make the line longer\n`
    if (i % 10_000 === 0) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()))
      chunk = ''
    }
  }
  await new Promise<void>((r) => out.end(r))
}

function countRows(db: string): number {
  try {
    const conn = new Database(db, { readonly: true, fileMustExist: true })
    try {
      return (conn.prepare('SELECT count(*) AS n FROM lines').get() as { n: number }).n
    } finally {
      conn.close()
    }
  } catch {
    return 0
  }
}

function run(config: string, killAtRows?: number, db?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; rowsAtKill?: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'run', config, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    let rowsAtKill: number | undefined
    let poll: NodeJS.Timeout | undefined
    if (killAtRows !== undefined) {
      poll = setInterval(() => {
        const n = countRows(db!)
        if (n >= killAtRows) {
          rowsAtKill = n
          child.kill('SIGKILL')
          clearInterval(poll)
        }
      }, 20)
    }
    const timeout = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearInterval(poll)
      clearTimeout(timeout)
      resolve({ code, signal, stderr, rowsAtKill })
    })
  })
}

const input = join(dir, 'input.txt')
const written = writeInput(input)

for (const threads of [1, 2]) test(`kill -9 mid-file (threads: ${threads}), restart: every line is in SQLite, duplicates bounded by what was in flight`, { timeout: 240_000 }, async () => {
  await written
  const db = join(dir, `out-${threads}.db`)
  const config = join(dir, `pipeline-${threads}.yaml`)
  const channelRecords = 10_000
  const sinkBatch = 5_000
  const readBuffer = 256 * 1024
  writeFileSync(
    config,
    `data_dir: state-${threads}
channel: { max_records: ${channelRecords}, max_bytes: 16MiB }
sources:
  in: { type: file, path: input.txt, format: lines, read_buffer: 256KiB, threads: ${threads} }
sinks:
  db:
    type: sqlite
    inputs: [in]
    path: out-${threads}.db
    table: lines
    batch: { max_records: ${sinkBatch}, linger: 50ms }
`,
  )
  const first = await run(config, 300_000, db)
  assert.equal(first.signal, 'SIGKILL', `the first run should have been killed; it exited with ${first.code}: ${first.stderr}`)
  assert.ok(countRows(db) < LINES, 'killed before the end')

  const second = await run(config)
  assert.equal(second.code, 0, second.stderr)

  const conn = new Database(db, { readonly: true })
  const total = (conn.prepare('SELECT count(*) AS n FROM lines').get() as { n: number }).n
  const distinct = (conn.prepare('SELECT count(DISTINCT message) AS n FROM lines').get() as { n: number }).n
  const bad = (conn.prepare(`SELECT count(*) AS n FROM lines WHERE message NOT LIKE 'line-%'`).get() as { n: number }).n
  conn.close()
  const duplicates = total - distinct
  // In flight at the kill: the channel, one sink batch being written, and the chunks whose
  // records were written but whose commit had not yet reached the checkpoint store (with
  // workers, also the 2 chunks per worker decoded ahead).
  const lineBytes = 61
  const inFlightBound = channelRecords + sinkBatch + (3 + (threads > 1 ? 2 * threads : 0)) * Math.ceil(readBuffer / lineBytes)
  console.log(`# threads: ${threads}: kill -9 at ${first.rowsAtKill} rows: lost ${LINES - distinct}, duplicated ${duplicates} (bound ${inFlightBound})`)
  assert.equal(bad, 0)
  assert.equal(distinct, LINES, `lost ${LINES - distinct} lines`)
  assert.ok(duplicates <= inFlightBound, `duplicates ${duplicates} exceed the in-flight bound ${inFlightBound}`)
})
