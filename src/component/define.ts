// The plugin contract: how a source, transform or sink declares itself and what it must do at
// run time. Built-in connectors use exactly this API; nothing here knows about any connector.
import type { z } from 'zod'
import type { AckToken } from '../core/ack.js'
import type { Batch, BatchOrigin, Rec } from '../core/batch.js'
import type { ErrorCode } from '../core/errors.js'
import type { Logger } from '../observe/log.js'
import type { CheckpointHandle } from '../core/checkpoint.js'
import type { PortableStep } from '../core/threads/protocol.js'
import type { ChainReport } from '../core/topology/fuse.js'

export type ComponentKind = 'source' | 'transform' | 'sink'
export type Status = 'stable' | 'beta' | 'alpha'

/** Everything a component gets when it is built: no I/O has happened yet. */
export interface BuildContext {
  /** The component's name in the config. */
  id: string
  /** Absolute folder that relative paths in options resolve against (the config file's folder). */
  baseDir: string
  /** Absolute `data_dir` (checkpoints, default dead-letter file). */
  dataDir: string
  log: Logger
  /** The pipeline's `memory_limit` in bytes, if set: components size their own memory to fit. */
  memoryLimit?: number
}

// ─── Sources ──────────────────────────────────────────────────────────────────────────────

export interface SourceBatchInit<R> {
  records: R[]
  bytes: number
  origin?: BatchOrigin
  /** Called once every sink the batch reached has durably written it (or it was dropped). */
  onAck?: () => void
}

/** A record-level failure found by a source (a row that does not parse). */
export interface SourceDeadLetter {
  code: ErrorCode
  message: string
  file?: string
  line?: number
  offset?: number
  /** Kafka topic and partition of the record (with `offset`, its Kafka offset). */
  topic?: string
  partition?: number
  /** The original bytes (possibly truncated; `raw_truncated` is set in the dead letter then). */
  raw?: Buffer | string
  rawTruncated?: boolean
}

export interface SourceContext<R> {
  readonly id: string
  /** Aborted when the pipeline shuts down: stop reading, return from `run` promptly. */
  readonly signal: AbortSignal
  readonly log: Logger
  /**
   * Hand a batch downstream. Returns a promise when downstream is full: await it before reading
   * more (that is backpressure). Never call concurrently with itself.
   */
  emit(batch: SourceBatchInit<R>): Promise<void> | undefined
  /** Dead-letter records the source could not decode; acked like any batch. */
  deadLetter(items: SourceDeadLetter[], onAck?: () => void): Promise<void> | undefined
  /** Persistent positions for this source, stored in `data_dir`. */
  checkpoints: CheckpointHandle
  /**
   * True when the pipeline has stateful transforms: a source that commits positions somewhere
   * else than `checkpoints` (Kafka offsets) must commit them only from `onBarrier` callbacks, so
   * positions never run ahead of the state saved with them.
   */
  readonly deferCommits: boolean
  /** Called after each checkpoint barrier saved positions and state (and at the final one). */
  onBarrier(commit: () => Promise<void> | void): void
  /**
   * Run a checkpoint barrier now and resolve when it is saved (immediately when the pipeline has
   * no stateful transform). A source with deferred commits calls it while shutting down, before
   * it releases its client, so its final offsets follow the final state.
   */
  checkpointNow(): Promise<void>
  /**
   * The top-level fields the pipeline reads from this source's records (projection pushdown),
   * or undefined when something downstream may read any field (a sink, a user function). A
   * source MAY leave other fields out of its records; it MUST still dead-letter exactly the
   * records it would dead-letter with every field decoded.
   */
  readonly fields?: readonly string[]
  /**
   * The record transforms right after this source that may run inside the source's own worker
   * threads (built-ins whose behaviour depends only on their options: filter, map), in order.
   * Empty or absent when the next component is anything else. A source that runs them hands
   * the surviving records to `emitProcessed` instead of `emit`.
   */
  readonly portable?: readonly PortableStep[]
  /**
   * What consumes the records after `portable` is one sink that takes records encoded as JSON
   * lines (`acceptsJsonLines`): a source running the steps in workers may encode them there and
   * emit EncodedLine views (codecs/encode.ts) instead of records.
   */
  readonly jsonLinesOut?: boolean
  /**
   * The aggregate right after `portable` (or after the source), when workers may fold records
   * into partials of it (`preaggregable`, transforms/aggregate): its options, and the running
   * aggregate, which admits each partial before a chunk is handed out (`reservePartial`) and is
   * told when one will not arrive (`releasePartial`). A partial travels as the only record of
   * its batch (a PartialRecord) through `emitProcessed`, with a report.
   */
  readonly preaggregate?: { step: PortableStep; target: PartialAdmission }
  /**
   * Emit records that already went through every step of `portable`. `report` (what the steps did
   * to a chunk: counts and the records they rejected) goes with one batch of the chunk.
   */
  emitProcessed?(batch: SourceBatchInit<R>, report?: ChainReport): Promise<void> | undefined
  /** Report progress of bounded inputs for the progress bar (total may grow as files appear). */
  progress(update: { bytesRead?: number; bytesTotal?: number }): void
  /**
   * A bounded partition (a file) has no more records: stateful transforms stop waiting for its
   * watermark. Call it after awaiting the partition's last emit.
   */
  endPartition(partition: string): Promise<void> | undefined
}

