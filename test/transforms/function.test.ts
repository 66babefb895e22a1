// Tests of the `function` transform: loading JS/TS modules, record and batch modes, errors.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { BatchTransform, BuildContext } from '../../src/component/define.js'
import type { Rec } from '../../src/core/batch.js'
import { RecordError, isSluiceError } from '../../src/core/errors.js'
import { silentLogger } from '../../src/observe/log.js'
import { functionTransform } from '../../src/transforms/function.js'

const fixtures = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures')
const ctx = (id = 'custom'): BuildContext => ({ id, baseDir: fixtures, dataDir: '/tmp/sluice-test', log: silentLogger() })

/** The transform, with `process(records)` rethrowing what the function rejects (one record or all). */
async function build(options: Record<string, unknown>): Promise<{ process(records: Rec[]): Rec[] | Promise<Rec[]>; inner: BatchTransform }> {
  const t = await functionTransform.build(functionTransform.options.parse(options), ctx())
  assert.equal(t.kind, 'batch')
  const inner = t as BatchTransform
  const rethrow = (_i: number, e: unknown) => {
    throw e
  }
  return { inner, process: (records) => inner.process(records, rethrow) }
}

async function rejection(p: () => unknown): Promise<Error> {
  try {
    await p()
  } catch (e) {
    return e as Error
  }
  assert.fail('expected a failure')
}

describe('function: record mode', () => {
  it('loads a TypeScript default export relative to baseDir', async () => {
    const t = await build({ module: 'functions/enrich.ts' })
    const out = await t.process([
      { amount: 10, currency: 'USD' },
      { amount: 3, currency: 'XXX' }, // null: dropped
      { amount: 4, currency: 'EUR' },
    ])
    assert.deepEqual(out, [
      { amount: 10, currency: 'USD', amount_eur: 5 },
      { amount: 4, currency: 'EUR', amount_eur: 4 },
    ])
  })

  it('stays synchronous for a sync function', async () => {
    const t = await build({ module: 'functions/enrich.ts' })
    const out = t.process([{ amount: 1, currency: 'EUR' }])
    assert.ok(Array.isArray(out))
  })

  it('emits several records from an array (named export of a .mjs)', async () => {
    const t = await build({ module: './functions/explode.mjs', export: 'explode' })
    const out = await t.process([
      { id: 1, items: ['a', 'b'] },
      { id: 2, items: [] },
      { id: 3, items: ['c'] },
    ])
    assert.deepEqual(out, [
      { order: 1, item: 'a' },
      { order: 1, item: 'b' },
      { order: 3, item: 'c' },
    ])
    const split = await build({ module: 'functions/enrich.ts', export: 'split' })
    assert.deepEqual(await split.process([{ amount: 1, currency: 'EUR' }]), [
      { amount: 1, currency: 'EUR' },
      { amount: 1, currency: 'EUR', copy: true },
    ])
  })

  it('awaits an async function, keeping the order', async () => {
    const t = await build({ module: 'functions/explode.mjs', export: 'slowUpper' })
    const result = t.process([{ name: 'a' }, { name: 'b' }, { name: 'c' }])
    assert.ok(result instanceof Promise)
    assert.deepEqual(await result, [{ name: 'A' }, { name: 'B' }, { name: 'C' }])
  })

  it('handles a function that is async for some records only', async () => {
    const fn = (r: Rec) => (r.slow ? Promise.resolve({ ...r, done: true }) : r.drop ? null : r)
    const t = await build({ fn })
    assert.deepEqual(await t.process([{ a: 1 }, { slow: true }, { drop: true }, { b: 2 }, { slow: 2 }]), [
      { a: 1 },
      { slow: true, done: true },
      { b: 2 },
      { slow: 2, done: true },
    ])
  })

  it('accepts a function value from the TypeScript API', async () => {
    const t = await build({
      fn: (r: Rec) => {
        r.seen = true
        return r
      },
    })
    assert.deepEqual(t.process([{ a: 1 }]), [{ a: 1, seen: true }])
  })

  it('wraps a throw in RecordError SLC_RECORD_TRANSFORM with the message', async () => {
    const t = await build({ module: 'functions/enrich.ts' })
    const e = await rejection(() => t.process([{ amount: 1, currency: 'EUR' }, { amount: 1, currency: 'BAD' }]))
    assert.ok(e instanceof RecordError)
    assert.equal(e.code, 'SLC_RECORD_TRANSFORM')
    assert.equal(e.message, 'function "custom" threw: no rate for BAD')
    assert.ok(e.cause instanceof Error)
  })

  it('keeps a RecordError the function throws, from another copy of Sluice too (its code and message)', async () => {
    // The fixture imports RecordError from `sluice` (dist/index.js), this test runs src/.
    const t = await build({ module: 'functions/parse-payload.mjs' })
    const e = await rejection(() => t.process([{ id: 1, payload: '{"a":1}' }, { id: 2, payload: '{' }]))
    assert.ok(!(e instanceof RecordError), 'the fixture\'s class is another copy')
    assert.ok(isSluiceError(e))
    assert.equal(e.code, 'SLC_RECORD_PARSE')
    assert.equal(e.message, 'payload of order 2 is not JSON')
  })

  it('wraps a rejected promise too', async () => {
    const t = await build({ fn: async (r: Rec) => (r.bad ? Promise.reject(new Error('nope')) : r) })
    const e = await rejection(() => t.process([{ a: 1 }, { bad: true }]))
    assert.ok(e instanceof RecordError)
    assert.equal(e.message, 'function "custom" threw: nope')
    const t2 = await build({ fn: (r: Rec) => (r.bad ? Promise.reject(new Error('first')) : Promise.resolve(r)) })
    assert.match((await rejection(() => t2.process([{ bad: true }]))).message, /threw: first/)
  })

  it('refuses a return value that is not a record', async () => {
    const t = await build({ module: 'functions/explode.mjs', export: 'badReturn' })
    const e = await rejection(() => t.process([{ a: 1 }]))
    assert.ok(e instanceof RecordError)
    assert.match(e.message, /the return value is a string; expected a record object/)
    const t2 = await build({ fn: () => [1] })
    assert.match((await rejection(() => t2.process([{}]))).message, /an element of the returned array is a number/)
  })
})

