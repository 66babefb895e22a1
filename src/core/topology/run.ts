// Runs a pipeline: builds every component, compiles the graph into push functions (synchronous
// transforms fused into one loop per batch), puts a bounded channel in front of each sink, runs
// the sources, and shuts down in order: sources stop → sinks drain → dead letters drain → commit.
//
//   source.emit(batch) ─► [filter∘map fused loop] ─► fan-out ─► channel ─► SinkRunner ─► sink
//                                 │ thrown per record            (backpressure: send() waits)
//                                 └──────────────► dead-letter channel ─► dead-letter sink
import { join } from 'node:path'
import { availableParallelism } from 'node:os'
import type { Sink, Source, SourceBatchInit, SourceContext, SourceDeadLetter, StatefulTransform, Transform } from '../../component/define.js'
import type { Registry } from '../../component/registry.js'
import type { BatchPolicy, RetryPolicy } from '../../component/options.js'
import type { ComponentConfig, PipelineConfig } from '../../config/types.js'
import { deadLetter, type DeadLetter } from '../../delivery/dead-letter.js'
import { SinkRunner, type DeadLetterSend } from '../../delivery/sink-runner.js'
import { formatBytes } from '../../observe/format.js'
import type { Logger } from '../../observe/log.js'
import { RunStats, type ComponentStats } from '../../observe/stats.js'
import { AckToken, type AckStatus } from '../ack.js'
import { Gate, InFlight } from '../barrier.js'
import type { Batch, Origin, Rec } from '../batch.js'
import { Channel } from '../channel.js'
import { CheckpointStore } from '../checkpoint.js'
import { SluiceError, errorMessage, isConfigError, isSluiceError } from '../errors.js'
import { heapMatches, memoryFlags } from '../memory.js'
import { fieldsReadFrom } from './fields.js'
import { isPortable, portableChain, preaggregationTarget } from '../threads/plan.js'
import { compileTransforms, type ChainReport, type Emit } from './fuse.js'
import { buildGraph, type Graph } from './graph.js'

export interface RunOptions {
  registry: Registry
  log: Logger
  /** Abort to shut down gracefully (SIGINT/SIGTERM): stop reading, drain, commit. */
  signal?: AbortSignal
  /** Forget stored source positions before starting (`sluice run --reset`). */
  reset?: boolean
  /** Pass one in to watch progress while the run goes on. */
  stats?: RunStats
  /** Processing time for stateful transforms and their ticks (tests pass a fake one). */
  clock?: { now(): number }
  /** How often stateful transforms are ticked (idle partitions, timeouts). */
  tickIntervalMs?: number
}

export type RunStatus = 'completed' | 'stopped' | 'failed'

export interface RunResult {
  status: RunStatus
  stats: RunStats
  durationMs: number
  /** Why the run failed or did not drain in time. */
  error?: SluiceError
  /** Shutdown deadline passed with batches still in flight (they will be read again). */
  timedOut: boolean
}

const DEFAULT_DEAD_LETTER = '_dead_letter'

