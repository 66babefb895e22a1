// Every kind of config error, through the real loader and formatter: the right code, file:line:column,
// a snippet with a caret under the offending token, expected/found/help, and never a stack trace.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatConfigError, formatConfigErrors } from '../../src/config/diagnostics.js'
import { loadConfigText } from '../../src/config/load.js'
import { ConfigError, ConfigErrors } from '../../src/core/errors.js'
import { testRegistry } from './fixtures.js'

const registry = testRegistry()

/** Loads `text` as bad.yaml, expecting failure; returns the errors and the formatted report. */
function fail(text: string, env: Record<string, string> = {}): { errors: ConfigError[]; report: string } {
  try {
    loadConfigText(text, { registry, env, file: 'examples/bad.yaml', baseDir: '/tmp' })
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, `expected ConfigErrors, got ${String(e)}`)
    const report = formatConfigErrors(e, { source: text })
    assert.doesNotMatch(report, /\n\s+at /, 'no stack trace')
    return { errors: e.errors, report }
  }
  assert.fail('expected the config to be rejected')
}

const valid = `
sources:
  orders: { type: file, path: data.csv }
sinks:
  out: { type: stdout, inputs: [orders] }
`

describe('config diagnostics', () => {
  it('YAML syntax error', () => {
    const { errors, report } = fail('sources:\n  orders: { type: file, path: "data.csv }\nsinks: {}\n')
    assert.equal(errors.length, 1, 'follow-on token errors are not reported')
    assert.equal(errors[0]!.code, 'SLC_CONFIG_SYNTAX')
    assert.match(report, /^error\[SLC_CONFIG_SYNTAX\]: invalid YAML: /)
    assert.match(report, /--> examples\/bad\.yaml:\d+:\d+/)
  })

  it('duplicate key', () => {
    const { errors, report } = fail('sources:\n  orders: { type: file, path: a }\n  orders: { type: file, path: b }\nsinks: {}\n')
    assert.equal(errors[0]!.code, 'SLC_CONFIG_SYNTAX')
    assert.equal(errors[0]!.message, 'duplicate key "orders"')
    assert.deepEqual([errors[0]!.location.line, errors[0]!.location.column], [3, 3])
    assert.match(report, /--> examples\/bad\.yaml:3:3\n {2}\|\n3 \| {3}orders: \{ type: file, path: b \}\n {2}\| {3}\^{6}\n/)
  })

  it('wrong type', () => {
    const { errors, report } = fail(valid.replace('out: { type: stdout,', 'out: { type: stdout, pretty: 12,'))
    const e = errors[0]!
    assert.equal(e.code, 'SLC_CONFIG_INVALID')
    assert.equal(e.message, 'invalid value for option "pretty" in sink "out"')
    assert.deepEqual(e.location, { file: 'examples/bad.yaml', line: 5, column: 32, component: 'out', path: 'pretty' })
    assert.match(report, /\n --> examples\/bad\.yaml:5:32\n/)
    assert.match(report, / {31}\^\^\n {2}= expected: boolean\n {2}= found: 12/)
  })

  it('bad enum value, with a suggestion', () => {
    const { errors, report } = fail(valid.replace('path: data.csv', 'path: data.csv, format: jsonl'))
    const e = errors[0]!
    assert.equal(e.code, 'SLC_CONFIG_INVALID')
    assert.equal(e.location.path, 'format')
    assert.equal(e.expected, 'one of "json", "csv", "lines"')
    assert.equal(e.suggestion, 'json')
    assert.match(report, /--> examples\/bad\.yaml:3:49\n/)
    assert.match(report, /= help: did you mean "json"\?/)
  })

  it('unknown option, with a suggestion', () => {
    const { errors, report } = fail(valid.replace('path: data.csv', 'path: data.csv, folow: true'))
    const e = errors[0]!
    assert.equal(e.code, 'SLC_CONFIG_UNKNOWN_KEY')
    assert.equal(e.message, 'unknown option "folow" in source "orders"')
    assert.equal(e.expected, 'one of path, format, follow, poll_interval')
    assert.equal(e.suggestion, 'follow')
    assert.match(report, /\n --> examples\/bad\.yaml:3:41\n {2}\|\n3 \| .*\n {2}\| {41}\^{5}\n/)
  })

  it('unknown option that belongs one level down', () => {
    const text = `
sources:
  orders: { type: file, path: data.csv }
sinks:
  db:
    type: postgres
    inputs: [orders]
    url: postgres://localhost/db
    table: revenue
    lingr: 200ms
`
    const { errors, report } = fail(text)
    assert.equal(errors[0]!.code, 'SLC_CONFIG_UNKNOWN_KEY')
    assert.equal(
      report,
      [
        'error[SLC_CONFIG_UNKNOWN_KEY]: unknown option "lingr" in sink "db"',
        '  --> examples/bad.yaml:10:5',
        '   |',
        '10 |     lingr: 200ms',
        '   |     ^^^^^',
        '   = expected: one of url, table, batch, retry, upsert_key',
        '   = help: did you mean "batch.linger"?',
      ].join('\n'),
    )
  })

  it('unknown component type, with a suggestion', () => {
    const { errors, report } = fail(valid.replace('type: stdout', 'type: stdot'))
    const e = errors[0]!
    assert.equal(e.code, 'SLC_CONFIG_UNKNOWN_TYPE')
    assert.equal(e.message, 'unknown sink type "stdot" in sink "out"')
    assert.equal(e.expected, 'one of file, postgres, stdout')
    assert.equal(e.suggestion, 'stdout')
    assert.match(report, /--> examples\/bad\.yaml:5:16\n/)
  })

  it('missing required option', () => {
    const { errors, report } = fail(valid.replace('{ type: file, path: data.csv }', '{ type: file }'))
    const e = errors[0]!
    assert.equal(e.code, 'SLC_CONFIG_INVALID')
    assert.equal(e.message, 'missing required option "path" in source "orders"')
    assert.deepEqual(e.location, { file: 'examples/bad.yaml', line: 3, column: 3, component: 'orders', path: 'path' })
    assert.match(report, /--> examples\/bad\.yaml:3:3\n {2}\|\n3 \| {3}orders: \{ type: file \}\n {2}\| {3}\^{6}\n {2}= expected: path/)
  })

  it('unset environment variable', () => {
    const { errors, report } = fail(valid.replace('path: data.csv', 'path: "${DATA_PATH}"'))
    const e = errors[0]!
    assert.equal(e.code, 'SLC_CONFIG_ENV')
    assert.equal(e.message, 'environment variable "DATA_PATH" used by source "orders" is not set')
    assert.equal(errors.length, 1, 'the unresolved value is not reported again')
    assert.match(report, /--> examples\/bad\.yaml:3:31\n/)
    assert.match(report, /\^{14}\n/)
  })

  it('bad dead_letter name', () => {
    const { errors, report } = fail(valid.replace('path: data.csv', 'path: data.csv, dead_letter: outt'))
    const e = errors[0]!
    assert.equal(e.code, 'SLC_CONFIG_TOPOLOGY')
    assert.equal(e.message, 'unknown dead_letter sink "outt" in source "orders"')
    assert.equal(e.suggestion, 'out')
    assert.match(report, /--> examples\/bad\.yaml:3:54\n/)
  })

  it('dead_letter naming a non-sink', () => {
    const { errors } = fail(valid.replace('inputs: [orders]', 'inputs: [orders], dead_letter: orders'))
    assert.equal(errors[0]!.message, 'dead_letter "orders" in sink "out" is a source, not a sink')
  })

  it('duplicate component name, at the second one', () => {
    const { errors, report } = fail(`${valid}transforms:\n  out: { type: filter, inputs: [orders], condition: "true" }\n`)
    const e = errors[0]!
    assert.equal(e.code, 'SLC_CONFIG_TOPOLOGY')
    assert.equal(e.message, 'component name "out" is already used by a sink')
    assert.deepEqual([e.location.line, e.location.column, e.location.component], [7, 3, 'out'])
    assert.match(report, /--> examples\/bad\.yaml:7:3\n/)
  })

  it('invalid duration string', () => {
    const { errors, report } = fail(valid.replace('path: data.csv', 'path: data.csv, poll_interval: 5 seconds'))
    const e = errors[0]!
    assert.equal(e.code, 'SLC_CONFIG_INVALID')
    assert.equal(e.location.path, 'poll_interval')
    assert.equal(e.expected, 'a duration such as "200ms", "5s" or "1m"')
    assert.equal(e.found, '5 seconds')
    assert.match(report, /--> examples\/bad\.yaml:3:56\n/)
    assert.match(report, /\^{9}\n/)
  })

  it('invalid top-level setting and unknown top-level key', () => {
    const { errors } = fail(`shutdown_timeout: soon\nchanel: {}\n${valid}`)
    assert.deepEqual(
      errors.map((e) => [e.code, e.location.line, e.location.column, e.suggestion]),
      [
        ['SLC_CONFIG_INVALID', 1, 19, undefined],
        ['SLC_CONFIG_UNKNOWN_KEY', 2, 1, 'channel'],
      ],
    )
  })

  it('collects every error of a file in one pass, in file order, with a count', () => {
    const text = `
sources:
  orders: { type: fiel, path: data.csv }
transforms:
  paid: { type: filter, inputs: [orders] }
sinks:
  out: { type: stdout, inputs: [paid], pretty: maybe }
`
    const { errors, report } = fail(text)
    assert.deepEqual(
      errors.map((e) => `${e.code}@${e.location.line}`),
      ['SLC_CONFIG_UNKNOWN_TYPE@3', 'SLC_CONFIG_INVALID@5', 'SLC_CONFIG_INVALID@7'],
    )
    assert.match(report, /\nerror: found 3 config errors$/)
  })

  it('formats without a snippet, without a file, and in colour', () => {
    const e = new ConfigError('SLC_CONFIG_INVALID', 'invalid value for option "table" in sink "db"', {
      component: 'db',
      path: 'table',
      expected: 'string',
    })
    assert.equal(formatConfigError(e), 'error[SLC_CONFIG_INVALID]: invalid value for option "table" in sink "db"\n  = expected: string')
    const located = new ConfigError('SLC_CONFIG_FILE', 'cannot read config file "x.yaml": no such file', { file: 'x.yaml' })
    assert.equal(formatConfigError(located), 'error[SLC_CONFIG_FILE]: cannot read config file "x.yaml": no such file\n --> x.yaml')
    const colored = formatConfigError(located, { color: true })
    assert.match(colored, /\x1b\[1;31merror\[SLC_CONFIG_FILE\]\x1b\[0m/)
  })
})
