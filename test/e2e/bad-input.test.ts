// Bad input never crashes and is never lost silently: each kind of damaged input either becomes
// dead letters with the right code, origin and raw bytes, or a clear SluiceError — and every good
// record around it still arrives, counted exactly.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { isSluiceError } from '../../src/core/errors.js'
import { runYaml } from '../../src/testing/index.js'

const root = mkdtempSync(join(tmpdir(), 'sluice-bad-input-'))
after(() => rmSync(root, { recursive: true, force: true }))
const BIN = resolve(import.meta.dirname, '../../bin/sluice.js')

interface DeadLetterEnvelope {
  ts: string
  component: string
  code: string
  message: string
  origin: { source?: string; file?: string; line?: number; offset?: number }
  raw?: string
  raw_encoding?: string
  raw_truncated?: boolean
  record?: unknown
}

let n = 0
/** A fresh folder per test, so data_dir, inputs and dead letters never mix. */
function caseDir(name: string): string {
  const d = join(root, `${++n}-${name}`)
  mkdirSync(d, { recursive: true })
  return d
}

function deadLetters(dir: string): DeadLetterEnvelope[] {
  let text: string
  try {
    text = readFileSync(join(dir, '.sluice', 'dead-letter.jsonl'), 'utf8')
  } catch {
    return []
  }
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as DeadLetterEnvelope)
}

/** Decoded raw bytes of a dead letter, whatever its encoding. */
function rawBytes(d: DeadLetterEnvelope): Buffer {
  assert.ok(typeof d.raw === 'string', 'dead letter has raw')
  return d.raw_encoding === 'base64' ? Buffer.from(d.raw, 'base64') : Buffer.from(d.raw, 'utf8')
}

function pipeline(path: string, format: string, extra = ''): string {
  return `
data_dir: .sluice
sources:
  in: { type: file, path: ${JSON.stringify(path)}, format: ${format}${extra} }
sinks:
  out: { type: collect, inputs: [in], name: out }
`
}

test('malformed CSV: a ragged row is dead-lettered with its line and raw text; rows around it arrive', async () => {
  const dir = caseDir('csv-ragged')
  writeFileSync(join(dir, 'a.csv'), 'id,name,amount\n1,ann,10\n2,bob\n3,cy,30\n4,dee,40,extra\n5,eve,50\n')
  const r = await runYaml(pipeline('a.csv', 'csv'), { baseDir: dir })
  assert.equal(r.status, 'completed')
  assert.deepEqual(r.out('out').map((x) => x.id), [1, 3, 5])
  assert.deepEqual(r.out('out')[1], { id: 3, name: 'cy', amount: 30 })
  const dl = deadLetters(dir)
  assert.equal(dl.length, 2, JSON.stringify(dl))
  for (const d of dl) {
    assert.equal(d.code, 'SLC_RECORD_PARSE')
    assert.equal(d.component, 'in')
    assert.equal(d.origin.source, 'in')
    assert.ok(d.origin.file?.endsWith('a.csv'), d.origin.file)
  }
  assert.deepEqual(dl.map((d) => d.origin.line), [3, 5])
  assert.deepEqual(dl.map((d) => rawBytes(d).toString('utf8').trimEnd()), ['2,bob', '4,dee,40,extra'])
  const s = r.stats.get('in')
  assert.equal(s.sent, 3)
  assert.equal(s.deadLettered, 2)
  assert.equal(r.stats.get('out').received, 3)
})

test('malformed CSV: an unclosed quote at the end of the file dead-letters the tail; rows before it arrive', async () => {
  const dir = caseDir('csv-unclosed')
  writeFileSync(join(dir, 'a.csv'), 'id,note\n1,"fine, quoted"\n2,plain\n3,"never closed\n4,swallowed by the quote\n')
  const r = await runYaml(pipeline('a.csv', 'csv'), { baseDir: dir })
  assert.equal(r.status, 'completed')
  assert.deepEqual(r.out('out'), [{ id: 1, note: 'fine, quoted' }, { id: 2, note: 'plain' }])
  const dl = deadLetters(dir)
  assert.equal(dl.length, 1, JSON.stringify(dl))
  assert.equal(dl[0]!.code, 'SLC_RECORD_PARSE')
  assert.equal(dl[0]!.origin.line, 4)
  assert.ok(rawBytes(dl[0]!).toString('utf8').startsWith('3,"never closed'), dl[0]!.raw)
  assert.equal(r.stats.get('in').sent, 2)
  assert.equal(r.stats.get('in').deadLettered, 1)
})

