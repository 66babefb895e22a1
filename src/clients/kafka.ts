// The one place that imports the Kafka client library (@platformatic/kafka 1.x, pure TypeScript;
// see docs/kafka-client.md for why). Everything else — the kafka source and sink, their tests —
// speaks to Kafka through these few functions, so swapping the client touches this file only.
//
// What this adapter pins down, whatever the library's defaults are:
// - consumers never autocommit (the source commits only what sinks acknowledged), retry
//   without bound with a backoff of at least 1 s, and leave the group on close;
// - producers are idempotent with acks=all and assign partitions themselves (Java-compatible
//   murmur2), so a failed send can be mapped back to the records it carried.
import {
  Admin,
  Consumer,
  GenericError,
  ListOffsetTimestamps,
  UserError,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
  murmur2,
  protocolErrorsCodesById,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka'

export {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  ResponseError,
  TimeoutError,
  UserError,
} from '@platformatic/kafka'

/** Compression codecs the client can write and read on Node 20 (zstd needs Node 22's zlib). */
export const KAFKA_COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4'] as const
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number]

/** A consumed message as the client hands it over (no copy is made). */
export interface KafkaMessage {
  topic: string
  partition: number
  offset: bigint
  /** Milliseconds since the epoch (producer or log-append time). */
  timestamp: bigint
  key: Buffer | undefined | null
  value: Buffer | undefined | null
  headers: Map<Buffer, Buffer>
}

export interface TopicPartition {
  topic: string
  partition: number
}

export interface KafkaLogger {
  debug(obj: object, msg: string): void
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/**
 * Retry delay for reconnects and group operations: 1 s doubling to 8 s, with ±20% jitter. The cap
 * is what a broker restart costs on top of its own start (measured: 15 s made recovery ~20 s).
 */
function retryDelay(_client: unknown, _op: string, attempt: number): number {
  const base = Math.min(8_000, 1000 * 2 ** Math.min(3, Math.max(0, attempt - 1)))
  return Math.round(base * (0.8 + Math.random() * 0.4))
}

// ─── Consumer ──────────────────────────────────────────────────────────────────────────────

export interface KafkaConsumerConfig {
  brokers: string[]
  clientId: string
  group: string
  topics: string[]
  /** `committed` falls back to the earliest offset for partitions the group never committed. */
  startFrom: 'earliest' | 'latest' | 'committed'
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  /** Most bytes one fetch response may carry (across partitions). */
  maxPollBytes: number
  /** Messages the client may hold decoded before the source reads them (stream high-water mark). */
  bufferedMessages: number
  /** Longest time the broker holds a fetch open when there is no data. */
  maxWaitMs?: number
  log: KafkaLogger
  /** The complete new assignment of this member, after every (re)join of the group. */
  onAssignment(partitions: TopicPartition[]): void
}

/**
 * A group member reading a set of topics. `read()` drains what the client has buffered without
 * waiting; when the source stops reading, the buffer fills and the client stops fetching (that
 * is the backpressure: the library 1.x has no per-partition pause, so the whole member pauses).
 */
export class KafkaConsumer {
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined
  private wake: (() => void) | undefined
  private closed = false
  private restarting = false
  /**
   * Between the coordinator's rebalance notice and the next assignment. A commit sent then is
   * refused and the library reacts by joining again (a second rebalance): callers hold commits.
   */
  rebalancing = false
  /** When the current stream last completed a fetch (or was opened). */
  private lastFetch = Date.now()
  private watchdog: NodeJS.Timeout | undefined

  private constructor(
    private readonly client: Consumer<Buffer, Buffer, Buffer, Buffer>,
    private readonly cfg: KafkaConsumerConfig,
  ) {}

