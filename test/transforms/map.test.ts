// Tests of the `map` transform: set, rename, cast, remove, keep, and their fixed order.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parse as parseYaml } from 'yaml'
import type { BuildContext, RecordTransform } from '../../src/component/define.js'
import { RecordError } from '../../src/core/errors.js'
import { silentLogger } from '../../src/observe/log.js'
import { map } from '../../src/transforms/map.js'

const ctx = (id = 'shape'): BuildContext => ({ id, baseDir: process.cwd(), dataDir: '/tmp/sluice-test', log: silentLogger() })

async function build(options: Record<string, unknown>): Promise<RecordTransform> {
  const t = await map.build(map.options.parse(options), ctx())
  assert.equal(t.kind, 'record')
  return t as RecordTransform
}

function castError(t: RecordTransform, record: Record<string, unknown>): string {
  try {
    t.process(record)
  } catch (e) {
    assert.ok(e instanceof RecordError)
    assert.equal(e.code, 'SLC_RECORD_TRANSFORM')
    return e.message
  }
  assert.fail('expected a cast error')
}

describe('map: set', () => {
  it('sets fields from expressions, in place', async () => {
    const t = await build({ set: { total: 'price * quantity', label: 'upper(name) + "!"' } })
    const r = { price: 2.5, quantity: 4, name: 'ab' }
    const out = t.process(r)
    assert.equal(out, r)
    assert.deepEqual(out, { price: 2.5, quantity: 4, name: 'ab', total: 10, label: 'AB!' })
  })

  it('evaluates every expression against the record as it was', async () => {
    const t = await build({ set: { a: 'b', b: 'a' } })
    assert.deepEqual(t.process({ a: 1, b: 2 }), { a: 2, b: 1 })
  })

  it('stores ints as numbers and literal maps as plain objects', async () => {
    const t = await build({ set: { n: '1 + 2', meta: '{"source": "api", "v": 2}' } })
    assert.deepEqual(t.process({}), { n: 3, meta: { source: 'api', v: 2 } })
  })

  it('dead-letters a record an expression fails on, naming the option', async () => {
    const t = await build({ set: { total: 'price * quantity' } })
    assert.equal(castError(t, { price: 2 }), 'map "shape": set.total failed: Unknown variable: quantity')
  })
})

describe('map: rename, remove, keep', () => {
  it('renames existing fields and skips missing ones', async () => {
    const t = await build({ rename: { user_id: 'id', missing: 'x', same: 'same' } })
    assert.deepEqual(t.process({ user_id: 7, same: 1 }), { same: 1, id: 7 })
  })

  it('removes fields', async () => {
    const t = await build({ remove: ['secret', 'nope'] })
    assert.deepEqual(t.process({ a: 1, secret: 's' }), { a: 1 })
  })

  it('keeps only the listed fields, in that order', async () => {
    const t = await build({ keep: ['c', 'a', 'missing'] })
    const out = t.process({ a: 1, b: 2, c: 3, n: null })!
    assert.deepEqual(Object.keys(out), ['c', 'a'])
    assert.deepEqual(out, { c: 3, a: 1 })
    const t2 = await build({ keep: ['n'] })
    assert.deepEqual(t2.process({ n: null, x: 1 }), { n: null })
  })

  it('applies set → rename → cast → remove → keep whatever the YAML order', async () => {
    const t = await build({
      keep: ['id', 'total', 'paid'],
      remove: ['total_raw'],
      cast: { paid: 'bool', total: 'string' },
      rename: { order_id: 'id', total_raw: 'total' },
      set: { total_raw: 'price * 2', extra: '1' },
    })
    assert.deepEqual(t.process({ order_id: 'o1', price: 1.5, paid: 'yes', other: 1 }), { id: 'o1', total: '3', paid: true })
  })
})