test('invalid JSON lines among good ones: each is dead-lettered with its line number and raw text', async () => {
  const dir = caseDir('jsonl-invalid')
  const lines: string[] = []
  const bad = new Map<number, string>()
  for (let i = 1; i <= 1000; i++) {
    if (i % 100 === 7) {
      const text = i % 200 === 7 ? `{"id": ${i}, "broken": ` : `not json at all ${i}`
      bad.set(i, text)
      lines.push(text)
    } else lines.push(JSON.stringify({ id: i }))
  }
  writeFileSync(join(dir, 'a.jsonl'), lines.join('\n') + '\n')
  const r = await runYaml(pipeline('a.jsonl', 'jsonl'), { baseDir: dir })
  assert.equal(r.status, 'completed')
  const ids = r.out('out').map((x) => x.id)
  assert.equal(ids.length, 1000 - bad.size)
  assert.deepEqual(ids, [...Array(1000).keys()].map((i) => i + 1).filter((i) => !bad.has(i)))
  const dl = deadLetters(dir).sort((a, b) => a.origin.line! - b.origin.line!)
  assert.equal(dl.length, bad.size)
  for (const d of dl) {
    assert.equal(d.code, 'SLC_RECORD_PARSE')
    assert.equal(d.raw_encoding ?? 'utf8', 'utf8')
    assert.equal(d.raw, bad.get(d.origin.line!), `line ${d.origin.line}`)
  }
  assert.deepEqual(dl.map((d) => d.origin.line), [...bad.keys()])
  assert.equal(r.stats.get('in').sent, 1000 - bad.size)
  assert.equal(r.stats.get('in').deadLettered, bad.size)
})

for (const format of ['lines', 'csv'] as const) {
  test(`invalid UTF-8 in a line (${format}) → SLC_RECORD_INVALID_UTF8 with raw base64; good lines arrive`, async () => {
    const dir = caseDir(`utf8-${format}`)
    const badLine = Buffer.concat([Buffer.from(format === 'csv' ? '2,caf' : 'caf'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from(format === 'csv' ? 'x' : ' bad')])
    const head = format === 'csv' ? 'id,word\n1,ok\n' : 'first line\n'
    const tail = format === 'csv' ? '\n3,café\n4,last\n' : '\nthird line é\nfourth\n'
    writeFileSync(join(dir, `a.${format === 'csv' ? 'csv' : 'txt'}`), Buffer.concat([Buffer.from(head), badLine, Buffer.from(tail)]))
    const r = await runYaml(pipeline(`a.${format === 'csv' ? 'csv' : 'txt'}`, format), { baseDir: dir })
    assert.equal(r.status, 'completed')
    if (format === 'csv') assert.deepEqual(r.out('out'), [{ id: 1, word: 'ok' }, { id: 3, word: 'café' }, { id: 4, word: 'last' }])
    else assert.deepEqual(r.out('out'), [{ message: 'first line' }, { message: 'third line é' }, { message: 'fourth' }])
    const dl = deadLetters(dir)
    assert.equal(dl.length, 1, JSON.stringify(dl))
    assert.equal(dl[0]!.code, 'SLC_RECORD_INVALID_UTF8')
    assert.equal(dl[0]!.raw_encoding, 'base64')
    assert.equal(dl[0]!.origin.line, format === 'csv' ? 3 : 2)
    assert.deepEqual(rawBytes(dl[0]!), badLine)
    assert.equal(r.stats.get('in').sent, 3)
    assert.equal(r.stats.get('in').deadLettered, 1)
  })
}

for (const format of ['jsonl', 'lines'] as const) {
  test(`a 50 MB single line in the middle of a ${format} file → SLC_RECORD_TOO_LARGE, raw ≤ 64 KiB, later lines arrive, heap stays flat`, async () => {
    const dir = caseDir(`huge-${format}`)
    const huge = Buffer.alloc(50 * 1024 * 1024, 'a')
    if (format === 'jsonl') {
      huge.write('{"big":"', 0)
      huge.write('"}', huge.length - 2)
    }
    const line = (i: number) => (format === 'jsonl' ? JSON.stringify({ id: i }) : `line ${i}`)
    const before = Array.from({ length: 100 }, (_, i) => line(i + 1)).join('\n') + '\n'
    const afterText = Array.from({ length: 100 }, (_, i) => line(i + 101)).join('\n') + '\n'
    const file = join(dir, 'big.txt')
    writeFileSync(file, Buffer.concat([Buffer.from(before), huge, Buffer.from('\n' + afterText)]))
    global.gc?.()
    const heapBefore = process.memoryUsage().heapUsed
    let heapPeak = heapBefore
    const sampler = setInterval(() => {
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)
    }, 5)
    let r
    try {
      r = await runYaml(pipeline('big.txt', format), { baseDir: dir })
    } finally {
      clearInterval(sampler)
    }
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)
    assert.equal(r.status, 'completed')
    const got = r.out('out')
    assert.equal(got.length, 200)
    assert.deepEqual(got[100], format === 'jsonl' ? { id: 101 } : { message: 'line 101' })
    assert.deepEqual(got[199], format === 'jsonl' ? { id: 200 } : { message: 'line 200' })
    const dl = deadLetters(dir)
    assert.equal(dl.length, 1, `dead letters: ${dl.map((d) => d.code).join(', ')}`)
    const d = dl[0]!
    assert.equal(d.code, 'SLC_RECORD_TOO_LARGE')
    assert.equal(d.raw_truncated, true)
    assert.equal(d.origin.line, 101)
    const raw = rawBytes(d)
    assert.ok(raw.length > 0 && raw.length <= 64 * 1024, `raw is ${raw.length} bytes`)
    assert.ok(raw.subarray(0, 8).equals(huge.subarray(0, 8)), 'raw holds the first bytes of the record')
    assert.equal(r.stats.get('in').sent, 200)
    assert.equal(r.stats.get('in').deadLettered, 1)
    // The record is skipped, never held: the heap must not grow by anything like its 50 MB.
    // (`huge` itself is a Buffer: off-heap, not counted in heapUsed.)
    const grew = heapPeak - heapBefore
    assert.ok(grew < 40 * 1024 * 1024, `heap grew by ${(grew / 1048576).toFixed(1)} MiB during the run`)
  })
}

