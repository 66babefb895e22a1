import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Channel, ChannelClosedError } from '../../src/core/channel.js'

const batch = (n: number, bytes = n * 10) => ({ records: new Array(n).fill(0), bytes })

test('send is synchronous while there is room, and FIFO', async () => {
  const ch = new Channel<{ records: unknown[]; bytes: number }>({ maxRecords: 10, maxBytes: 1000 })
  assert.equal(ch.send(batch(3)), undefined)
  assert.equal(ch.send(batch(4)), undefined)
  assert.deepEqual(ch.stats(), { depth: 2, records: 7, bytes: 70, blockedMs: 0 })
  assert.equal((await ch.recv())!.records.length, 3)
  assert.equal((await ch.recv())!.records.length, 4)
})

test('a full channel (records) makes the producer wait until the consumer takes a batch', async () => {
  const ch = new Channel({ maxRecords: 5, maxBytes: 1_000_000 })
  ch.send(batch(4))
  const wait = ch.send(batch(2))
  assert.ok(wait instanceof Promise, 'second send must block: 4 + 2 > 5')
  let admitted = false
  void wait.then(() => (admitted = true))
  await new Promise((r) => setImmediate(r))
  assert.equal(admitted, false)
  await ch.recv()
  await wait
  assert.equal(admitted, true)
  assert.equal(ch.stats().records, 2)
})

test('a full channel (bytes) blocks too', () => {
  const ch = new Channel({ maxRecords: 1000, maxBytes: 100 })
  assert.equal(ch.send(batch(1, 80)), undefined)
  assert.ok(ch.send(batch(1, 30)) instanceof Promise)
})

test('an oversized batch is admitted into an empty channel', () => {
  const ch = new Channel({ maxRecords: 5, maxBytes: 10 })
  assert.equal(ch.send(batch(50, 5000)), undefined)
})

test('trySend returns false instead of waiting', () => {
  const ch = new Channel({ maxRecords: 2, maxBytes: 1000 })
  assert.equal(ch.trySend(batch(2)), true)
  assert.equal(ch.trySend(batch(1)), false)
  assert.equal(ch.stats().records, 2)
})

test('recv waits for a batch and hands it over directly', async () => {
  const ch = new Channel<{ records: number[]; bytes: number }>({ maxRecords: 2, maxBytes: 1000 })
  const r = ch.recv()
  assert.ok(r instanceof Promise)
  ch.send({ records: [7], bytes: 1 })
  assert.deepEqual((await r)!.records, [7])
  assert.equal(ch.stats().depth, 0)
})

test('close drains what is queued, then recv yields undefined; waiting senders are rejected', async () => {
  const ch = new Channel({ maxRecords: 1, maxBytes: 1000 })
  ch.send(batch(1))
  const blocked = ch.send(batch(1))!
  ch.close()
  await assert.rejects(blocked, ChannelClosedError)
  assert.ok(await ch.recv())
  assert.equal(await ch.recv(), undefined)
  assert.throws(() => ch.send(batch(1)), ChannelClosedError)
})

test('producers: the channel closes when the last producer is done', async () => {
  const ch = new Channel({ maxRecords: 10, maxBytes: 1000 })
  ch.addProducer()
  ch.addProducer()
  const r = ch.recv()
  ch.producerDone()
  assert.equal(ch.isClosed, false)
  ch.producerDone()
  assert.equal(await r, undefined)
})

test('waiting producers are admitted in arrival order (fair fan-in)', async () => {
  const ch = new Channel<{ records: number[]; bytes: number }>({ maxRecords: 1, maxBytes: 1000 })
  ch.send({ records: [0], bytes: 1 })
  const order: number[] = []
  const a = ch.send({ records: [1], bytes: 1 })!.then(() => order.push(1))
  const b = ch.send({ records: [2], bytes: 1 })!.then(() => order.push(2))
  const got: number[] = []
  for (let i = 0; i < 3; i++) got.push((await ch.recv())!.records[0]!)
  await Promise.all([a, b])
  assert.deepEqual(got, [0, 1, 2])
  assert.deepEqual(order, [1, 2])
})

test('memory stays bounded: a fast producer against a slow consumer never exceeds the bound', async () => {
  const ch = new Channel({ maxRecords: 100, maxBytes: 1_000_000 })
  let maxSeen = 0
  const producer = (async () => {
    for (let i = 0; i < 200; i++) {
      const p = ch.send(batch(10))
      if (p) await p
      maxSeen = Math.max(maxSeen, ch.stats().records)
    }
    ch.close()
  })()
  let received = 0
  for (;;) {
    const b = await ch.recv()
    if (!b) break
    received += b.records.length
    if (received % 100 === 0) await new Promise((r) => setTimeout(r, 1))
  }
  await producer
  assert.equal(received, 2000)
  assert.ok(maxSeen <= 100, `queued records peaked at ${maxSeen}`)
})