  /** Join the group and start fetching. Retries (without bound) until the cluster answers. */
  static async start(cfg: KafkaConsumerConfig, signal?: AbortSignal): Promise<KafkaConsumer> {
    const heartbeat = Math.max(100, Math.min(3000, Math.floor(cfg.sessionTimeoutMs / 3)))
    const client = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      clientId: cfg.clientId,
      bootstrapBrokers: cfg.brokers,
      groupId: cfg.group,
      autocommit: false,
      retries: true,
      retryDelay,
      sessionTimeout: cfg.sessionTimeoutMs,
      rebalanceTimeout: Math.max(cfg.rebalanceTimeoutMs, cfg.sessionTimeoutMs),
      heartbeatInterval: heartbeat,
      maxBytes: cfg.maxPollBytes,
      maxWaitTime: cfg.maxWaitMs ?? 500,
      highWaterMark: cfg.bufferedMessages,
    })
    const c = new KafkaConsumer(client, cfg)
    client.on('consumer:group:join', (p) => {
      const parts: TopicPartition[] = []
      for (const a of p.assignments ?? []) for (const partition of a.partitions) parts.push({ topic: a.topic, partition })
      cfg.log.info({ group: cfg.group, generation: p.generationId, partitions: parts.map((x) => `${x.topic}/${x.partition}`) }, 'Joined the consumer group.')
      c.rebalancing = false
      cfg.onAssignment(parts)
      c.wakeUp()
    })
    client.on('consumer:group:rebalance', () => {
      c.rebalancing = true
      cfg.log.info({ group: cfg.group }, 'The consumer group is rebalancing.')
    })
    const onAbort = () => void forceClose(client).catch(() => {})
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      await c.openStream(false)
    } catch (e) {
      if (signal?.aborted) {
        await c.close().catch(() => {})
        throw new Error('aborted while joining the consumer group', { cause: e })
      }
      throw e
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
    c.watchdog = setInterval(() => c.checkStalled(), 1000).unref()
    return c
  }

  /**
   * Seen on the real broker: after a broker restart the library retries the same fetch request
   * (stale leader epochs) forever, each response failing to parse ("Out of bounds."), and the
   * stream never errors. A stream that completed no fetch for this long while its buffer has room
   * is replaced (fetches return at least every `maxWaitMs` when there is nothing to read).
   */
  private checkStalled(): void {
    const s = this.stream
    if (!s || this.closed || this.restarting) return
    const stallMs = Math.max(10_000, 4 * (this.cfg.maxWaitMs ?? 500))
    if (s.readableLength >= this.cfg.bufferedMessages || Date.now() - this.lastFetch < stallMs) return
    this.onStreamFailure(s, new Error(`no fetch completed for ${Math.round((Date.now() - this.lastFetch) / 1000)} s`))
    s.destroy()
  }

  /**
   * The library's stream always runs in COMMITTED mode: it reloads the group's commits after every
   * rejoin, so partitions handed over by another member resume where that member committed. (In
   * its EARLIEST/LATEST modes a partition gained in a rebalance restarts from a stale or earliest
   * offset.) `start_from: earliest | latest` is a seek done once, before the first fetch: the
   * offsets are set on the stream and committed, so the group agrees with where we start.
   */
  private async openStream(reopen: boolean): Promise<void> {
    const stream = await this.client.consume({
      topics: this.cfg.topics,
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: this.cfg.startFrom === 'latest' ? MessagesStreamFallbackModes.LATEST : MessagesStreamFallbackModes.EARLIEST,
      autocommit: false,
      maxBytes: this.cfg.maxPollBytes,
      highWaterMark: this.cfg.bufferedMessages,
    })
    this.stream = stream
    this.lastFetch = Date.now()
    stream.on('fetch', () => (this.lastFetch = Date.now()))
    stream.on('error', (err) => this.onStreamFailure(stream, err))
    stream.on('close', () => this.onStreamFailure(stream, undefined))
    if (!reopen && this.cfg.startFrom !== 'committed') {
      // Nothing fetches until a 'readable' listener exists, so the seek lands before any read.
      await new Promise<void>((resolve) => {
        stream.once('offsets', resolve)
        stream.once('error', () => resolve())
      })
      await this.seekAll(stream, this.cfg.startFrom)
    }
    stream.on('readable', () => this.wakeUp())
  }

  /** Point every assigned partition at its earliest or latest offset and commit that. */
  private async seekAll(stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>, to: 'earliest' | 'latest'): Promise<void> {
    const assigned: { topic: string; partition: number; offset: bigint }[] = []
    const listed = await this.client.listOffsets({ topics: this.cfg.topics, timestamp: to === 'earliest' ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST })
    for (const a of this.client.assignments ?? []) {
      for (const partition of a.partitions) {
        const offset = listed.get(a.topic)?.[partition]
        if (offset === undefined) continue
        stream.offsetsToFetch.set(`${a.topic}:${partition}`, offset)
        assigned.push({ topic: a.topic, partition, offset })
      }
    }
    if (assigned.length > 0) await this.client.commit({ offsets: assigned.map((o) => ({ ...o, leaderEpoch: -1 })) })
    this.cfg.log.info({ startFrom: to, partitions: assigned.length }, 'Assigned partitions start from the ' + to + ' offsets; commits updated.')
  }

  /**
   * A stream that fails (a fetch error after the client's own retries, a forced rejoin) is
   * replaced by a new one reading from the committed offsets; the source skips what it already
   * handed out, so this costs re-fetching, never a lost or doubled record.
   */
  private onStreamFailure(stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>, err: Error | undefined): void {
    if (this.closed || stream !== this.stream || this.restarting) return
    this.restarting = true
    this.stream = undefined
    this.cfg.log.warn({ err: err ? describeKafkaError(err) : 'stream ended' }, 'Kafka fetch stream stopped; reopening it.')
    const again = async (): Promise<void> => {
      while (!this.closed) {
        await new Promise((r) => setTimeout(r, 1000))
        if (this.closed) return
        try {
          // Resume from the group's commits; the source drops offsets it already emitted.
          await this.openStream(true)
          return
        } catch (e) {
          this.cfg.log.warn({ err: describeKafkaError(e) }, 'Cannot reopen the Kafka fetch stream; retrying.')
        }
      }
    }
    void again().finally(() => {
      this.restarting = false
      this.wakeUp()
    })
  }

  private wakeUp(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  /** Up to `max` buffered messages, without waiting (an empty array when none is buffered). */
  read(max: number, into: KafkaMessage[] = []): KafkaMessage[] {
    const s = this.stream
    if (!s) return into
    while (into.length < max) {
      const m = s.read() as Message<Buffer, Buffer, Buffer, Buffer> | null
      if (m === null) break
      into.push(m)
    }
    return into
  }

  /** Resolves when messages may be readable, after `timeoutMs`, or when `signal` aborts. */
  waitReadable(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve()
    if ((this.stream?.readableLength ?? 0) > 0) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t)
        signal.removeEventListener('abort', done)
        if (this.wake === done) this.wake = undefined
        resolve()
      }
      const t = setTimeout(done, timeoutMs)
      signal.addEventListener('abort', done, { once: true })
      const prev = this.wake
      this.wake = prev ? () => (prev(), done()) : done
    })
  }

  /** The end offset (high watermark) of every partition of the topics now, as `topic/partition` → offset. */
  async endOffsets(): Promise<Map<string, number>> {
    const listed = await this.client.listOffsets({ topics: this.cfg.topics, timestamp: ListOffsetTimestamps.LATEST })
    const out = new Map<string, number>()
    for (const [topic, offsets] of listed) offsets.forEach((o, partition) => out.set(`${topic}/${partition}`, Number(o)))
    return out
  }

  /** The next offset the client will fetch for a partition (everything below it was fetched); undefined before it is known. */
  position(topic: string, partition: number): number | undefined {
    const o = this.stream?.offsetsToFetch.get(`${topic}:${partition}`)
    return o === undefined ? undefined : Number(o)
  }

  /** Commit next-offsets-to-read for the given partitions (in one request). */
  async commit(offsets: { topic: string; partition: number; offset: number }[]): Promise<void> {
    if (offsets.length === 0) return
    await this.client.commit({ offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset), leaderEpoch: -1 })) })
  }

  /** Offsets the group has committed for these partitions (-1 when none). */
  async committed(parts: TopicPartition[]): Promise<Map<string, number>> {
    const byTopic = new Map<string, number[]>()
    for (const p of parts) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition])
    const res = await this.client.listCommittedOffsets({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) })
    const out = new Map<string, number>()
    for (const [topic, offsets] of res) offsets.forEach((o, i) => byTopic.get(topic)?.includes(i) && out.set(`${topic}/${i}`, Number(o)))
    return out
  }

  /** Stop fetching, leave the group and disconnect. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.watchdog)
    this.wakeUp()
    const s = this.stream
    this.stream = undefined
    try {
      if (s && !s.destroyed) await s.close()
    } catch (e) {
      this.cfg.log.debug({ err: describeKafkaError(e) }, 'Closing the fetch stream failed.')
    }
    // close(true) leaves the group (LeaveGroup) so partitions move at once instead of after
    // session_timeout.
    await forceClose(this.client)
  }
}

/** `close(true)`: also closes open streams and leaves the group (callback form, typed). */
function forceClose(client: { close(force: boolean, cb: (e?: Error | null) => void): void }): Promise<void> {
  return new Promise((resolve, reject) => client.close(true, (e) => (e ? reject(e) : resolve())))
}

