// Tests of the file sink (JSON lines, CSV, gzip, rotation, failures), built through its declaration.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import { after, before, describe, it } from 'node:test'
import { parse as parseYaml } from 'yaml'
import type { BuildContext, Sink } from '../../src/component/define.js'
import type { Rec } from '../../src/core/batch.js'
import { PartialBatchError, PermanentError, RetryableError, isSluiceError } from '../../src/core/errors.js'
import { classifyFsError } from '../../src/delivery/classify-fs-error.js'
import { silentLogger } from '../../src/observe/log.js'
import { file } from '../../src/sinks/file/index.js'

let dir: string
const signal = new AbortController().signal
let counter = 0

function ctx(): BuildContext {
  return { id: 'out', baseDir: dir, dataDir: path.join(dir, 'data'), log: silentLogger() }
}

function build(options: Record<string, unknown>): Sink {
  return file.build(file.options.parse(options), ctx())
}

/** A fresh relative path in a new subfolder (created by the sink). */
function fresh(name: string): { rel: string; abs: string } {
  const rel = path.join(`case-${++counter}`, 'sub', name)
  return { rel, abs: path.join(dir, rel) }
}

const readLines = (abs: string): Rec[] => fs.readFileSync(abs, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec)
/** Decode gzip that may lack its trailer (a file still being written). */
const gunzipPartial = (abs: string): string => zlib.gunzipSync(fs.readFileSync(abs), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('utf8')
const parseJsonl = (text: string): Rec[] => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec)