describe('map: cast', () => {
  it('int', async () => {
    const t = await build({ cast: { v: 'int' } })
    for (const [input, want] of [[5, 5], ['42', 42], [' -7 ', -7], ['12.0', 12], ['1e3', 1000], [10n, 10]] as const) {
      assert.equal(t.process({ v: input })!.v, want)
    }
    assert.equal(castError(t, { v: 1.5 }), 'map "shape": cannot cast field "v" value 1.5 to int: not a whole number')
    assert.match(castError(t, { v: 'abc' }), /value "abc" to int: not a number/)
    assert.match(castError(t, { v: '' }), /not a number/)
    assert.match(castError(t, { v: '99999999999999999999' }), /outside the range/)
    assert.match(castError(t, { v: true }), /expected a number or a string, found a boolean/)
  })

  it('float', async () => {
    const t = await build({ cast: { v: 'float' } })
    assert.equal(t.process({ v: '3.25' })!.v, 3.25)
    assert.equal(t.process({ v: 2 })!.v, 2)
    assert.match(castError(t, { v: 'x1' }), /to float: not a number/)
    assert.match(castError(t, { v: 'Infinity' }), /not a number/)
  })

  it('string', async () => {
    const t = await build({ cast: { v: 'string' } })
    assert.equal(t.process({ v: 12.5 })!.v, '12.5')
    assert.equal(t.process({ v: false })!.v, 'false')
    assert.equal(t.process({ v: { a: [1] } })!.v, '{"a":[1]}')
    assert.equal(t.process({ v: 'x' })!.v, 'x')
  })

  it('bool', async () => {
    const t = await build({ cast: { v: 'bool' } })
    for (const [input, want] of [[true, true], [0, false], [1, true], ['YES', true], ['no', false], ['True', true], ['0', false]] as const) {
      assert.equal(t.process({ v: input })!.v, want)
    }
    assert.match(castError(t, { v: 'maybe' }), /value "maybe" to bool: expected true\/false, 1\/0 or yes\/no/)
    assert.match(castError(t, { v: 'constructor' }), /to bool/)
    assert.match(castError(t, { v: 2 }), /to bool/)
  })

  it('timestamp', async () => {
    const t = await build({ cast: { v: 'timestamp' } })
    const cases: [unknown, string][] = [
      ['2024-03-01T10:20:30Z', '2024-03-01T10:20:30.000Z'],
      ['2024-03-01T10:20:30.5+02:00', '2024-03-01T08:20:30.500Z'],
      ['2024-03-01 10:20', '2024-03-01T10:20:00.000Z'], // no zone: UTC
      ['2024-03-01', '2024-03-01T00:00:00.000Z'],
      ['2024-03-01T10:20:30+0100', '2024-03-01T09:20:30.000Z'],
      [1_700_000_000, '2023-11-14T22:13:20.000Z'], // seconds
      [1_700_000_000_123, '2023-11-14T22:13:20.123Z'], // milliseconds
      ['1700000000', '2023-11-14T22:13:20.000Z'],
    ]
    for (const [input, want] of cases) assert.equal(t.process({ v: input })!.v, want, String(input))
    assert.match(castError(t, { v: 'March 1st' }), /to timestamp: expected an ISO-8601/)
    assert.match(castError(t, { v: '2024-13-45' }), /not a valid date-time/)
  })

  it('json', async () => {
    const t = await build({ cast: { v: 'json' } })
    assert.deepEqual(t.process({ v: '{"a":[1,2]}' })!.v, { a: [1, 2] })
    assert.deepEqual(t.process({ v: { already: true } })!.v, { already: true })
    assert.match(castError(t, { v: '{oops' }), /value "\{oops" to json: not valid JSON/)
  })

  it('leaves missing fields and nulls alone', async () => {
    const t = await build({ cast: { v: 'int' } })
    assert.deepEqual(t.process({ v: null }), { v: null })
    assert.deepEqual(t.process({}), {})
  })
})

describe('map: options', () => {
  it('requires at least one operation', () => {
    const r = map.options.safeParse({})
    assert.equal(r.success, false)
    assert.match(r.error!.issues[0]!.message, /at least one of `set`, `rename`, `cast`, `remove` or `keep`/)
  })

  it('rejects unknown cast types, unknown keys and bad expressions', () => {
    assert.equal(map.options.safeParse({ cast: { a: 'integer' } }).success, false)
    assert.equal(map.options.safeParse({ sett: { a: '1' } }).success, false)
    const r = map.options.safeParse({ set: { a: 'b +' } })
    assert.deepEqual(r.error!.issues[0]!.path, ['set', 'a'])
  })

  it('has valid examples', () => {
    for (const ex of map.examples ?? []) {
      const { type, inputs, ...opts } = parseYaml(ex.yaml) as Record<string, unknown>
      assert.equal(type, 'map')
      assert.ok(Array.isArray(inputs))
      map.options.parse(opts)
    }
  })
})
