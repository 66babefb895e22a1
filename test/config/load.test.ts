// The config loader: defaults, resolved paths, component order, common keys, positions for later
// errors, YAML and TypeScript configs giving the same result, and the rules of the common keys.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'
import { loadConfigFile, loadConfigText, validateConfigObject } from '../../src/config/load.js'
import type { PipelineConfig } from '../../src/config/types.js'
import { defineTransform } from '../../src/component/define.js'
import { z } from '../../src/component/options.js'
import { ConfigError, ConfigErrors } from '../../src/core/errors.js'
import { fileSink, filterTransform, fileSource, postgresSink, testRegistry } from './fixtures.js'

const registry = testRegistry()

const pipelineYaml = `# a complete pipeline
data_dir: ./state
shutdown_timeout: 5s
channel: { max_records: 100 }
dead_letter: rejects
sources:
  orders: { type: file, path: "data/orders.csv", format: csv }
transforms:
  paid:
    type: filter
    inputs: [orders]
    condition: status == "paid"
sinks:
  db:
    type: postgres
    inputs: [paid]
    url: postgres://localhost/db
    table: revenue
    batch: { linger: 1s }
    buffer: { max_bytes: 1MiB }
  rejects: { type: file, path: rejects.jsonl }
`

/** The same pipeline as a TypeScript object. */
const pipelineObject = {
  data_dir: './state',
  shutdown_timeout: '5s',
  channel: { max_records: 100 },
  dead_letter: 'rejects',
  sources: { orders: { type: 'file', path: 'data/orders.csv', format: 'csv' } },
  transforms: { paid: { type: 'filter', inputs: ['orders'], condition: 'status == "paid"' } },
  sinks: {
    db: { type: 'postgres', inputs: ['paid'], url: 'postgres://localhost/db', table: 'revenue', batch: { linger: '1s' }, buffer: { max_bytes: '1MiB' } },
    rejects: { type: 'file', path: 'rejects.jsonl' },
  },
}

function errorsOf(load: () => unknown): ConfigError[] {
  try {
    load()
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, `expected ConfigErrors, got ${String(e)}`)
    return e.errors
  }
  assert.fail('expected the config to be rejected')
}

const withoutLocate = ({ locate: _, ...rest }: PipelineConfig) => rest

