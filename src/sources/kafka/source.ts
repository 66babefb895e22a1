// The kafka source at run time: a consumer-group member that hands each assigned partition
// downstream in offset order, one batch per partition run, and commits to the group only the
// highest contiguous acknowledged offset of each partition (a PositionTracker per partition).
//
//   client buffer ─read(batch_size)─► runs of one partition ─decode─► emit ─► … sinks ack
//        ▲ stops fetching when full                                │
//        └──────── emit pending: the loop awaits, nothing is read ─┘
//   acks ─► tracker(topic/partition) ─► committed offset ─► commit every commit_interval,
//           on rebalance, on revoke (after in-flight acks) and at shutdown; at barriers when
//           the pipeline has stateful transforms (deferCommits).
import { KafkaConsumer, describeKafkaError, topicsMatching, type KafkaMessage, type TopicPartition } from '../../clients/kafka.js'
import { DEFAULT_MAX_RAW_BYTES, type ValueDecoder } from '../../codecs/index.js'
import type { BuildContext, Source, SourceContext, SourceDeadLetter } from '../../component/define.js'
import type { Rec } from '../../core/batch.js'
import type { PositionTracker } from '../../core/checkpoint.js'
import { SluiceError, isSluiceError, type ErrorCode } from '../../core/errors.js'
import { sleep } from '../../delivery/backoff.js'
import type { KafkaSourceOptions } from './index.js'

/** One ownership of one partition: a partition lost and regained gets a fresh state. */
interface PartitionState {
  readonly topic: string
  readonly partition: number
  /** `group/topic/partition`: the tracker's checkpoint key. */
  readonly key: string
  /** Positions are next-offsets-to-read (Kafka's commit convention); -1 until something is acked. */
  readonly tracker: PositionTracker<number>
  /** Next offset to hand out; lower offsets (a re-fetch after a rejoin or reopen) are dropped. */
  next: number
  /** First offset handed out in this ownership (-1 before any). */
  first: number
  /** Last offset committed by this member for this ownership. */
  committed: number
}

export class KafkaSource implements Source {
  private readonly assigned = new Map<string, PartitionState>()
  /** Revoked partitions still waiting for their in-flight acks and final commit. */
  private readonly releasing = new Set<PartitionState>()
  private readonly releases = new Set<Promise<void>>()
  /** Partitions this process has owned before in this run (the checkpoint floor applies once). */
  private readonly seen = new Set<string>()
  private consumer: KafkaConsumer | undefined
  private commitChain: Promise<void> = Promise.resolve()
  private closed = false

  constructor(
    private readonly o: KafkaSourceOptions,
    private readonly build: BuildContext,
    /** Made at build by the declaration (a bad schema file is a config error there). */
    private readonly decode: ValueDecoder,
  ) {}

  async run(ctx: SourceContext<Rec>): Promise<void> {
    const topics = await this.resolveTopics(ctx)
    if (ctx.signal.aborted) return
    if (ctx.deferCommits) {
      ctx.onBarrier(async () => {
        await this.commit([...this.assigned.values()])
        await this.commit([...this.releasing], true)
      })
    }
    try {
      this.consumer = await KafkaConsumer.start(
        {
          brokers: this.o.brokers,
          clientId: this.o.client_id,
          group: this.o.group,
          topics,
          startFrom: this.o.start_from,
          sessionTimeoutMs: this.o.session_timeout,
          rebalanceTimeoutMs: this.o.rebalance_timeout,
          maxPollBytes: this.o.max_fetch_bytes,
          bufferedMessages: this.o.buffered_messages,
          log: this.build.log,
          // No commit when the rebalance is announced (see KafkaConsumer.rebalancing): what was
          // acknowledged since the last commit_interval is read again by the new owner.
          onAssignment: (parts) => this.onAssignment(ctx, parts),
        },
        ctx.signal,
      )
    } catch (e) {
      if (ctx.signal.aborted) return
      throw new SluiceError('SLC_SOURCE_IO', `kafka source "${ctx.id}": cannot join group "${this.o.group}": ${describeKafkaError(e)}`, { cause: e })
    }
    const timer = ctx.deferCommits ? undefined : setInterval(() => void this.commit([...this.assigned.values()]), this.o.commit_interval)
    try {
      await this.readLoop(ctx, this.consumer)
    } finally {
      clearInterval(timer)
      await this.shutdown(ctx)
    }
  }

