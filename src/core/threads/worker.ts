// A chunk worker: decodes line-aligned chunks of a file and runs the portable record steps that
// follow the source (core/threads/portable.ts), so decoding — the bulk of a file pipeline's CPU —
// uses every core. One decoder per worker, repositioned per chunk; results go back in the order
// tasks arrive.
import { parentPort } from 'node:worker_threads'
import { createDecoder } from '../../codecs/decoders.js'
import { encodeJson } from '../../codecs/encode.js'
import { newDecodeOutput } from '../../codecs/types.js'
import type { SourceDeadLetter } from '../../component/define.js'
import type { Rec } from '../batch.js'
import { errorMessage, isSluiceError } from '../errors.js'
import { runRecordSteps } from '../topology/record-steps.js'
import { Aggregate } from '../../transforms/aggregate/aggregate.js'
import type { AggregatePartial } from './partial.js'
import type { AggregateOptions } from '../../transforms/aggregate/options.js'
import { buildPortableStep, pushFilterDown } from './portable.js'
import type { ChunkFailure, ChunkResult, ChunkTask, ProfileRequest, WorkerReply, WorkerSetup } from './protocol.js'
import { sampleCpu } from '../../observe/profile.js'

/** Bytes decoded (and run through the steps) at a time. */
const SLICE_BYTES = 64 * 1024

const port = parentPort!
const reply = (m: WorkerReply) => port.postMessage(m)

// The setup is the first message, not workerData: a worker may start before its pipeline is
// known (core/threads/spawn.ts, prewarmed while the CLI loads) and wait here with its code loaded.
port.once('message', (setup: WorkerSetup) => void serve(setup))

async function serve(setup: WorkerSetup): Promise<void> {
  // First, so that building the steps is in the profile too. A profile that cannot start leaves
  // the work alone: the pool then gets no profile from this worker.
  const sampling = setup.profileIntervalUs === undefined ? undefined : await sampleCpu(setup.profileIntervalUs).catch(() => undefined)
  try {
    const steps = setup.steps.map(buildPortableStep)
    const ids = setup.steps.map((s) => s.id)
    const decoder = createDecoder(setup.format, setup.decoder)
    if (setup.steps[0]?.type === 'filter') pushFilterDown(decoder, steps[0]!)
    const prefiltered = () => decoder.takePrefiltered?.() ?? 0
    // Pre-aggregation: the state bounds are the main thread's to apply (reservePartial); here a
    // chunk only has to stay within one partial.
    const agg = setup.aggregate
    const aggregate = agg && new Aggregate({ ...(agg.options as AggregateOptions), max_keys: Number.MAX_SAFE_INTEGER, max_state_bytes: Number.MAX_SAFE_INTEGER }, agg.id)
    let local = Buffer.allocUnsafeSlow(0)
    port.on('message', (task: ChunkTask | ProfileRequest) => {
      if ('kind' in task) {
        void (sampling?.stop() ?? Promise.resolve(undefined)).then(
          (profile) => reply({ kind: 'profile', profile }),
          () => reply({ kind: 'profile', profile: undefined }),
        )
        return
      }
      try {
        const result = decodeChunk(task)
        reply({ kind: 'result', result })
      } catch (e) {
        reply({ kind: 'failed', message: errorMessage(e) })
      }
    })
    reply({ kind: 'ready' })

    function decodeChunk(task: ChunkTask): ChunkResult {
      // Decode from a private copy: V8 reads typed arrays over a SharedArrayBuffer slower (the CSV
      // scan of W1 was 15–20% slower on the shared bytes); the copy costs ~0.1 ms per MiB.
      if (local.length < task.length) local = Buffer.allocUnsafeSlow(task.buffer.byteLength)
      Buffer.from(task.buffer, 0, task.length).copy(local, 0, 0, task.length)
      const buf = local
      decoder.seek({ offset: task.offset, line: 1, state: task.state })
      const records: Rec[] = []
      const lines: number[] = []
      const errors: SourceDeadLetter[] = []
      const failures: ChunkFailure[] = []
      const passed = new Int32Array(steps.length)
      let decoded = 0
      let s = 0
      // While `folding`, kept records also go into the aggregate; they are kept as records too, in
      // case the chunk outgrows one partial and has to go as records after all.
      let folding = task.preaggregate && aggregate !== undefined
      let folded = 0
      const foldFailures: ChunkFailure[] = []
      const kept: Rec[] = []
      // Decode and filter 64 KiB at a time: records die young while they are still in cache. A
      // whole 1 MiB chunk at once kept ~15k records alive and cost 45% more per record (W1).
      for (let last = false; !last; ) {
        let stop = Math.min(task.length, s + SLICE_BYTES)
        last = stop === task.length
        const out = newDecodeOutput()
        let next = decoder.decode(buf, s, stop, task.final && last, out)
        if (next === s && !last) {
          // No record ends in the slice: take the rest of the chunk.
          stop = task.length
          last = true
          next = decoder.decode(buf, s, stop, task.final, out)
        }
        s = next
        decoded += out.records.length + prefiltered()
        for (const e of out.errors) errors.push(e)
        const from = lines.length
        if (steps.length === 0) {
          for (let k = 0; k < out.records.length; k++) {
            records.push(out.records[k]!)
            lines.push(out.lines[k]!)
          }
        } else {
          const r = runRecordSteps(steps, ids, out.records, passed)
          for (const f of r.failures ?? []) failures.push(failureOf(f.i, f.record, f.step, out.lines[f.i]!, f.error))
          for (let k = 0; k < r.kept; k++) {
            records.push(out.records[k]!)
            lines.push(out.lines[r.index ? r.index[k]! : k]!)
          }
        }
        if (folding) {
          kept.length = 0
          for (let k = from; k < records.length; k++) kept.push(records[k]!)
          folded += kept.length
          aggregate!.process(kept, {
            partition: '',
            now: 0,
            reject: (i, error) => foldFailures.push(failureOf(i, kept[i]!, agg!.id, lines[from + i]!, error)),
          })
          folding = aggregate!.partialFits
        }
      }
      let partial: AggregatePartial | undefined
      if (task.preaggregate && aggregate !== undefined) {
        // Undefined when the chunk outgrew one partial (then folding stopped): its records go.
        partial = aggregate.takePartial(folded)
      }
      if (partial) {
        for (const f of foldFailures) failures.push(f)
        records.length = 0
        lines.length = 0
      }
      const encoded = setup.jsonLines ? encodeLines(records) : undefined
      return {
        seq: task.seq,
        records: encoded ? [] : records,
        encoded,
        partial,
        lines: Uint32Array.from(lines),
        decoded,
        passed,
        failures,
        errors,
        consumed: s,
        lineCount: decoder.position().line - 1,
        discarding: decoder.discarding,
      }
    }
  } catch (e) {
    reply({ kind: 'failed', message: errorMessage(e) })
  }
}

