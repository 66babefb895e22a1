// Compiles the transform graph into push functions. A chain of record transforms where each
// link has one input and one consumer becomes ONE loop over the batch (no intermediate arrays,
// no per-record promises); routers split a batch by output; batch transforms may be async.
//
//   filter ─► map ─► cast      fused:  for (i…) { r = filter(r); r && (r = map(r)); r && (r = cast(r)) }
//                  ╲
//                   route ─► a / b   (a fan-out point ends a chain; each branch gets its own loop)
import type { BatchTransform, RecordTransform, RouterTransform, StatefulTransform, Transform } from '../../component/define.js'
import { deadLetter, type DeadLetter } from '../../delivery/dead-letter.js'
import type { DeadLetterSend } from '../../delivery/sink-runner.js'
import type { ComponentStats, RunStats } from '../../observe/stats.js'
import { AckToken } from '../ack.js'
import { originOf, partitionOf, type Batch, type Origin, type Rec } from '../batch.js'
import { errorMessage, isSluiceError, type ErrorCode } from '../errors.js'
import type { Edge, Graph } from './graph.js'
import { recordsIn } from '../threads/partial.js'
import { runRecordSteps, type ChainFailure } from './record-steps.js'

/** Push a batch into a component; a returned promise means "wait before sending more". */
export type Emit = (batch: Batch) => Promise<void> | undefined

export interface CompileContext {
  sinkEntry(id: string): Emit
  deadLetterFor(id: string): DeadLetterSend
  stats: RunStats
  /** Processing time for stateful transforms (a fake clock in tests). */
  now(): number
  /** A token for rows a stateful transform emits (counted in flight, failures reported). */
  newToken(): AckToken
}

export interface CompiledTransforms {
  /** The push function that feeds every consumer of a source. */
  consumersOf(id: string): Emit
  /** Send rows a stateful transform produced outside `process` (tick, flush, partition end). */
  emitFrom(id: string, rows: Rec[]): Promise<void> | undefined
  /**
   * Entry for batches that already went through the record chain `ids` (see `portableChain`); the
   * report (what the steps did to the chunk) comes with one batch of the chunk, not with each.
   */
  afterChain(from: string, ids: readonly string[]): (batch: Batch, report?: ChainReport) => Promise<void> | undefined
}

/** What running a record chain elsewhere (a worker thread) did to one batch. */
export interface ChainReport {
  /** Records that entered the first step. */
  received: number
  /** passed[s]: records step s let through. */
  passed: ArrayLike<number>
  /** Records a step threw on, each with its origin (the batch no longer holds them). */
  failures: readonly (ChainFailure & { origin: Origin })[]
}

