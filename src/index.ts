// The public TypeScript API: `pipeline()` builds the same topology a YAML config does, with
// record types that flow from sources through transforms to sinks; plus the plugin contract.
import { builtins } from './component/builtins.js'
import type { Registry } from './component/registry.js'
import { validateConfigObject } from './config/load.js'
import type { PipelineConfig } from './config/types.js'
import { runPipeline, type RunResult } from './core/topology/run.js'
import { createLogger, silentLogger, type Logger } from './observe/log.js'
import type { RunStats } from './observe/stats.js'

// ─── Record types derived from component configs ─────────────────────────────────────────

type CsvColumnType = 'string' | 'int' | 'float' | 'bool' | 'timestamp'
type CsvValue<T> = T extends 'int' | 'float' ? number : T extends 'bool' ? boolean : string

type Prettify<T> = { [K in keyof T]: T[K] } & {}

type GeneratorValue<F> = F extends 'sequence'
  ? number
  : F extends 'timestamp' | 'uuid'
    ? string
    : F extends { kind: 'int' | 'float' }
      ? number
      : F extends { kind: 'string' }
        ? string
        : F extends { kind: 'choice'; values: readonly (infer V)[] }
          ? V
          : F extends { kind: 'constant'; value: infer V }
            ? V
            : unknown

/** The record type a source config produces. */
export type SourceRecord<C> = C extends { type: 'file' | 'stdin'; format: 'lines' }
  ? { message: string }
  : C extends { type: 'stdin'; format?: undefined }
    ? { message: string }
    : C extends { type: 'file' | 'stdin'; format: 'csv'; csv: { columns: infer Cols extends Record<string, CsvColumnType> } }
      ? Prettify<{ -readonly [K in keyof Cols]: CsvValue<Cols[K]> }>
      : C extends { type: 'generator'; format: 'json' }
        ? { message: string }
        : C extends { type: 'generator'; fields: infer F extends Record<string, unknown> }
          ? Prettify<{ -readonly [K in keyof F]: GeneratorValue<F[K]> }>
          : C extends { type: 'generator' }
            ? { id: number; ts: string; user_id: number; country: string; event: string; amount: number }
            : Record<string, unknown>

type CastValue<T> = T extends 'int' | 'float' ? number : T extends 'bool' ? boolean : T extends 'string' | 'timestamp' ? string : unknown

// `map` runs its steps in a fixed order (src/transforms/map.ts), and so do these types:
// set → rename → cast → remove → keep. Each step is the identity when its option is absent.

/** Step 1: `set` fields hold the values of CEL expressions, whose types are not known statically. */
type MapSet<T, C> = C extends { set: infer S extends object } ? Omit<T, keyof S> & { -readonly [K in keyof S]: unknown } : T
/** Step 2: `rename: { old: new }` moves a field the record has, replacing any field named `new`. */
type MapRename<T, C> = C extends { rename: infer Rn extends Record<string, string> }
  ? Omit<T, (keyof Rn & keyof T) | Rn[keyof Rn & keyof T]> & { -readonly [K in keyof Rn & keyof T as Rn[K]]: T[K] }
  : T
/** Step 3: `cast` replaces the type of a field the record has; missing fields and nulls stay as they are. */
type MapCast<T, C> = C extends { cast: infer Ca extends Record<string, string> }
  ? Omit<T, keyof Ca & keyof T> & { -readonly [K in keyof Ca & keyof T]: CastValue<Ca[K]> | Extract<T[K], null | undefined> }
  : T
/** Step 4: `remove` deletes fields. */
type MapRemove<T, C> = C extends { remove: readonly (infer R extends string)[] } ? Omit<T, R> : T
/** Step 5: `keep` projects onto the listed fields (those the record lacks stay absent). */
type MapKeep<T, C> = C extends { keep: readonly (infer K extends string)[] } ? Pick<T, Extract<K, keyof T>> : T

/** The record type a `map` produces from its input type (each member of a union on its own). */
type MapOutput<In, C> = In extends unknown ? Prettify<MapKeep<MapRemove<MapCast<MapRename<MapSet<In, C>, C>, C>, C>, C>> : never

/**
 * The record type a `parse` produces: the parsed object under `target`, or merged into the record
 * (fields unknown), where the source `field` is removed unless `remove_source: false`.
 */
type ParseOutput<In, C> = In extends unknown
  ? C extends { target: infer T extends string }
    ? Prettify<Omit<In, T> & { [K in T]: Record<string, unknown> }>
    : C extends { remove_source: false }
      ? Prettify<In & Record<string, unknown>>
      : Prettify<Omit<In, C extends { field: infer F extends string } ? F : 'message'> & Record<string, unknown>>
  : never

