// Conformance suite for sinks: the part of the sink contract (src/component/define.ts, `Sink`) that a
// sink must honour on its own, without a server or a running pipeline. Sluice runs it over every
// built-in sink (test/conformance/registry.test.ts); a third-party connector calls it from its tests.
//
//   sinkConformance({ decl: mySink, options: (dir) => ({ path: 'out.db', table: 't' }), readBack })
//
// It registers one node:test `describe` block; each test builds a fresh sink in a fresh temp folder.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { BuildContext, Sink, SinkDeclaration } from '../component/define.js'
import type { Rec } from '../core/batch.js'
import { optionRows } from '../config/render-docs.js'
import { silentLogger } from '../observe/log.js'

export interface SinkConformanceOptions<O = Record<string, unknown>> {
  /** The sink's declaration, as registered. */
  decl: SinkDeclaration
  /** Options (as a user writes them) for a sink writing into `dir`, a fresh empty folder per test. */
  options(dir: string): O
  /**
   * Builds the sink from its parsed options; default `decl.build`. Override to inject what a test
   * needs (an output stream); `dir` is the test's folder, as passed to `options` and `readBack`.
   */
  build?(parsed: unknown, ctx: BuildContext, dir: string): Sink
  /**
   * Everything the sink durably wrote in `dir`, in write order, called after `close()`. It may
   * normalise what the target cannot represent exactly (SQLite stores booleans as 0/1).
   */
  readBack(dir: string, options: O): Rec[] | Promise<Rec[]>
  /** Records in the large write; default 1000. */
  records?: number
  /** Name in the test titles; default `<type> sink`. */
  name?: string
}

/**
 * The records the suite writes: integers, floats, booleans and strings that need escaping in every
 * common encoding (delimiters, quotes, newlines, non-ASCII).
 */
export function conformanceRecords(count: number, from = 0): Rec[] {
  const out: Rec[] = []
  for (let i = from; i < from + count; i++) {
    out.push({ id: i, name: i % 10 === 0 ? `row "${i}", ünïcode;\nsecond line` : `row ${i}`, score: i / 4, even: i % 2 === 0 })
  }
  return out
}

/** Registers the conformance tests of one sink with node:test. */
export function sinkConformance<O = Record<string, unknown>>(o: SinkConformanceOptions<O>): void {
  const count = o.records ?? 1000
  const signal = new AbortController().signal
  const dirs: string[] = []

  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), `sluice-conformance-${o.decl.type}-`))
    dirs.push(dir)
    const options = o.options(dir)
    const parsed = o.decl.options.parse(options)
    const ctx: BuildContext = { id: `conformance_${o.decl.type}`, baseDir: dir, dataDir: join(dir, 'data'), log: silentLogger() }
    const sink = o.build ? o.build(parsed, ctx, dir) : o.decl.build(parsed, ctx)
    return { dir, options, parsed: parsed as Record<string, unknown>, sink }
  }

  describe(`${o.name ?? `${o.decl.type} sink`}: conformance`, () => {
    after(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true })
    })

    it('declares `batch` and `retry` option blocks with defaults', () => {
      const { parsed } = fresh()
      const batch = parsed.batch as Record<string, unknown> | undefined
      const retry = parsed.retry as Record<string, unknown> | undefined
      assert.ok(batch && retry, 'parsed options have no `batch` or no `retry` block')
      for (const key of ['max_records', 'max_bytes', 'linger']) assert.equal(typeof batch[key], 'number', `batch.${key} has no default`)
      for (const key of ['max_attempts', 'initial_backoff', 'max_backoff']) assert.equal(typeof retry[key], 'number', `retry.${key} has no default`)
      assert.ok((batch.max_records as number) > 0 && (batch.max_bytes as number) > 0)
      // The defaults are documented where users look: the options table of the reference page.
      const rows = new Map(optionRows(o.decl.options).map((r) => [r.name, r]))
      for (const name of ['batch', 'retry', 'batch.max_records', 'batch.max_bytes', 'batch.linger', 'retry.max_attempts', 'retry.initial_backoff', 'retry.max_backoff']) {
        const row = rows.get(name)
        assert.ok(row, `no option row ${name}`)
        assert.equal(row.required, false, `${name} must not be required`)
        if (name.includes('.')) assert.ok(row.default !== undefined, `${name} shows no default`)
      }
    })

    it('opens and closes idempotently: open twice, close twice, close without open', async () => {
      const a = fresh()
      await a.sink.open?.()
      await a.sink.open?.()
      await a.sink.close()
      await a.sink.close()
      const b = fresh()
      await b.sink.close()
      await b.sink.close()
    })

    it('accepts an empty write and writes nothing', async () => {
      const { dir, options, sink } = fresh()
      await sink.open?.()
      await sink.write([], signal)
      await sink.close()
      assert.deepEqual(await o.readBack(dir, options), [])
    })

    it(`writes ${count} records in one write, read back equal and in order`, async () => {
      const { dir, options, sink } = fresh()
      const records = conformanceRecords(count)
      await sink.open?.()
      await sink.write(records, signal)
      await sink.close()
      assert.deepEqual(await o.readBack(dir, options), conformanceRecords(count))
    })

    it('writes consecutive batches in order, empty ones between them included', async () => {
      const { dir, options, sink } = fresh()
      await sink.open?.()
      const sizes = [1, 0, 99, 400, 0, 500]
      let from = 0
      for (const size of sizes) {
        await sink.write(conformanceRecords(size, from), signal)
        from += size
      }
      await sink.close()
      assert.deepEqual(await o.readBack(dir, options), conformanceRecords(from))
    })

    it('does not change the records it is given', async () => {
      const { sink } = fresh()
      const records = conformanceRecords(20)
      await sink.open?.()
      await sink.write(records, signal)
      await sink.close()
      assert.deepEqual(records, conformanceRecords(20))
    })
  })
}
