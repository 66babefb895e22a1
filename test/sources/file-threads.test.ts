// The file source with worker threads (`threads: N`): whatever the chunking, records, their
// order, dead letters (with lines), per-component counts and checkpoints equal one thread's.
import assert from 'node:assert/strict'
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { gzipSync } from 'node:zlib'
import pino from 'pino'
import { RunStats } from '../../src/observe/stats.js'
import { runYaml } from '../../src/testing/index.js'
import { tempDirs } from '../support/temp-dirs.js'

const freshDir = tempDirs('sluice-threads-')

/** A seeded CSV with quoted fields, doubled quotes, multi-line fields, bad ints and a BOM. */
function messyCsv(rows: number, seed: number): string {
  let x = seed
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648)
  let s = '\ufeffid,name,amount,note\n'
  for (let i = 0; i < rows; i++) {
    const r = rnd()
    const id = r < 0.01 ? 'x' + i : String(i) // 1% do not fit `id: int`: dead letters
    const name = r < 0.2 ? `"Smith, ${i}"` : r < 0.25 ? `"say ""hi"" ${i}"` : `n${i}`
    // 3% hold newlines inside quotes, long enough that many chunk cuts land inside a record.
    const note = r > 0.97 ? `"line one\nline two ${i}\n${'z'.repeat(150 + (i % 200))}\n"` : r > 0.9 ? '' : `plain ${i % 97}`
    // Empty amounts make the filter fail (dead letter); 'abc' does not fit `amount: float`.
    const amount = r >= 0.01 && r < 0.015 ? '' : r >= 0.015 && r < 0.02 ? 'abc' : (r * 100).toFixed(2)
    s += `${id},${name},${amount},${note}\n`
  }
  return s
}

/** The source of messyCsv's data.csv and the filter after it, as config lines under `sources:`/`transforms:`. */
const messySource = (threads: number | string, extra = '', path = 'data.csv') => `  in:
    type: file
    path: ${path}
    format: csv
    threads: ${threads}
    read_buffer: 4KiB
    max_record_bytes: 2KiB
    dead_letter: dlq
    csv: { columns: { id: int, amount: float } }${extra}
transforms:
  big: { type: filter, inputs: [in], condition: 'amount > 20.0', dead_letter: dlq }`

const config = (threads: number | string, extra = '', path = 'data.csv') => `
data_dir: state
sources:
${messySource(threads, extra, path)}
  cents: { type: map, inputs: [big], set: { cents: 'int(amount * 100.0)', shout: 'note + "!"' }, dead_letter: dlq }
sinks:
  out: { type: collect, inputs: [cents], name: out }
  dlq: { type: collect, name: dlq }
`

async function run(dir: string, threads: number | string, o: { reset?: boolean; signal?: AbortSignal; path?: string } = {}) {
  const stats = new RunStats()
  const r = await runYaml(config(threads, '', o.path), { baseDir: dir, stats, reset: o.reset ?? true, signal: o.signal })
  const counts = Object.fromEntries([...stats.components].map(([id, c]) => [id, { in: c.received, out: c.sent, dead: c.deadLettered }]))
  // Dead letters of the source and of the steps interleave per chunk, and chunks are cut
  // differently with threads: compare them in line order.
  const letters = r
    .out('dlq')
    .map((d) => ({ component: d.component, code: d.code, line: (d.origin as { line: number }).line, raw: d.raw, record: d.record }))
    .sort((a, b) => a.line - b.line || String(a.component).localeCompare(String(b.component)))
  return { status: r.status, out: r.out('out'), letters, counts }
}

/** Runs with other thread counts give the rows, dead letters and counts of `one`, in order. */
function assertSameRun(others: { out: unknown; letters: unknown; counts: unknown }[], one: { out: unknown; letters: unknown; counts: unknown }): void {
  for (const other of others) {
    assert.deepEqual(other.out, one.out)
    assert.deepEqual(other.letters, one.letters)
    assert.deepEqual(other.counts, one.counts)
  }
}