export async function runPipeline(config: PipelineConfig, options: RunOptions): Promise<RunResult> {
  const { registry, log } = options
  const graph = buildGraph(config)
  const stats = options.stats ?? new RunStats()
  const stopSources = new AbortController()
  const hardStop = new AbortController()
  let failure: SluiceError | undefined
  const fail = (e: SluiceError) => {
    if (!failure) failure = e
    log.error({ code: e.code }, e.message)
    stopSources.abort(e)
  }
  const onUserStop = () => stopSources.abort(new Error('shutdown requested'))
  options.signal?.addEventListener('abort', onUserStop, { once: true })
  if (options.signal?.aborted) onUserStop()

  const memoryLimit = config.memoryLimit
  if (memoryLimit !== undefined) {
    // Heap sizes are fixed when node starts: an API user must pass the flags (the CLI does). Only a
    // file source has chunk workers to make room for; the plan that keeps room for them anyway
    // (memoryFlags' default) fits too.
    const cores = config.components.some((c) => c.kind === 'source' && c.type === 'file') ? availableParallelism() : 1
    const fitting = [cores, availableParallelism()].find((n) => heapMatches(memoryLimit, n))
    const flags = memoryFlags(memoryLimit, fitting ?? cores).join(' ')
    if (fitting !== undefined) log.info({ memory_limit: memoryLimit, flags }, `Memory limit ${formatBytes(memoryLimit)}: heap sized by ${flags}.`)
    else log.warn({ memory_limit: memoryLimit, flags }, `memory_limit is set but node was started without its heap sizes: start node with ${flags} (the sluice CLI does this itself).`)
  }
  const ctxFor = (id: string) => ({ id, baseDir: config.baseDir, dataDir: config.dataDir, log: log.child({ component: id }), ...(memoryLimit !== undefined && { memoryLimit }) })

  // ── Transforms first: which of them keep state decides how checkpoints are written. ──
  const built = new Map<string, Transform>()
  for (const c of config.components) {
    if (c.kind !== 'transform') continue
    stats.register(c.id, 'transform', c.type)
    built.set(c.id, await located(config, c, () => registry.get('transform', c.type)!.build(c.options as never, ctxFor(c.id))))
  }
  // Sources next, before any sink opens: a source that reads a file at build (a schema) fails
  // here, as a config error, with nothing to clean up.
  const sources = new Map<string, Source>()
  try {
    for (const c of config.components) {
      if (c.kind === 'source') sources.set(c.id, await located(config, c, () => registry.get('source', c.type)!.build(c.options as never, ctxFor(c.id))))
    }
  } catch (e) {
    for (const t of built.values()) if (t.kind === 'batch') await Promise.resolve(t.close?.()).catch(() => {})
    throw e
  }
  // Stateful transforms in graph order: flushes cascade downstream.
  const stateful = graph.order.filter((id) => built.get(id)?.kind === 'stateful').map((id) => ({ id, t: built.get(id) as StatefulTransform }))
  const checkpoints = new CheckpointStore(config.dataDir, config.checkpointIntervalMs, stateful.length > 0, (e) => fail(e))
  if (options.reset) checkpoints.reset(config.components.filter((c) => c.kind === 'source').map((c) => c.id).concat(stateful.map((x) => x.id)))
  for (const { id, t } of stateful) {
    const saved = checkpoints.state(id)
    if (saved !== undefined) t.restore(saved)
  }
  const clock = options.clock ?? { now: () => Date.now() }
  /** Sources' own commits (Kafka offsets) that must follow each barrier. */
  const barrierHooks: (() => Promise<void> | void)[] = []
  const saveBarrier = async () => {
    checkpoints.commitBarrier(new Map(stateful.map(({ id, t }) => [id, t.snapshot()])))
    for (const hook of barrierHooks) await hook()
  }
  const inFlight = new InFlight()
  const gate = new Gate()
  /** Every token counts in flight until it settles, so a barrier can wait for all of them. */
  const track = (onSettle: (status: AckStatus) => void) => {
    inFlight.add()
    return new AckToken((status) => {
      inFlight.done()
      onSettle(status)
    })
  }
  // ── Sinks: one channel and one runner each; the default dead-letter file is a sink too. ──
  const runners = new Map<string, { runner: SinkRunner; channel: Channel<Batch>; stats: ComponentStats }>()
  const dlqSendFor = (target: string | undefined): DeadLetterSend => {
    return (letters, ack) => {
      const entry = runners.get(target ?? config.deadLetter ?? DEFAULT_DEAD_LETTER)!
      entry.stats.received += letters.length
      return entry.channel.send({ records: letters, bytes: dlqBytes(letters), ack })
    }
  }
  const addSink = (id: string, sink: Sink, c: { batch: BatchPolicy; retry: RetryPolicy; buffer?: { maxRecords: number; maxBytes: number } }, deadLetterTo: DeadLetterSend, kind: ComponentStats['kind'], type: string, lazyOpen = false) => {
    const channel = new Channel<Batch>(c.buffer ?? config.channel)
    const s = stats.register(id, kind, type)
    const runner = new SinkRunner({
      id, sink, batch: c.batch, retry: c.retry, channel, stats: s, log: log.child({ component: id }),
      deadLetter: deadLetterTo, hardStop: hardStop.signal, lazyOpen,
    })
    runners.set(id, { runner, channel, stats: s })
  }

  const fileSink = registry.get('sink', 'file')
  if (!fileSink) throw new SluiceError('SLC_INTERNAL', 'the file sink is not registered; the default dead-letter output needs it')
  const dlqOptions = fileSink.options.parse({ path: join(config.dataDir, 'dead-letter.jsonl'), format: 'jsonl', batch: { linger: '20ms' } }) as { batch: BatchPolicy; retry: RetryPolicy }
  // Dead letters that even the default file cannot take fail their tokens: the source will not commit.
  addSink(DEFAULT_DEAD_LETTER, fileSink.build(dlqOptions, ctxFor(DEFAULT_DEAD_LETTER)), dlqOptions, (letters, ack) => {
    fail(new SluiceError('SLC_SINK_IO', `the dead-letter file rejected ${letters.length} record(s); their input will be read again`))
    ack.settle('failed')
    return undefined
  }, 'dead_letter', 'file', true)

  for (const c of config.components) {
    if (c.kind !== 'sink') continue
    const decl = registry.get('sink', c.type)!
    const opts = c.options as { batch: BatchPolicy; retry: RetryPolicy }
    const isDlqTarget = graph.deadLetterTargets.has(c.id)
    const dlqTo = isDlqTarget ? dlqSendFor(DEFAULT_DEAD_LETTER) : dlqSendFor(c.deadLetter)
    addSink(c.id, decl.build(c.options as never, ctxFor(c.id)), { batch: opts.batch, retry: opts.retry, buffer: c.buffer }, dlqTo, isDlqTarget && c.inputs.length === 0 ? 'dead_letter' : 'sink', c.type)
  }

  const sinkEntry = (id: string): Emit => {
    const { channel, stats: s } = runners.get(id)!
    return (batch) => {
      s.received += batch.records.length
      return channel.send(batch)
    }
  }
  const entries = compileTransforms(graph, built, {
    sinkEntry,
    stats,
    deadLetterFor: (id) => dlqSendFor(graph.nodes.get(id)!.config.deadLetter),
    now: () => clock.now(),
    newToken: () =>
      track((status) => {
        if (status !== 'delivered') fail(new SluiceError('SLC_SINK_IO', 'rows emitted by a stateful transform reached neither a sink nor the dead-letter output'))
      }),
  })
  /** Rows of stateful transforms produced outside `process`, through the same gate as sources. */
  const emitStateful = async (produce: (t: StatefulTransform) => Rec[] | undefined) => {
    for (const { id, t } of stateful) {
      const rows = produce(t)
      if (rows && rows.length > 0) await entries.emitFrom(id, rows)
    }
  }

  // ── Open sinks (fail fast on a bad target), then run the sources. ──
  const opened: SinkRunner[] = []
  for (const [id, { runner }] of runners) {
    try {
      await runner.open()
      opened.push(runner)
    } catch (e) {
      // Release what was already opened: a failed start must not leave files or databases open.
      for (const r of opened) await r.close().catch(() => {})
      for (const t of built.values()) if (t.kind === 'batch') await Promise.resolve(t.close?.()).catch(() => {})
      checkpoints.close()
      throw isSluiceError(e) ? e : new SluiceError('SLC_SINK_IO', `sink "${id}" could not open: ${errorMessage(e)}`, { cause: e })
    }
  }
  // A sink loop that dies closes its channel, so producers fail fast instead of waiting forever.
  const sinkRuns = new Map(
    [...runners].map(([id, r]) => [
      id,
      r.runner.run().catch((e) => {
        fail(asSluiceError(e, id))
        r.channel.close()
      }),
    ]),
  )

  // The shutdown deadline counts from the stop request — armed now, not once the sources have
  // returned: a source blocked by backpressure from a stuck sink, or awaiting a stuck batch
  // transform, must not make shutdown wait forever. A bounded run that ends by itself drains at
  // the sinks' pace (retries included).
  let timedOut = false
  let deadline: NodeJS.Timeout | undefined
  const armDeadline = () => {
    deadline ??= setTimeout(() => {
      timedOut = true
      log.warn({ timeoutMs: config.shutdownTimeoutMs }, 'Batches did not drain before shutdown_timeout; unacknowledged input will be read again on restart.')
      hardStop.abort(new SluiceError('SLC_SHUTDOWN_TIMEOUT', 'shutdown timeout'))
    }, config.shutdownTimeoutMs)
  }
  if (stopSources.signal.aborted) armDeadline()
  else stopSources.signal.addEventListener('abort', armDeadline, { once: true })
  // Past the deadline, stop waiting for whatever is still stuck (its input is not committed).
  const hardStopped = new Promise<void>((resolve) => hardStop.signal.addEventListener('abort', () => resolve(), { once: true }))
  const untilHardStop = (p: Promise<unknown>) => Promise.race([p, hardStopped])

  // ── Stateful transforms: ticks, and barriers that save positions and state together. ──
  let ticking: Promise<void> | undefined
  const ticker = stateful.length === 0 ? undefined : setInterval(() => {
    if (ticking || gate.closed) return
    const now = clock.now()
    ticking = emitStateful((t) => t.tick?.(now)).catch((e) => fail(asSluiceError(e, 'tick'))).finally(() => (ticking = undefined))
  }, options.tickIntervalMs ?? 250)
  ticker?.unref()
  let barrierRunning: Promise<void> | undefined
  /** Hold sources, wait until everything emitted is durable, save positions + state, resume. */
  const barrier = async () => {
    gate.close()
    try {
      await ticking
      await untilHardStop(inFlight.idle())
      if (inFlight.size === 0 && !failure) await saveBarrier()
    } finally {
      gate.open()
    }
  }
  /** One barrier at a time: a request during a running one joins it. */
  function runBarrier(): Promise<void> {
    barrierRunning ??= barrier().catch((e) => fail(asSluiceError(e, 'checkpoint'))).finally(() => (barrierRunning = undefined))
    return barrierRunning
  }
  const barriers = stateful.length === 0 ? undefined : setInterval(runBarrier, config.stateCheckpointIntervalMs)
  barriers?.unref()

  const started = performance.now()
  const sourceRuns = config.components
    .filter((c) => c.kind === 'source')
    .map(async (c) => {
      const s = stats.register(c.id, 'source', c.type)
      const source = sources.get(c.id)!
      const entry = entries.consumersOf(c.id)
      const dlq = dlqSendFor(c.deadLetter)
      const chainIds = portableChain(graph, (id) => isPortable(registry.get('transform', graph.nodes.get(id)!.config.type)), c.id)
      const chainEnd = chainIds[chainIds.length - 1] ?? c.id
      const preaggregate = preaggregationTarget(graph, (id) => registry.get('transform', graph.nodes.get(id)!.config.type), built, chainEnd)
      const afterChain = chainIds.length > 0 || preaggregate ? entries.afterChain(c.id, chainIds) : undefined
      const jsonLinesOut = takesJsonLines(graph, registry, chainEnd)
      /** Count, track and hand on a source batch: into the graph, or past the steps it already ran. */
      const send = (init: SourceBatchInit<Rec>, processed: boolean, report?: ChainReport): Promise<void> | undefined => {
        // During a checkpoint barrier the source waits here (it awaits emit anyway).
        if (gate.closed) return gate.wait().then(() => send(init, processed, report))
        // Records the source decoded: for a processed batch, the report says (its records are
        // what the steps kept).
        const n = processed ? (report?.received ?? 0) : init.records.length
        s.received += n
        s.sent += n
        s.bytes += init.bytes
        // A report goes on even with no records: it counts what the steps dropped.
        if (init.records.length === 0 && !report) {
          init.onAck?.()
          return undefined
        }
        const ack = track((status) => {
          if (status === 'delivered') init.onAck?.()
          else fail(new SluiceError('SLC_SINK_IO', `records from source "${c.id}" reached neither a sink nor the dead-letter output; their position is not committed`))
        })
        const batch = { records: init.records, bytes: init.bytes, ack, origin: init.origin }
        return processed ? afterChain!(batch, report) : entry(batch)
      }
      const ctx: SourceContext<Record<string, unknown>> = {
        id: c.id,
        signal: stopSources.signal,
        log: log.child({ component: c.id }),
        checkpoints: checkpoints.handle(c.id),
        fields: fieldsReadFrom(graph, built, c.id),
        emit: (init) => send(init, false),
        portable: chainIds.map((id) => ({ id, type: graph.nodes.get(id)!.config.type, options: graph.nodes.get(id)!.config.options })),
        jsonLinesOut,
        preaggregate,
        emitProcessed: (init, report) => send(init, true, report),
        deadLetter: (items, onAck) => {
          if (items.length === 0) return undefined
          if (gate.closed) return gate.wait().then(() => ctx.deadLetter(items, onAck))
          s.deadLettered += items.length
          const letters = items.map((it) =>
            deadLetter(c.id, it.code, it.message, originOfLetter(c.id, it), { raw: it.raw, rawTruncated: it.rawTruncated }),
          )
          return dlq(letters, track((status) => (status === 'delivered' ? onAck?.() : undefined)))
        },
        deferCommits: stateful.length > 0,
        onBarrier: (commit) => barrierHooks.push(commit),
        checkpointNow: () => (stateful.length === 0 ? Promise.resolve() : runBarrier()),
        endPartition: (partition) => {
          if (stateful.length === 0) return undefined
          if (gate.closed) return gate.wait().then(() => ctx.endPartition(partition))
          return emitStateful((t) => t.partitionEnded?.(partition))
        },
        progress: (u) => {
          if (u.bytesRead) stats.bytesRead += u.bytesRead
          if (u.bytesTotal) stats.bytesTotal += u.bytesTotal
        },
      }
      try {
        await source.run(ctx)
      } catch (e) {
        // Abandoned at the shutdown deadline (its channel closed under it): not a failure.
        if (!hardStop.signal.aborted) fail(asSluiceError(e, c.id))
      }
    })

  await untilHardStop(Promise.all(sourceRuns))
  clearInterval(barriers)
  await barrierRunning
  clearInterval(ticker)
  await ticking
  // Bounded inputs ended by themselves: emit every window still open, upstream first.
  if (!stopSources.signal.aborted && !failure) {
    try {
      await untilHardStop(emitStateful((t) => t.flush()))
    } catch (e) {
      fail(asSluiceError(e, 'flush'))
    }
  }

  // ── Drain: main sinks, then dead-letter sinks, then the default dead-letter file. ──
  const drainStage = async (ids: string[]) => {
    for (const id of ids) runners.get(id)!.channel.close()
    await untilHardStop(Promise.all(ids.map((id) => sinkRuns.get(id))))
  }
  await drainStage([...runners.keys()].filter((id) => id !== DEFAULT_DEAD_LETTER && !graph.deadLetterTargets.has(id)))
  await drainStage([...graph.deadLetterTargets])
  await drainStage([DEFAULT_DEAD_LETTER])
  clearTimeout(deadline)
  stopSources.signal.removeEventListener('abort', armDeadline)
  // Everything drained: the positions reached and the state now match — save them together.
  if (stateful.length > 0 && !failure && !timedOut && inFlight.size === 0) {
    try {
      await saveBarrier()
    } catch (e) {
      fail(asSluiceError(e, 'checkpoint'))
    }
  }
  for (const { id, t } of stateful) if (t.stateSize) stats.get(id).state = t.stateSize()
  for (const t of built.values()) if (t.kind === 'batch') await t.close?.()
  checkpoints.close()
  options.signal?.removeEventListener('abort', onUserStop)

  const status: RunStatus = failure ? 'failed' : options.signal?.aborted ? 'stopped' : 'completed'
  return {
    status,
    stats,
    durationMs: performance.now() - started,
    error: failure ?? (timedOut ? new SluiceError('SLC_SHUTDOWN_TIMEOUT', `in-flight batches did not drain within ${config.shutdownTimeoutMs} ms`) : undefined),
    timedOut,
  }
}

