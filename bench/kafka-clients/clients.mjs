// One small wrapper per candidate Kafka client, all with the same settings, so bench.mjs can
// drive them alike. Loaded from the scratch folder (see run.sh), never from the project's
// node_modules.
//
// Settings for every client: idempotent producer, acks=all, compression from COMPRESSION
// (default none: kafkajs has no built-in lz4), the application hands the client batches of
// SEND_BATCH (1000) messages with WINDOW (1) send() call outstanding (WINDOW=4 in
// the 'window' phase: @platformatic/kafka's idempotent producer fails with more than one), which gives
// ~33 KB per-partition batches on 6 partitions; librdkafka batches by itself, so it gets
// batch.size=65536 and linger.ms=5. Consumers: group member, autocommit off, offsets committed
// by the application (awaited) every COMMIT_EVERY messages and at the end.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

export const SEND_BATCH = Number(process.env.SEND_BATCH ?? 1000)
export const WINDOW = Number(process.env.WINDOW ?? 1)
export const COMMIT_EVERY = Number(process.env.COMMIT_EVERY ?? 10000)
export const COMPRESSION = process.env.COMPRESSION ?? 'none'
const SESSION_TIMEOUT = 30000

const require = createRequire(process.env.CLIENTS_DIR ? `${process.env.CLIENTS_DIR}/package.json` : import.meta.url)

function pkgVersion(name) {
  // package.json may not be exported: walk up from the resolved entry point.
  let d = dirname(require.resolve(name))
  for (;;) {
    try {
      const p = JSON.parse(readFileSync(join(d, 'package.json'), 'utf8'))
      if (p.name === name) return p.version
    } catch {}
    const up = dirname(d)
    if (up === d) return 'unknown'
    d = up
  }
}

// ─── @platformatic/kafka ────────────────────────────────────────────────────────────────
async function platformatic() {
  const pk = await import(require.resolve('@platformatic/kafka'))
  const { Producer, Consumer, Admin, ProduceAcks, MessagesStreamModes } = pk
  const version = pkgVersion('@platformatic/kafka')
  return {
    name: 'platformatic',
    version,
    async producer(brokers, opts = {}) {
      const p = new Producer({
        clientId: 'bench-producer',
        bootstrapBrokers: brokers,
        idempotent: true,
        acks: ProduceAcks.ALL,
        compression: COMPRESSION,
        retries: true, // unbounded, like the adapter's consumer; the library forces unbounded for idempotent anyway
        retryDelay: 1000,
        timeout: 30000,
        autocreateTopics: false,
        ...(opts.partitioner === 'java' ? { partitioner: pk.compatibilityPartitioner ?? ((_, key) => (pk.murmur2(key) & 0x7fffffff)) } : {}),
      })
      return {
        // messages: [{ key: Buffer, value: Buffer }]
        send: (topic, messages) => p.send({ messages: messages.map((m) => ({ topic, key: m.key, value: m.value })) }),
        close: () => new Promise((res, rej) => p.close(true, (e) => (e ? rej(e) : res()))),
      }
    },
    async consumer(brokers, group, topic, events = {}) {
      const c = new Consumer({
        clientId: `bench-consumer-${process.pid}-${Math.random().toString(36).slice(2, 6)}`,
        bootstrapBrokers: brokers,
        groupId: group,
        autocommit: false,
        retries: true,
        retryDelay: 1000,
        sessionTimeout: SESSION_TIMEOUT,
        rebalanceTimeout: SESSION_TIMEOUT,
        heartbeatInterval: 3000,
        maxBytes: 8 * 1024 * 1024,
        maxWaitTime: 500,
        highWaterMark: 4096,
      })
      let assigned = []
      c.on('consumer:group:join', (p) => {
        assigned = []
        for (const a of p.assignments ?? []) for (const part of a.partitions) assigned.push(part)
        events.onAssign?.(assigned.slice())
      })
      let stream
      let stopped = false
      return {
        assignment: () => assigned.slice(),
        // run(onBatch): onBatch(messages[{partition, offset(number), value}]) -> Promise|void; resolves when stop() is called
        async run(onBatch) {
          stream = await c.consume({ topics: [topic], mode: MessagesStreamModes.COMMITTED, fallbackMode: 'earliest', autocommit: false, maxBytes: 8 * 1024 * 1024, highWaterMark: 4096 })
          // A permanent 'readable' listener, as in src/clients/kafka.ts: with a listener added and
          // removed around each wait (once/off), the stream stopped fetching after ~38k messages.
          let wake
          stream.on('readable', () => wake?.())
          const buf = []
          while (!stopped) {
            let m
            while (buf.length < 1000 && (m = stream.read()) !== null) buf.push({ partition: m.partition, offset: Number(m.offset), value: m.value, key: m.key })
            if (buf.length > 0) {
              await onBatch(buf.splice(0))
              continue
            }
            await new Promise((r) => {
              const t = setTimeout(done, 200)
              function done() { clearTimeout(t); wake = undefined; r() }
              wake = done
            })
          }
        },
        commit: (offsets) => c.commit({ offsets: offsets.map((o) => ({ topic, partition: o.partition, offset: BigInt(o.offset), leaderEpoch: -1 })) }),
        stop() { stopped = true },
        async close() {
          stopped = true
          if (stream && !stream.destroyed) await stream.close().catch(() => {})
          await new Promise((res, rej) => c.close(true, (e) => (e ? rej(e) : res())))
        },
      }
    },
    async createTopic(brokers, topic, partitions) {
      const a = new Admin({ clientId: 'bench-admin', bootstrapBrokers: brokers })
      try { await a.createTopics({ topics: [topic], partitions, replicas: 1 }) } finally { await a.close() }
    },
    async deleteTopic(brokers, topic) {
      const a = new Admin({ clientId: 'bench-admin', bootstrapBrokers: brokers })
      try { await a.deleteTopics({ topics: [topic] }) } finally { await a.close() }
    },
  }
}