/**
 * What a `function`'s `fn` may return. Record mode: a record, an array of records (several
 * outputs), null/undefined/nothing (drop it), or a promise of one of those. Batch mode: the array
 * of output records, or a promise of it.
 */
type RecordFnResult = object | readonly object[] | null | undefined | void
type FunctionResult = RecordFnResult | Promise<RecordFnResult>
type BatchFunctionResult = readonly object[] | Promise<readonly object[]>

/** The stream type of a `function` whose `fn` returns `R`: promises awaited, arrays flattened, drops left out. */
type FunctionOutput<R> = R extends Promise<infer P> ? FunctionOutput<P> : R extends readonly (infer E)[] ? E : Exclude<R, null | undefined | void>

/** What a transform config produces, given the union of its inputs' record types. */
export type TransformRecord<In, C> = C extends { type: 'filter' | 'dedupe' }
  ? In
  : C extends { type: 'aggregate' }
    ? AggregateOutput<In, C>
    : C extends { type: 'enrich' }
      ? Prettify<In & Record<string, unknown>>
  : C extends { type: 'map' }
    ? MapOutput<In, C>
    : C extends { type: 'parse' }
      ? ParseOutput<In, C>
      : C extends { type: 'function'; fn: (...args: never[]) => infer R }
        ? FunctionOutput<R>
        : Record<string, unknown>

/** The value type of one aggregation call such as `sum(amount)` or `collect(item, 10)`. */
type AggregationValue<In, A> = A extends `count(${string})` | `count_distinct(${string})` | `approx_count_distinct(${string})`
  ? number
  : A extends `${'sum' | 'avg' | 'percentile' | 'p50' | 'p90' | 'p99'}(${string})`
    ? number | null
    : A extends `${'min' | 'max' | 'first' | 'last'}(${infer F})`
      ? (F extends keyof In ? In[F] : unknown) | null
      : A extends `collect(${infer F})`
        ? (F extends `${infer G}, ${string}` ? (G extends keyof In ? In[G] : unknown) : F extends keyof In ? In[F] : unknown)[]
        : unknown

/** Rows of an `aggregate`: window bounds (not for `global`), the group keys, the aggregations. */
type AggregateOutput<In, C> = Prettify<
  (C extends { window: { type: 'global' } } ? unknown : { window_start: string; window_end: string }) &
    (C extends { group_by: readonly (infer G extends string)[] } ? { [K in G]: K extends keyof In ? In[K] : unknown } : unknown) &
    (C extends { aggregations: infer A extends Record<string, string> } ? { -readonly [K in keyof A]: AggregationValue<In, A[K]> } : unknown)
>

// ─── Builder ──────────────────────────────────────────────────────────────────────────────

type Streams = Record<string, unknown>
type InputOf<S extends Streams, I extends readonly string[]> = S[I[number]]

/** Options common to the whole pipeline (the top-level YAML keys). */
export interface PipelineSettings {
  data_dir?: string
  shutdown_timeout?: string
  checkpoint_interval?: string
  state_checkpoint_interval?: string
  channel?: { max_records?: number; max_bytes?: string }
  dead_letter?: string
  /**
   * Memory budget of the process, e.g. '100MiB'. Heap sizes are fixed when node starts: run node
   * with `memoryFlags(limit)` (`memoryFlags(limit, 1)` for a pipeline without a file source; the
   * `sluice` CLI does it itself); the run warns when they differ.
   */
  memory_limit?: string
  /** Folder relative paths resolve against (YAML: the config file's folder). Default: cwd. */
  base_dir?: string
}

/** A source config: `type` plus that source's options (see `sluice components <type>`). */
export interface SourceConfig {
  type: string
  dead_letter?: string
  [option: string]: unknown
}

export interface TransformConfig<I extends string = string> {
  type: string
  inputs: readonly I[]
  dead_letter?: string
  [option: string]: unknown
}

/**
 * `function` transform built in TypeScript: `fn` receives records typed by the inputs, and what
 * it returns (`R`, see FunctionResult) gives the type of the records that flow on.
 */
export type FunctionConfig<I extends string, In, R> =
  | { type: 'function'; inputs: readonly I[]; mode?: 'record'; fn: (record: In) => R; dead_letter?: string }
  | { type: 'function'; inputs: readonly I[]; mode: 'batch'; fn: (records: In[]) => R & BatchFunctionResult; dead_letter?: string }

export interface SinkConfig<I extends string = string> {
  type: string
  inputs?: readonly I[]
  dead_letter?: string
  [option: string]: unknown
}