/** Whether everything `id` emits goes to one sink that takes records pre-encoded as JSON lines. */
function takesJsonLines(graph: Graph, registry: Registry, id: string): boolean {
  const consumers = graph.nodes.get(id)!.consumers
  if (consumers.length !== 1 || consumers[0]!.length !== 1) return false
  const target = graph.nodes.get(consumers[0]![0]!.to)!.config
  return target.kind === 'sink' && registry.get('sink', target.type)?.acceptsJsonLines?.(target.options as never) === true
}

/** Only the origin fields the source set, so dead letters carry no empty keys. */
function originOfLetter(source: string, it: SourceDeadLetter): Origin {
  const o: Origin = { source }
  if (it.file !== undefined) o.file = it.file
  if (it.line !== undefined) o.line = it.line
  if (it.topic !== undefined) {
    o.topic = it.topic
    o.partition = it.partition
  }
  if (it.offset !== undefined) o.offset = it.offset
  return o
}

function dlqBytes(letters: DeadLetter[]): number {
  let bytes = 0
  for (const l of letters) bytes += 256 + (l.raw?.length ?? 0)
  return bytes
}

/**
 * Runs a component's `build`; a ConfigError it throws about one of its options (a schema file
 * that does not exist) gets the file:line:column of that option in the config.
 */
async function located<T>(config: PipelineConfig, c: ComponentConfig, build: () => T | Promise<T>): Promise<T> {
  try {
    return await build()
  } catch (e) {
    // A brand check: a plugin component may throw another copy's ConfigError.
    if (isConfigError(e) && e.location.line === undefined) {
      const option = e.location.path === undefined ? [] : e.location.path.split('.')
      Object.assign(e.location, config.locate([...c.path, ...option]), { component: c.id, path: e.location.path })
    }
    throw e
  }
}

function asSluiceError(e: unknown, component: string): SluiceError {
  if (isSluiceError(e)) return e
  return new SluiceError('SLC_INTERNAL', `component "${component}" failed: ${errorMessage(e)}`, { cause: e })
}

export type { ComponentConfig }
