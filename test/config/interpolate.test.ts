// Environment interpolation: the string rules, re-reading a whole `${VAR}` as a YAML scalar, and
// unset-variable errors at the scalar's own position.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LineCounter, parseDocument } from 'yaml'
import { interpolateDocument, interpolateString } from '../../src/config/interpolate.js'

describe('interpolateString', () => {
  const env = { HOST: 'db.local', EMPTY: '', PORT: '5432' }

  it('substitutes set variables and defaults', () => {
    assert.deepEqual(interpolateString('postgres://${HOST}:${PORT}/x', env), { value: 'postgres://db.local:5432/x', missing: [] })
    assert.deepEqual(interpolateString('${NOPE:-fallback}', env), { value: 'fallback', missing: [] })
    assert.deepEqual(interpolateString('${EMPTY:-fallback}', env), { value: 'fallback', missing: [] }, 'empty counts as unset, as in sh')
    assert.deepEqual(interpolateString('${NOPE:-}x', env), { value: 'x', missing: [] })
    assert.deepEqual(interpolateString('${EMPTY}', env), { value: '', missing: [] })
  })

  it('treats $$ as a literal $ and leaves other dollars alone', () => {
    assert.deepEqual(interpolateString('cost: $$5, $HOME, $${HOST}', env), { value: 'cost: $5, $HOME, ${HOST}', missing: [] })
  })

  it('reports every unset variable without a default', () => {
    assert.deepEqual(interpolateString('${A}-${HOST}-${B}', env), { value: '${A}-db.local-${B}', missing: ['A', 'B'] })
  })
})

describe('interpolateDocument', () => {
  const load = (text: string, env: Record<string, string>) => {
    const lineCounter = new LineCounter()
    const doc = parseDocument(text, { lineCounter })
    const result = interpolateDocument(doc, { env, lineCounter, file: 'p.yaml' })
    return { ...result, value: doc.toJS() as Record<string, unknown> }
  }

  it('re-reads a whole reference as a YAML scalar, quoted or not', () => {
    const { value, rereads } = load('port: ${PORT}\nflag: "${FLAG:-true}"\nratio: ${R}\nnothing: ${N:-~}\nname: ${NAME}\n', {
      PORT: '8080',
      R: '0.5',
      NAME: 'orders',
    })
    assert.deepEqual(value, { port: 8080, flag: true, ratio: 0.5, nothing: null, name: 'orders' })
    assert.deepEqual(rereads, [
      { path: ['port'], text: '8080' },
      { path: ['flag'], text: 'true' },
      { path: ['ratio'], text: '0.5' },
      { path: ['nothing'], text: '~' },
    ])
  })

  it('keeps text that YAML would cut, mixed text, block scalars and empty values as strings', () => {
    const { value } = load('a: ${A}\nb: x${B}\nc: |\n  ${B}\nd: ${E:-}\ne: ${F}\n', { A: '12 #note', B: '7', F: '[1, 2]' })
    assert.deepEqual(value, { a: '12 #note', b: 'x7', c: '7\n', d: '', e: '[1, 2]' })
  })

  it('interpolates values in nested maps and sequences but never keys', () => {
    const { value } = load('${K}: 1\nlist: [a, "${V}"]\nmap: { inner: { deep: "x-${V}" } }\n', { K: 'key', V: 'v' })
    assert.deepEqual(value, { '${K}': 1, list: ['a', 'v'], map: { inner: { deep: 'x-v' } } })
  })

  it('reports an unset variable at its scalar, naming the variable and the component', () => {
    const text = 'sinks:\n  db:\n    type: postgres\n    url: "postgres://${PG_USER}@${PG_HOST}/db"\n'
    const { errors } = load(text, { PG_USER: 'me' })
    assert.equal(errors.length, 1)
    const e = errors[0]!
    assert.equal(e.code, 'SLC_CONFIG_ENV')
    assert.equal(e.message, 'environment variable "PG_HOST" used by sink "db" is not set')
    assert.deepEqual(e.location, { file: 'p.yaml', line: 4, column: 10, component: 'db', path: 'url' })
    assert.equal(e.expected, '"PG_HOST" set in the environment, or a default: ${PG_HOST:-default}')
  })
})