// ─── @confluentinc/kafka-javascript (librdkafka), KafkaJS-compatible promise API ───────────
async function confluent() {
  const ck = require('@confluentinc/kafka-javascript')
  const { Kafka, CompressionTypes } = ck.KafkaJS
  const version = pkgVersion('@confluentinc/kafka-javascript')
  const logLevel = ck.KafkaJS.logLevel
  const kafka = (brokers) => new Kafka({ kafkaJS: { brokers, clientId: 'bench', logLevel: logLevel.ERROR } })
  const comp = { none: CompressionTypes.None, lz4: CompressionTypes.LZ4, gzip: CompressionTypes.GZIP, zstd: CompressionTypes.ZSTD, snappy: CompressionTypes.Snappy }[COMPRESSION]
  return {
    name: 'confluent',
    version: `${version} (librdkafka ${ck.librdkafkaVersion})`,
    features: ck.features,
    async producer(brokers) {
      const p = kafka(brokers).producer({
        kafkaJS: { idempotent: true, acks: -1, compression: comp },
        'linger.ms': 5,
        'batch.size': 65536,
        'message.send.max.retries': 2147483647,
        'retry.backoff.ms': 1000,
      })
      await p.connect()
      return {
        send: (topic, messages) => p.send({ topic, messages }),
        close: () => p.disconnect(),
      }
    },
    async consumer(brokers, group, topic, events = {}) {
      let assigned = []
      const c = kafka(brokers).consumer({
        kafkaJS: { groupId: group, fromBeginning: true, autoCommit: false, sessionTimeout: SESSION_TIMEOUT, rebalanceTimeout: SESSION_TIMEOUT, heartbeatInterval: 3000, maxBytes: 8 * 1024 * 1024 },
        'js.consumer.max.batch.size': Number(process.env.CKJS_MAX_BATCH ?? -1), // -1: no cap (the library's default is 32)
        rebalance_cb: (err, assignment) => {
          // Called on assign and revoke (eager protocol): keep track of the current assignment.
          if (err.code === ck.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) assigned = assignment.map((a) => a.partition)
          else assigned = []
          events.onAssign?.(assigned.slice())
        },
      })
      await c.connect()
      await c.subscribe({ topics: [topic] })
      return kafkajsConsumer(c, topic, () => assigned, {})
    },
    ...kafkajsAdmin(kafka),
  }
}