export function compileTransforms(graph: Graph, built: Map<string, Transform>, cc: CompileContext): CompiledTransforms {
  const entries = new Map<string, Emit>()

  const entryOf = (id: string): Emit => {
    let e = entries.get(id)
    if (e) return e
    const node = graph.nodes.get(id)!
    if (node.config.kind === 'sink') e = cc.sinkEntry(id)
    else {
      const t = built.get(id)!
      if (t.kind === 'record') e = recordChain(id)
      else if (t.kind === 'router') e = routerEntry(id, t)
      else if (t.kind === 'stateful') e = statefulEntry(id, t)
      else e = batchEntry(id, t)
    }
    entries.set(id, e)
    return e
  }

  /** Push into every edge; fan-out shares the token and copies records for branches that may mutate. */
  const fanOut = (edges: Edge[]): Emit => {
    if (edges.length === 0) return (batch) => (batch.ack.settle(), undefined)
    const targets = edges.map((e) => ({ emit: lazy(() => entryOf(e.to)), mutates: graph.nodes.get(e.to)!.config.kind !== 'sink' }))
    if (targets.length === 1) {
      const only = targets[0]!.emit
      return (batch) => only()(batch)
    }
    // Every branch that may change records in place works on its own shallow copies, unless it is
    // the only one that could see the original (no sink shares it): then the last such branch
    // takes the original and saves one copy.
    const anySink = targets.some((t) => !t.mutates)
    const originalTo = anySink ? -1 : targets.length - 1
    return (batch) => {
      batch.ack.retain(targets.length - 1)
      let waits: Promise<void>[] | undefined
      for (let k = 0; k < targets.length; k++) {
        const t = targets[k]!
        const b = t.mutates && k !== originalTo ? { ...batch, records: batch.records.map((r) => ({ ...r })) } : batch
        const p = t.emit()(b)
        if (p) (waits ??= []).push(p)
      }
      return waits ? Promise.all(waits).then(noop) : undefined
    }
  }

  const dlqBatch = (from: string, batch: Batch, items: readonly (ChainFailure & { origin?: Origin })[]) => {
    const byStep = new Map<string, DeadLetter[]>()
    for (const it of items) {
      const code: ErrorCode = isSluiceError(it.error) ? it.error.code : 'SLC_RECORD_TRANSFORM'
      const letters = byStep.get(it.step) ?? []
      letters.push(deadLetter(it.step, code, errorMessage(it.error), it.origin ?? originOf(batch, it.i, from), { record: it.record }))
      byStep.set(it.step, letters)
    }
    let waits: Promise<void>[] | undefined
    for (const [step, letters] of byStep) {
      cc.stats.get(step).deadLettered += letters.length
      batch.ack.retain()
      const token = new AckToken((status) => batch.ack.settle(status))
      const p = cc.deadLetterFor(step)(letters, token)
      if (p) (waits ??= []).push(p)
    }
    return waits
  }

  /** Emit the survivors (or settle when none), after queueing dead letters. */
  const finish = (next: Emit, batch: Batch, waits: Promise<void>[] | undefined): Promise<void> | undefined => {
    const p = batch.records.length > 0 ? next(batch) : (batch.ack.settle(), undefined)
    if (!waits) return p
    if (p) waits.push(p)
    return Promise.all(waits).then(noop)
  }

  const recordChain = (headId: string): Emit => {
    const ids = [headId]
    let tail = graph.nodes.get(headId)!
    for (;;) {
      const out = tail.consumers[0]!
      if (out.length !== 1) break
      const next = graph.nodes.get(out[0]!.to)!
      if (next.config.kind !== 'transform' || built.get(next.config.id)!.kind !== 'record' || next.inputs.length !== 1) break
      ids.push(next.config.id)
      tail = next
    }
    const steps = ids.map((id) => built.get(id) as RecordTransform)
    const stepStats = ids.map((id) => cc.stats.get(id))
    const next = fanOut(tail.consumers[0]!)
    const n = steps.length
    return (batch) => {
      const records = batch.records
      const passed = new Int32Array(n)
      const result = runRecordSteps(steps, ids, records, passed, batch.index)
      const count = records.length
      stepStats[0]!.received += count
      addPassed(stepStats, passed)
      const waits = result.failures ? dlqBatch(ids[0]!, batch, result.failures) : undefined
      records.length = result.kept
      // Channels bound bytes too: a batch the steps thinned counts only what it still holds.
      if (result.kept < count) batch.bytes = Math.ceil((batch.bytes * result.kept) / count)
      if (result.index) batch.index = result.index
      return finish(next, batch, waits)
    }
  }

  /**
   * Entry for batches source `from` already ran through the record chain `ids` that starts right
   * after it (in worker threads; `ids` is empty when the workers only pre-aggregated): counts the
   * steps, dead-letters what they (or the aggregate they folded records into) rejected, and goes
   * on to whatever consumes the chain's last step.
   */
  const afterChain = (from: string, ids: readonly string[]): ((batch: Batch, report?: ChainReport) => Promise<void> | undefined) => {
    const stepStats = ids.map((id) => cc.stats.get(id))
    const next = fanOut(graph.nodes.get(ids[ids.length - 1] ?? from)!.consumers[0]!)
    return (batch, report) => {
      if (!report) return finish(next, batch, undefined)
      if (stepStats.length > 0) stepStats[0]!.received += report.received
      addPassed(stepStats, report.passed)
      const waits = report.failures.length > 0 ? dlqBatch(from, batch, report.failures) : undefined
      return finish(next, batch, waits)
    }
  }

  const routerEntry = (id: string, t: RouterTransform): Emit => {
    const node = graph.nodes.get(id)!
    const outs = node.consumers.map((edges) => (edges.length > 0 ? fanOut(edges) : undefined))
    const s = cc.stats.get(id)
    const into: number[] = []
    return (batch) => {
      const groups: Rec[][] = outs.map(() => [])
      const indexes: number[][] = outs.map(() => [])
      let dead: { i: number; record: Rec; error: unknown; step: string }[] | undefined
      const records = batch.records
      for (let i = 0; i < records.length; i++) {
        into.length = 0
        try {
          t.route(records[i]!, into)
        } catch (error) {
          ;(dead ??= []).push({ i, record: records[i]!, error, step: id })
          continue
        }
        for (let k = 0; k < into.length; k++) {
          const o = into[k]!
          // A record routed to two outputs is copied for the second, so branches never share it.
          groups[o]!.push(k === 0 ? records[i]! : { ...records[i]! })
          indexes[o]!.push(batch.index ? batch.index[i]! : i)
        }
      }
      s.received += records.length
      const waits = dead ? dlqBatch(id, batch, dead) : undefined
      const pending: Promise<void>[] = waits ?? []
      for (let o = 0; o < outs.length; o++) {
        const emit = outs[o]
        const group = groups[o]!
        if (!emit || group.length === 0) continue
        s.sent += group.length
        batch.ack.retain()
        const child: Batch = { records: group, bytes: Math.ceil((batch.bytes * group.length) / Math.max(1, records.length)), ack: batch.ack, origin: batch.origin, index: Uint32Array.from(indexes[o]!) }
        const p = emit(child)
        if (p) pending.push(p)
      }
      batch.ack.settle()
      return pending.length > 0 ? Promise.all(pending).then(noop) : undefined
    }
  }

  const batchEntry = (id: string, t: BatchTransform): Emit => {
    const node = graph.nodes.get(id)!
    const next = fanOut(node.consumers[0]!)
    const s = cc.stats.get(id)
    type Dead = { i: number; record: Rec; error: unknown; step: string }
    const onError = (batch: Batch, input: Rec[], error: unknown) => {
      // The function may have changed the array it was given: dead-letter what it received.
      const items = input.map((record, i) => ({ i, record, error, step: id }))
      const waits = dlqBatch(id, { ...batch, records: input }, items)
      batch.records = []
      return finish(next, batch, waits)
    }
    const onResult = (batch: Batch, input: Rec[], out: Rec[], dead: Dead[] | undefined) => {
      s.sent += out.length
      const waits = dead ? dlqBatch(id, { ...batch, records: input }, dead) : undefined
      // Origins follow the records the function returned unchanged and in order (dropping some
      // is fine); new objects or a new order lose their line numbers.
      const index = dead ? undefined : originIndex(input, out, batch.index)
      const b: Batch = index
        ? { ...batch, records: out, index }
        : { records: out, bytes: batch.bytes, ack: batch.ack, origin: batch.origin ? { source: batch.origin.source, file: batch.origin.file, topic: batch.origin.topic, partition: batch.origin.partition } : undefined }
      return finish(next, b, waits)
    }
    return (batch) => {
      s.received += batch.records.length
      const input = batch.records.slice()
      let dead: Dead[] | undefined
      const reject = (i: number, error: unknown) => {
        ;(dead ??= []).push({ i, record: input[i]!, error, step: id })
      }
      let result: Rec[] | PromiseLike<Rec[]>
      try {
        result = t.process(batch.records, reject)
      } catch (error) {
        return onError(batch, input, error)
      }
      if (!Array.isArray(result)) {
        // A promise or any thenable (a custom transform may return one from another library).
        return Promise.resolve(result).then(
          (out) => onResult(batch, input, out, dead),
          (error) => onError(batch, input, error),
        )
      }
      return onResult(batch, input, result, dead)
    }
  }

  /** Rows produced by a stateful transform travel with a token of their own. */
  const outputs = new Map<string, Emit>()
  const emitRows = (id: string, rows: Rec[]): Promise<void> | undefined => {
    if (rows.length === 0) return undefined
    cc.stats.get(id).sent += rows.length
    let next = outputs.get(id)
    if (!next) outputs.set(id, (next = fanOut(graph.nodes.get(id)!.consumers[0]!)))
    return next({ records: rows, bytes: rows.length * 128, ack: cc.newToken(), origin: { source: id } })
  }

  const statefulEntry = (id: string, t: StatefulTransform): Emit => {
    const s = cc.stats.get(id)
    type Dead = { i: number; record: Rec; error: unknown; step: string }
    return (batch) => {
      const records = batch.records
      s.received += recordsIn(records)
      let dead: Dead[] | undefined
      const partition = partitionOf(batch.origin)
      const rows = t.process(records, {
        partition,
        now: cc.now(),
        reject: (i, error) => {
          ;(dead ??= []).push({ i, record: records[i]!, error, step: id })
        },
      })
      // The state owns what it absorbed: the input settles once its dead letters are queued.
      const waits = dead ? dlqBatch(id, batch, dead) : undefined
      batch.ack.settle()
      const p = emitRows(id, rows)
      if (!waits) return p
      if (p) waits.push(p)
      return Promise.all(waits).then(noop)
    }
  }

  return { consumersOf: (id) => fanOut(graph.nodes.get(id)!.consumers[0]!), emitFrom: emitRows, afterChain }
}

/** Where each record of `out` sat in `input` (composed with the input's own index), if `out` is a subsequence of `input`. */
function originIndex(input: Rec[], out: Rec[], inputIndex: Uint32Array | undefined): Uint32Array | undefined {
  if (out.length > input.length) return undefined
  const index = new Uint32Array(out.length)
  let i = 0
  for (let j = 0; j < out.length; j++) {
    while (i < input.length && input[i] !== out[j]) i++
    if (i === input.length) return undefined
    index[j] = inputIndex ? inputIndex[i]! : i
    i++
  }
  return index
}

/** Step s passed `passed[s]` records, which step s + 1 received. */
function addPassed(stepStats: readonly ComponentStats[], passed: ArrayLike<number>): void {
  for (let s = 0; s < stepStats.length; s++) {
    stepStats[s]!.sent += passed[s]!
    if (s + 1 < stepStats.length) stepStats[s + 1]!.received += passed[s]!
  }
}

function lazy<T>(make: () => T): () => T {
  let value: T | undefined
  return () => (value ??= make())
}

function noop(): void {}
