// Tests of the `route` transform: outputs, modes, `_unmatched`, errors.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parse as parseYaml } from 'yaml'
import type { BuildContext, RouterTransform } from '../../src/component/define.js'
import { RecordError } from '../../src/core/errors.js'
import { silentLogger } from '../../src/observe/log.js'
import { route } from '../../src/transforms/route.js'

const ctx = (id = 'by_size'): BuildContext => ({ id, baseDir: process.cwd(), dataDir: '/tmp/sluice-test', log: silentLogger() })

async function build(options: Record<string, unknown>): Promise<RouterTransform> {
  const t = await route.build(route.options.parse(options), ctx())
  assert.equal(t.kind, 'router')
  return t as RouterTransform
}

function targets(t: RouterTransform, record: Record<string, unknown>): string[] {
  const into: number[] = []
  t.route(record, into)
  return into.map((i) => t.outputs[i]!)
}

const routes = { big: 'amount >= 1000', eu: 'country in ["DE", "FR"]' }

describe('route', () => {
  it('declares its outputs from the options, `_unmatched` last', async () => {
    const opts = route.options.parse({ routes })
    assert.deepEqual(route.outputs!(opts), ['big', 'eu', '_unmatched'])
    const t = await build({ routes })
    assert.deepEqual(t.outputs, ['big', 'eu', '_unmatched'])
  })

  it('mode all (default): every matching route', async () => {
    const t = await build({ routes })
    assert.deepEqual(targets(t, { amount: 5000, country: 'DE' }), ['big', 'eu'])
    assert.deepEqual(targets(t, { amount: 5000, country: 'US' }), ['big'])
    assert.deepEqual(targets(t, { amount: 5, country: 'FR' }), ['eu'])
    assert.deepEqual(targets(t, { amount: 5, country: 'US' }), ['_unmatched'])
  })

  it('mode first: only the first matching route, in written order', async () => {
    const t = await build({ routes, mode: 'first' })
    assert.deepEqual(targets(t, { amount: 5000, country: 'DE' }), ['big'])
    assert.deepEqual(targets(t, { amount: 5, country: 'DE' }), ['eu'])
    assert.deepEqual(targets(t, { amount: 5, country: 'US' }), ['_unmatched'])
  })

  it('appends to `into` without touching what is already there', async () => {
    const t = await build({ routes })
    const into = [99]
    t.route({ amount: 5000, country: 'DE' }, into)
    assert.deepEqual(into, [99, 0, 1])
  })

  it('throws RecordError when a condition fails, leaving `into` as it was', async () => {
    const t = await build({ routes: { big: 'amount >= 1000', vip: 'tier == "gold"' } })
    const into: number[] = []
    assert.throws(
      () => t.route({ amount: 5000 }, into),
      (e: unknown) => e instanceof RecordError && e.code === 'SLC_RECORD_TRANSFORM' && e.message === 'route "by_size": routes.vip failed: Unknown variable: tier',
    )
    assert.deepEqual(into, [])
    const first = await build({ routes: { big: 'amount >= 1000', vip: 'tier == "gold"' }, mode: 'first' })
    assert.deepEqual(targets(first, { amount: 5000 }), ['big']) // never evaluates `vip`
    assert.throws(() => targets(first, { amount: 5 }), /routes.vip failed: Unknown variable: tier/)
  })

  it('validates route names and conditions', () => {
    const bad = (routes: Record<string, string>) => route.options.safeParse({ routes })
    assert.match(bad({ _unmatched: 'true' }).error!.issues[0]!.message, /reserved/)
    assert.match(bad({ 'my-route': 'true' }).error!.issues[0]!.message, /letters, digits and `_`/)
    assert.match(bad({ '1st': 'true' }).error!.issues[0]!.message, /not starting with a digit/)
    assert.match(bad({}).error!.issues[0]!.message, /at least one route/)
    const r = bad({ big: 'amount >' })
    assert.deepEqual(r.error!.issues[0]!.path, ['routes', 'big'])
    assert.equal(bad({ big: 'amount * 2' }).success, true) // dyn: checked per record
    assert.equal(bad({ big: '"x"' }).success, false) // a string is never a condition
    assert.equal(route.options.safeParse({ routes, mode: 'any' }).success, false)
  })

  it('has valid examples', () => {
    for (const ex of route.examples ?? []) {
      const { type, inputs, ...opts } = parseYaml(ex.yaml) as Record<string, unknown>
      assert.equal(type, 'route')
      assert.ok(Array.isArray(inputs))
      route.options.parse(opts)
    }
  })
})