test('threads: 2 decodes and runs filter/map in workers with the same records, order, dead letters and counts as threads: 1', async () => {
  const dir = freshDir()
  writeFileSync(join(dir, 'data.csv'), messyCsv(6000, 7))
  const one = await run(dir, 1)
  const two = await run(dir, 2)
  const three = await run(dir, 3)
  assert.equal(one.status, 'completed')
  assert.ok(one.out.length > 3000, `${one.out.length} rows passed`)
  assert.ok(one.letters.some((l) => l.component === 'in'), 'bad ints are dead-lettered by the source')
  assert.ok(one.letters.some((l) => l.component === 'cents'), 'empty notes (null) fail the map and are dead-lettered')
  assert.ok(one.letters.some((l) => l.component === 'big'), 'empty amounts (null) fail the filter and are dead-lettered')
  assert.ok(one.letters.some((l) => l.component === 'in' && String(l.raw).includes(',abc,')), 'amounts that are no number are dead-lettered by the source')
  assert.ok(one.out.some((r) => String(r.note).includes('\n')), 'multi-line fields survive')
  assertSameRun([two, three], one)
})

test('threads: 1 pushes a filter right after the source into the CSV decoder: same records, dead letters and counts as a filter further down', async () => {
  const dir = freshDir()
  writeFileSync(join(dir, 'data.csv'), messyCsv(6000, 11))
  // The same steps; only where `tag` (a map) stands decides whether the filter follows the
  // source directly, and so whether the decoder judges rows before building them.
  const cfg = (tagFirst: boolean) => `
data_dir: state
sources:
${tagFirst ? messySource(1).replace('big: { type: filter, inputs: [in]', 'big: { type: filter, inputs: [tag]') : messySource(1)}
  tag: { type: map, inputs: [${tagFirst ? 'in' : 'big'}], set: { tagged: 'true' } }
  cents: { type: map, inputs: [${tagFirst ? 'big' : 'tag'}], set: { cents: 'int(amount * 100.0)', shout: 'note + "!"' }, dead_letter: dlq }
sinks:
  out: { type: collect, inputs: [cents], name: out }
  dlq: { type: collect, name: dlq }
`
  const runOf = async (tagFirst: boolean) => {
    const stats = new RunStats()
    const logged: string[] = []
    const log = pino({ level: 'debug' }, { write: (line: string) => void logged.push(line) })
    const r = await runYaml(cfg(tagFirst), { baseDir: dir, stats, reset: true, log })
    assert.equal(r.status, 'completed')
    const skipped = logged.map((l) => JSON.parse(l) as { msg: string; rows: number }).find((l) => l.msg.startsWith('Rows the filter drops were skipped'))
    const counts = Object.fromEntries(['in', 'big', 'cents', 'out', 'dlq'].map((id) => {
      const c = stats.components.get(id)!
      return [id, { in: c.received, out: c.sent, dead: c.deadLettered }]
    }))
    const letters = r.out('dlq').map((d) => ({ component: d.component, code: d.code, line: (d.origin as { line: number }).line, raw: d.raw }))
    letters.sort((a, b) => a.line - b.line || String(a.component).localeCompare(String(b.component)))
    return { out: r.out('out'), letters, counts, skipped: skipped?.rows }
  }
  const pushed = await runOf(false)
  const plain = await runOf(true)
  assert.equal(plain.skipped, undefined, 'a map first: nothing to push down')
  assert.ok(pushed.skipped !== undefined && pushed.skipped > 1000, `rows skipped in the decoder: ${pushed.skipped}`)
  assert.equal(pushed.counts.in!.in, 6000 - pushed.letters.filter((l) => l.component === 'in').length, 'the source counts the skipped rows as read')
  assert.equal(pushed.counts.big!.in, pushed.counts.in!.out, 'and the filter as received')
  assert.deepEqual(pushed.counts, plain.counts)
  assert.deepEqual(pushed.letters, plain.letters)
  assert.deepEqual(pushed.out, plain.out)
  assert.ok(pushed.letters.some((l) => l.component === 'big'), 'rows the filter fails on are still dead-lettered by it')
})

