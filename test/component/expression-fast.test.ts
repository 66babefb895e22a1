// The plain-JavaScript fast path of conditions answers exactly as CEL does: test() (fast path
// first) against evaluate() (always CEL) over conditions × records of every type.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileExpression } from '../../src/component/expression.js'

const CONDITIONS = [
  'event == "purchase"',
  '"purchase" == event',
  'event != "purchase"',
  'amount > 50',
  'amount > 50.5',
  '50 < amount',
  'amount >= 0 && amount <= 100',
  'amount == 1.5',
  'amount != 2.0',
  'amount == 2',
  'n == 3',
  'n < 3',
  'n >= 3.0',
  'event == "purchase" && amount > 10',
  'event == "view" || amount < 5',
  'event in ["view", "cart"]',
  'event in ["view", "cart"] && n > 1',
  '"purchase" != event || event in ["view", "view"]',
  'amount + 1 > 2',
  'amount % 2 == 1.0',
  'amount - 1',
  'amount > 50 || missing == "x"',
  'missing == "x" && amount > 50',
  'missing == "x" || amount > 50',
  'event < "m"',
  'flag == true',
]

const RECORDS: Record<string, unknown>[] = [
  { event: 'purchase', amount: 60.25, n: 3, flag: true },
  { event: 'view', amount: 1.5, n: 2, flag: false },
  { event: 'cart', amount: 2, n: 3.5 },
  { event: 'purchase', amount: 50, n: -0 },
  { event: 'purchase', amount: 50.5, n: 1e300 },
  { event: 7, amount: '60', n: '3' },
  { event: null, amount: null, n: null },
  { event: ['purchase'], amount: { v: 1 }, n: true },
  {},
  { event: 'x', amount: -0, n: 3, missing: 'x' },
  { event: 'x', amount: 2 ** 53, n: 3, missing: 1 },
]

test('fast conditions answer exactly as CEL does, errors included', () => {
  for (const source of CONDITIONS) {
    const e = compileExpression(source, { component: 't', option: 'condition', condition: true })
    for (const r of RECORDS) {
      let want: unknown
      let wantErr = false
      try {
        want = e.evaluate(r)
        if (typeof want !== 'boolean') wantErr = true
      } catch {
        wantErr = true
      }
      let got: unknown
      let gotErr = false
      try {
        got = e.test(r)
      } catch {
        gotErr = true
      }
      assert.equal(gotErr, wantErr, `${source} on ${JSON.stringify(r)}: error ${gotErr} vs CEL ${wantErr}`)
      if (!wantErr) assert.equal(got, want, `${source} on ${JSON.stringify(r)}`)
    }
  }
})

test('stringCondition describes conditions made only of string tests', () => {
  const sc = (source: string) => compileExpression(source, { component: 't', option: 'condition', condition: true }).stringCondition()
  assert.deepEqual(sc('event == "purchase"'), { kind: 'string', field: 'event', values: ['purchase'], negated: false })
  assert.deepEqual(sc('"purchase" != event'), { kind: 'string', field: 'event', values: ['purchase'], negated: true })
  assert.deepEqual(sc('event in ["a", "b", "a"] || (country == "DE" && event != "c")'), {
    op: '||',
    left: { kind: 'string', field: 'event', values: ['a', 'b'], negated: false },
    right: {
      op: '&&',
      left: { kind: 'string', field: 'country', values: ['DE'], negated: false },
      right: { kind: 'string', field: 'event', values: ['c'], negated: true },
    },
  })
  for (const other of ['event == "a" && amount > 1', 'event < "m"', 'event == 1', 'event in ["a", 1]', 'event.startsWith("a")', 'true']) {
    assert.equal(sc(other), undefined, other)
  }
  assert.equal(compileExpression('event == "a"', { component: 't', option: 'set.x' }).stringCondition(), undefined, 'not a condition')
})
