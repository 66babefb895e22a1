// The config JSON Schema: top-level keys, one `oneOf` branch per component type with the common
// keys merged in, descriptions for editors, and no clashes between components' definitions.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { defineSource } from '../../src/component/define.js'
import { z } from '../../src/component/options.js'
import { configJsonSchema } from '../../src/config/json-schema.js'
import { testRegistry } from './fixtures.js'

type Json = Record<string, any>

describe('configJsonSchema', () => {
  const schema = configJsonSchema(testRegistry()) as Json

  it('describes the top-level keys', () => {
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema')
    assert.equal(schema.additionalProperties, false)
    assert.deepEqual(schema.required, ['sources', 'sinks'])
    assert.deepEqual(Object.keys(schema.properties), [
      'data_dir',
      'shutdown_timeout',
      'checkpoint_interval',
      'state_checkpoint_interval',
      'channel',
      'dead_letter',
      'memory_limit',
      'sources',
      'transforms',
      'sinks',
    ])
    assert.equal(schema.properties.shutdown_timeout.default, '30s')
    assert.match(schema.properties.data_dir.description, /checkpoints/)
    assert.equal(schema.properties.channel.properties.max_bytes.default, '4MiB')
  })

  it('has one branch per component type, pinned by a const type', () => {
    const branches = schema.properties.sinks.additionalProperties.oneOf as Json[]
    assert.deepEqual(
      branches.map((b) => b.properties.type.const),
      ['file', 'postgres', 'stdout'],
    )
    assert.equal(schema.properties.sources.propertyNames.pattern, '^[A-Za-z_][A-Za-z0-9_-]*$')
    assert.deepEqual(schema.properties.transforms.type, ['object', 'null'])
  })

  it('merges the common keys into each branch and keeps additionalProperties: false', () => {
    const postgres = (schema.properties.sinks.additionalProperties.oneOf as Json[]).find((b) => b.properties.type.const === 'postgres')!
    assert.equal(postgres.additionalProperties, false)
    assert.deepEqual(Object.keys(postgres.properties), ['type', 'inputs', 'dead_letter', 'buffer', 'url', 'table', 'batch', 'retry', 'upsert_key'])
    assert.deepEqual(postgres.required, ['type', 'url', 'table'])
    assert.equal(postgres.description, 'Write record batches to a PostgreSQL table.')
    assert.equal(postgres.properties.batch.additionalProperties, false)
    assert.equal(postgres.properties.batch.properties.linger.default, '200ms')
    assert.equal(postgres.properties.batch.properties.linger.description, 'Longest time a partial batch waits for more records before it is written.')
    assert.equal(postgres.properties.url.description, 'Connection URL.')

    const filter = (schema.properties.transforms.additionalProperties.oneOf as Json[])[0]!
    assert.deepEqual(filter.required, ['type', 'inputs', 'condition'])
    const file = (schema.properties.sources.additionalProperties.oneOf as Json[])[0]!
    assert.deepEqual(Object.keys(file.properties), ['type', 'dead_letter', 'path', 'format', 'follow', 'poll_interval'])
    assert.deepEqual(file.properties.format.enum, ['json', 'csv', 'lines'])
  })

  it('moves component $defs to the root under a per-component prefix', () => {
    const shared = z.string().meta({ id: 'Codec', description: 'A codec name.' })
    const a = defineSource({
      type: 'a',
      status: 'alpha',
      summary: 'A.',
      options: z.strictObject({ codec: shared }),
      build: () => ({ run: async () => {} }),
    })
    const registry = testRegistry().with(a)
    const s = configJsonSchema(registry) as Json
    const branch = (s.properties.sources.additionalProperties.oneOf as Json[]).find((b) => b.properties.type.const === 'a')!
    assert.deepEqual(branch.properties.codec, { $ref: '#/$defs/source.a.Codec' })
    assert.equal(s.$defs['source.a.Codec'].description, 'A codec name.')
  })
})
