// A 2 GB input runs with bounded memory: the child's RSS, sampled from /proc, stays under a
// generous bound and does not grow with the amount read (memory depends on config, not input).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'sluice.js')
const TARGET_BYTES = 2 * 1024 ** 3
const dir = mkdtempSync(join(tmpdir(), 'sluice-mem-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** 2 GiB of CSV, written as one ~4 MiB block repeated (fast to make; the engine cannot tell). */
function writeInput(path: string): number {
  const countries = ['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN', 'CA']
  const rows: string[] = []
  for (let i = 0; i < 50_000; i++) {
    const status = i % 100 === 0 ? 'paid' : 'open'
    rows.push(`${i},2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z,${i % 5000},${countries[i % 8]},${status},${(i % 50_000) / 100},"agent, v${i % 7}"`)
  }
  const block = Buffer.from(rows.join('\n') + '\n')
  const fd = openSync(path, 'w')
  writeSync(fd, 'order_id,ts,customer_id,country,status,amount,user_agent\n')
  let written = 0
  while (written < TARGET_BYTES) written += writeSync(fd, block)
  closeSync(fd)
  return written
}

function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

test('2 GiB CSV → filter → SQLite with bounded RSS', { timeout: 600_000 }, async () => {
  const bytes = writeInput(join(dir, 'big.csv'))
  const config = join(dir, 'pipeline.yaml')
  writeFileSync(
    config,
    `data_dir: state
sources:
  orders: { type: file, path: big.csv, format: csv }
transforms:
  paid: { type: filter, inputs: [orders], condition: status == "paid" }
sinks:
  db: { type: sqlite, inputs: [paid], path: out.db, table: paid }
`,
  )
  const child = spawn(process.execPath, [BIN, 'run', config, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const samples: number[] = []
  const sampler = setInterval(() => {
    const r = rssMiB(child.pid!)
    if (r !== undefined) samples.push(r)
  }, 250)
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  clearInterval(sampler)
  assert.equal(code, 0, stderr)
  assert.match(stderr, /Pipeline completed/)
  const peak = Math.max(...samples)
  // Growth check: the second half of the run must not sit higher than the first half's peak + slack.
  const half = Math.floor(samples.length / 2)
  const firstHalfPeak = Math.max(...samples.slice(0, half))
  const secondHalfPeak = Math.max(...samples.slice(half))
  console.log(`# ${(bytes / 1024 ** 3).toFixed(2)} GiB read; RSS peak ${peak.toFixed(0)} MiB (first half ${firstHalfPeak.toFixed(0)}, second half ${secondHalfPeak.toFixed(0)}); ${samples.length} samples`)
  assert.ok(samples.length >= 4, 'too few RSS samples')
  assert.ok(peak < 300, `peak RSS ${peak.toFixed(0)} MiB exceeds 300 MiB`)
  assert.ok(secondHalfPeak < firstHalfPeak + 64, `RSS kept growing: ${firstHalfPeak.toFixed(0)} → ${secondHalfPeak.toFixed(0)} MiB`)
})
