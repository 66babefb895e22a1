// Batches are what crosses every async boundary in Sluice: records plus an ack token and origins.
import type { AckToken } from './ack.js'

/** A record as it flows through an untyped (YAML) pipeline. */
export type Rec = Record<string, unknown>

/** Where a record came from, for dead letters: a file and line, or a source position. */
export interface Origin {
  source: string
  file?: string
  line?: number
  /** Byte offset of the record in its (decompressed) input, or a source-specific position. */
  offset?: number
  /** Kafka topic and partition (the record's `offset` is then its Kafka offset). */
  topic?: string
  partition?: number
}

/**
 * Origins of the records of a batch, kept as columns so a batch costs one object, not one per record.
 * `lines[i]`/`offsets[i]` describe the i-th record the source emitted.
 */
export interface BatchOrigin {
  source: string
  file?: string
  lines?: ArrayLike<number>
  offsets?: ArrayLike<number>
  /** Kafka sources emit one batch per topic partition. */
  topic?: string
  partition?: number
}

/**
 * The input partition a batch came from, for per-partition watermarks: its file, its Kafka
 * topic/partition, else the source name.
 */
export function partitionOf(origin: BatchOrigin | undefined): string {
  if (!origin) return 'unknown'
  if (origin.file !== undefined) return origin.file
  if (origin.topic !== undefined) return `${origin.topic}/${origin.partition}`
  return origin.source
}

export interface Batch<R = Rec> {
  records: R[]
  /** Approximate bytes held (input bytes for source batches); channels bound memory with it. */
  bytes: number
  ack: AckToken
  origin?: BatchOrigin
  /**
   * After a filter dropped records, `index[i]` is the position in `origin` of record i.
   * Absent while records still line up one-to-one with the origin columns.
   */
  index?: Uint32Array
}

/** The origin of record `i` of a batch, or a bare source origin when the batch has none. */
export function originOf(batch: Batch<unknown>, i: number, fallbackSource = 'unknown'): Origin {
  const o = batch.origin
  if (!o) return { source: fallbackSource }
  const at = batch.index ? batch.index[i]! : i
  const origin: Origin = { source: o.source }
  if (o.file !== undefined) origin.file = o.file
  if (o.topic !== undefined) {
    origin.topic = o.topic
    origin.partition = o.partition
  }
  if (o.lines) origin.line = o.lines[at]
  if (o.offsets) origin.offset = o.offsets[at]
  return origin
}