test('dead letters from workers carry the absolute line of the record', async () => {
  const dir = freshDir()
  // 200 good rows per 4 KiB chunk or so; bad ones at known lines far into the file.
  let s = 'id,amount\n'
  const bad = new Set([777, 3001, 5999])
  for (let line = 2; line <= 6001; line++) s += bad.has(line) ? `oops,1.5\n` : `${line},${line % 50}.25\n`
  writeFileSync(join(dir, 'data.csv'), s)
  const cfg = (t: number) => `
data_dir: state
sources:
  in: { type: file, path: data.csv, format: csv, threads: ${t}, read_buffer: 4KiB, dead_letter: dlq, csv: { columns: { id: int, amount: float } } }
sinks:
  out: { type: collect, inputs: [in], name: out }
  dlq: { type: collect, name: dlq }
`
  for (const t of [1, 2]) {
    const r = await runYaml(cfg(t), { baseDir: dir, reset: true })
    assert.deepEqual(r.out('dlq').map((d) => (d.origin as { line: number }).line), [777, 3001, 5999], `threads: ${t}`)
    assert.equal(r.out('out').length, 5997)
    assert.equal(r.out('out')[5996]!.id, 6001)
  }
})

test('records longer than a read and oversized records across chunk cuts match one thread', async () => {
  const dir = freshDir()
  let s = ''
  for (let i = 0; i < 3000; i++) {
    // Every 100th line is 5 KB (over max_record_bytes 2 KiB and over a 4 KiB read), every 41st
    // 3 KB (oversized, within a read), every 37th 1.5 KB.
    const pad = i % 100 === 50 ? 'y'.repeat(5000) : i % 41 === 0 ? 'w'.repeat(3000) : i % 37 === 0 ? 'x'.repeat(1500) : ''
    s += `{"i":${i},"amount":${i % 40},"note":"${pad}"}\n`
  }
  writeFileSync(join(dir, 'data.jsonl'), s)
  const cfg = (t: number) => `
data_dir: state
sources:
  in: { type: file, path: data.jsonl, format: jsonl, threads: ${t}, read_buffer: 4KiB, max_record_bytes: 2KiB, dead_letter: dlq }
transforms:
  some: { type: filter, inputs: [in], condition: 'amount > 5' }
sinks:
  out: { type: collect, inputs: [some], name: out }
  dlq: { type: collect, name: dlq }
`
  const results = []
  for (const t of [1, 2]) {
    const r = await runYaml(cfg(t), { baseDir: dir, reset: true })
    results.push({ out: r.out('out').map((x) => x.i), dlq: r.out('dlq').map((d) => [d.code, (d.origin as { line: number }).line]) })
  }
  assert.equal(results[0]!.dlq.length, 30 + 73)
  assert.deepEqual(results[1], results[0])
})