// ─── kafkajs (pure JS, last stable 2.2.4) ───────────────────────────────────────────────
async function kafkajs() {
  const k = require('kafkajs')
  const version = pkgVersion('kafkajs')
  const kafka = (brokers) => new k.Kafka({ brokers, clientId: 'bench', logLevel: k.logLevel.NOTHING, retry: { retries: 1000, initialRetryTime: 1000, maxRetryTime: 15000 } })
  const comp = { none: k.CompressionTypes.None, gzip: k.CompressionTypes.GZIP }[COMPRESSION]
  if (comp === undefined) throw new Error(`kafkajs has no built-in codec for ${COMPRESSION}`)
  return {
    name: 'kafkajs',
    version,
    async producer(brokers) {
      const p = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
      await p.connect()
      return {
        send: (topic, messages) => p.send({ topic, acks: -1, compression: comp, messages }),
        close: () => p.disconnect(),
      }
    },
    async consumer(brokers, group, topic, events = {}) {
      const c = kafka(brokers).consumer({ groupId: group, sessionTimeout: SESSION_TIMEOUT, rebalanceTimeout: SESSION_TIMEOUT, heartbeatInterval: 3000, maxBytes: 8 * 1024 * 1024 })
      let assigned = []
      c.on(c.events.GROUP_JOIN, (e) => { assigned = (e.payload.memberAssignment[topic] ?? []).slice(); events.onAssign?.(assigned.slice()) })
      await c.connect()
      await c.subscribe({ topics: [topic], fromBeginning: true })
      return kafkajsConsumer(c, topic, () => assigned, { autoCommit: false, eachBatchAutoResolve: true })
    },
    ...kafkajsAdmin(kafka),
  }
}

/** The consumer handle both KafkaJS-style clients (confluent's KafkaJS API, kafkajs) give the bench. */
function kafkajsConsumer(c, topic, assigned, runOptions) {
  let stopped = false
  return {
    assignment: () => assigned().slice(),
    async run(onBatch) {
      await c.run({
        ...runOptions,
        eachBatch: async ({ batch }) => {
          if (stopped) return
          await onBatch(batch.messages.map((m) => ({ partition: batch.partition, offset: Number(m.offset), value: m.value, key: m.key })))
        },
      })
      await new Promise((r) => { const t = setInterval(() => { if (stopped) { clearInterval(t); r() } }, 50) })
    },
    commit: (offsets) => c.commitOffsets(offsets.map((o) => ({ topic, partition: o.partition, offset: String(o.offset) }))),
    stop() { stopped = true },
    close: () => { stopped = true; return c.disconnect() },
  }
}

/** Topic creation and deletion through a KafkaJS-style admin client. */
function kafkajsAdmin(kafka) {
  return {
    async createTopic(brokers, topic, partitions) {
      const a = kafka(brokers).admin(); await a.connect()
      try { await a.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] }) } finally { await a.disconnect() }
    },
    async deleteTopic(brokers, topic) {
      const a = kafka(brokers).admin(); await a.connect()
      try { await a.deleteTopics({ topics: [topic] }) } finally { await a.disconnect() }
    },
  }
}

export async function loadClient(name) {
  if (name === 'platformatic') return platformatic()
  if (name === 'confluent') return confluent()
  if (name === 'kafkajs') return kafkajs()
  throw new Error(`unknown client ${name}`)
}
