// The generator (count, field kinds, seeded determinism, json format) and stdin (piped into the CLI).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { schedule } from '../../src/sources/generator/source.js'
import { runYaml } from '../../src/testing/index.js'

const dir = mkdtempSync(join(tmpdir(), 'sluice-gen-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const gen = (opts: string) => `
data_dir: state
sources:
  g: { type: generator, ${opts} }
sinks:
  out: { type: collect, inputs: [g], name: out }
`

test('generator: count, field kinds, and the same records for the same seed', async () => {
  const opts = 'count: 2500, batch_size: 1000, seed: 7, fields: { id: sequence, k: { kind: int, min: 5, max: 6 }, x: { kind: float, min: 0, max: 1, decimals: 3 }, c: { kind: choice, values: [a, b] }, s: { kind: string, length: 4 }, z: { kind: constant, value: 1 }, ts: timestamp }'
  const a = (await runYaml(gen(opts), { baseDir: dir })).out('out')
  const b = (await runYaml(gen(opts), { baseDir: dir })).out('out')
  assert.equal(a.length, 2500)
  assert.deepEqual(a.map((r) => r.id), Array.from({ length: 2500 }, (_, i) => i))
  for (const r of a) {
    assert.ok(r.k === 5 || r.k === 6)
    assert.ok((r.x as number) >= 0 && (r.x as number) <= 1 && Math.round((r.x as number) * 1000) === (r.x as number) * 1000)
    assert.ok(r.c === 'a' || r.c === 'b')
    assert.match(r.s as string, /^[a-z0-9]{4}$/)
    assert.equal(r.z, 1)
    assert.ok(!Number.isNaN(Date.parse(r.ts as string)))
  }
  const strip = (rs: typeof a) => rs.map(({ ts: _ts, ...rest }) => rest)
  assert.deepEqual(strip(a), strip(b))
})

test('generator: json format emits { message } that parse turns back into records', async () => {
  const r = await runYaml(
    `
data_dir: state
sources:
  g: { type: generator, count: 10, format: json }
transforms:
  p: { type: parse, inputs: [g], format: json }
sinks:
  out: { type: collect, inputs: [p], name: out }
`,
    { baseDir: dir },
  )
  assert.equal(r.out('out').length, 10)
  assert.deepEqual(Object.keys(r.out('out')[0]!).sort(), ['amount', 'country', 'event', 'id', 'ts', 'user_id'])
})

test('generator schedule: records are released when due, never early, and the wait ends at the next one', () => {
  // Record n is due at n / rate s: at 1000/s, record 0 at once, record 1 at 1 ms.
  assert.deepEqual(schedule(0, 1000, 0), { due: 1, waitMs: 0 })
  assert.deepEqual(schedule(1, 1000, 0.4), { due: 1, waitMs: 1 })
  // A slow rate waits for the next record instead of polling on a tick.
  assert.deepEqual(schedule(1, 5, 10), { due: 1, waitMs: 190 })
  assert.deepEqual(schedule(3, 5, 400), { due: 3, waitMs: 200 })
  // After a stall, everything due leaves at once (the rate catches up instead of drifting).
  assert.deepEqual(schedule(0, 1000, 50.5), { due: 51, waitMs: 0 })
  // Never early, and never a wait past the next record's due time (+1 ms of timer resolution).
  let seed = 12345
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  for (let i = 0; i < 10_000; i++) {
    const rate = 1 + random() * 200_000
    const elapsedMs = random() * 5_000
    const produced = Math.floor(random() * rate * 6)
    const { due, waitMs } = schedule(produced, rate, elapsedMs)
    if (waitMs === 0) {
      assert.ok(due > produced)
      assert.ok(((due - 1) / rate) * 1000 <= elapsedMs, `record ${due - 1} released before it was due`)
    } else {
      assert.ok((produced / rate) * 1000 > elapsedMs, `waited for record ${produced}, already due`)
      assert.ok(elapsedMs + waitMs >= (produced / rate) * 1000, 'woke before the next record was due')
      assert.ok(elapsedMs + waitMs <= Math.max(elapsedMs + 1, (produced / rate) * 1000 + 1), 'overslept the next record')
    }
  }
})

test('generator: at a fixed rate, records leave on schedule and carry their due time', async () => {
  const started = Date.now()
  const rs = (await runYaml(gen('rate: 200, count: 40, fields: { id: sequence, ts: timestamp }'), { baseDir: dir })).out('out')
  const took = Date.now() - started
  assert.deepEqual(rs.map((r) => r.id), Array.from({ length: 40 }, (_, i) => i))
  // Record n carries the time it was due: 5 ms apart at 200/s.
  const t0 = Date.parse(rs[0]!.ts as string)
  for (const r of rs) assert.ok(Math.abs(Date.parse(r.ts as string) - t0 - (r.id as number) * 5) <= 1)
  // The last record is due 195 ms after the first: the run cannot have ended sooner.
  assert.ok(took >= 195, `the source finished in ${took} ms, before its last record was due`)
})

test('stdin: lines piped into the CLI arrive in order; bad JSON is dead-lettered with its line', () => {
  writeFileSync(
    join(dir, 'stdin.yaml'),
    `data_dir: stdin-state
sources:
  in: { type: stdin, format: jsonl }
sinks:
  out: { type: file, inputs: [in], path: out.jsonl }
`,
  )
  const input = Array.from({ length: 5000 }, (_, i) => (i === 1234 ? '{broken' : JSON.stringify({ i }))).join('\n') + '\n'
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'sluice.js')
  const res = spawnSync(process.execPath, [bin, 'run', join(dir, 'stdin.yaml'), '--log-level', 'warn'], { input, encoding: 'utf8', timeout: 60_000 })
  assert.equal(res.status, 0, res.stderr)
  const out = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).i)
  assert.equal(out.length, 4999)
  assert.deepEqual(out.slice(1233, 1235), [1233, 1235])
  const dead = readFileSync(join(dir, 'stdin-state', 'dead-letter.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  assert.equal(dead.length, 1)
  assert.equal(dead[0].origin.file, 'stdin')
  assert.equal(dead[0].origin.line, 1235)
})

test('stdin: CSV through a filter right after the source: rows the filter drops are skipped in the decoder and still counted', () => {
  writeFileSync(
    join(dir, 'stdin-csv.yaml'),
    `data_dir: stdin-csv-state
sources:
  in: { type: stdin, format: csv, dead_letter: dlq, csv: { columns: { id: int, amount: float } } }
transforms:
  big: { type: filter, inputs: [in], condition: 'amount > 20.0' }
sinks:
  out: { type: file, inputs: [big], path: csv-out.jsonl }
  dlq: { type: file, path: csv-dlq.jsonl }
`,
  )
  // 3,000 rows; every 500th id is no int (a dead letter of the source, dropped or not).
  const rows = Array.from({ length: 3000 }, (_, i) => `${i % 500 === 7 ? 'x' + i : i},${(i * 37) % 100}.5`)
  const input = 'id,amount\n' + rows.join('\n') + '\n'
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'sluice.js')
  const res = spawnSync(process.execPath, [bin, 'run', join(dir, 'stdin-csv.yaml'), '--no-progress', '--log-level', 'warn'], { input, encoding: 'utf8', timeout: 60_000 })
  assert.equal(res.status, 0, res.stderr)
  const expected = rows.filter((r) => !r.startsWith('x') && Number(r.split(',')[1]) > 20).map((r) => Number(r.split(',')[0]))
  const out = readFileSync(join(dir, 'csv-out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).id)
  assert.deepEqual(out, expected)
  assert.equal(readFileSync(join(dir, 'csv-dlq.jsonl'), 'utf8').trim().split('\n').length, 6)
  // The summary: the source read every good row, the filter received them all.
  const counts = (id: string) => res.stderr.split('\n').find((l) => l.startsWith(`${id} `))!.trim().split(/\s+/).slice(3, 6).map((n) => Number(n.replace(/,/g, '')))
  assert.deepEqual(counts('in'), [2994, 2994, 6])
  assert.deepEqual(counts('big'), [2994, expected.length, 0])
})

test('stdin: a shutdown mid-record dead-letters the incomplete tail instead of emitting it as a record', async () => {
  const { spawn } = await import('node:child_process')
  writeFileSync(join(dir, 'stdin-stop.yaml'), 'data_dir: stop-state\nsources:\n  in: { type: stdin, format: lines }\nsinks:\n  out: { type: file, inputs: [in], path: stop.jsonl }\n')
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'sluice.js')
  const child = spawn(process.execPath, [bin, 'run', join(dir, 'stdin-stop.yaml')], { stdio: ['pipe', 'ignore', 'pipe'] })
  // Signal only once the handlers are in place (the CLI logs it), however slow the machine.
  let stderr = ''
  await new Promise<void>((resolve) => child.stderr.on('data', (d) => (stderr += d).includes('Pipeline started.') && resolve()))
  child.stdin.write('complete line\nhalf of a li')
  await new Promise((r) => setTimeout(r, 500))
  child.kill('SIGTERM')
  const code = await new Promise((r) => child.on('exit', r))
  assert.equal(code, 0)
  assert.deepEqual(readFileSync(join(dir, 'stop.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).message), ['complete line'])
  const dead = readFileSync(join(dir, 'stop-state', 'dead-letter.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  assert.equal(dead.length, 1)
  assert.equal(dead[0].code, 'SLC_SOURCE_TRUNCATED')
  assert.equal(dead[0].raw, 'half of a li')
})
