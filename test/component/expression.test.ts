// Tests of the CEL expression layer: numbers as data people write them, helpers, errors, safety.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileExpression, toPlain } from '../../src/component/expression.js'
import { celExpression, z } from '../../src/component/options.js'
import { ConfigError, RecordError } from '../../src/core/errors.js'

const site = { component: 'calc', option: 'set.x', type: 'map' }
const cond = { component: 'paid', option: 'condition', type: 'filter', condition: true }
const ev = (src: string, record: Record<string, unknown> = {}) => compileExpression(src, site).evaluate(record)

function recordError(fn: () => unknown): RecordError {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof RecordError, `expected a RecordError, got ${String(e)}`)
    return e
  }
  assert.fail('expected a throw')
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`)
    return e
  }
  assert.fail('expected a throw')
}

describe('compileExpression: numbers', () => {
  const r = { amount: 12.5, n: 3, status: 'paid' }

  it('mixes JSON numbers (double) with int literals in arithmetic', () => {
    assert.equal(ev('amount * 100', r), 1250)
    assert.equal(ev('n + 1', r), 4)
    assert.equal(ev('1 + n', r), 4)
    assert.equal(ev('1 + n + 1', r), 5)
    assert.equal(ev('n - 1', r), 2)
    assert.equal(ev('10 - n', r), 7)
    assert.equal(ev('amount / 2', r), 6.25)
    assert.equal(ev('n % 2', r), 1)
    assert.equal(ev('amount % 5.0', r), 2.5)
    assert.equal(ev('(1 + n) * 2.5', r), 10)
  })

  it('compares doubles with ints', () => {
    assert.equal(ev('amount > 0', r), true)
    assert.equal(ev('n == 3', r), true)
    assert.equal(ev('n + 1 == 4', r), true)
    assert.equal(ev('amount >= 12 && amount < 13', r), true)
  })

  it('returns ints as numbers, and as strings beyond 2^53', () => {
    assert.equal(ev('1 + 2'), 3)
    assert.equal(ev('int(amount)', r), 12)
    assert.equal(ev('10 / 4'), 2) // int division stays int
    assert.equal(ev('9007199254740993'), '9007199254740993')
    assert.deepEqual(ev('[1, 2, n]', r), [1, 2, 3])
    assert.deepEqual(ev('{"a": 1, "b": {"c": [2]}, "s": status}', r), { a: 1, b: { c: [2] }, s: 'paid' })
  })

  it('turns timestamps, durations and optionals into plain values', () => {
    assert.equal(ev('timestamp("2024-01-01T10:00:00Z")'), '2024-01-01T10:00:00.000Z')
    assert.equal(ev('duration("90m")'), '5400s')
    assert.equal(ev('user.?zip.orValue("none")', { user: {} }), 'none')
    assert.equal(ev('user.?zip', { user: {} }), null)
    assert.equal(ev('user.?zip', { user: { zip: '10115' } }), '10115')
  })

  it('leaves record data untouched when nothing needs converting', () => {
    const items = [{ q: 1 }, { q: 2 }]
    assert.equal(ev('items', { items }), items)
  })
})

describe('compileExpression: strings and helpers', () => {
  const r = { name: 'Ünïcode Straße', price: 1.005, neg: -2.5, 'Order ID': 'o-1', note: null }

  it('has the standard CEL string methods', () => {
    assert.equal(ev('name.startsWith("Ü")', r), true)
    assert.equal(ev('name.contains("code")', r), true)
    assert.equal(ev('name.size()', r), 14)
    assert.equal(ev('"id-" + string(42)'), 'id-42')
  })

  it('adds lower/upper (Unicode) and replace', () => {
    assert.equal(ev('name.lower()', r), 'ünïcode straße')
    assert.equal(ev('upper(name)', r), 'ÜNÏCODE STRASSE')
    assert.equal(ev('lower("ABC")'), 'abc')
    assert.equal(ev('"a-b-c".replace("-", "_")'), 'a_b_c')
  })

  it('rounds like people expect', () => {
    assert.equal(ev('round(2.5)'), 3)
    assert.equal(ev('round(neg)', r), -3)
    assert.equal(ev('round(price, 2)', r), 1.01)
    assert.equal(ev('round(3.14159, 3)'), 3.142)
    assert.equal(ev('round(1234.5, -2)'), 1200)
    assert.equal(ev('round(7)'), 7)
    assert.equal(ev('floor(2.7)'), 2)
    assert.equal(ev('ceil(2.1)'), 3)
    assert.equal(ev('abs(neg)', r), 2.5)
    assert.equal(ev('abs(-4)'), 4)
  })

  it('has now() as an ISO string', () => {
    const v = ev('now()')
    assert.equal(typeof v, 'string')
    assert.ok(Math.abs(Date.parse(v as string) - Date.now()) < 5000)
  })

  it('tests and reads top-level fields with has_field() and field()', () => {
    assert.equal(ev('has_field(name)', r), true)
    assert.equal(ev('has_field(note)', r), true) // present though null
    assert.equal(ev('has_field(discount)', r), false)
    assert.equal(ev('has_field("Order ID")', r), true)
    assert.equal(ev('has_field(toString)', r), false) // inherited, not data
    assert.equal(ev('has_field(discount) ? discount : 0', r), 0)
    assert.equal(ev('field("Order ID")', r), 'o-1')
    assert.equal(ev('field("missing", "n/a")', r), 'n/a')
    assert.equal(ev('field("name", "n/a")', r), 'Ünïcode Straße')
    const e = recordError(() => ev('field("missing")', r))
    assert.match(e.message, /Unknown field: missing/)
  })

  it('supports has() on nested fields, ternaries, in and macros', () => {
    const rec = { user: { age: 30 }, tags: ['a', 'b'], status: 'refunded' }
    assert.equal(ev('has(user.age)', rec), true)
    assert.equal(ev('has(user.email)', rec), false)
    assert.equal(ev('user.age >= 18 ? "adult" : "minor"', rec), 'adult')
    assert.equal(ev('status in ["paid", "refunded"]', rec), true)
    assert.equal(ev('tags.exists(t, t == "b")', rec), true)
    assert.deepEqual(ev('tags.map(t, upper(t))', rec), ['A', 'B'])
  })
})

describe('compileExpression: errors', () => {
  it('reports a syntax error as ConfigError SLC_CONFIG_EXPRESSION with location and caret', () => {
    const e = configError(() => compileExpression('status == ', cond))
    assert.equal(e.code, 'SLC_CONFIG_EXPRESSION')
    assert.equal(e.location.component, 'paid')
    assert.equal(e.location.path, 'condition')
    assert.equal(e.found, 'status == ')
    assert.match(e.message, /filter "paid": condition: the expression does not compile: Unexpected token/)
    assert.match(e.message, /\^/)
  })

  it('reports unknown functions and static type errors at compile time', () => {
    assert.match(configError(() => compileExpression('lenght(name) > 2', cond)).message, /no matching overload for 'lenght/)
    assert.match(configError(() => compileExpression('"a" + 1', site)).message, /no such overload: string \+ int/)
    assert.match(configError(() => compileExpression('has_field(1)', site)).message, /has_field\(\) expects a field name/)
  })

  it('refuses a condition that can only return a non-bool', () => {
    const e = configError(() => compileExpression('1 + 2', cond))
    assert.match(e.message, /a condition must be true or false, but this expression returns int/)
  })

  it('turns a missing field into RecordError SLC_RECORD_TRANSFORM naming the option', () => {
    const e = recordError(() => compileExpression('status == "paid" && amount > 0', cond).test({ status: 'paid' }))
    assert.equal(e.code, 'SLC_RECORD_TRANSFORM')
    assert.equal(e.message, 'filter "paid": condition failed: Unknown variable: amount')
  })

  it('turns type mismatches into RecordErrors', () => {
    const e = recordError(() => ev('amount + 1', { amount: '12' }))
    assert.match(e.message, /^map "calc": set.x failed: no such overload/)
    assert.match(recordError(() => ev('1 / 0')).message, /division by zero/)
  })

  it('test() refuses a non-bool result', () => {
    const e = recordError(() => compileExpression('amount', cond).test({ amount: 12.5 }))
    assert.equal(e.message, 'filter "paid": condition returned 12.5 (a number), expected true or false')
    assert.match(recordError(() => compileExpression('status', cond).test({ status: 'paid' })).message, /returned "paid" \(a string\)/)
  })

  it('does not reach JavaScript internals', () => {
    const r = { x: {}, s: 'str' }
    assert.match(recordError(() => ev('x.constructor', r)).message, /No such key: constructor/)
    assert.match(recordError(() => ev('x["constructor"]', r)).message, /No such key: constructor/)
    assert.match(recordError(() => ev('s.constructor', r)).message, /No such key/)
    assert.match(recordError(() => ev('x.__proto__', r)).message, /No such key/)
    assert.throws(() => ev('constructor', r), RecordError)
    assert.throws(() => ev('toString', r), RecordError)
    assert.throws(() => compileExpression('__proto__', site), ConfigError)
  })
})

describe('celExpression option', () => {
  it('reports a bad expression as a zod issue at the option path', () => {
    const schema = z.strictObject({ set: z.record(z.string(), celExpression('x')), condition: celExpression('c', { condition: true }) })
    const r = schema.safeParse({ set: { ok: 'a + 1.0', bad: 'a +' }, condition: '42' })
    assert.equal(r.success, false)
    const issues = r.error!.issues.map((i) => ({ path: i.path.join('.'), code: (i as { params?: { code?: string } }).params?.code }))
    assert.deepEqual(issues, [
      { path: 'set.bad', code: 'SLC_CONFIG_EXPRESSION' },
      { path: 'condition', code: 'SLC_CONFIG_EXPRESSION' },
    ])
    assert.equal(schema.safeParse({ set: { ok: 'a * 2' }, condition: 'a > 1' }).success, true)
  })

  it('keeps the expression format in the JSON Schema', () => {
    const js = z.toJSONSchema(celExpression('Doc.')) as { format?: string; description?: string }
    assert.equal(js.format, 'cel-expression')
    assert.equal(js.description, 'Doc.')
  })
})

describe('toPlain', () => {
  it('copies only what changes', () => {
    const inner = { a: 1 }
    const arr = [inner, 2n]
    const out = toPlain(arr) as unknown[]
    assert.notEqual(out, arr)
    assert.equal(out[0], inner)
    assert.equal(out[1], 2)
    assert.equal(arr[1], 2n) // the input is not mutated
  })
})

describe('throughput', () => {
  it('evaluates a typical filter condition quickly', () => {
    const c = compileExpression('status == "paid" && amount > 0', cond)
    const records = Array.from({ length: 1000 }, (_, i) => ({ status: i % 3 ? 'paid' : 'open', amount: i * 1.5, id: i, country: 'DE' }))
    let kept = 0
    const rounds = 200
    const t0 = process.hrtime.bigint()
    for (let k = 0; k < rounds; k++) for (let i = 0; i < records.length; i++) if (c.test(records[i]!)) kept++
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    const perSecond = (rounds * records.length) / seconds
    assert.equal(kept, rounds * 666)
    // A generous floor (measured ~13M/s standalone): catches an accidental 10x regression, not noise.
    assert.ok(perSecond > 300_000, `only ${Math.round(perSecond)} evaluations/s`)
  })
})