describe('loadConfigText', () => {
  it('applies defaults, resolves data_dir and parses every component', () => {
    const cfg = loadConfigText(pipelineYaml, { registry, file: 'pipelines/main.yaml', baseDir: '/srv/pipelines', env: {} })
    assert.equal(cfg.file, 'pipelines/main.yaml')
    assert.equal(cfg.baseDir, '/srv/pipelines')
    assert.equal(cfg.dataDir, '/srv/pipelines/state')
    assert.equal(cfg.shutdownTimeoutMs, 5000)
    assert.equal(cfg.checkpointIntervalMs, 0)
    assert.deepEqual(cfg.channel, { maxRecords: 100, maxBytes: 4 * 1024 * 1024 })
    assert.equal(cfg.deadLetter, 'rejects')
    assert.deepEqual(
      cfg.components.map((c) => [c.id, c.kind, c.type, c.inputs, c.path]),
      [
        ['orders', 'source', 'file', [], ['sources', 'orders']],
        ['paid', 'transform', 'filter', ['orders'], ['transforms', 'paid']],
        ['db', 'sink', 'postgres', ['paid'], ['sinks', 'db']],
        ['rejects', 'sink', 'file', [], ['sinks', 'rejects']],
      ],
    )
    const [orders, paid, db, rejects] = cfg.components
    assert.equal(orders!.decl, fileSource)
    assert.equal(paid!.decl, filterTransform)
    assert.equal(db!.decl, postgresSink)
    assert.equal(rejects!.decl, fileSink)
    assert.deepEqual(orders!.options, { path: 'data/orders.csv', format: 'csv', follow: false, poll_interval: 1000 })
    assert.deepEqual((db!.options as { batch: unknown }).batch, { max_records: 5000, max_bytes: 4 * 1024 * 1024, linger: 1000 })
    assert.deepEqual(db!.buffer, { maxRecords: 100, maxBytes: 1024 * 1024 }, 'missing buffer fields come from channel')
    assert.equal(rejects!.buffer, undefined)
    assert.equal('deadLetter' in db!, false)
  })

  it('defaults data_dir to .sluice next to the config, and needs no transforms', () => {
    const cfg = loadConfigText('sources:\n  a: { type: generator }\ntransforms:\nsinks:\n  b: { type: stdout, inputs: [a] }\n', {
      registry,
      baseDir: '/x',
    })
    assert.equal(cfg.dataDir, '/x/.sluice')
    assert.equal(cfg.shutdownTimeoutMs, 30_000)
    assert.equal(cfg.file, undefined)
    assert.equal('file' in cfg, false)
  })

  it('locates nodes for errors found after loading, falling back to the nearest parent', () => {
    const cfg = loadConfigText(pipelineYaml, { registry, file: 'main.yaml', env: {} })
    assert.deepEqual(cfg.locate(['sinks', 'db', 'inputs', 0]), { file: 'main.yaml', line: 16, column: 14 })
    assert.deepEqual(cfg.locate(['transforms', 'paid', 'inputs', 0]), { file: 'main.yaml', line: 11, column: 14 })
    assert.deepEqual(cfg.locate(['sinks', 'db', 'inputs', 7]), { file: 'main.yaml', line: 16, column: 13 })
    assert.deepEqual(cfg.locate(['sinks', 'rejects', 'inputs']), { file: 'main.yaml', line: 21, column: 12 })
  })

  it('builds the same config from YAML and from a TypeScript object', () => {
    const fromYaml = loadConfigText(pipelineYaml, { registry, baseDir: '/p', env: {} })
    const fromTs = validateConfigObject(pipelineObject, { registry, baseDir: '/p' })
    assert.deepEqual(withoutLocate(fromTs), withoutLocate(fromYaml))
    assert.deepEqual(fromTs.locate(['sinks', 'db']), {})
  })

  it('reports TypeScript config errors with component and option path, without positions', () => {
    const bad = { ...pipelineObject, sinks: { ...pipelineObject.sinks, db: { ...pipelineObject.sinks.db, table: 7 } } }
    const [e] = errorsOf(() => validateConfigObject(bad, { registry, baseDir: '/p', file: 'pipeline.ts' }))
    assert.equal(e!.code, 'SLC_CONFIG_INVALID')
    assert.deepEqual(e!.location, { file: 'pipeline.ts', component: 'db', path: 'table' })
    assert.equal(e!.found, '7')
  })

  it('lets a sink omit inputs only when it is a dead_letter target', () => {
    const text = `
sources:
  a: { type: generator, dead_letter: dlq }
sinks:
  out: { type: stdout, inputs: [a] }
  dlq: { type: file, path: dlq.jsonl }
  idle: { type: stdout }
`
    const errors = errorsOf(() => loadConfigText(text, { registry }))
    assert.deepEqual(
      errors.map((e) => [e.message, e.location.line]),
      [['missing required option "inputs" in sink "idle"', 7]],
    )
  })

  it('rejects a sink that is its own dead_letter, and dead letters naming non-sinks', () => {
    const text = `
dead_letter: a
sources:
  a: { type: generator }
sinks:
  out: { type: stdout, inputs: [a], dead_letter: out }
`
    const errors = errorsOf(() => loadConfigText(text, { registry }))
    assert.deepEqual(
      errors.map((e) => [e.code, e.message]),
      [
        ['SLC_CONFIG_TOPOLOGY', 'dead_letter "a" is a source, not a sink'],
        ['SLC_CONFIG_TOPOLOGY', 'sink "out" cannot be its own dead_letter'],
      ],
    )
  })

  it('requires non-empty inputs on transforms and checks input names', () => {
    const text = `
sources:
  a: { type: generator }
transforms:
  f: { type: filter, condition: "true" }
  g: { type: filter, inputs: [], condition: "true" }
  h: { type: filter, inputs: ["a b"], condition: "true" }
sinks:
  out: { type: stdout, inputs: [a] }
`
    const errors = errorsOf(() => loadConfigText(text, { registry }))
    assert.deepEqual(
      errors.map((e) => [e.message, e.expected, e.location.path]),
      [
        ['missing required option "inputs" in transform "f"', 'string[]', 'inputs'],
        ['invalid value for option "inputs" in transform "g"', 'at least 1 item', 'inputs'],
        ['invalid value for option "inputs[0]" in transform "h"', 'a component name or `<router>.<output>`', 'inputs[0]'],
      ],
    )
  })

  it('requires at least one source and one sink', () => {
    const errors = errorsOf(() => loadConfigText('sources: {}\n', { registry }))
    assert.deepEqual(
      errors.map((e) => e.message),
      ['the config has no sources', 'the config has no sinks'],
    )
    assert.deepEqual(errorsOf(() => loadConfigText('', { registry })).map((e) => e.message), ['the config is empty'])
    assert.deepEqual(errorsOf(() => loadConfigText('- a\n', { registry })).map((e) => e.message), ['the config must be a mapping of keys to values'])
  })

  it('rejects bad component names and blocks that are not mappings', () => {
    const text = 'sources:\n  "bad name": { type: generator }\n  ok: generator\n  m: { path: x }\nsinks:\n  out: { type: stdout, inputs: [ok] }\n'
    const errors = errorsOf(() => loadConfigText(text, { registry }))
    assert.deepEqual(
      errors.map((e) => [e.message, e.location.line, e.location.column]),
      [
        ['invalid component name "bad name"', 2, 3],
        ['source "ok" must be a mapping with a "type"', 3, 7],
        ['missing required option "type" in source "m"', 4, 3],
      ],
    )
  })

  it('reports a rule over a whole options block at the component name', () => {
    const pick = defineTransform({
      type: 'pick',
      status: 'alpha',
      summary: 'Needs one of two options.',
      options: z.strictObject({ keep: z.array(z.string()).optional(), drop: z.array(z.string()).optional() }).refine((o) => o.keep || o.drop, 'pick needs `keep` or `drop`'),
      build: () => ({ kind: 'record', process: (r) => r }),
    })
    const text = 'sources:\n  a: { type: generator }\ntransforms:\n  p: { type: pick, inputs: [a] }\nsinks:\n  out: { type: stdout, inputs: [p] }\n'
    const [e] = errorsOf(() => loadConfigText(text, { registry: registry.with(pick) }))
    assert.equal(e!.message, 'invalid transform "p": pick needs `keep` or `drop`')
    assert.deepEqual([e!.location.line, e!.location.column, e!.location.component, e!.location.path], [4, 3, 'p', undefined])
  })

  it('interpolates the environment, typing a whole ${VAR} by what the option takes', () => {
    const text = `
sources:
  a:
    type: generator
    port: "\${PORT}"
    enabled: \${ON:-true}
    label: \${LABEL}
    count: \${COUNT:-3}
sinks:
  out: { type: file, path: "\${DIR}/out.jsonl", inputs: [a] }
`
    const cfg = loadConfigText(text, { registry, env: { PORT: '8080', LABEL: '1234', DIR: '/var/out' } })
    assert.deepEqual(cfg.components[0]!.options, { port: 8080, enabled: true, label: '1234', count: 3 })
    assert.deepEqual(cfg.components[1]!.options, { path: '/var/out/out.jsonl' })
  })

  it('shows what an interpolated value became when it is wrong', () => {
    const text = 'sources:\n  a: { type: generator, port: "${PORT}" }\nsinks:\n  out: { type: stdout, inputs: [a] }\n'
    const [e] = errorsOf(() => loadConfigText(text, { registry, env: { PORT: 'eighty' } }))
    assert.equal(e!.found, '"eighty" (from "${PORT}")')
    assert.equal(e!.expected, 'integer')
  })
})

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'))

  it('keeps the file name as given and resolves paths against its folder', () => {
    mkdirSync(join(dir, 'conf'), { recursive: true })
    const path = join(dir, 'conf', 'p.yaml')
    writeFileSync(path, pipelineYaml)
    const rel = relative(process.cwd(), path)
    const cfg = loadConfigFile(rel, { registry, env: {} })
    assert.equal(cfg.file, rel)
    assert.equal(cfg.baseDir, join(dir, 'conf'))
    assert.equal(cfg.dataDir, join(dir, 'conf', 'state'))
    assert.equal(cfg.locate(['sinks']).file, rel)
  })

  it('reports a missing or unreadable file as SLC_CONFIG_FILE', () => {
    const [missing] = errorsOf(() => loadConfigFile(join(dir, 'nope.yaml'), { registry }))
    assert.equal(missing!.code, 'SLC_CONFIG_FILE')
    assert.match(missing!.message, /nope\.yaml": no such file$/)
    assert.equal(missing!.location.file, join(dir, 'nope.yaml'))
    const [directory] = errorsOf(() => loadConfigFile(dir, { registry }))
    assert.match(directory!.message, /it is a directory$/)
  })
})