test('an empty file completes with 0 records and no dead letters', async () => {
  const dir = caseDir('empty')
  writeFileSync(join(dir, 'empty.csv'), '')
  writeFileSync(join(dir, 'empty.jsonl'), '')
  const r = await runYaml(
    `
data_dir: .sluice
sources:
  c: { type: file, path: empty.csv, format: csv }
  j: { type: file, path: empty.jsonl, format: jsonl }
sinks:
  out: { type: collect, inputs: [c, j], name: out }
`,
    { baseDir: dir },
  )
  assert.equal(r.status, 'completed')
  assert.equal(r.out('out').length, 0)
  assert.deepEqual(deadLetters(dir), [])
  for (const id of ['c', 'j']) {
    assert.equal(r.stats.get(id).sent, 0)
    assert.equal(r.stats.get(id).deadLettered, 0)
  }
})

test('a truncated gzip keeps the records before the damage and dead-letters SLC_SOURCE_TRUNCATED once', async () => {
  const dir = caseDir('gzip-truncated')
  const total = 5000
  const text = Array.from({ length: total }, (_, i) => JSON.stringify({ id: i + 1, pad: `row-${i + 1}-${'x'.repeat(i % 37)}` })).join('\n') + '\n'
  const gz = gzipSync(Buffer.from(text))
  writeFileSync(join(dir, 'a.jsonl.gz'), gz.subarray(0, Math.floor(gz.length * 0.7)))
  const r = await runYaml(pipeline('a.jsonl.gz', 'jsonl'), { baseDir: dir })
  assert.equal(r.status, 'completed')
  const ids = r.out('out').map((x) => x.id as number)
  assert.ok(ids.length > 0 && ids.length < total, `${ids.length} records arrived`)
  // Exactly a prefix of the input, in order, with nothing made up.
  assert.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => i + 1))
  const dl = deadLetters(dir)
  const truncated = dl.filter((d) => d.code === 'SLC_SOURCE_TRUNCATED')
  assert.equal(truncated.length, 1, JSON.stringify(dl))
  assert.ok(truncated[0]!.origin.file?.endsWith('a.jsonl.gz'))
  assert.match(truncated[0]!.message, /truncat|ended early/i)
  // The half line cut by the damage may be dead-lettered as a parse error (it is the next line,
  // with the bytes that did decode); nothing else.
  const partial = dl.filter((d) => d.code !== 'SLC_SOURCE_TRUNCATED')
  assert.ok(partial.length <= 1, JSON.stringify(dl.map((d) => d.code)))
  for (const d of partial) {
    assert.equal(d.code, 'SLC_RECORD_PARSE')
    assert.equal(d.origin.line, ids.length + 1)
    assert.ok(rawBytes(d).toString('utf8').startsWith(`{"id":${ids.length + 1},`), d.raw)
  }
  assert.equal(r.stats.get('in').sent, ids.length)
  assert.equal(r.stats.get('in').deadLettered, dl.length)
})

