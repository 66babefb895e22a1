// Tests of the `filter` transform, built through its declaration like the loader does.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { BuildContext, RecordTransform } from '../../src/component/define.js'
import { RecordError } from '../../src/core/errors.js'
import { silentLogger } from '../../src/observe/log.js'
import { filter } from '../../src/transforms/filter.js'

const ctx = (id = 'paid'): BuildContext => ({ id, baseDir: process.cwd(), dataDir: '/tmp/sluice-test', log: silentLogger() })

async function build(options: Record<string, unknown>): Promise<RecordTransform> {
  const t = await filter.build(filter.options.parse(options), ctx())
  assert.equal(t.kind, 'record')
  return t as RecordTransform
}

describe('filter', () => {
  it('keeps records whose condition is true and drops the rest', async () => {
    const t = await build({ condition: 'status == "paid" && amount > 0' })
    const a = { status: 'paid', amount: 10 }
    assert.equal(t.process(a), a)
    assert.equal(t.process({ status: 'open', amount: 10 }), undefined)
    assert.equal(t.process({ status: 'paid', amount: 0 }), undefined)
  })

  it('throws RecordError for a record missing a field (dead-lettered by the runtime)', async () => {
    const t = await build({ condition: 'status == "paid" && amount > 0' })
    assert.throws(
      () => t.process({ status: 'paid' }),
      (e: unknown) => e instanceof RecordError && e.code === 'SLC_RECORD_TRANSFORM' && e.message === 'filter "paid": condition failed: Unknown variable: amount',
    )
    // Short-circuit: the missing field is never read.
    assert.equal(t.process({ status: 'open' }), undefined)
  })

  it('dead-letters a record that makes the condition non-boolean', async () => {
    const t = await build({ condition: 'flag' })
    assert.throws(() => t.process({ flag: 'yes' }), /condition returned "yes" \(a string\), expected true or false/)
  })

  it('rejects a bad condition when the options are parsed', () => {
    const r = filter.options.safeParse({ condition: 'amount >' })
    assert.equal(r.success, false)
    assert.deepEqual(r.error!.issues[0]!.path, ['condition'])
    assert.match(r.error!.issues[0]!.message, /does not compile/)
    assert.equal(filter.options.safeParse({ condition: '1 + 1' }).success, false)
    assert.equal(filter.options.safeParse({}).success, false)
    assert.equal(filter.options.safeParse({ condition: 'a', extra: 1 }).success, false)
  })

  it('has optional-field helpers', async () => {
    const t = await build({ condition: 'has_field(coupon) && coupon.startsWith("VIP")' })
    assert.ok(t.process({ coupon: 'VIP-1' }))
    assert.equal(t.process({}), undefined)
  })

  it('documents every option and has valid examples', async () => {
    assert.ok(filter.summary && filter.description)
    for (const ex of filter.examples ?? []) {
      const { parse } = await import('yaml')
      const { type, inputs, ...opts } = parse(ex.yaml) as Record<string, unknown>
      assert.equal(type, 'filter')
      assert.ok(Array.isArray(inputs))
      filter.options.parse(opts)
    }
  })
})
