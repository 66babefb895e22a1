// Config errors: aggregation strings are parsed while the options are validated, so a typo is
// reported at `aggregations.<name>` (with a near-miss suggestion) before anything runs.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { builtins } from '../../../src/component/builtins.js'
import { loadConfigText } from '../../../src/config/load.js'
import { ConfigErrors } from '../../../src/core/errors.js'
import { aggregate } from '../../../src/transforms/aggregate/index.js'

function issues(options: Record<string, unknown>): { path: string; message: string; code?: unknown }[] {
  const r = aggregate.options.safeParse(options)
  assert.equal(r.success, false, 'expected the options to be refused')
  return r.error!.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: (i as { params?: { code?: unknown } }).params?.code }))
}

const base = { window: { type: 'tumbling', size: '1m' } }

describe('aggregate options', () => {
  it('defaults', () => {
    const o = aggregate.options.parse({ ...base, aggregations: { n: 'count()' } })
    assert.deepEqual(o, {
      group_by: [],
      window: { type: 'tumbling', size: 60_000 },
      time_format: 'auto',
      allowed_lateness: 0,
      idle_timeout: 30_000,
      late: 'dead_letter',
      late_retention: 600_000,
      aggregations: { n: 'count()' },
      max_keys: 1_000_000,
      max_state_bytes: 256 * 1024 * 1024,
      on_limit: 'emit_early',
    })
  })

  it('an unknown function names the option path and suggests the near miss', () => {
    const [e] = issues({ ...base, aggregations: { revenue: 'sume(amount)' } })
    assert.equal(e!.path, 'aggregations.revenue')
    assert.match(e!.message, /^unknown aggregation function `sume`; did you mean `sum`\?/)
    assert.match(issues({ ...base, aggregations: { n: 'cuont()' } })[0]!.message, /did you mean `count`/)
    assert.match(issues({ ...base, aggregations: { n: 'p95(x)' } })[0]!.message, /did you mean `p99`|did you mean `p90`|did you mean `p50`/)
    assert.doesNotMatch(issues({ ...base, aggregations: { n: 'frobnicate(x)' } })[0]!.message, /did you mean/)
  })

  it('wrong arity, missing parentheses, bad parameters', () => {
    const cases: [string, RegExp][] = [
      ['sum()', /`sum` takes 1 argument \(`sum\(x\)`\), found 0/],
      ['sum(a, b)', /`sum` takes 1 argument/],
      ['count(a, b)', /`count` takes 0 or 1 arguments/],
      ['percentile(x)', /`percentile` takes 2 arguments/],
      ['percentile(x, 99)', /must be a number from 0 to 1/],
      ['collect(x, 0)', /limit of `collect` must be a whole number/],
      ['collect(x, ten)', /limit of `collect` must be a whole number/],
      ['count', /expected a call such as `count\(\)`.*parentheses missing/],
      ['amount', /expected a function call such as `sum\(amount\)`/],
      ['sum(f(a, b)', /unbalanced/],
    ]
    for (const [text, re] of cases) {
      const [e] = issues({ ...base, aggregations: { x: text } })
      assert.equal(e!.path, 'aggregations.x', text)
      assert.match(e!.message, re, text)
    }
  })

  it('an argument that is not a valid CEL expression is an expression error', () => {
    const [e] = issues({ ...base, aggregations: { total: 'sum(price * )' } })
    assert.equal(e!.path, 'aggregations.total')
    assert.equal(e!.code, 'SLC_CONFIG_EXPRESSION')
    assert.match(e!.message, /the argument of `sum`: the expression does not compile/)
  })

  it('window checks', () => {
    assert.equal(issues({ window: { type: 'hopping', size: '1m', slide: '2m' }, aggregations: {} })[0]!.path, 'window.slide')
    assert.equal(issues({ window: { type: 'tumbling', size: '0s' }, aggregations: {} })[0]!.path, 'window.size')
    assert.equal(issues({ window: { type: 'session', gap: 0 }, aggregations: {} })[0]!.path, 'window.gap')
    assert.equal(issues({ window: { type: 'tumbling', size: '1m', gap: '1m' }, aggregations: {} })[0]!.path, 'window')
    assert.ok(issues({ window: { type: 'sliding', size: '1m' }, aggregations: {} }).length > 0)
    assert.doesNotThrow(() => aggregate.options.parse({ window: { type: 'hopping', size: '10s', slide: '3s' }, aggregations: {} }))
  })

  it('output field clashes', () => {
    assert.deepEqual(
      issues({ ...base, group_by: ['country'], aggregations: { country: 'count()', window_start: 'count()' } }).map((i) => i.path),
      ['aggregations.country', 'aggregations.window_start'],
    )
    assert.equal(issues({ ...base, group_by: ['a', 'a'], aggregations: {} })[0]!.path, 'group_by.1')
  })

  it('in a config file: file, line, option path and the suggestion in the message', () => {
    const yaml = [
      'sources:',
      '  orders: { type: generator, count: 10 }',
      'transforms:',
      '  per_country:',
      '    type: aggregate',
      '    inputs: [orders]',
      '    window: { type: tumbling, size: 1m }',
      '    aggregations:',
      '      revenue: sume(amount)',
      'sinks:',
      '  out: { type: stdout, inputs: [per_country] }',
      '',
    ].join('\n')
    try {
      loadConfigText(yaml, { registry: builtins, file: 'p.yaml', baseDir: process.cwd(), env: {} })
      assert.fail('expected a config error')
    } catch (e) {
      assert.ok(e instanceof ConfigErrors, String(e))
      const [err] = e.errors
      assert.equal(err!.location.line, 9)
      assert.equal(err!.location.component, 'per_country')
      assert.match(err!.message, /aggregations\.revenue/)
      assert.match(err!.message, /did you mean `sum`/)
    }
  })
})