describe('function: record mode, per-record failures', () => {
  it('rejects only the records that threw; the others are emitted in order', async () => {
    const t = await build({ fn: async (r: Rec) => (r.bad ? Promise.reject(new Error(`bad ${r.id}`)) : (r.sync_bad ? null : r)) })
    const rejected: [number, string][] = []
    const out = await t.inner.process([{ id: 1 }, { id: 2, bad: true }, { id: 3 }, { id: 4, bad: true }], (i, e) => rejected.push([i, (e as Error).message]))
    assert.deepEqual(out, [{ id: 1 }, { id: 3 }])
    assert.deepEqual(rejected, [[1, 'function "custom" threw: bad 2'], [3, 'function "custom" threw: bad 4']])
    const sync = await build({ fn: (r: Rec) => { if (r.bad) throw new Error('sync'); return r } })
    const got: number[] = []
    assert.deepEqual(sync.inner.process([{ bad: true }, { a: 1 }], (i) => got.push(i)), [{ a: 1 }])
    assert.deepEqual(got, [0])
  })
})

describe('function: batch mode', () => {
  it('awaits an async batch function', async () => {
    const t = await build({ module: 'functions/lookup-batch.mjs', mode: 'batch' })
    const out = await t.process([{ customer_id: 1 }, { customer_id: 3 }, { customer_id: 2 }])
    assert.deepEqual(out, [
      { customer_id: 1, customer: 'Ada' },
      { customer_id: 2, customer: 'Grace' },
    ])
  })

  it('fails the whole batch with a RecordError when it throws or rejects', async () => {
    const t = await build({ module: 'functions/lookup-batch.mjs', mode: 'batch' })
    const e = await rejection(() => t.process([{ customer_id: 1 }, { customer_id: 'boom' }]))
    assert.ok(e instanceof RecordError)
    assert.equal(e.message, 'function "custom" threw: lookup service down')
    const sync = await build({ mode: 'batch', fn: () => { throw new TypeError('bad') } })
    assert.match((await rejection(() => sync.process([{}]))).message, /threw: bad/)
  })

  it('requires an array of records', async () => {
    const t = await build({ mode: 'batch', fn: () => ({ not: 'an array' }) })
    assert.match((await rejection(() => t.process([{}]))).message, /batch mode must return an array of records, got an object/)
    const t2 = await build({ mode: 'batch', fn: async (rs: Rec[]) => [...rs, 'x'] })
    assert.match((await rejection(() => t2.process([{}]))).message, /element 1 of the returned array is a string/)
  })
})

describe('function: loading', () => {
  async function loadError(options: Record<string, unknown>): Promise<string> {
    const e = await rejection(() => build(options))
    assert.ok(isSluiceError(e), String(e))
    assert.equal(e.code, 'SLC_FUNCTION_LOAD')
    return e.message
  }

  it('reports a missing module', async () => {
    assert.match(await loadError({ module: 'functions/nope.ts' }), /^function "custom": module not found: .*functions\/nope\.ts$/)
    assert.match(await loadError({ module: 'functions' }), /is not a file/)
  })

  it('reports a module that does not load', async () => {
    assert.match(await loadError({ module: 'functions/broken.mjs' }), /cannot load module .*broken\.mjs/)
  })

  it('reports a missing export, listing the ones there are', async () => {
    assert.match(await loadError({ module: 'functions/enrich.ts', export: 'enrichh' }), /has no export "enrichh" \(it exports: .*default.*split/)
  })

  it('reports an export that is not a function', async () => {
    assert.match(await loadError({ module: 'functions/enrich.ts', export: 'notAFunction' }), /export "notAFunction" of .* is a number, not a function/)
  })

  it('needs exactly one of module and fn', () => {
    assert.match(functionTransform.options.safeParse({}).error!.issues[0]!.message, /needs `module`/)
    assert.match(functionTransform.options.safeParse({ module: 'a.ts', fn: () => 1 }).error!.issues[0]!.message, /not both/)
    assert.match(functionTransform.options.safeParse({ fn: 'x' }).error!.issues[0]!.message, /expected a function/)
    assert.equal(functionTransform.options.safeParse({ module: 'a.ts', mode: 'stream' }).success, false)
  })
})