function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code })
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-file-'))
})
after(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('file sink', () => {
  it('writes JSON lines, creating parent folders, appending across runs', async () => {
    const { rel, abs } = fresh('out.jsonl')
    const sink = build({ path: rel })
    await sink.open?.()
    await sink.write([{ a: 1, s: 'x' }, { a: 2, nested: { b: [1, 2] } }], signal)
    await sink.write([], signal)
    assert.deepEqual(readLines(abs), [{ a: 1, s: 'x' }, { a: 2, nested: { b: [1, 2] } }])
    await sink.close()
    await sink.close()
    const again = build({ path: rel })
    await again.write([{ a: 3 }], signal) // opens lazily
    await again.close()
    assert.deepEqual(readLines(abs).map((r) => r.a), [1, 2, 3])
  })

  it('reuses its write buffer across batches of any size and multi-byte text', async () => {
    const { rel, abs } = fresh('out.jsonl')
    const sink = build({ path: rel })
    const big = Array.from({ length: 3000 }, (_, i) => ({ i, s: 'é漢😀'.repeat(20), big: 1n }))
    await sink.write([{ first: 'ü' }], signal)
    await sink.write(big, signal) // grows the buffer past its first size
    await sink.write([{ last: '✓' }], signal) // a short batch after a long one writes only its own bytes
    await sink.close()
    const lines = readLines(abs)
    assert.equal(lines.length, 3002)
    assert.deepEqual(lines[0], { first: 'ü' })
    assert.deepEqual(lines[2999], { i: 2998, s: 'é漢😀'.repeat(20), big: 1 })
    assert.deepEqual(lines[3001], { last: '✓' })
  })

  it('append: false truncates the file', async () => {
    const { rel, abs } = fresh('out.jsonl')
    fs.mkdirSync(path.dirname(abs), { recursive: true })
    fs.writeFileSync(abs, '{"old":true}\n')
    const sink = build({ path: rel, append: false })
    await sink.write([{ fresh: true }], signal)
    await sink.close()
    assert.deepEqual(readLines(abs), [{ fresh: true }])
  })

  it('writes CSV with RFC 4180 quoting, one header per file, none when appending', async () => {
    const { rel, abs } = fresh('out.csv')
    const sink = build({ path: rel, format: 'csv' })
    await sink.write([{ id: 1, text: 'plain', n: null }, { id: 2, text: 'a,b "q"\nline', n: 3 }], signal)
    await sink.write([{ id: 3, text: '', n: 4 }], signal)
    await sink.close()
    const again = build({ path: rel, format: 'csv' })
    await again.write([{ id: 4, text: 'more', n: 5 }], signal)
    await again.close()
    assert.equal(fs.readFileSync(abs, 'utf8'), 'id,text,n\n1,plain,\n2,"a,b ""q""\nline",3\n3,"",4\n4,more,5\n')
  })

  it('CSV honours delimiter, columns and header: false', async () => {
    const { rel, abs } = fresh('out.tsv')
    const sink = build({ path: rel, format: 'csv', csv: { delimiter: '\t', columns: ['b', 'a'], header: false } })
    await sink.write([{ a: 1, b: 'x\ty', c: 'dropped' }], signal)
    await sink.close()
    assert.equal(fs.readFileSync(abs, 'utf8'), '"x\ty"\t1\n')
    assert.equal(file.options.safeParse({ path: 'x', csv: { delimiter: '"' } }).success, false)
  })

  it('gzip (from the .gz suffix) is decodable after every write, before close, and complete after close', async () => {
    const { rel, abs } = fresh('out.jsonl.gz')
    const sink = build({ path: rel })
    await sink.write([{ i: 1 }], signal)
    assert.deepEqual(parseJsonl(gunzipPartial(abs)), [{ i: 1 }])
    // A large, poorly compressible batch: many zlib output chunks must all be in the written bytes.
    const big = Array.from({ length: 20_000 }, (_, i) => ({ i: i + 2, r: Math.random().toString(36).repeat(3) }))
    await sink.write(big, signal)
    const mid = parseJsonl(gunzipPartial(abs))
    assert.equal(mid.length, 20_001)
    assert.deepEqual(mid.at(-1), big.at(-1))
    assert.throws(() => zlib.gunzipSync(fs.readFileSync(abs))) // no trailer yet
    await sink.close()
    assert.equal(parseJsonl(zlib.gunzipSync(fs.readFileSync(abs)).toString()).length, 20_001)
  })

  it('appending to a closed gzip file adds a member; an unterminated one (crash) is left for the next name', async () => {
    const { rel, abs } = fresh('log.jsonl.gz')
    const first = build({ path: rel })
    await first.write([{ n: 1 }], signal)
    await first.close()
    const second = build({ path: rel })
    await second.write([{ n: 2 }], signal)
    await second.close()
    assert.deepEqual(parseJsonl(zlib.gunzipSync(fs.readFileSync(abs)).toString()), [{ n: 1 }, { n: 2 }])

    // Simulate a crash: bytes up to a sync flush, no trailer.
    const { rel: rel2, abs: abs2 } = fresh('crash.jsonl.gz')
    fs.mkdirSync(path.dirname(abs2), { recursive: true })
    const gz = zlib.createGzip()
    const parts: Buffer[] = []
    gz.on('data', (c: Buffer) => parts.push(c))
    gz.write('{"n":1}\n')
    await new Promise<void>((resolve) => gz.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()))
    fs.writeFileSync(abs2, Buffer.concat(parts))
    gz.destroy()
    const third = build({ path: rel2 })
    await third.write([{ n: 2 }], signal)
    await third.close()
    assert.deepEqual(parseJsonl(gunzipPartial(abs2)), [{ n: 1 }])
    const next = abs2.replace(/\.jsonl\.gz$/, '.1.jsonl.gz')
    assert.deepEqual(parseJsonl(zlib.gunzipSync(fs.readFileSync(next)).toString()), [{ n: 2 }])
  })

  it('rotates by size: path, then <stem>.1<ext>, <stem>.2<ext>…, all records in order', async () => {
    const { rel, abs } = fresh('events.jsonl')
    const sink = build({ path: rel, rotate_max_bytes: 100 })
    const all: Rec[] = []
    for (let b = 0; b < 10; b++) {
      const batch = [{ batch: b, i: 0, pad: 'xxxxxxxxxx' }, { batch: b, i: 1, pad: 'yyyyyyyyyy' }]
      all.push(...batch)
      await sink.write(batch, signal)
    }
    await sink.close()
    const names = fs.readdirSync(path.dirname(abs)).sort((a, b) => a.length - b.length || a.localeCompare(b))
    const expected = ['events.jsonl', ...Array.from({ length: names.length - 1 }, (_, i) => `events.${i + 1}.jsonl`)]
    assert.deepEqual(names, expected)
    assert.ok(names.length >= 4, `expected several files, got ${names.join(', ')}`)
    const back = names.flatMap((n) => readLines(path.join(path.dirname(abs), n)))
    assert.deepEqual(back, all)
    // Each file passed the limit by at most one batch.
    for (const n of names.slice(0, -1)) assert.ok(fs.statSync(path.join(path.dirname(abs), n)).size >= 100)

    // A restart continues the last numbered file; append: false starts over and removes the rest.
    const resumed = build({ path: rel, rotate_max_bytes: 1_000_000 })
    await resumed.write([{ resumed: true }], signal)
    await resumed.close()
    assert.deepEqual(readLines(path.join(path.dirname(abs), names.at(-1)!)).at(-1), { resumed: true })
    const restart = build({ path: rel, rotate_max_bytes: 1_000_000, append: false })
    await restart.write([{ only: true }], signal)
    await restart.close()
    assert.deepEqual(fs.readdirSync(path.dirname(abs)), ['events.jsonl'])
    assert.deepEqual(readLines(abs), [{ only: true }])
  })

  it('rotated gzip CSV files are each complete, with their own header', async () => {
    const { rel, abs } = fresh('rows.csv.gz')
    const sink = build({ path: rel, format: 'csv', rotate_max_bytes: 30 })
    for (let b = 0; b < 3; b++) await sink.write([{ k: b, v: `value-${b}` }], signal)
    await sink.close()
    const folder = path.dirname(abs)
    assert.deepEqual(fs.readdirSync(folder).sort(), ['rows.1.csv.gz', 'rows.2.csv.gz', 'rows.csv.gz'])
    const texts = ['rows.csv.gz', 'rows.1.csv.gz', 'rows.2.csv.gz'].map((n) => zlib.gunzipSync(fs.readFileSync(path.join(folder, n))).toString())
    assert.deepEqual(texts, ['k,v\n0,value-0\n', 'k,v\n1,value-1\n', 'k,v\n2,value-2\n'])
  })

  it('a write that fails midway is finished, not repeated, when the same batch is retried', async () => {
    const { rel, abs } = fresh('retry.jsonl.gz')
    const sink = build({ path: rel })
    await sink.write([{ n: 0 }], signal)
    const current = (sink as unknown as { current: { fh: { write: (...a: unknown[]) => Promise<{ bytesWritten: number }> } } }).current
    const realWrite = current.fh.write.bind(current.fh)
    let calls = 0
    current.fh.write = async (buf: unknown, offset: unknown, length: unknown) => {
      calls++
      if (calls === 1) return realWrite(buf, offset, Math.max(1, Math.floor((length as number) / 2))) // short write
      if (calls === 2) throw errnoError('ENOSPC')
      return realWrite(buf, offset, length)
    }
    const batch = Array.from({ length: 200 }, (_, i) => ({ n: i + 1, s: `record-${i}` }))
    await assert.rejects(async () => sink.write(batch, signal), (e: unknown) => e instanceof RetryableError && /no space left/.test(e.message))
    await sink.write(batch, signal) // the runner's retry: same array
    await sink.close()
    const back = parseJsonl(zlib.gunzipSync(fs.readFileSync(abs)).toString())
    assert.deepEqual(back.map((r) => r.n), Array.from({ length: 201 }, (_, i) => i))
  })

  it('a record JSON cannot encode is rejected alone', async () => {
    const { rel, abs } = fresh('cycle.jsonl')
    const sink = build({ path: rel })
    const cyclic: Rec = { id: 2 }
    cyclic.self = cyclic
    await assert.rejects(async () => sink.write([{ id: 1 }, cyclic, { id: 3 }], signal), (e: unknown) => e instanceof PartialBatchError && [...e.failed.keys()].join() === '1')
    await sink.close()
    assert.deepEqual(readLines(abs), [{ id: 1 }, { id: 3 }])
  })

  it('an unwritable path is a PermanentError with an SLC_SINK_IO cause', async () => {
    const blocker = path.join(dir, `blocker-${++counter}`)
    fs.writeFileSync(blocker, 'a file, not a folder')
    const underFile = build({ path: path.join(blocker, 'out.jsonl') })
    await assert.rejects(async () => underFile.open?.(), (e: unknown) => {
      assert.ok(e instanceof PermanentError, String(e))
      assert.match(e.message, /Cannot create the folder of .*out\.jsonl/)
      assert.ok(isSluiceError(e.cause) && e.cause.code === 'SLC_SINK_IO')
      return true
    })
    const folder = path.join(dir, `folder-${++counter}`)
    fs.mkdirSync(folder)
    const isDir = build({ path: folder })
    await assert.rejects(async () => isDir.write([{ a: 1 }], signal), (e: unknown) => e instanceof PermanentError && /directory \(EISDIR\)/.test(e.message))
  })

  it('classifies fs errors: transient ones retryable, the rest permanent', () => {
    for (const code of ['ENOSPC', 'EIO', 'EMFILE', 'EAGAIN', 'EWHATEVER']) assert.ok(classifyFsError(errnoError(code), 'write to', '/x') instanceof RetryableError, code)
    for (const code of ['EACCES', 'EPERM', 'EISDIR', 'ENOENT', 'ENOTDIR', 'EROFS', 'EPIPE']) assert.ok(classifyFsError(errnoError(code), 'write to', '/x') instanceof PermanentError, code)
    const e = classifyFsError(errnoError('EACCES'), 'open', '/data/out.jsonl')
    assert.equal(e.message, 'Cannot open /data/out.jsonl: permission denied (EACCES).')
    assert.ok(e instanceof PermanentError && classifyFsError(Object.assign(new Error('x'), { code: 'ERR_STREAM_DESTROYED' }), 'write to', 'x') instanceof PermanentError)
  })

  it('every example block validates against the options', () => {
    for (const ex of file.examples ?? []) {
      const { type, inputs, ...opts } = parseYaml(ex.yaml) as Record<string, unknown>
      assert.equal(type, 'file')
      assert.ok(Array.isArray(inputs), ex.title)
      const result = file.options.safeParse(opts)
      assert.ok(result.success, `${ex.title}: ${result.error?.message}`)
    }
  })
})
