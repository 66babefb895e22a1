// The shape of a loaded pipeline config, and the schema of the keys Sluice itself owns (top-level
// settings and the keys common to every component), which the loader, JSON Schema and docs share.
import type { AnyDeclaration, ComponentKind } from '../component/define.js'
import { byteSize, duration, z } from '../component/options.js'
import type { ConfigLocation } from '../core/errors.js'
import { MIN_MEMORY_LIMIT_MIB, OUTSIDE_HEAP_MIB } from '../core/memory.js'

export type { ConfigLocation }

/** A path into the config document: map keys and sequence indexes, e.g. ['sinks', 'db', 'inputs', 0]. */
export type ConfigPath = (string | number)[]

/** Record and byte bounds of a channel. */
export interface ChannelBounds {
  maxRecords: number
  maxBytes: number
}

/** One validated component. Produced identically from YAML and from the TypeScript builder. */
export interface ComponentConfig {
  /** The component's name, unique across sources, transforms and sinks. */
  id: string
  kind: ComponentKind
  type: string
  decl: AnyDeclaration
  /** Names of upstream components (`<router>.<output>` for a router output); empty for sources. */
  inputs: string[]
  /** This component's own `dead_letter` sink; when absent the pipeline-wide one applies. */
  deadLetter?: string
  /** Sinks only: bounds of the channel in front of the sink, when set (missing fields from `channel`). */
  buffer?: ChannelBounds
  /** The options as parsed by the declaration's schema (defaults applied, durations in ms). */
  options: unknown
  /** Where the component sits in the config, e.g. ['sinks', 'db']. */
  path: ConfigPath
}

/** A validated pipeline config: settings with defaults applied and every component checked. */
export interface PipelineConfig {
  /** The config file as the user named it (relative stays relative); absent for TS-built configs. */
  file?: string
  /** Absolute folder that relative paths resolve against (the config file's folder). */
  baseDir: string
  /** Absolute `data_dir`. */
  dataDir: string
  shutdownTimeoutMs: number
  checkpointIntervalMs: number
  /** Pipelines with stateful transforms: how often positions and state are saved together. */
  stateCheckpointIntervalMs: number
  /** Default bounds of the channel in front of each sink. */
  channel: ChannelBounds
  /** Pipeline-wide dead-letter sink; absent means the JSONL file `<data_dir>/dead-letter.jsonl`. */
  deadLetter?: string
  /** `memory_limit` in bytes: the process's memory budget (core/memory.ts). */
  memoryLimit?: number
  /** Sources, then transforms, then sinks, each in config order. */
  components: ComponentConfig[]
  /**
   * file:line:column of the node at `path`, or of its nearest existing parent; only `file` (or
   * nothing) for TS-built configs. Used for errors found after loading (unknown inputs, cycles).
   */
  locate(path: ConfigPath): ConfigLocation
}

/** Component names: a letter or underscore, then letters, digits, `_` or `-`. */
export const COMPONENT_NAME_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/
/** An input reference: a component name, or `<router>.<output>`. */
export const INPUT_RE = /^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)?$/

/** The three component sections of a config, in the order components are listed. */
export const SECTIONS = [
  { key: 'sources', kind: 'source', description: 'Where records come from, by name.' },
  { key: 'transforms', kind: 'transform', description: 'Steps between sources and sinks, by name; each reads from its `inputs`.' },
  { key: 'sinks', kind: 'sink', description: 'Where records go, by name; each reads from its `inputs`.' },
] as const satisfies readonly { key: string; kind: ComponentKind; description: string }[]

// About one source batch (2048 records) waiting while the sink works on another: enough to keep
// both sides busy. Deeper channels bought no throughput and kept every record alive across
// several young-generation GCs, so all of them were promoted to the old space: W4's peak RSS
// was set by this queue and the sink's batch, not by the live data.
const DEFAULT_CHANNEL = { max_records: 2048, max_bytes: '4MiB' } as const