/** mulberry32: a small seeded PRNG, so the "binary" input is the same on every run. */
function seededBytes(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size)
  let a = seed >>> 0
  for (let i = 0; i < size; i++) {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    b[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff
  }
  return b
}

test('a binary file read as lines completes; every line either arrives or is dead-lettered', async () => {
  const dir = caseDir('binary')
  const bytes = seededBytes(1024 * 1024, 42)
  writeFileSync(join(dir, 'blob.bin'), bytes)
  // Count the lines as the lines format frames them: split on \n, a final line without \n counts,
  // and (if the decoder treats it so) an empty line is still a line.
  let lines = 0
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) lines++
  if (bytes[bytes.length - 1] !== 0x0a) lines++
  const r = await runYaml(pipeline('blob.bin', 'lines'), { baseDir: dir })
  assert.equal(r.status, 'completed')
  const s = r.stats.get('in')
  const dl = deadLetters(dir)
  assert.equal(s.deadLettered, dl.length)
  assert.equal(r.out('out').length, s.sent)
  assert.ok(dl.length > 0, 'random bytes contain invalid UTF-8')
  assert.ok(dl.every((d) => d.code === 'SLC_RECORD_INVALID_UTF8'), [...new Set(dl.map((d) => d.code))].join(','))
  assert.equal(s.sent + s.deadLettered, lines, `sent ${s.sent} + dead-lettered ${s.deadLettered} = ${lines} lines`)
  // Dead-lettered raw bytes are exactly the input line (minus its \n, and a trailing \r if stripped).
  const sorted = dl.sort((a, b) => a.origin.line! - b.origin.line!)
  const d0 = sorted[0]!
  assert.equal(d0.raw_encoding, 'base64')
  const raw = rawBytes(d0)
  assert.ok(bytes.indexOf(raw) >= 0, 'raw bytes come from the input')
})

