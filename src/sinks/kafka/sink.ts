// The kafka sink at run time: turns a write into produce requests (topic, key, partition and value
// per record, requests of at most `max_request_bytes`), sends them one after the other with the
// idempotent producer, and maps broker answers to delivery outcomes.
//
//   write(records) ─► prepare (once per records array, kept for retries)
//                        │ records that cannot be sent (missing field, unknown topic) → failed
//                        ▼
//                     queue of requests ──send──► acked: next request
//                                          │ request failed → RetryableError (same request again)
//                                          │ partition refused a record → split until it is alone → failed
//                     all sent: resolve, or PartialBatchError(failed)
//
// A retry of a write (the same records array) resumes at the request that failed, so requests
// already acknowledged are not sent again. Resending the very request that failed keeps the
// producer's sequence numbers, so the broker discards what the failed attempt had stored;
// anything else after a failure starts a new producer id first (see KafkaProducer.send).
import type { BuildContext, Sink } from '../../component/define.js'
import type { Rec } from '../../core/batch.js'
import { PartialBatchError, PermanentError, RecordError, RetryableError, isSluiceError } from '../../core/errors.js'
import { encodeJson } from '../../codecs/encode.js'
import { compileTemplate, type Template } from '../../component/template.js'
import { KafkaProducer, describeKafkaError, murmur2Partition, type ProduceMessage } from '../../clients/kafka.js'
import type { Logger } from '../../observe/log.js'
import { classifyProduceFailure } from './classify-error.js'
import { TOPIC_NAME, type KafkaSinkOptions } from './index.js'

/** A topic name Kafka accepts. */

/** Bytes of record framing in a Kafka record batch (lengths, deltas, attributes), rounded up. */
const RECORD_OVERHEAD_BYTES = 24
/** How long a topic the cluster did not know stays known-missing (saves the client's 3 s of retries per write). */
const UNKNOWN_TOPIC_TTL_MS = 10_000
/** Retries inside the client, 1 s apart, before a failure reaches the sink runner's backoff. */
const CLIENT_RETRIES = 2

/** One produce request: indexes of records, in order. */
type Request = number[]

/** A write in progress, kept per records array so a retry resumes where the last attempt stopped. */
interface WriteState {
  messages: (ProduceMessage | undefined)[]
  sizes: Uint32Array
  queue: Request[]
  failed: Map<number, Error>
}

type Partitioning = 'murmur2' | 'round_robin' | 'field'

export class KafkaSink implements Sink {
  private producer: KafkaProducer | undefined
  private closed = false
  private readonly log: Logger
  private readonly clientId: string
  private readonly topic: Template
  private readonly key: Template | undefined
  private readonly headers: [string, Template][]
  private readonly partitioning: Partitioning
  private readonly encodeValue: (record: Rec) => Buffer
  private readonly writes = new WeakMap<Rec[], WriteState>()
  private readonly unknownTopics = new Map<string, number>()
  private readonly roundRobin = new Map<string, number>()
  /**
   * The request whose send failed last, until it is sent again; `'reset'` when the next send must
   * start a new producer id whatever it carries.
   */
  private unsettled: Request | 'reset' | undefined

  constructor(
    private readonly opts: KafkaSinkOptions,
    ctx: BuildContext,
  ) {
    this.log = ctx.log
    this.clientId = opts.client_id ?? `sluice-${ctx.id}`
    this.topic = compileTemplate(opts.topic)
    this.key = opts.key === undefined ? undefined : compileTemplate(opts.key)
    this.headers = Object.entries(opts.headers ?? {}).map(([name, t]) => [name, compileTemplate(t)])
    this.partitioning = opts.partitioner ?? (opts.key === undefined ? 'round_robin' : 'murmur2')
    this.encodeValue = valueEncoder(opts)
  }

  async open(): Promise<void> {
    const producer = this.client()
    const fixed = this.topic.constant
    if (fixed === undefined) return
    let partitions: number | undefined
    try {
      partitions = await producer.partitions(fixed)
    } catch (e) {
      throw new PermanentError(`Cannot reach the Kafka brokers ${this.opts.brokers.join(', ')} to check topic "${fixed}": ${describeKafkaError(e)}.`, { cause: e })
    }
    if (partitions === undefined) {
      throw new PermanentError(`Topic "${fixed}" does not exist on the Kafka cluster at ${this.opts.brokers.join(', ')}: create it first (this sink never creates topics).`)
    }
  }

