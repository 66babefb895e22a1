// Messages between a byte-reading source and its chunk workers (core/threads/worker.ts). Every
// field survives structured clone. Chunk bytes live in SharedArrayBuffers, shared, never copied
// and never transferred: transferring detaches an ArrayBuffer, and the first detach in an isolate
// turns off V8's "no detached buffers" assumption, making every typed-array read in it slower
// (measured: the CSV scan in a worker ran at half speed, 150 against 290 MB/s, once results
// carried their buffer back in the transfer list).
import type { DecoderFormat, DecoderOptions } from '../../codecs/decoders.js'
import type { DecoderState } from '../../codecs/types.js'
import type { AggregatePartial } from './partial.js'
import type { SourceDeadLetter } from '../../component/define.js'
import type { Rec } from '../batch.js'
import type { ErrorCode } from '../errors.js'
import type { CpuProfile } from '../../observe/profile.js'

/** A record transform a worker builds from its validated options (see portable.ts). */
export interface PortableStep {
  id: string
  type: string
  options: unknown
}

/** What every worker of a source is started with. */
export interface WorkerSetup {
  format: DecoderFormat
  decoder: DecoderOptions
  steps: readonly PortableStep[]
  /** Encode the records that pass the steps as JSON lines (the next component is such a sink). */
  jsonLines: boolean
  /** The aggregate after the steps, when workers may pre-aggregate for it (see `preaggregable`). */
  aggregate?: PortableStep
  /** `sluice run --profile` runs: sample this thread's CPU at this interval (µs) until asked. */
  profileIntervalUs?: number
}

/** Asks a worker for its CPU profile (the pool's last message before it stops the worker). */
export interface ProfileRequest {
  kind: 'profile'
}

/**
 * One chunk of a file: bytes `[0, length)` of `buffer`, starting at absolute `offset`, which is a
 * record boundary. `final`: the input ends with this chunk (its last record may lack an LF).
 */
export interface ChunkTask {
  seq: number
  buffer: SharedArrayBuffer
  length: number
  offset: number
  state?: DecoderState
  final: boolean
  /** Fold the records that pass the steps into a partial of `WorkerSetup.aggregate`. */
  preaggregate: boolean
}

/** A record a step threw on, with its line relative to the chunk (1 = the chunk's first line). */
export interface ChunkFailure {
  i: number
  record: Rec
  code: ErrorCode
  message: string
  step: string
  line: number
}

export interface ChunkResult {
  seq: number
  /** Records that passed every step, in input order (empty when `encoded` holds them). */
  records: Rec[]
  /** With `jsonLines`: the records as JSON lines (UTF-8) in `bytes`, line k ending at `ends[k]`. */
  encoded?: { bytes: SharedArrayBuffer; ends: Uint32Array }
  /** With `preaggregate`: the aggregate's entries for the chunk (then `records` is empty). */
  partial?: AggregatePartial
  /** Line of each record, relative to the chunk (1 = the chunk's first line). */
  lines: Uint32Array
  /** Records decoded (before the steps). */
  decoded: number
  /** passed[s]: records step s let through. */
  passed: Int32Array
  failures: ChunkFailure[]
  /** Records that did not decode; `line` relative to the chunk, `raw` arrives as a Uint8Array. */
  errors: SourceDeadLetter[]
  /** Bytes of the chunk consumed: less than its length when a record goes on past it. */
  consumed: number
  /** Lines the consumed bytes advance by. */
  lineCount: number
  /** The chunk ended inside an oversized record that is being discarded. */
  discarding: boolean
}

export type WorkerReply =
  | { kind: 'ready' }
  | { kind: 'result'; result: ChunkResult }
  | { kind: 'failed'; message: string }
  /** Undefined when the worker took no profile, or could not. */
  | { kind: 'profile'; profile: CpuProfile | undefined }
