// Tests of the `parse` transform: JSON and CSV fields, merge or target, source removal, errors.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parse as parseYaml } from 'yaml'
import type { BuildContext, RecordTransform } from '../../src/component/define.js'
import { silentLogger } from '../../src/observe/log.js'
import { parse } from '../../src/transforms/parse.js'
import { parseError } from './parse-helpers.js'

const ctx = (id = 'decode'): BuildContext => ({ id, baseDir: process.cwd(), dataDir: '/tmp/sluice-test', log: silentLogger() })

async function build(options: Record<string, unknown>): Promise<RecordTransform> {
  const t = await parse.build(parse.options.parse(options), ctx())
  assert.equal(t.kind, 'record')
  return t as RecordTransform
}

describe('parse: json', () => {
  it('merges the parsed fields into the record and removes the source by default', async () => {
    const t = await build({ format: 'json' })
    const r = { message: '{"level":"info","n":2,"host":"b"}', host: 'a' }
    const out = t.process(r)
    assert.equal(out, r)
    assert.deepEqual(out, { host: 'b', level: 'info', n: 2 })
  })

  it('returns the parsed object itself when the record held only the source field', async () => {
    const t = await build({ format: 'json' })
    const out = t.process({ message: '{"a":1,"message":"inner"}' })
    assert.deepEqual(out, { a: 1, message: 'inner' })
    assert.equal(Object.getPrototypeOf(out), Object.prototype)
    // A "__proto__" key stays an own field; it does not replace the record's prototype.
    const odd = t.process({ message: '{"__proto__":{"x":1}}' })!
    assert.equal(Object.getPrototypeOf(odd), Object.prototype)
    assert.deepEqual(Object.keys(odd), ['__proto__'])
  })

  it('keeps the source with remove_source: false', async () => {
    const t = await build({ format: 'json', remove_source: false })
    assert.deepEqual(t.process({ message: '{"a":1}' }), { message: '{"a":1}', a: 1 })
  })

  it('keeps a parsed field that has the source field\'s name', async () => {
    const t = await build({ format: 'json' })
    assert.deepEqual(t.process({ message: '{"message":"inner"}' }), { message: 'inner' })
  })

  it('stores the object under target, keeping the source by default', async () => {
    const t = await build({ format: 'json', field: 'payload', target: 'body' })
    assert.deepEqual(t.process({ payload: '{"a":{"b":1}}', id: 1 }), { payload: '{"a":{"b":1}}', id: 1, body: { a: { b: 1 } } })
    const t2 = await build({ format: 'json', field: 'payload', target: 'body', remove_source: true })
    assert.deepEqual(t2.process({ payload: '{"a":1}' }), { body: { a: 1 } })
    const t3 = await build({ format: 'json', field: 'payload', target: 'payload', remove_source: true })
    assert.deepEqual(t3.process({ payload: '{"a":1}' }), { payload: { a: 1 } })
  })

  it('dead-letters missing, non-string and invalid fields with SLC_RECORD_PARSE', async () => {
    const t = await build({ format: 'json' })
    assert.equal(parseError(t, {}), 'parse "decode": the record has no field "message" to parse')
    assert.equal(parseError(t, { message: 42 }), 'parse "decode": field "message" is a number, expected a string')
    assert.equal(parseError(t, { message: { a: 1 } }), 'parse "decode": field "message" is an object, expected a string')
    assert.match(parseError(t, { message: '{"a":' }), /^parse "decode": field "message": /)
    assert.match(parseError(t, { message: '[1,2]' }), /expected a JSON object/)
    assert.match(parseError(t, { message: '42' }), /expected a JSON object/)
  })
})

describe('parse: csv', () => {
  const csv = { columns: { id: 'string', amount: 'float', paid: 'bool' } }

  it('names the row\'s values by csv.columns', async () => {
    const t = await build({ format: 'csv', field: 'line', csv })
    assert.deepEqual(t.process({ line: 'o-1,12.5,true', src: 'x' }), { src: 'x', id: 'o-1', amount: 12.5, paid: true })
  })

  it('honours the delimiter and quotes', async () => {
    const t = await build({ format: 'csv', csv: { ...csv, delimiter: ';' }, target: 'row' })
    const out = t.process({ message: '"a;b";3;false' })!
    assert.deepEqual(out.row, { id: 'a;b', amount: 3, paid: false })
  })

  it('dead-letters a row with the wrong number of values or a bad value', async () => {
    const t = await build({ format: 'csv', csv })
    assert.match(parseError(t, { message: 'o-1,12.5' }), /^parse "decode": field "message": /)
    assert.match(parseError(t, { message: 'o-1,abc,true' }), /^parse "decode": field "message": /)
  })

  it('requires csv.columns with format csv, and csv only with csv', () => {
    const r = parse.options.safeParse({ format: 'csv' })
    assert.equal(r.success, false)
    assert.match(r.error!.issues[0]!.message, /needs `csv.columns`/)
    assert.deepEqual(parse.options.safeParse({ format: 'csv', csv: {} }).error!.issues[0]!.path, ['csv', 'columns'])
    assert.match(parse.options.safeParse({ format: 'json', csv }).error!.issues[0]!.message, /only with `format: csv`/)
    assert.equal(parse.options.safeParse({ format: 'xml' }).success, false)
  })
})

describe('parse: declaration', () => {
  it('has valid examples', () => {
    for (const ex of parse.examples ?? []) {
      const { type, inputs, ...opts } = parseYaml(ex.yaml) as Record<string, unknown>
      assert.equal(type, 'parse')
      assert.ok(Array.isArray(inputs))
      parse.options.parse(opts)
    }
  })
})