  /**
   * The topics to subscribe to. The library retries a missing topic forever, so existence is
   * checked first; while the cluster does not answer, the listing is retried (the source waits
   * for the brokers like the consumer itself would).
   */
  private async resolveTopics(ctx: SourceContext<Rec>): Promise<string[]> {
    const pattern = this.o.topic_pattern === undefined ? undefined : new RegExp(this.o.topic_pattern)
    for (let attempt = 0; !ctx.signal.aborted; attempt++) {
      let existing: string[]
      try {
        existing = await topicsMatching(this.o.brokers, this.o.client_id, pattern ?? /.*/)
      } catch (e) {
        this.build.log.warn({ err: describeKafkaError(e), brokers: this.o.brokers }, 'Cannot list the Kafka topics; retrying.')
        try {
          await sleep(Math.min(8000, 1000 * 2 ** attempt), ctx.signal)
        } catch {
          return []
        }
        continue
      }
      if (pattern) {
        if (existing.length === 0) throw new SluiceError('SLC_SOURCE_NOT_FOUND', `kafka source "${ctx.id}": no topic matches ${pattern}`)
        this.build.log.info({ topics: existing }, 'Topics matching the pattern.')
        return existing
      }
      const missing = this.o.topics!.filter((t) => !existing.includes(t))
      if (missing.length > 0) throw new SluiceError('SLC_SOURCE_NOT_FOUND', `kafka source "${ctx.id}": no topic named ${missing.map((t) => `"${t}"`).join(', ')} on ${this.o.brokers.join(',')}`)
      return this.o.topics!
    }
    return []
  }

  private async readLoop(ctx: SourceContext<Rec>, consumer: KafkaConsumer): Promise<void> {
    // stop_at_end: the end offsets of the topics when the source started are where it stops.
    const end = this.o.stop_at_end ? await consumer.endOffsets() : undefined
    const msgs: KafkaMessage[] = []
    while (!ctx.signal.aborted) {
      msgs.length = 0
      consumer.read(this.o.batch_size, msgs)
      if (msgs.length === 0) {
        if (end && this.atEnd(consumer, end)) return
        await consumer.waitReadable(end ? 100 : 1000, ctx.signal)
        continue
      }
      // A fetch response holds each partition as one contiguous run: emit run by run, in order.
      let from = 0
      while (from < msgs.length) {
        const { topic, partition } = msgs[from]!
        let to = from + 1
        while (to < msgs.length && msgs[to]!.partition === partition && msgs[to]!.topic === topic) to++
        const p = this.emitRun(ctx, msgs, from, to)
        if (p) await p
        from = to
      }
    }
  }

  /**
   * stop_at_end, called when nothing is buffered: this member holds partitions and the client has
   * fetched each of them up to its end offset at start, so every record below it was emitted.
   */
  private atEnd(consumer: KafkaConsumer, end: Map<string, number>): boolean {
    if (this.assigned.size === 0) return false
    for (const [key, st] of this.assigned) {
      const stop = end.get(key) ?? 0
      if (stop > 0 && !((consumer.position(st.topic, st.partition) ?? -1) >= stop)) return false
    }
    this.build.log.info({ partitions: [...this.assigned.keys()].map((k) => `${k}@${end.get(k) ?? 0}`) }, 'Every assigned partition is read up to its end offset at start (stop_at_end); stopping.')
    return true
  }