test('a missing file (literal path) fails the run with SLC_SOURCE_NOT_FOUND', async () => {
  const dir = caseDir('missing')
  let result: Awaited<ReturnType<typeof runYaml>> | undefined
  let thrown: unknown
  try {
    result = await runYaml(pipeline('nope/missing.csv', 'csv'), { baseDir: dir })
  } catch (e) {
    thrown = e
  }
  // runYaml resolves with status "failed" and the error; it does not reject.
  assert.equal(thrown, undefined, `runYaml rejected: ${String(thrown)}`)
  assert.equal(result!.status, 'failed')
  assert.ok(isSluiceError(result!.error))
  assert.equal(result!.error!.code, 'SLC_SOURCE_NOT_FOUND')
  assert.match(result!.error!.message, /nope\/missing\.csv/)

  writeFileSync(join(dir, 'p.yaml'), pipelineToStdout('nope/missing.csv'))
  const cli = spawnSync(process.execPath, [BIN, 'run', 'p.yaml', '--no-progress'], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
  assert.equal(cli.status, 1, cli.stderr)
  assert.match(cli.stderr, /nope\/missing\.csv/)
  assert.match(cli.stderr, /SLC_SOURCE_NOT_FOUND/)
  assert.doesNotMatch(cli.stderr, /^ {4}at /m, 'no stack trace')
})

function pipelineToStdout(path: string): string {
  return `
sources:
  in: { type: file, path: ${JSON.stringify(path)}, format: csv }
sinks:
  out: { type: stdout, inputs: [in] }
`
}

test('a directory instead of a file fails the run with SLC_SOURCE_IO', async () => {
  const dir = caseDir('directory')
  mkdirSync(join(dir, 'data.csv'))
  const r = await runYaml(pipeline('data.csv', 'csv'), { baseDir: dir })
  assert.equal(r.status, 'failed')
  assert.equal(r.error?.code, 'SLC_SOURCE_IO')
  assert.match(r.error!.message, /data\.csv/)
  assert.match(r.error!.message, /directory/)

  writeFileSync(join(dir, 'p.yaml'), pipelineToStdout('data.csv'))
  const cli = spawnSync(process.execPath, [BIN, 'run', 'p.yaml', '--no-progress'], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
  assert.equal(cli.status, 1, cli.stderr)
  assert.match(cli.stderr, /data\.csv/)
  assert.match(cli.stderr, /SLC_SOURCE_IO/)
  assert.doesNotMatch(cli.stderr, /^ {4}at /m, 'no stack trace')
})

test('a glob where one match is a directory: the other files are still processed', async () => {
  const dir = caseDir('glob-odd')
  mkdirSync(join(dir, 'in'))
  writeFileSync(join(dir, 'in', 'a.csv'), 'id\n1\n2\n')
  mkdirSync(join(dir, 'in', 'b.csv'))
  writeFileSync(join(dir, 'in', 'b.csv', 'inner.csv'), 'id\n99\n')
  writeFileSync(join(dir, 'in', 'c.csv'), 'id\n3\n4\n5\n')
  const r = await runYaml(pipeline('in/*.csv', 'csv'), { baseDir: dir })
  assert.equal(r.status, 'completed')
  assert.deepEqual(r.out('out').map((x) => x.id), [1, 2, 3, 4, 5])
  assert.equal(r.stats.get('in').sent, 5)
  // A directory is not a file: the glob skips it (no dead letter needed, nothing was lost).
  const dl = deadLetters(dir)
  assert.ok(dl.every((d) => d.code === 'SLC_SOURCE_IO'), JSON.stringify(dl))
})

test('a glob where one match cannot be read (no permission): the others are processed, the bad one dead-lettered', { skip: process.getuid?.() === 0 ? 'running as root: permissions are not enforced' : false }, async () => {
  const dir = caseDir('glob-unreadable')
  mkdirSync(join(dir, 'in'))
  writeFileSync(join(dir, 'in', 'a.csv'), 'id\n1\n2\n')
  writeFileSync(join(dir, 'in', 'b.csv'), 'id\n99\n', { mode: 0o000 })
  writeFileSync(join(dir, 'in', 'c.csv'), 'id\n3\n')
  const r = await runYaml(pipeline('in/*.csv', 'csv'), { baseDir: dir })
  assert.equal(r.status, 'completed')
  assert.deepEqual(r.out('out').map((x) => x.id), [1, 2, 3])
  const dl = deadLetters(dir)
  assert.equal(dl.length, 1, JSON.stringify(dl))
  assert.equal(dl[0]!.code, 'SLC_SOURCE_IO')
  assert.ok(dl[0]!.origin.file?.endsWith('b.csv'))
})

test('a glob matching a FIFO and a dangling symlink: the regular files are processed, the odd ones skipped or dead-lettered, nothing hangs', async () => {
  const dir = caseDir('glob-special')
  mkdirSync(join(dir, 'in'))
  writeFileSync(join(dir, 'in', 'a.csv'), 'id\n1\n2\n')
  const fifo = spawnSync('mkfifo', [join(dir, 'in', 'b.csv')])
  assert.equal(fifo.status, 0, 'mkfifo')
  symlinkSync(join(dir, 'nowhere.csv'), join(dir, 'in', 'c.csv'))
  writeFileSync(join(dir, 'in', 'd.csv'), 'id\n3\n')
  const r = await runYaml(pipeline('in/*.csv', 'csv'), { baseDir: dir })
  assert.equal(r.status, 'completed')
  assert.deepEqual(r.out('out').map((x) => x.id), [1, 2, 3])
  assert.equal(r.stats.get('in').sent, 3)
  const dl = deadLetters(dir)
  // Today the glob lists only regular files (both are skipped); if one is ever read, it must be
  // reported as SLC_SOURCE_IO with its name, never crash or block on the FIFO.
  for (const d of dl) {
    assert.equal(d.code, 'SLC_SOURCE_IO')
    assert.match(d.origin.file ?? '', /[bc]\.csv$/)
  }
  assert.equal(r.stats.get('in').deadLettered, dl.length)
})