/** Top-level keys other than the three component sections. */
export const settingsSchema = z.strictObject({
  data_dir: z
    .string()
    .min(1)
    .default('.sluice')
    .meta({ description: 'Folder for checkpoints, disk buffers and the default dead-letter file; relative to the config file.', format: 'path' }),
  shutdown_timeout: duration('How long a shutdown waits for in-flight batches to drain before giving up.', '30s'),
  checkpoint_interval: duration('How often acknowledged source positions are written to `data_dir`; `0ms` writes as soon as a position advances (one small SQLite transaction per acknowledged chunk). Pipelines with stateful transforms use `state_checkpoint_interval` instead.', '0ms'),
  state_checkpoint_interval: duration('Pipelines with a stateful transform (aggregate, dedupe): how often source positions and transform state are saved together, at a barrier that waits for in-flight batches to be written. After `kill -9` the run resumes from the last one; shorter means less to read again, longer means fewer pauses.', '10s'),
  channel: z
    .strictObject({
      max_records: z.number().int().positive().default(DEFAULT_CHANNEL.max_records).meta({ description: 'Most records waiting in the channel.' }),
      max_bytes: byteSize('Most bytes waiting in the channel.', DEFAULT_CHANNEL.max_bytes),
    })
    .prefault({})
    .meta({ description: 'Default bounds of the channel in front of each sink; a full channel makes its producers wait.' }),
  dead_letter: z
    .string()
    .regex(COMPONENT_NAME_RE, 'expected a sink name')
    .optional()
    .meta({ description: 'Sink that receives failed records of every component without its own `dead_letter`. Default: JSON lines in `<data_dir>/dead-letter.jsonl`.' }),
  memory_limit: byteSize(
    `Memory budget of the whole process (RSS), at least ${MIN_MEMORY_LIMIT_MIB}MiB. \`sluice run\` starts node with a V8 heap sized to fit it, and a file source uses only the worker threads that fit (two need 122 MiB on 2 cores, 138 MiB for a gzip file). Default: no limit (V8 sizes its heap for throughput). See docs/guides/memory.md.`,
  )
    .refine((v) => v >= MIN_MEMORY_LIMIT_MIB * 1024 * 1024, `must be at least ${MIN_MEMORY_LIMIT_MIB}MiB (node itself takes about ${OUTSIDE_HEAP_MIB} MiB)`)
    .optional(),
})

const componentType = z.string().min(1).meta({ description: 'The component type; see the reference page of each type.' })
const inputs = z
  .array(z.string().regex(INPUT_RE, 'expected a component name or `<router>.<output>`'))
  .min(1)
  .meta({ description: 'Components this one reads from: names, or `<router>.<output>` for an output of a `route` transform.' })
const deadLetter = z
  .string()
  .regex(COMPONENT_NAME_RE, 'expected a sink name')
  .optional()
  .meta({ description: 'Sink that receives records this component fails on; overrides the top-level `dead_letter`.' })
const buffer = z
  .strictObject({
    max_records: z.number().int().positive().optional().meta({ description: 'Most records waiting for this sink (default: `channel.max_records`).' }),
    max_bytes: byteSize('Most bytes waiting for this sink (default: `channel.max_bytes`).').optional(),
  })
  .optional()
  .meta({ description: 'Bounds of the channel in front of this sink, overriding the top-level `channel`.' })

/**
 * The keys every component of a kind has besides its own options. Sinks may omit `inputs` only
 * when they serve purely as a `dead_letter` target; the loader checks that rule itself.
 */
export function commonKeysSchema(kind: ComponentKind) {
  switch (kind) {
    case 'source':
      return z.strictObject({ type: componentType, dead_letter: deadLetter })
    case 'transform':
      return z.strictObject({ type: componentType, inputs, dead_letter: deadLetter })
    case 'sink':
      return z.strictObject({
        type: componentType,
        inputs: inputs.optional().meta({ description: `${inputs.description} Required unless the sink is only a \`dead_letter\` target.` }),
        dead_letter: deadLetter,
        buffer,
      })
  }
}

/** Config terms for a document path: the component it falls in and the dotted option path inside it. */
export function describeConfigPath(path: ConfigPath): { component?: string; path?: string } {
  return SECTIONS.some((s) => s.key === path[0]) && path.length >= 2
    ? { component: String(path[1]), path: dottedPath(path.slice(2)) }
    : { path: dottedPath(path) }
}

/** How messages name the component a path falls in: `sink "db"`; undefined outside components. */
export function componentLabel(path: ConfigPath): string | undefined {
  const section = SECTIONS.find((s) => s.key === path[0])
  return section && path.length >= 2 ? `${section.kind} "${String(path[1])}"` : undefined
}

/** `['batch', 'linger']` → `batch.linger`; indexes render as `inputs[0]`; empty → undefined. */
export function dottedPath(path: ConfigPath): string | undefined {
  let out = ''
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg
  return out || undefined
}