  /** Decode and emit messages [from, to) of one partition; records and dead letters ack together. */
  private emitRun(ctx: SourceContext<Rec>, msgs: KafkaMessage[], from: number, to: number): Promise<void> | undefined {
    const first = msgs[from]!
    const st = this.assigned.get(`${first.topic}/${first.partition}`)
    // A partition no longer ours: its new owner reads these records from the group's commit.
    if (!st) return undefined
    const records: Rec[] = []
    const offsets: number[] = []
    let letters: SourceDeadLetter[] | undefined
    let bytes = 0
    let last = -1
    for (let i = from; i < to; i++) {
      const m = msgs[i]!
      const offset = Number(m.offset)
      if (offset < st.next) continue
      if (st.next < 0 && !this.firstOwnership(ctx, st, offset)) continue
      last = offset
      const value = m.value
      bytes += value?.length ?? 0
      const fail = (code: ErrorCode, message: string, raw?: Buffer) => {
        const truncated = raw !== undefined && raw.length > DEFAULT_MAX_RAW_BYTES
        ;(letters ??= []).push({ code, message, topic: st.topic, partition: st.partition, offset, raw: truncated ? raw.subarray(0, DEFAULT_MAX_RAW_BYTES) : raw, rawTruncated: truncated || undefined })
      }
      // An empty value is a valid text line and a valid protobuf message (every field at its default).
      if (value === null || value === undefined || (value.length === 0 && this.o.format !== 'text' && this.o.format !== 'protobuf')) {
        fail('SLC_RECORD_PARSE', 'the message has no value (a tombstone)')
        continue
      }
      if (value.length > this.o.max_record_bytes) {
        fail('SLC_RECORD_TOO_LARGE', `the message value is ${value.length} bytes, over max_record_bytes (${this.o.max_record_bytes})`, value)
        continue
      }
      let rec: Rec
      try {
        rec = this.decode(value)
      } catch (e) {
        fail(isSluiceError(e) ? e.code : 'SLC_RECORD_PARSE', e instanceof Error ? e.message : String(e), value)
        continue
      }
      if (this.o.metadata_field !== undefined) rec[this.o.metadata_field] = metadataOf(m, offset)
      records.push(rec)
      offsets.push(offset)
    }
    if (last < 0) return undefined
    st.next = last + 1
    ctx.progress({ bytesRead: bytes })
    // One position per run; it commits once the records and the dead letters of the run are durable.
    const ack = st.tracker.push(last + 1)
    let parts = (records.length > 0 ? 1 : 0) + (letters ? 1 : 0)
    const ackPart = () => {
      if (--parts === 0) ack()
    }
    const waits: Promise<void>[] = []
    if (letters) {
      const p = ctx.deadLetter(letters, ackPart)
      if (p) waits.push(p)
    }
    if (records.length > 0) {
      const p = ctx.emit({ records, bytes, origin: { source: ctx.id, topic: st.topic, partition: st.partition, offsets }, onAck: ackPart })
      if (p) waits.push(p)
    }
    return waits.length === 0 ? undefined : waits.length === 1 ? waits[0] : Promise.all(waits).then(() => undefined)
  }

  /**
   * The first record of a fresh ownership sets where the partition starts. In a pipeline with
   * stateful transforms, the first ownership in a run also honours the position saved with the
   * state at the last barrier: if the process died after saving it but before committing it to
   * Kafka, the records between are already in the restored state and must not be read again.
   */
  private firstOwnership(ctx: SourceContext<Rec>, st: PartitionState, offset: number): boolean {
    st.next = offset
    st.first = offset
    if (!ctx.deferCommits || this.seen.has(st.key)) return true
    this.seen.add(st.key)
    const saved = ctx.checkpoints.get<number>(st.key)
    if (saved !== undefined && saved > offset) {
      this.build.log.info({ topic: st.topic, partition: st.partition, committed: offset, checkpoint: saved }, 'Skipping records already in the saved state.')
      st.next = saved
      st.first = saved
      // Acknowledged at once, so the next barrier restores the group's commit to the saved one.
      st.tracker.push(saved)()
      return false
    }
    return true
  }

  /** The group gave this member a new assignment: release lost partitions, set up new ones. */
  private onAssignment(ctx: SourceContext<Rec>, parts: TopicPartition[]): void {
    const now = new Set(parts.map((p) => `${p.topic}/${p.partition}`))
    for (const [key, st] of this.assigned) {
      if (now.has(key)) continue
      this.assigned.delete(key)
      this.releasing.add(st)
      const release = this.release(ctx, st).finally(() => {
        this.releasing.delete(st)
        this.releases.delete(release)
      })
      this.releases.add(release)
    }
    for (const p of parts) {
      const key = `${p.topic}/${p.partition}`
      if (this.assigned.has(key)) continue
      const ckey = `${this.o.group}/${key}`
      // Initial -1: "nothing acked yet" (the tracker would otherwise start at the stored position).
      this.assigned.set(key, { topic: p.topic, partition: p.partition, key: ckey, tracker: ctx.checkpoints.tracker<number>(ckey, -1), next: -1, first: -1, committed: -1 })
    }
  }

