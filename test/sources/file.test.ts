// The file source: globs, gzip, checkpoints across runs (resume, append, replaced files) and follow mode.
import assert from 'node:assert/strict'
import { appendFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { RunStats } from '../../src/observe/stats.js'
import { runYaml } from '../../src/testing/index.js'
import { tempDirs } from '../support/temp-dirs.js'

const freshDir = tempDirs('sluice-file-')

const pipeline = (source: string) => `
data_dir: state
sources:
  in: ${source}
sinks:
  out: { type: collect, inputs: [in], name: out }
`

test('a glob reads every match in name order, gzip decompressed by extension', async () => {
  const dir = freshDir()
  writeFileSync(join(dir, 'b.jsonl'), '{"n":3}\n{"n":4}\n')
  writeFileSync(join(dir, 'a.jsonl.gz'), gzipSync('{"n":1}\n{"n":2}\n'))
  writeFileSync(join(dir, 'c.txt'), 'not matched\n')
  const r = await runYaml(pipeline('{ type: file, path: "*.jsonl*", format: jsonl }'), { baseDir: dir })
  assert.equal(r.status, 'completed')
  assert.deepEqual(r.out('out').map((x) => x.n), [1, 2, 3, 4])
})

test('checkpoints: a second run reads nothing new; appended rows are read once, with the CSV header kept', async () => {
  const dir = freshDir()
  const cfg = pipeline('{ type: file, path: orders.csv, format: csv, read_buffer: 64KiB }')
  const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${from + i},${(from + i) * 2}\n`).join('')
  writeFileSync(join(dir, 'orders.csv'), 'id,double\n' + rows(0, 20_000))
  const first = await runYaml(cfg, { baseDir: dir })
  assert.equal(first.out('out').length, 20_000)
  const second = await runYaml(cfg, { baseDir: dir })
  assert.equal(second.out('out').length, 0, 'the file was read to the end and acknowledged before')
  appendFileSync(join(dir, 'orders.csv'), rows(20_000, 20_050))
  const third = await runYaml(cfg, { baseDir: dir })
  assert.deepEqual(third.out('out').map((x) => x.id), Array.from({ length: 50 }, (_, i) => 20_000 + i))
  assert.deepEqual(third.out('out')[0], { id: 20_000, double: 40_000 }, 'resumed mid-file, the header still names the fields')
  const reset = await runYaml(cfg, { baseDir: dir, reset: true })
  assert.equal(reset.out('out').length, 20_050)
})

test('a file replaced by another (new inode) is read from the start', async () => {
  const dir = freshDir()
  const cfg = pipeline('{ type: file, path: log.txt, format: lines }')
  writeFileSync(join(dir, 'log.txt'), 'a\nb\n')
  assert.equal((await runYaml(cfg, { baseDir: dir })).out('out').length, 2)
  writeFileSync(join(dir, 'log.new'), 'c\n')
  renameSync(join(dir, 'log.new'), join(dir, 'log.txt'))
  assert.deepEqual((await runYaml(cfg, { baseDir: dir })).out('out'), [{ message: 'c' }])
})

test('follow: reads what is appended and new files matching the glob, until stopped', async () => {
  const dir = freshDir()
  writeFileSync(join(dir, 'app-1.log'), 'one\n')
  const controller = new AbortController()
  const stats = new RunStats()
  const running = runYaml(pipeline('{ type: file, path: "app-*.log", format: lines, follow: true, poll_interval: 20ms }'), {
    baseDir: dir,
    signal: controller.signal,
    stats,
  })
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))
  const received = () => (stats.components.has('in') ? stats.get('in').received : 0)
  /** Wait (bounded) until the source has read `n` records: no fixed sleeps on a loaded machine. */
  const until = async (n: number) => {
    for (let i = 0; i < 500 && received() < n; i++) await wait(20)
  }
  await until(1)
  appendFileSync(join(dir, 'app-1.log'), 'two\nthree (no newline yet)')
  await until(2)
  await wait(100)
  appendFileSync(join(dir, 'app-1.log'), ', now complete\n')
  writeFileSync(join(dir, 'app-2.log'), 'four\n')
  await until(4)
  controller.abort()
  const r = await running
  assert.equal(r.status, 'stopped')
  assert.deepEqual(r.out('out').map((x) => x.message).sort(), ['four', 'one', 'three (no newline yet), now complete', 'two'].sort())
})

test('gzip files are read once: not again on the next run, nor on every poll in follow mode', async () => {
  const dir = freshDir()
  // Compressible on purpose: decompressed offsets far beyond the compressed size.
  const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ n: i })).join('\n') + '\n'
  writeFileSync(join(dir, 'a.jsonl.gz'), gzipSync(lines))
  const bounded = pipeline('{ type: file, path: "*.gz", format: jsonl }')
  assert.equal((await runYaml(bounded, { baseDir: dir })).out('out').length, 1000)
  assert.equal((await runYaml(bounded, { baseDir: dir })).out('out').length, 0)
  const controller = new AbortController()
  const stats = new RunStats()
  const running = runYaml(pipeline('{ type: file, path: "*.gz", format: jsonl, follow: true, poll_interval: 10ms }'), {
    baseDir: dir,
    signal: controller.signal,
    reset: true,
    stats,
  })
  // Once the file was read, let twenty more polls pass before stopping.
  for (let i = 0; i < 500 && !(stats.components.has('in') && stats.get('in').received >= 1000); i++) await new Promise((r) => setTimeout(r, 20))
  await new Promise((r) => setTimeout(r, 200))
  controller.abort()
  assert.equal((await running).out('out').length, 1000, 'twenty polls, one read')
})

test('a file rewritten in place (same inode, longer) is read from the start, not from the old offset', async () => {
  const dir = freshDir()
  const cfg = pipeline('{ type: file, path: days.csv, format: csv }')
  writeFileSync(join(dir, 'days.csv'), 'id,day\n1,mon\n2,mon\n')
  assert.equal((await runYaml(cfg, { baseDir: dir })).out('out').length, 2)
  writeFileSync(join(dir, 'days.csv'), 'id,day\n10,tue\n11,tue\n12,tue\n13,tue\n') // O_TRUNC keeps the inode
  assert.deepEqual((await runYaml(cfg, { baseDir: dir })).out('out').map((x) => x.id), [10, 11, 12, 13])
  appendFileSync(join(dir, 'days.csv'), '14,wed\n')
  assert.deepEqual((await runYaml(cfg, { baseDir: dir })).out('out').map((x) => x.id), [14], 'an append still resumes')
})

test('an aggregate over a file that grows: each run emits totals over everything read so far', async () => {
  const dir = freshDir()
  const cfg = `
data_dir: state
sources:
  in: { type: file, path: sales.csv, format: csv, csv: { columns: { ts: timestamp, amount: float } } }
transforms:
  totals: { type: aggregate, inputs: [in], group_by: [shop], window: { type: global }, aggregations: { n: count(), revenue: sum(amount) } }
  hourly: { type: aggregate, inputs: [in], group_by: [shop], window: { type: tumbling, size: 1h }, time_field: ts, aggregations: { n: count() } }
sinks:
  out: { type: collect, inputs: [totals], name: totals }
  hours: { type: collect, inputs: [hourly], name: hours }
`
  writeFileSync(join(dir, 'sales.csv'), 'ts,shop,amount\n2026-01-01T00:10:00Z,a,1\n2026-01-01T00:20:00Z,b,2\n2026-01-01T01:10:00Z,a,3\n')
  const first = await runYaml(cfg, { baseDir: dir })
  assert.deepEqual(first.out('totals'), [{ shop: 'a', n: 2, revenue: 4 }, { shop: 'b', n: 1, revenue: 2 }])
  appendFileSync(join(dir, 'sales.csv'), '2026-01-01T02:30:00Z,a,10\n2026-01-01T01:50:00Z,b,5\n2026-01-01T00:30:00Z,b,7\n')
  const second = await runYaml(cfg, { baseDir: dir })
  assert.deepEqual(second.out('totals'), [{ shop: 'a', n: 3, revenue: 14 }, { shop: 'b', n: 3, revenue: 14 }])
  // Hour 02 is new. Hours 00 and 01 were emitted when the first run's input ended: b@01:50 and
  // b@00:30 are late for them and dead-lettered, never a partial row for those hours.
  assert.deepEqual(second.out('hours').map((r) => [r.window_start, r.shop, r.n]), [['2026-01-01T02:00:00.000Z', 'a', 1]])
  assert.equal(second.status, 'completed')
})