test('checkpoints with and without threads: a second run reads nothing, appended rows once, a stopped run resumes without loss', async () => {
  // Rows 5,000–8,999 all fail the filter: whole reads whose rows the decoder skips (a pushed-down
  // filter on one thread) commit their position all the same.
  const amount = (i: number) => (i >= 5000 && i < 9000 ? 0.5 : (i % 90) + 0.5)
  const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${from + i},name ${from + i},${amount(from + i)},n\n`).join('')
  const passing = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i).filter((i) => amount(i) > 20)
  for (const threads of [1, 2]) {
    const dir = freshDir()
    writeFileSync(join(dir, 'data.csv'), 'id,name,amount,note\n' + rows(0, 20_000))
    const first = await run(dir, threads)
    assert.deepEqual(first.out.map((r) => r.id), passing(0, 20_000))
    const second = await run(dir, threads, { reset: false })
    assert.equal(second.out.length, 0, `threads: ${threads}: everything was read and acknowledged`)
    appendFileSync(join(dir, 'data.csv'), rows(20_000, 20_500))
    const third = await run(dir, threads, { reset: false })
    assert.deepEqual(third.out.map((r) => r.id), passing(20_000, 20_500))
    assert.equal(third.out[0]!.name, `name ${third.out[0]!.id}`, 'resumed mid-file, the header still names the fields')

    // Stop a run part-way (after its first batches), then run again: every row arrives, in order.
    const stop = new AbortController()
    const seen: number[] = []
    const partial = run(dir, threads, { reset: true, signal: stop.signal })
    setImmediate(() => stop.abort())
    for (const r of (await partial).out) seen.push(r.id as number)
    const rest = await run(dir, threads, { reset: false })
    const all = [...seen, ...rest.out.map((r) => r.id as number)]
    const want = passing(0, 20_500)
    assert.deepEqual([...new Set(all)].sort((a, b) => a - b), want, `threads: ${threads}: no row lost`)
    assert.ok(all.length - want.length < 5000, `duplicates ${all.length - want.length} stay within what was in flight`)
  }
})

test('gzip files with threads: decompressed on the main thread, decoded in workers, equal to one thread; resumed without loss', async () => {
  const dir = freshDir()
  // Small reads, multi-line quoted fields and oversized records: chunks are often not cut at a
  // record boundary, and the reader goes back over what it decompressed.
  const csv = messyCsv(6000, 11)
  writeFileSync(join(dir, 'data.csv.gz'), gzipSync(csv))
  writeFileSync(join(dir, 'data.csv'), csv)
  const path = 'data.csv.gz'
  const one = await run(dir, 1, { path })
  const two = await run(dir, 2, { path })
  const three = await run(dir, 3, { path })
  assert.equal(one.status, 'completed')
  assert.ok(one.out.length > 3000 && one.letters.length > 100, `${one.out.length} rows, ${one.letters.length} dead letters`)
  assertSameRun([two, three], one)
  assert.equal((await run(dir, 2, { path, reset: false })).out.length, 0, 'a second run reads nothing')
  assertSameRun([two], await run(dir, 2))

  // Stopped part-way, then resumed: the reader streams past what was read, and no row is lost.
  const stop = new AbortController()
  const partial = run(dir, 2, { path, reset: true, signal: stop.signal })
  setImmediate(() => stop.abort())
  const seen = (await partial).out.map((r) => r.id as number)
  const rest = await run(dir, 2, { path, reset: false })
  const all = [...seen, ...rest.out.map((r) => r.id as number)]
  assert.deepEqual([...new Set(all)], one.out.map((r) => r.id), 'every row, in order')
})

test('a truncated gzip with threads keeps the records before the damage and dead-letters it once, as one thread does', async () => {
  const dir = freshDir()
  const whole = gzipSync(messyCsv(6000, 5))
  writeFileSync(join(dir, 'data.csv.gz'), whole.subarray(0, Math.floor(whole.length * 0.7)))
  const one = await run(dir, 1, { path: 'data.csv.gz' })
  const two = await run(dir, 2, { path: 'data.csv.gz' })
  assert.equal(one.status, 'completed')
  assert.deepEqual(one.letters.filter((l) => l.code === 'SLC_SOURCE_TRUNCATED').map((l) => l.component), ['in'])
  assert.ok(one.out.length > 1500, `${one.out.length} rows before the damage`)
  assertSameRun([two], one)
  assert.equal((await run(dir, 2, { path: 'data.csv.gz', reset: false })).out.length, 0, 'the damaged file counts as read')
})

test('threads: auto keeps small files on the main thread; the option is validated', async () => {
  const dir = freshDir()
  writeFileSync(join(dir, 'data.csv'), messyCsv(500, 3))
  const auto = await run(dir, "auto")
  const one = await run(dir, 1)
  assert.deepEqual(auto.out, one.out)
  await assert.rejects(runYaml(config(0), { baseDir: dir }), /threads/)
})

test('JSON lines into a jsonl file sink: workers encode the lines; the file equals one thread\'s', async () => {
  const dir = freshDir()
  let s = ''
  // Some names are not ASCII: lines end at other bytes than characters in the workers' output.
  for (let i = 0; i < 20_000; i++) s += i % 1000 === 7 ? '{"broken\n' : `{"i":${i},"amount":${(i * 7) % 100}.5,"name":"n\\"${i}${i % 5 === 0 ? 'é日' : ''}","tags":[${i % 3}]}\n`
  writeFileSync(join(dir, 'data.jsonl'), s)
  const cfg = (t: number) => `
data_dir: state-${t}
sources:
  in: { type: file, path: data.jsonl, format: jsonl, threads: ${t}, read_buffer: 16KiB, dead_letter: dlq }
transforms:
  big: { type: filter, inputs: [in], condition: 'amount > 30.0' }
  proj: { type: map, inputs: [big], set: { cents: 'int(amount * 100.0)' }, keep: [i, name, cents, tags] }
sinks:
  out: { type: file, inputs: [proj], path: out-${t}.jsonl, format: jsonl }
  dlq: { type: collect, name: dlq }
`
  const runs = []
  for (const t of [1, 2]) {
    const stats = new RunStats()
    const r = await runYaml(cfg(t), { baseDir: dir, stats })
    assert.equal(r.status, 'completed')
    runs.push({ text: readFileSync(join(dir, `out-${t}.jsonl`), 'utf8'), dlq: r.out('dlq').length, written: stats.get('out').sent })
  }
  assert.equal(runs[0]!.dlq, 20)
  assert.ok(runs[0]!.written > 10_000)
  assert.equal(runs[1]!.text, runs[0]!.text)
  assert.deepEqual(runs[1], runs[0])
  assert.deepEqual(JSON.parse(runs[0]!.text.split('\n')[0]!), { i: 5, name: 'n"5é日', cents: 3550, tags: [2] })
})

test('workers get chunks of at most 256 KiB where records come back (they are what is in flight), read_buffer where they pre-aggregate; memory_limit changes neither nor the output', async (t) => {
  // The plan budgets one worker per core: with one core there are none to hand chunks to.
  if (availableParallelism() < 2) return t.skip('one core: no worker threads fit')
  const dir = freshDir()
  let s = ''
  for (let i = 0; i < 40_000; i++) s += `{"i":${i},"amount":${(i * 7) % 100}.5,"pad":"${'x'.repeat(40)}"}\n`
  writeFileSync(join(dir, 'data.jsonl'), s)
  const cfg = (limit: string, aggregate = false) => `
data_dir: state
${limit}
sources:
  in: { type: file, path: data.jsonl, format: jsonl, threads: 2 }
transforms:
  big: { type: filter, inputs: [in], condition: 'amount > 30.0' }
${aggregate ? '  sums: { type: aggregate, inputs: [big], group_by: [amount], window: { type: global }, aggregations: { n: count() } }' : ''}
sinks:
  out: { type: file, inputs: [${aggregate ? 'sums' : 'big'}], path: out.jsonl, format: jsonl, append: false }
`
  const decoded = async (limit: string, aggregate = false) => {
    const logged: string[] = []
    const log = pino({ level: 'debug' }, { write: (line: string) => void logged.push(line) })
    const r = await runYaml(cfg(limit, aggregate), { baseDir: dir, reset: true, log })
    assert.equal(r.status, 'completed')
    const read = logged.map((l) => JSON.parse(l) as { msg: string; chunks: number; chunk_bytes: number; threads: number }).find((l) => l.msg === 'File decoded in worker threads.')
    assert.ok(read, `the file was read by workers (${limit || 'no limit'})`)
    return { ...read, text: readFileSync(join(dir, 'out.jsonl'), 'utf8') }
  }
  const free = await decoded('')
  // 130 MiB: two workers fit (122 MiB), with 2 MiB semi-spaces (core/memory.ts).
  const limited = await decoded('memory_limit: 130MiB')
  assert.equal(free.chunk_bytes, 256 * 1024)
  assert.equal(limited.chunk_bytes, 256 * 1024)
  assert.equal(limited.threads, 2)
  assert.equal(limited.chunks, Math.ceil(Buffer.byteLength(s) / (256 * 1024)) + (Buffer.byteLength(s) % (256 * 1024) === 0 ? 1 : 0))
  assert.ok(limited.text.length > 1_000_000)
  assert.equal(limited.text, free.text)
  // Pre-aggregated chunks come back as one partial each: read_buffer-sized chunks.
  const partials = await decoded('memory_limit: 130MiB', true)
  assert.equal(partials.chunk_bytes, 1024 * 1024, 'read_buffer')
  assert.equal(partials.text.trim().split('\n').length, 70, 'one row per amount above 30')
})

test('a glob of CSV files with different headers: the workers follow each file\'s header', async () => {
  const dir = freshDir()
  const rows = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n') + '\n'
  writeFileSync(join(dir, 'a.csv'), 'id,amount,note\n' + rows(3000, (i) => `${i},${i % 50}.5,a${i}`))
  writeFileSync(join(dir, 'b.csv'), 'note,id,amount,extra\n' + rows(3000, (i) => `b${i},${10_000 + i},${i % 70}.25,x`))
  const cfg = (t: number) => `
data_dir: state
sources:
  in: { type: file, path: "*.csv", format: csv, threads: ${t}, read_buffer: 4KiB }
transforms:
  some: { type: filter, inputs: [in], condition: 'amount > 25.0' }
sinks:
  out: { type: collect, inputs: [some], name: out }
`
  const one = await runYaml(cfg(1), { baseDir: dir, reset: true })
  const two = await runYaml(cfg(2), { baseDir: dir, reset: true })
  assert.ok(one.out('out').some((r) => r.extra === 'x') && one.out('out').some((r) => String(r.note).startsWith('a')))
  assert.deepEqual(two.out('out'), one.out('out'))
})

test('threads: auto goes back to the main thread when most records would cross back as objects', async () => {
  const dir = freshDir()
  // 40 MiB (over the 32 MiB auto threshold), every record kept: workers would only add copying.
  const line = (i: number) => `{"i":${i},"pad":"${'p'.repeat(80)}"}\n`
  const rows: string[] = []
  for (let i = 0; i < 420_000; i++) rows.push(line(i))
  writeFileSync(join(dir, 'big.jsonl'), rows.join(''))
  const logged: string[] = []
  const log = pino({ level: 'info' }, { write: (s: string) => void logged.push(s) })
  const cfg = `
data_dir: state
sources:
  in: { type: file, path: big.jsonl, format: jsonl }
transforms:
  all: { type: filter, inputs: [in], condition: 'i >= 0' }
sinks:
  out: { type: collect, inputs: [all], name: out }
`
  const r = await runYaml(cfg, { baseDir: dir, reset: true, log })
  assert.equal(r.status, 'completed')
  const ids = r.out('out').map((x) => x.i as number)
  assert.equal(ids.length, 420_000)
  assert.ok(ids.every((v, k) => v === k), 'every record once, in file order')
  // With one core `auto` never starts workers, so there is nothing to decline.
  if (availableParallelism() > 1) assert.ok(logged.some((s) => s.includes('reading on the main thread')), 'the source declined its workers')
})

/** messyCsv → filter → a global aggregate that workers may pre-aggregate for. */
const aggregateConfig = (threads: number, aggregate: string) => `
data_dir: state-${threads}
sources:
${messySource(threads)}
  per_note:
    type: aggregate
    inputs: [big]
    dead_letter: dlq
${aggregate}
sinks:
  out: { type: collect, inputs: [per_note], name: out }
  dlq: { type: collect, name: dlq }
`

async function runAggregate(dir: string, threads: number, aggregate: string, config = aggregateConfig) {
  const logged: string[] = []
  const log = pino({ level: 'debug' }, { write: (s: string) => void logged.push(s) })
  const stats = new RunStats()
  const r = await runYaml(config(threads, aggregate), { baseDir: dir, stats, reset: true, log })
  const counts = Object.fromEntries([...stats.components].map(([id, c]) => [id, { in: c.received, out: c.sent, dead: c.deadLettered }]))
  const letters = r
    .out('dlq')
    .map((d) => ({ component: d.component, code: d.code, message: d.message, line: (d.origin as { line: number }).line, record: d.record }))
    .sort((a, b) => a.line - b.line || String(a.component).localeCompare(String(b.component)))
  const partials = logged.map((s) => JSON.parse(s) as { msg: string; partials?: number }).filter((l) => l.msg === 'File decoded in worker threads.')
  return { status: r.status, out: r.out('out'), letters, counts, partials: partials.reduce((n, l) => n + (l.partials ?? 0), 0) }
}

test('workers pre-aggregate for a global aggregate: rows, group order, dead letters and counts equal one thread', async () => {
  const dir = freshDir()
  writeFileSync(join(dir, 'data.csv'), messyCsv(8000, 11))
  // `odd` fails on records whose note is null (amount over 90): the aggregate rejects them in the workers.
  const aggregate = `    group_by: [note]
    window: { type: global }
    aggregations:
      n: count()
      total: sum(amount)
      mean: avg(amount)
      lo: min(amount)
      hi: max(name)
      ids: approx_count_distinct(id)
      odd: "sum(amount > 90.0 ? note.size() : 1)"`
  const one = await runAggregate(dir, 1, aggregate)
  const two = await runAggregate(dir, 2, aggregate)
  const three = await runAggregate(dir, 3, aggregate)
  assert.equal(one.status, 'completed')
  assert.equal(one.partials, 0)
  assert.ok(two.partials > 10 && three.partials > 10, `partials: ${two.partials}, ${three.partials}`)
  assert.ok(one.out.length > 100, `${one.out.length} groups`)
  assert.ok(one.letters.some((l) => l.component === 'per_note'), 'the aggregate rejects some records')
  assert.ok(one.letters.some((l) => l.component === 'in') && one.letters.some((l) => l.component === 'big'))
  // Same groups in the same order (first appearance), same sums to the last bit.
  assertSameRun([two, three], one)
})

test('pre-aggregation gives way where merging could not equal one thread: many groups per chunk, a small max_keys', async () => {
  const dir = freshDir()
  writeFileSync(join(dir, 'data.csv'), messyCsv(20_000, 5))
  const byId = (extra: string) => `    group_by: [id]
    window: { type: global }${extra}
    aggregations: { n: count(), total: sum(amount) }`
  // Over 4,096 groups per chunk: chunks go as records (read_buffer is raised so that one holds more).
  const wide = (t: number, aggregate: string) => aggregateConfig(t, aggregate).replace('read_buffer: 4KiB', 'read_buffer: 1MiB')
  const wideOne = await runAggregate(dir, 1, byId(''), wide)
  const wideTwo = await runAggregate(dir, 2, byId(''), wide)
  assert.ok(wideOne.out.length > 10_000)
  assert.equal(wideTwo.partials, 0)
  assert.deepEqual(wideTwo.out, wideOne.out)
  assert.deepEqual(wideTwo.counts, wideOne.counts)
  // max_keys below what a partial may bring: on_limit applies record by record, as with one thread.
  const small = byId('\n    max_keys: 3000\n    on_limit: dead_letter')
  const one = await runAggregate(dir, 1, small)
  const two = await runAggregate(dir, 2, small)
  assert.equal(two.partials, 0)
  assert.equal(one.out.length, 3000)
  assert.ok(one.letters.filter((l) => l.component === 'per_note' && /state limit reached/.test(String(l.message))).length > 1000)
  assertSameRun([two], one)
})