// ─── Producer ──────────────────────────────────────────────────────────────────────────────

export interface KafkaProducerConfig {
  brokers: string[]
  clientId: string
  compression: KafkaCompression
  /** Per-request timeout. */
  timeoutMs: number
  /**
   * Retries inside the client for errors it knows to be transient (the sink retries further).
   * At least 2: the library turns 0 or 1 into "retry forever" for idempotent producers.
   */
  retries: number
  /** Delay between the client's own retries (default 1 s). */
  retryDelayMs?: number
}

export interface ProduceMessage {
  topic: string
  partition: number
  key?: Buffer
  value: Buffer
  headers?: Map<string, Buffer>
}

/** Java-compatible key partitioning: `toPositive(murmur2(key)) % partitions`. */
export function murmur2Partition(key: Buffer, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions
}

/** An idempotent producer (acks=all). `send` resolves once every message is acknowledged. */
export class KafkaProducer {
  private readonly client: Producer<Buffer, Buffer, string, Buffer>
  constructor(cfg: KafkaProducerConfig) {
    this.client = new Producer<Buffer, Buffer, string, Buffer>({
      clientId: cfg.clientId,
      bootstrapBrokers: cfg.brokers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      compression: cfg.compression,
      timeout: cfg.timeoutMs,
      retries: Math.max(2, cfg.retries),
      retryDelay: cfg.retryDelayMs ?? 1000,
      autocreateTopics: false,
      serializers: { headerKey: (k?: string) => (k === undefined ? undefined : Buffer.from(k)) },
    })
  }

