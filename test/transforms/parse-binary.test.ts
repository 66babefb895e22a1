// The `parse` transform's binary formats: Avro and protobuf messages carried as base64 text or
// bytes, decoded through the same codecs as the kafka source.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import avro from 'avsc'
import protobuf from 'protobufjs'
import type { BuildContext, RecordTransform } from '../../src/component/define.js'
import { ConfigError } from '../../src/core/errors.js'
import { silentLogger } from '../../src/observe/log.js'
import { parse } from '../../src/transforms/parse.js'
import { parseError } from './parse-helpers.js'

const fixtures = join(import.meta.dirname, '..', 'codecs', 'fixtures')
const ctx: BuildContext = { id: 'decode', baseDir: fixtures, dataDir: '/tmp/sluice-test', log: silentLogger() }
const build = async (options: Record<string, unknown>) => (await parse.build(parse.options.parse(options), ctx)) as RecordTransform

const Order = protobuf.loadSync(join(fixtures, 'order.proto')).lookupType('shop.v1.Order')
const pb = Buffer.from(Order.encode(Order.fromObject({ id: 'o-1', qty: 2, status: 'PAID' })).finish())
const avroType = avro.Type.forSchema(JSON.parse(readFileSync(join(fixtures, 'order.avsc'), 'utf8')))

describe('parse: avro and protobuf', () => {
  it('decodes a base64 protobuf message (standard or URL-safe) into target, and bytes as well', async () => {
    const t = await build({ format: 'protobuf', field: 'data', target: 'order', protobuf: { schema: 'order.proto', message: 'shop.v1.Order' } })
    const out = t.process({ data: pb.toString('base64'), id: 7 })
    assert.deepEqual((out as { order: Record<string, unknown> }).order.id, 'o-1')
    assert.equal((out as { order: Record<string, unknown> }).order.status, 'PAID')
    assert.equal((t.process({ data: pb.toString('base64url') }) as { order: { qty: number } }).order.qty, 2)
    assert.equal((t.process({ data: new Uint8Array(pb) }) as { order: { qty: number } }).order.qty, 2)
  })

  it('decodes a Confluent-framed Avro record and merges it', async () => {
    const t = await build({ format: 'avro', avro: { schema: 'order.avsc', wire_format: 'confluent' } })
    const order = { id: 'a', amount: 1, qty: 1, status: 'NEW', blob: Buffer.alloc(0), note: null, tags: [], customer: { name: 'x' } }
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), avroType.toBuffer(order)])
    assert.deepEqual(t.process({ message: framed.toString('base64'), k: 1 }), { k: 1, ...order, blob: '' })
  })

  it('dead-letters text that is not base64, a wrong type and a message that does not decode', async () => {
    const t = await build({ format: 'avro', avro: { schema: 'order.avsc' } })
    assert.match(parseError(t, { message: 'not base64!' }), /parse "decode": field "message": expected base64 text/)
    assert.equal(parseError(t, { message: 5 }), 'parse "decode": field "message" is a number, expected base64 text or bytes')
    assert.match(parseError(t, { message: 'AAAA' }), /Avro: the value does not decode with the schema "order.avsc"/)
  })

  it('a missing schema file is a config error at build naming the option', async () => {
    await assert.rejects(
      build({ format: 'protobuf', protobuf: { schema: 'nope.proto', message: 'a.B' } }),
      (e: unknown) => e instanceof ConfigError && e.location.path === 'protobuf.schema' && /"nope.proto" does not exist/.test(e.message),
    )
  })
})