  async write(records: Rec[], signal: AbortSignal): Promise<void> {
    if (records.length === 0) return
    if (this.closed) throw new PermanentError('The kafka sink is closed.')
    const producer = this.client()
    let state = this.writes.get(records)
    if (!state) {
      state = await this.prepare(records)
      this.writes.set(records, state)
    }
    // The client cannot cancel a send; closing it fails the pending one when shutdown gives up.
    const onAbort = () => void this.close().catch(() => {})
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      await this.sendQueue(producer, state)
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
    this.writes.delete(records)
    if (state.failed.size > 0) throw new PartialBatchError(state.failed)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const p = this.producer
    this.producer = undefined
    await p?.close()
  }

  private client(): KafkaProducer {
    this.producer ??= new KafkaProducer({
      brokers: this.opts.brokers,
      clientId: this.clientId,
      compression: this.opts.compression === 'zstd' ? 'none' : this.opts.compression,
      timeoutMs: this.opts.request_timeout,
      retries: CLIENT_RETRIES,
    })
    return this.producer
  }

  // ─── Sending ────────────────────────────────────────────────────────────────────────────

  private async sendQueue(producer: KafkaProducer, state: WriteState): Promise<void> {
    const { queue, messages, failed } = state
    while (queue.length > 0) {
      const request = queue[0]!
      if (this.unsettled !== undefined && this.unsettled !== request) {
        // Not a resend of the failed request: its sequence numbers may be taken (see file head).
        try {
          await producer.resetIdempotence()
        } catch (e) {
          const verdict = classifyProduceFailure(e)
          throw verdict.scope === 'request' ? verdict.error : e
        }
        this.log.debug({ component: this.clientId }, 'Started a new idempotent producer id after a failed send.')
      }
      this.unsettled = undefined
      try {
        await producer.send(request.map((i) => messages[i]!))
        queue.shift()
        continue
      } catch (e) {
        this.unsettled = request
        const verdict = classifyProduceFailure(e)
        if (verdict.scope === 'request') {
          if (verdict.resetProducer) this.unsettled = 'reset'
          throw verdict.error
        }
        // Per-partition answer: keep what was written, isolate refused records, resend the rest.
        this.unsettled = 'reset'
        const byPartition = new Map<string, number[]>()
        for (const i of request) {
          const m = messages[i]!
          const k = `${m.topic}:${m.partition}`
          let list = byPartition.get(k)
          if (!list) byPartition.set(k, (list = []))
          list.push(i)
        }
        const again: number[] = []
        const split: Request[] = []
        let retryReason: string | undefined
        for (const [k, indexes] of byPartition) {
          const v = verdict.partitions.get(k) ?? { action: 'retry' as const, reason: `no answer for ${k}: ${verdict.message}` }
          switch (v.action) {
            case 'written':
              break
            case 'retry':
              again.push(...indexes)
              retryReason ??= v.reason
              break
            case 'reject':
              for (const i of indexes) failed.set(i, new RecordError('SLC_RECORD_REJECTED', `${v.reason}.`))
              break
            case 'isolate':
              if (indexes.length === 1) failed.set(indexes[0]!, new RecordError('SLC_RECORD_REJECTED', `${v.reason}.`))
              else {
                const half = indexes.length >> 1
                split.push(indexes.slice(0, half), indexes.slice(half))
              }
          }
        }
        queue.shift()
        queue.unshift(...(again.length > 0 ? [again.sort((a, b) => a - b)] : []), ...split)
        if (retryReason !== undefined) throw new RetryableError(`${retryReason}.`, { cause: e })
      }
    }
  }

  // ─── Preparing ──────────────────────────────────────────────────────────────────────────

  /** Messages for every record that can be sent, failures for the others, and the requests. */
  private async prepare(records: Rec[]): Promise<WriteState> {
    const n = records.length
    const failed = new Map<number, Error>()
    const topics: (string | undefined)[] = new Array(n)
    const partitionCounts = new Map<string, number | undefined>()
    for (let i = 0; i < n; i++) {
      const t = this.topic.render(records[i]!)
      if (typeof t !== 'string') failed.set(i, reject(`Topic field "${t.missing}" is missing or null`))
      else if (!TOPIC_NAME.test(t)) failed.set(i, reject(`Topic "${t}" is not a valid Kafka topic name (1 to 249 of letters, digits, ".", "_", "-")`))
      else {
        topics[i] = t
        if (!partitionCounts.has(t)) partitionCounts.set(t, undefined)
      }
    }
    for (const t of partitionCounts.keys()) partitionCounts.set(t, await this.partitionCount(t))

    const messages: (ProduceMessage | undefined)[] = new Array(n)
    const sizes = new Uint32Array(n)
    for (let i = 0; i < n; i++) {
      const topic = topics[i]
      if (topic === undefined) continue
      const count = partitionCounts.get(topic)
      if (count === undefined) {
        failed.set(i, reject(`Topic "${topic}" does not exist on the Kafka cluster (this sink never creates topics)`))
        continue
      }
      try {
        const m = this.message(records[i]!, topic, count)
        messages[i] = m
        let size = RECORD_OVERHEAD_BYTES + m.value.length + (m.key?.length ?? 0)
        if (m.headers) for (const [hk, hv] of m.headers) size += hk.length + hv.length + 4
        sizes[i] = size
      } catch (e) {
        failed.set(i, isSluiceError(e) ? e : reject(`Cannot encode the record: ${(e as Error).message}`))
      }
    }
    return { messages, sizes, queue: this.requests(messages, sizes), failed }
  }