/** The running aggregate's side of pre-aggregation (see SourceContext.preaggregate). */
export interface PartialAdmission {
  reservePartial(): boolean
  releasePartial(): void
}

/**
 * A running source. `run` resolves when a bounded input is exhausted and every batch was emitted,
 * or soon after `ctx.signal` aborts. It throws only for failures that stop the whole source.
 */
export interface Source<R = Rec> {
  run(ctx: SourceContext<R>): Promise<void>
}

// ─── Transforms ───────────────────────────────────────────────────────────────────────────

/**
 * Which top-level fields a transform reads, so sources can skip decoding the others (projection
 * pushdown). `reads`: the fields it reads from its input records. `passes`: its output records
 * are its input records (possibly changed), so what its consumers read must come from its input
 * too; false when it emits records of its own (aggregate rows, `map` with `keep`). A transform
 * without `fields()` is taken to read every field.
 */
export interface FieldUse {
  reads: readonly string[]
  passes: boolean
}

/**
 * A synchronous per-record step. Consecutive record steps are fused into one loop per batch.
 * Return the (possibly mutated) record, or undefined to drop it. Throw to dead-letter it.
 */
export interface RecordTransform {
  kind: 'record'
  process(record: Rec): Rec | undefined
  /** The fields it reads (see FieldUse); absent: all of them. */
  fields?(): FieldUse | undefined
}

/**
 * Splits each record among named outputs (`<id>.<output>`). `route` returns the output indexes
 * a record goes to, in the order of `outputs`; an empty result drops it.
 */
export interface RouterTransform {
  kind: 'router'
  outputs: readonly string[]
  route(record: Rec, into: number[]): void
  /** The fields it reads (see FieldUse); absent: all of them. */
  fields?(): FieldUse | undefined
}

/**
 * A whole-batch step, possibly async (a user function doing I/O). Resolve with the new records.
 * Call `reject(i, error)` for an input record that failed on its own: it is dead-lettered and the
 * rest of the batch goes on. A throw (or rejection) dead-letters the whole batch.
 */
export interface BatchTransform {
  kind: 'batch'
  process(records: Rec[], reject: (index: number, error: unknown) => void): Rec[] | Promise<Rec[]>
  close?(): Promise<void> | void
  /** The fields it reads (see FieldUse); absent: all of them. */
  fields?(): FieldUse | undefined
}

/** Where the records of one `process` call came from, for per-partition watermarks. */
export interface StatefulInput {
  /** The origin file of the batch, else the source name. */
  partition: string
  /** Processing time of this call (ms since epoch) from the runtime clock (a fake one in tests). */
  now: number
  /** Dead-letter input record `i` (late record, state bound reached) with this error. */
  reject(index: number, error: unknown): void
}

/**
 * A transform with state across batches (aggregate, dedupe). It owns what it absorbed: the
 * runtime settles input acks as soon as `process` returns and makes the state durable together
 * with source positions at checkpoint barriers (docs/design/0002-state.md). Every method is
 * synchronous and returns the records to emit now (possibly none).
 */