  /**
   * Number of partitions of `topic` (from metadata the client caches for 5 s), or `undefined`
   * when the cluster does not know the topic. Rejects when the cluster cannot be asked.
   */
  async partitions(topic: string): Promise<number | undefined> {
    try {
      const md = await this.client.metadata({ topics: [topic] })
      return md.topics.get(topic)?.partitionsCount
    } catch (e) {
      // The client reports an unknown topic (after its retries) as a UserError with this text.
      if (e instanceof UserError && e.message === `Unknown topic ${topic}.`) return undefined
      throw e
    }
  }

  /**
   * Send messages with acks=all; resolves once the broker acknowledged all of them. Rejects with
   * the client's error: read it with `produceFailureDetails`.
   *
   * Idempotence, as the library 1.35 implements it: sequence numbers of a partition advance only
   * when a whole send succeeds. Sending the very same messages again after a failure reuses the
   * numbers, so the broker drops what an earlier attempt already wrote (no duplicate). Anything
   * else after a failure must first call `resetIdempotence()`: a failed send may still have
   * written some partitions, and a later send reusing their numbers would be taken for a
   * duplicate and silently dropped by the broker (seen on Kafka 4.4: a send that failed with
   * MESSAGE_TOO_LARGE on one partition wrote the other; the next message to that other partition
   * was acknowledged with the old offset and never stored).
   */
  async send(messages: ProduceMessage[]): Promise<void> {
    await this.client.send({ messages })
  }

  /** Start over with a new producer id (sequence numbers restart at 0). */
  async resetIdempotence(): Promise<void> {
    await this.client.initIdempotentProducer({})
  }

  async close(): Promise<void> {
    await forceClose(this.client)
  }
}

// ─── Admin (tests, tools) ──────────────────────────────────────────────────────────────────

export class KafkaAdmin {
  private readonly client: Admin
  constructor(brokers: string[], clientId = 'sluice-admin') {
    this.client = new Admin({ clientId, bootstrapBrokers: brokers, retries: 5, retryDelay: 500 })
  }
  async createTopic(topic: string, partitions = 1, config: Record<string, string> = {}): Promise<void> {
    await this.client.createTopics({ topics: [topic], partitions, replicas: 1, configs: Object.entries(config).map(([name, value]) => ({ name, value })) })
  }
  async listTopics(): Promise<string[]> {
    return this.client.listTopics({ includeInternals: false })
  }
  /** Set `group`'s committed offsets (the group must have no active member). */
  async setCommitted(group: string, topic: string, offsets: Map<number, number>): Promise<void> {
    await this.client.alterConsumerGroupOffsets({ groupId: group, topics: [{ name: topic, partitionOffsets: [...offsets].map(([partition, offset]) => ({ partition, offset: BigInt(offset) })) }] })
  }
  /** Offsets committed by `group`, as `topic/partition` → next offset to read. */
  async committedOffsets(group: string): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    for (const g of await this.client.listConsumerGroupOffsets({ groups: [group] })) {
      for (const t of g.topics) for (const p of t.partitions) if (p.committedOffset >= 0n) out.set(`${t.name}/${p.partitionIndex}`, Number(p.committedOffset))
    }
    return out
  }
  async close(): Promise<void> {
    await this.client.close()
  }
}

