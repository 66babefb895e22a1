// Tests of the stdout sink (JSON lines and table formats, backpressure, closed pipes) on an injected stream.
import assert from 'node:assert/strict'
import { PassThrough, Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { parse as parseYaml } from 'yaml'
import type { BuildContext } from '../../src/component/define.js'
import { PermanentError, RetryableError } from '../../src/core/errors.js'
import { silentLogger } from '../../src/observe/log.js'
import { stdout } from '../../src/sinks/stdout/index.js'
import { StdoutSink } from '../../src/sinks/stdout/sink.js'

const signal = new AbortController().signal

function ctx(): BuildContext {
  return { id: 'print', baseDir: process.cwd(), dataDir: process.cwd(), log: silentLogger() }
}

/** A stream that keeps what it is given. */
function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough()
  const chunks: Buffer[] = []
  stream.on('data', (c: Buffer) => chunks.push(c))
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') }
}

describe('stdout sink', () => {
  it('builds from its declaration with documented defaults', async () => {
    const opts = stdout.options.parse({})
    assert.equal(opts.format, 'jsonl')
    assert.deepEqual(opts.batch, { max_records: 1000, max_bytes: 1024 * 1024, linger: 100 })
    const sink = stdout.build(opts, ctx())
    await sink.write([], signal) // nothing printed for an empty batch
    await sink.close()
  })

  it('jsonl: one JSON object per line', async () => {
    const out = capture()
    const sink = new StdoutSink(stdout.options.parse({}), ctx(), out.stream)
    await sink.open()
    await sink.write([{ a: 1, b: 'x' }, { a: 2, c: [1, { d: null }] }], signal)
    await sink.write([{ a: 3 }], signal)
    await sink.close()
    await sink.close()
    assert.equal(out.text(), '{"a":1,"b":"x"}\n{"a":2,"c":[1,{"d":null}]}\n{"a":3}\n')
    assert.equal(out.stream.writableEnded, false) // never ends a stream it does not own
  })

  it('table: aligned columns per batch, numbers right-aligned, long values cut at 40 characters', async () => {
    const out = capture()
    const sink = new StdoutSink(stdout.options.parse({ format: 'table' }), ctx(), out.stream)
    const long = 'x'.repeat(60)
    await sink.write(
      [
        { country: 'FR', revenue: 12.5, note: 'ok' },
        { country: 'DE', revenue: 1200, note: long, extra: { k: true } },
        { country: 'BR', revenue: null, note: 'multi\nline' },
      ],
      signal,
    )
    await sink.write([{ id: 1 }], signal)
    await sink.close()
    const cut = `${'x'.repeat(39)}…`
    const expected =
      [
        `country  revenue  note${' '.repeat(cut.length - 4)}  extra`,
        `-------  -------  ${'-'.repeat(40)}  ----------`,
        `FR          12.5  ok`,
        `DE          1200  ${cut}  {"k":true}`,
        `BR                multi\\nline`,
        '',
        'id',
        '--',
        ' 1',
        '',
      ].join('\n') + '\n'
    assert.equal(out.text(), expected)
    for (const line of out.text().split('\n')) assert.ok([...line].length <= 7 + 2 + 7 + 2 + 40 + 2 + 10, line)
  })

  it('waits for drain when the stream is full (backpressure)', async () => {
    const stream = new PassThrough({ highWaterMark: 16 })
    const sink = new StdoutSink(stdout.options.parse({}), ctx(), stream)
    let done = false
    const writing = sink.write([{ payload: 'y'.repeat(100) }], signal).then(() => {
      done = true
    })
    await new Promise((r) => setTimeout(r, 20))
    assert.equal(done, false, 'the write must wait while nobody reads')
    const read: Buffer[] = []
    stream.on('data', (c: Buffer) => read.push(c))
    await writing
    assert.equal(done, true)
    assert.equal(Buffer.concat(read).toString(), `{"payload":"${'y'.repeat(100)}"}\n`)
    await sink.close()
  })

  it('a shutdown abort stops waiting with a RetryableError', async () => {
    const stream = new PassThrough({ highWaterMark: 16 })
    const sink = new StdoutSink(stdout.options.parse({}), ctx(), stream)
    const ac = new AbortController()
    const writing = sink.write([{ payload: 'z'.repeat(100) }], ac.signal)
    ac.abort()
    await assert.rejects(writing, RetryableError)
    await sink.close()
  })

  it('a closed pipe (EPIPE) is a PermanentError, not a crash', async () => {
    const broken = new Writable({
      write(_chunk, _enc, cb) {
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))
      },
    })
    const sink = new StdoutSink(stdout.options.parse({}), ctx(), broken)
    await sink.open()
    await assert.rejects(sink.write([{ a: 1 }], signal), (e: unknown) => e instanceof PermanentError && /reading end was closed \(EPIPE\)/.test(e.message))
    await assert.rejects(sink.write([{ a: 2 }], signal), PermanentError)
    await sink.close()
  })

  it('every example block validates against the options', () => {
    for (const ex of stdout.examples ?? []) {
      const { type, inputs, ...opts } = parseYaml(ex.yaml) as Record<string, unknown>
      assert.equal(type, 'stdout')
      assert.ok(Array.isArray(inputs), ex.title)
      const result = stdout.options.safeParse(opts)
      assert.ok(result.success, `${ex.title}: ${result.error?.message}`)
    }
  })
})