export interface StatefulTransform {
  kind: 'stateful'
  process(records: Rec[], input: StatefulInput): Rec[]
  /** A bounded input partition (a file) has no more records. */
  partitionEnded?(partition: string): Rec[]
  /** Called periodically with the wall clock (or a test clock): idle partitions, timeouts. */
  tick?(nowMs: number): Rec[]
  /** All input ended: emit everything still held. */
  flush(): Rec[]
  /** A JSON-serialisable copy of the state, taken at a checkpoint barrier. */
  snapshot(): unknown
  /** Replace the state with one `snapshot` returned (called before any `process`). */
  restore(state: unknown): void
  /** Current size, for the summary and memory bounds. */
  stateSize?(): { keys: number; bytes: number }
  /** The fields it reads (see FieldUse); absent: all of them. */
  fields?(): FieldUse | undefined
}

export type Transform = RecordTransform | RouterTransform | BatchTransform | StatefulTransform

// ─── Sinks ────────────────────────────────────────────────────────────────────────────────

/**
 * A running sink. `write` resolves only once the records are durable. Throw RetryableError for a
 * transient failure, PermanentError when retrying cannot help, PartialBatchError for per-record
 * outcomes; any other error is treated as transient and retried up to `retry.max_attempts`.
 * A retry passes the very same `records` array again (a sink may use its identity to resume a
 * half-written batch). The runtime calls `write` at most once at a time per sink, never after
 * `close`; `signal` aborts when the shutdown deadline passes.
 */
export interface Sink {
  open?(): Promise<void> | void
  write(records: Rec[], signal: AbortSignal): Promise<void> | void
  /** Flush and release resources. Idempotent. */
  close(): Promise<void> | void
}

// ─── Declarations ─────────────────────────────────────────────────────────────────────────

export interface Example {
  title: string
  /** YAML of the component block (without its name). */
  yaml: string
}

interface DeclarationBase<K extends ComponentKind, S extends z.ZodType> {
  kind: K
  /** Lowercase snake_case; sources and sinks are nouns, transforms verbs. */
  type: string
  status: Status
  summary: string
  /** Longer prose for the reference page (markdown). */
  description?: string
  options: S
  examples?: Example[]
}

export interface SourceDeclaration<S extends z.ZodType = z.ZodType> extends DeclarationBase<'source', S> {
  build(options: z.output<S>, ctx: BuildContext): Source
}

export interface TransformDeclaration<S extends z.ZodType = z.ZodType> extends DeclarationBase<'transform', S> {
  /** Named outputs for routers, known from the options alone (checked when the graph is built). */
  outputs?(options: z.output<S>): readonly string[]
  build(options: z.output<S>, ctx: BuildContext): Transform | Promise<Transform>
}

export interface SinkDeclaration<S extends z.ZodType = z.ZodType> extends DeclarationBase<'sink', S> {
  /** Where batching options live in the parsed options (every sink has `batch`). */
  build(options: z.output<S>, ctx: BuildContext): Sink
  /**
   * True when the sink, with these options, writes each record as `encodeJsonl` does: a source's
   * worker threads may then encode records there and hand it EncodedLine views (codecs/encode.ts),
   * which `encodeJsonl` writes as they are.
   */
  acceptsJsonLines?(options: z.output<S>): boolean
}

export type AnyDeclaration = SourceDeclaration | TransformDeclaration | SinkDeclaration

export function defineSource<S extends z.ZodType>(decl: Omit<SourceDeclaration<S>, 'kind'>): SourceDeclaration<S> {
  return { kind: 'source', ...decl }
}
export function defineTransform<S extends z.ZodType>(decl: Omit<TransformDeclaration<S>, 'kind'>): TransformDeclaration<S> {
  return { kind: 'transform', ...decl }
}
export function defineSink<S extends z.ZodType>(decl: Omit<SinkDeclaration<S>, 'kind'>): SinkDeclaration<S> {
  return { kind: 'sink', ...decl }
}

export type { AckToken, Batch }