  /** Consecutive records grouped into requests of at most `max_request_bytes` (at least one record each). */
  private requests(messages: (ProduceMessage | undefined)[], sizes: Uint32Array): Request[] {
    const out: Request[] = []
    let current: Request = []
    let bytes = 0
    for (let i = 0; i < messages.length; i++) {
      if (messages[i] === undefined) continue
      if (current.length > 0 && bytes + sizes[i]! > this.opts.max_request_bytes) {
        out.push(current)
        current = []
        bytes = 0
      }
      current.push(i)
      bytes += sizes[i]!
    }
    if (current.length > 0) out.push(current)
    return out
  }

  private message(record: Rec, topic: string, partitions: number): ProduceMessage {
    let key: Buffer | undefined
    if (this.key) {
      const k = this.key.render(record)
      if (typeof k !== 'string') throw reject(`Key field "${k.missing}" is missing or null`)
      key = Buffer.from(k)
    }
    const m: ProduceMessage = { topic, partition: this.partition(record, topic, partitions, key), key, value: this.encodeValue(record) }
    if (this.headers.length > 0) {
      const headers = new Map<string, Buffer>()
      for (const [name, t] of this.headers) {
        const v = t.render(record)
        if (typeof v === 'string') headers.set(name, Buffer.from(v))
      }
      m.headers = headers
    }
    return m
  }

  private partition(record: Rec, topic: string, partitions: number, key: Buffer | undefined): number {
    switch (this.partitioning) {
      case 'murmur2':
        return murmur2Partition(key!, partitions)
      case 'round_robin': {
        const next = this.roundRobin.get(topic) ?? 0
        this.roundRobin.set(topic, next + 1 >= partitions ? 0 : next + 1)
        return next % partitions
      }
      case 'field': {
        const field = this.opts.partition_field!
        const p = record[field]
        if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p >= partitions) {
          throw reject(`Partition field "${field}" must be an integer from 0 to ${partitions - 1} (topic "${topic}" has ${partitions} partitions), found ${JSON.stringify(p) ?? 'nothing'}`)
        }
        return p
      }
    }
  }

  /** Partitions of `topic`, or undefined when the cluster does not know it (remembered briefly). */
  private async partitionCount(topic: string): Promise<number | undefined> {
    const until = this.unknownTopics.get(topic)
    if (until !== undefined && until > Date.now()) return undefined
    let count: number | undefined
    try {
      count = await this.client().partitions(topic)
    } catch (e) {
      const verdict = classifyProduceFailure(e)
      throw verdict.scope === 'request' ? verdict.error : e
    }
    if (count === undefined) this.unknownTopics.set(topic, Date.now() + UNKNOWN_TOPIC_TTL_MS)
    else this.unknownTopics.delete(topic)
    return count
  }
}

function reject(message: string): RecordError {
  return new RecordError('SLC_RECORD_REJECTED', `${message}.`)
}

/** The value encoder, chosen once from the options so the hot path does not branch per record. */
function valueEncoder(opts: KafkaSinkOptions): (record: Rec) => Buffer {
  const field = opts.value_field
  if (opts.format === 'raw') {
    return (record) => {
      const v = record[field!]
      if (typeof v === 'string') return Buffer.from(v)
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
      throw reject(`Field "${field}" must be a string or bytes for format: raw, found ${v === null ? 'null' : typeof v}`)
    }
  }
  if (field === undefined) return (record) => Buffer.from(encodeJson(record))
  return (record) => {
    if (!(field in record)) throw reject(`Value field "${field}" is missing`)
    return Buffer.from(encodeJson(record[field]))
  }
}