function failureOf(i: number, record: Rec, step: string, line: number, error: unknown): ChunkFailure {
  return { i, record, step, line, code: isSluiceError(error) ? error.code : 'SLC_RECORD_TRANSFORM', message: errorMessage(error) }
}

/**
 * The worker builds JSON lines in texts no longer than this (UTF-16 units), below V8's
 * large-object size (128 KiB): born young, they die young once copied into the shared buffer.
 */
const TEXT_UNITS = 32 * 1024

/**
 * The records as JSON lines, UTF-8, in a SharedArrayBuffer of their own, and the byte where each
 * line ends. A shared buffer crosses to the main thread without a copy, the main thread never
 * turns the lines into strings, and the sink copies the bytes out as they are. (Texts crossed
 * before: structured clone copied them on both sides, 7% of a W2 worker in postMessage, and the
 * sink encoded them to UTF-8 again on the main thread.) Undefined when a record cannot be
 * encoded (a cycle cannot come out of a decoder; kept for safety): then the records go.
 */
function encodeLines(records: Rec[]): { bytes: SharedArrayBuffer; ends: Uint32Array } | undefined {
  const ends = new Uint32Array(records.length)
  const texts: string[] = []
  const counts: number[] = []
  let text = ''
  let count = 0
  try {
    for (let k = 0; k < records.length; k++) {
      if (text.length >= TEXT_UNITS) {
        texts.push(text)
        counts.push(count)
        text = ''
        count = 0
      }
      text += `${encodeJson(records[k])}\n`
      ends[k] = text.length
      count++
    }
  } catch {
    return undefined
  }
  if (count > 0) {
    texts.push(text)
    counts.push(count)
  }
  let total = 0
  for (const t of texts) total += Buffer.byteLength(t)
  const bytes = new SharedArrayBuffer(total)
  const view = Buffer.from(bytes)
  let at = 0
  let k = 0
  for (let t = 0; t < texts.length; t++) {
    const text = texts[t]!
    const written = view.write(text, at)
    const last = k + counts[t]!
    if (written === text.length) {
      // All ASCII: a line ends at the same unit and byte.
      for (; k < last; k++) ends[k] += at
    } else {
      let from = 0
      let end = at
      for (; k < last; k++) {
        end += Buffer.byteLength(text.slice(from, ends[k]))
        from = ends[k]!
        ends[k] = end
      }
    }
    at += written
  }
  return { bytes, ends }
}
