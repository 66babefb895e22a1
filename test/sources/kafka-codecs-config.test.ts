// Config checks of the kafka source's avro/protobuf formats, without a broker: `sluice validate`
// (loading) never reads the schema file; building the pipeline does, and turns a missing file or
// an unknown message type into a ConfigError located at the option.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import pino from 'pino'
import { builtins } from '../../src/component/builtins.js'
import { loadConfigText } from '../../src/config/load.js'
import { ConfigError, ConfigErrors } from '../../src/core/errors.js'
import { runPipeline } from '../../src/core/topology/run.js'
import { collectSink } from '../../src/testing/fault-sinks.js'

const fixtures = join(import.meta.dirname, '..', 'codecs', 'fixtures')
const dataDir = mkdtempSync(join(tmpdir(), 'sluice-kafka-codecs-config-'))
after(() => rmSync(dataDir, { recursive: true, force: true }))
const registry = builtins.with(collectSink())

const yaml = (source: string) =>
  `data_dir: ${dataDir}
sources:
  orders:
    type: kafka
    brokers: 127.0.0.1:1
    group: g
    topics: [t]
${source
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
sinks:
  out: { type: collect, inputs: [orders], name: out }
`
const load = (source: string) => loadConfigText(yaml(source), { registry, baseDir: fixtures, file: 'pipeline.yaml', env: {} })

async function buildError(source: string): Promise<ConfigError> {
  const config = load(source)
  try {
    const result = await runPipeline(config, { registry, log: pino({ level: 'silent' }) })
    assert.fail(`expected a config error, the run ended ${result.status}`)
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e))
    return e
  }
}

describe('kafka source: avro / protobuf options', () => {
  test('validation does not read the schema file', () => {
    assert.doesNotThrow(() => load('format: avro\navro: { schema: nowhere.avsc }'))
    assert.doesNotThrow(() => load('format: protobuf\nprotobuf: { schema: nowhere.proto, message: a.B }'))
  })

  test('a missing schema file stops the pipeline at build with a config error at `avro.schema`', async () => {
    const e = await buildError('format: avro\navro:\n  schema: nowhere.avsc\n  wire_format: confluent')
    assert.equal(e.code, 'SLC_CONFIG_INVALID')
    assert.equal(e.location.component, 'orders')
    assert.equal(e.location.path, 'avro.schema')
    assert.equal(e.location.file, 'pipeline.yaml')
    assert.equal(e.location.line, 10)
    assert.match(e.message, /the schema file "nowhere.avsc" does not exist/)
  })

  test('an unknown protobuf message type is a config error at `protobuf.message`', async () => {
    const e = await buildError('format: protobuf\nprotobuf:\n  schema: order.proto\n  message: shop.v1.Oder')
    assert.equal(e.location.path, 'protobuf.message')
    assert.equal(e.location.line, 11)
    assert.match(e.message, /no message type "shop.v1.Oder" in "order.proto"/)
    assert.match(e.expected ?? '', /shop\.v1\.Order/)
  })

  test('format and settings block must go together', () => {
    const issues = (source: string) => {
      try {
        load(source)
      } catch (e) {
        assert.ok(e instanceof ConfigErrors, String(e))
        return e.errors.map((x) => `${x.location.path}: ${x.message}`)
      }
      return []
    }
    assert.match(issues('format: avro').join('\n'), /avro: .*`format: avro` needs the `avro` settings/)
    assert.match(issues('format: protobuf\nprotobuf: { schema: x.proto }').join('\n'), /protobuf.message/)
    assert.match(issues('avro: { schema: a.avsc }').join('\n'), /avro: .*`avro` settings apply only with `format: avro`/)
    assert.match(issues('format: avro\navro: { schema: a.avsc, wire_format: registry }').join('\n'), /avro.wire_format/)
  })
})