  /** A revoked partition: wait (bounded) for its in-flight acks, commit them, forget it. */
  private async release(ctx: SourceContext<Rec>, st: PartitionState): Promise<void> {
    // Handed out but not committed by us: the most the new owner can read a second time.
    const uncommitted = st.next < 0 ? 0 : st.next - Math.max(st.committed, st.first)
    const drained = await this.waitAcked([st], this.o.ack_timeout)
    if (ctx.deferCommits) await ctx.checkpointNow()
    // The new owner may have committed further already: never move its commit back.
    else await this.commit([st], true)
    this.build.log.info({ topic: st.topic, partition: st.partition, uncommitted, drained, committed: st.committed }, 'Released a revoked partition.')
  }

  /** Resolves true once nothing of `states` is in flight, false after `timeoutMs`. */
  private async waitAcked(states: Iterable<PartitionState>, timeoutMs: number): Promise<boolean> {
    const list = [...states]
    const deadline = Date.now() + timeoutMs
    while (list.some((s) => s.tracker.inFlight > 0)) {
      if (Date.now() >= deadline) return false
      await sleep(20)
    }
    return true
  }

  /**
   * Commit the acknowledged offsets of `states` that moved since their last commit. Commits run
   * one at a time (a slow one during a rebalance must not be overtaken by an older position).
   */
  private commit(states: PartitionState[], onlyIfAhead = false): Promise<void> {
    const run = async () => {
      const consumer = this.consumer
      // During a rebalance a commit would trigger another one; the next commit carries it.
      if (!consumer || this.closed || consumer.rebalancing) return
      const due = states.filter((s) => s.tracker.committed! > s.committed)
      if (due.length === 0) return
      try {
        let offsets = due.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.tracker.committed!, st: s }))
        if (onlyIfAhead) {
          const current = await consumer.committed(due)
          offsets = offsets.filter((o) => o.offset > (current.get(`${o.topic}/${o.partition}`) ?? -1))
        }
        await consumer.commit(offsets)
        for (const o of offsets) o.st.committed = o.offset
      } catch (e) {
        // The next interval (or the new owner) commits again; the records stay at-least-once.
        this.build.log.warn({ err: describeKafkaError(e), partitions: due.length }, 'Committing offsets failed; will retry.')
      }
    }
    const p = this.commitChain.then(run)
    this.commitChain = p.catch(() => {})
    return p
  }

  /** Stop reading; wait (bounded) for in-flight acks; commit; leave the group at once. */
  private async shutdown(ctx: SourceContext<Rec>): Promise<void> {
    const consumer = this.consumer
    if (!consumer) return
    const states = [...this.assigned.values()]
    const drained = await this.waitAcked(states, this.o.ack_timeout)
    if (!drained) this.build.log.warn({ timeoutMs: this.o.ack_timeout }, 'Records still in flight at shutdown; they will be read again.')
    if (ctx.deferCommits) await ctx.checkpointNow()
    else await this.commit(states)
    await Promise.all(this.releases)
    await this.commitChain
    this.closed = true
    try {
      await consumer.close()
    } catch (e) {
      this.build.log.warn({ err: describeKafkaError(e) }, 'Leaving the consumer group failed; the broker removes this member after session_timeout.')
    }
    const committed = states.map((s) => `${s.topic}/${s.partition}@${s.committed}`)
    this.build.log.info({ group: this.o.group, committed }, 'Left the consumer group.')
  }
}

/** What transforms see of a message under `metadata_field`. */
function metadataOf(m: KafkaMessage, offset: number): Rec {
  let headers: Record<string, string> | undefined
  for (const [k, v] of m.headers) (headers ??= {})[k.toString()] = v.toString()
  return {
    topic: m.topic,
    partition: m.partition,
    offset,
    key: m.key ? m.key.toString('utf8') : null,
    timestamp: new Date(Number(m.timestamp)).toISOString(),
    headers: headers ?? {},
  }
}