export interface RunOptions {
  log?: Logger | 'silent' | 'info' | 'debug'
  signal?: AbortSignal
  reset?: boolean
  stats?: RunStats
}

export class PipelineBuilder<S extends Streams = {}> {
  private readonly sources: Record<string, unknown> = {}
  private readonly transforms: Record<string, unknown> = {}
  private readonly sinks: Record<string, unknown> = {}

  constructor(
    private readonly settings: PipelineSettings = {},
    private readonly registry: Registry = builtins,
  ) {}

  source<N extends string, const C extends SourceConfig>(name: N, config: C): PipelineBuilder<S & { [K in N]: SourceRecord<C> }> {
    this.sources[name] = config
    return this as never
  }

  /** A `function` transform: records of the inputs come in typed; the result type flows on. */
  transform<N extends string, const I extends Extract<keyof S, string>, R extends FunctionResult>(
    name: N,
    config: FunctionConfig<I, InputOf<S, readonly I[]>, R>,
  ): PipelineBuilder<S & { [K in N]: FunctionOutput<R> }>
  /** A `route` transform: each route becomes a stream `<name>.<route>` of the input type. */
  transform<N extends string, const I extends Extract<keyof S, string>, const R extends Record<string, string>>(
    name: N,
    config: { type: 'route'; inputs: readonly I[]; routes: R; mode?: 'all' | 'first'; dead_letter?: string },
  ): PipelineBuilder<S & { [K in `${N}.${Extract<keyof R, string>}` | `${N}._unmatched`]: InputOf<S, readonly I[]> }>
  /** Any other transform (filter, map, parse, a `function` loaded from `module`, …). */
  transform<N extends string, const I extends Extract<keyof S, string>, const C extends TransformConfig<I>>(
    name: N,
    // `fn` only through the overload above, which checks what it returns.
    config: C & { inputs: readonly I[]; fn?: never },
  ): PipelineBuilder<S & { [K in N]: TransformRecord<InputOf<S, readonly I[]>, C> }>
  transform(name: string, config: TransformConfig): unknown {
    this.transforms[name] = config
    return this
  }

  sink<N extends string, const I extends Extract<keyof S, string>>(name: N, config: SinkConfig<I> & { inputs?: readonly I[] }): PipelineBuilder<S> {
    this.sinks[name] = config
    return this
  }

  /** The plain config object, the same shape as the YAML file. */
  toObject(): Record<string, unknown> {
    const { base_dir: _base, ...settings } = this.settings
    return { ...settings, sources: this.sources, transforms: this.transforms, sinks: this.sinks }
  }

  /** Validate exactly as `sluice validate` does (throws ConfigErrors). */
  build(): PipelineConfig {
    return validateConfigObject(this.toObject(), { registry: this.registry, baseDir: this.settings.base_dir ?? process.cwd() })
  }

  /** Run until bounded inputs are drained or `signal` aborts. */
  async run(options: RunOptions = {}): Promise<RunResult> {
    const config = this.build()
    const log = typeof options.log === 'object' ? options.log : options.log === undefined || options.log === 'silent' ? silentLogger() : createLogger({ level: options.log })
    return runPipeline(config, { registry: this.registry, log, signal: options.signal, reset: options.reset, stats: options.stats })
  }
}

/** Start a pipeline in TypeScript: `pipeline().source(…).transform(…).sink(…).run()`. */
export function pipeline(settings: PipelineSettings = {}, registry: Registry = builtins): PipelineBuilder {
  return new PipelineBuilder(settings, registry)
}

// ─── The rest of the public surface ──────────────────────────────────────────────────────
export { builtins } from './component/builtins.js'
export { Registry } from './component/registry.js'
export { defineSink, defineSource, defineTransform } from './component/define.js'
export type { BuildContext, Sink, Source, SourceContext, Transform, RecordTransform, RouterTransform, BatchTransform } from './component/define.js'
export * as options from './component/options.js'
export { loadConfigFile, loadConfigText, validateConfigObject } from './config/load.js'
export { runPipeline } from './core/topology/run.js'
export { heapPlan, memoryFlags } from './core/memory.js'
export type { HeapPlan } from './core/memory.js'
export type { RunResult, RunStatus } from './core/topology/run.js'
export type { Rec, Batch, Origin } from './core/batch.js'
export {
  SluiceError, ConfigError, ConfigErrors, RetryableError, PermanentError, PartialBatchError, RecordError,
  isSluiceError, ERROR_CATALOG,
} from './core/errors.js'
export type { ErrorCode } from './core/errors.js'
export { RunStats } from './observe/stats.js'