/** Every topic `pattern` matches (internal topics excluded), sorted. */
export async function topicsMatching(brokers: string[], clientId: string, pattern: RegExp): Promise<string[]> {
  const admin = new KafkaAdmin(brokers, clientId)
  try {
    return (await admin.listTopics()).filter((t) => !t.startsWith('__') && pattern.test(t)).sort()
  } finally {
    await admin.close().catch(() => {})
  }
}

/** One-line description of a client error: its message plus the broker error names inside it. */
export function describeKafkaError(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const names = new Set<string>()
  const walk = (e: unknown, depth: number): void => {
    if (!e || typeof e !== 'object' || depth > 6) return
    const x = e as { apiId?: unknown; serverErrorMessage?: unknown; errors?: unknown; cause?: unknown; message?: unknown }
    if (typeof x.apiId === 'string') names.add(typeof x.serverErrorMessage === 'string' && x.serverErrorMessage ? `${x.apiId}: ${x.serverErrorMessage}` : x.apiId)
    else if (depth > 0 && typeof x.message === 'string' && !Array.isArray(x.errors)) names.add(x.message)
    if (Array.isArray(x.errors)) for (const c of x.errors) walk(c, depth + 1)
    if (x.cause) walk(x.cause, depth + 1)
  }
  walk(err, 0)
  return names.size > 0 ? `${err.message} (${[...names].slice(0, 4).join('; ')})` : err.message
}

/** Outcome of one topic-partition in a produce response. */
export interface PartitionOutcome {
  topic: string
  partition: number
  /** Broker error name (MESSAGE_TOO_LARGE); undefined when the partition was written. */
  error?: string
  /** The broker's error text and per-record errors, when it sent any. */
  detail?: string
}

export interface ProduceFailureDetails {
  /** Per-partition outcomes, when the broker answered the produce request with errors. */
  partitions?: PartitionOutcome[]
  /**
   * Every error name in the chain: broker error names (NOT_ENOUGH_REPLICAS), client codes
   * (PLT_KFK_NETWORK, PLT_KFK_TIMEOUT, PLT_KFK_USER) and errno codes (ECONNREFUSED).
   */
  names: Set<string>
  /** One line for logs and dead letters. */
  message: string
}

/**
 * What a failed `KafkaProducer.send` tells: the broker's per-partition answer (the library keeps
 * the parsed response on its ResponseError) and the names of every error in the chain.
 */
export function produceFailureDetails(err: unknown): ProduceFailureDetails {
  const names = new Set<string>()
  // Keyed by topic:partition; a later answer (the client's last retry) replaces an earlier one.
  let partitions: Map<string, PartitionOutcome> | undefined
  const walk = (e: unknown, depth: number): void => {
    if (!e || typeof e !== 'object' || depth > 8) return
    const x = e as { apiId?: unknown; code?: unknown; errors?: unknown; cause?: unknown; response?: unknown }
    if (typeof x.apiId === 'string') names.add(x.apiId)
    else if (typeof x.code === 'string' && x.code !== 'PLT_KFK_MULTIPLE' && x.code !== 'PLT_KFK_RESPONSE') names.add(x.code)
    if (x.code === 'PLT_KFK_RESPONSE' && x.response && typeof x.response === 'object') {
      const responses = (x.response as { responses?: unknown }).responses
      if (Array.isArray(responses)) {
        partitions ??= new Map()
        for (const t of responses as { name: string; partitionResponses: { index: number; errorCode: number; errorMessage?: string | null; recordErrors?: { batchIndex: number; batchIndexErrorMessage?: string | null }[] }[] }[]) {
          if (!Array.isArray(t.partitionResponses)) continue
          for (const p of t.partitionResponses) {
            const recordErrors = (p.recordErrors ?? []).filter((r) => r.batchIndexErrorMessage).map((r) => `record ${r.batchIndex}: ${r.batchIndexErrorMessage}`)
            const detail = [p.errorMessage, ...recordErrors].filter(Boolean).join('; ') || undefined
            partitions.set(`${t.name}:${p.index}`, { topic: t.name, partition: p.index, error: p.errorCode === 0 ? undefined : (protocolErrorsCodesById[p.errorCode] ?? `ERROR_${p.errorCode}`), detail })
          }
        }
      }
    }
    if (Array.isArray(x.errors)) for (const c of x.errors) walk(c, depth + 1)
    if (x.cause) walk(x.cause, depth + 1)
  }
  walk(err, 0)
  return { partitions: partitions && [...partitions.values()], names, message: describeKafkaError(err) }
}

/** Whether `err` came from the Kafka client (its errors carry `PLT_KFK_*` codes). */
export function isKafkaClientError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && GenericError.isGenericError(err as Error)
}
