// Loads and validates a pipeline config: YAML with positions → env interpolation → the keys Sluice
// owns → each component's own zod schema. Every error found in one pass is thrown together as
// ConfigErrors, each with file:line:column, component, option path, expected/found and a suggestion.
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, type YAMLError } from 'yaml'
import { takeParsedYaml } from './parse-yaml.js'
import type { AnyDeclaration, ComponentKind } from '../component/define.js'
import { z } from '../component/options.js'
import type { Registry } from '../component/registry.js'
import { ConfigError, ConfigErrors, type ConfigLocation, errorMessage } from '../core/errors.js'
import { type Env, interpolateDocument, type Reread } from './interpolate.js'
import { knownKeys, optionRows, schemaAt, typeText } from './render-docs.js'
import { suggest } from '../component/suggest.js'
import {
  type ChannelBounds,
  COMPONENT_NAME_RE,
  commonKeysSchema,
  type ComponentConfig,
  componentLabel,
  type ConfigPath,
  describeConfigPath,
  dottedPath,
  type PipelineConfig,
  SECTIONS,
  settingsSchema,
} from './types.js'

export interface LoadOptions {
  registry: Registry
  /** Variables for `${VAR}` interpolation; default `process.env`. */
  env?: Env
}

/** Reads, interpolates and validates a config file. Throws ConfigErrors (SLC_CONFIG_FILE if unreadable). */
export function loadConfigFile(path: string, opts: LoadOptions): PipelineConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new ConfigErrors([new ConfigError('SLC_CONFIG_FILE', `cannot read config file "${path}": ${readFailure(e)}`, { file: path })])
  }
  return loadConfigText(text, { ...opts, file: path, baseDir: dirname(resolve(path)) })
}

function readFailure(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file'
    case 'EISDIR':
      return 'it is a directory'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    default:
      return errorMessage(e)
  }
}

/**
 * Validates config text. `file` is only for messages; `baseDir` (default: the folder of `file`,
 * else the working directory) is what relative paths resolve against.
 */
export function loadConfigText(text: string, opts: LoadOptions & { file?: string; baseDir?: string }): PipelineConfig {
  const { file } = opts
  const { doc, lineCounter } = takeParsedYaml(text)
  if (doc.errors.length) {
    // After the first real syntax error yaml reports every following token too; duplicate keys
    // are independent of each other and of it.
    const first = doc.errors.find((e) => e.code !== 'DUPLICATE_KEY')
    const shown = doc.errors.filter((e) => e.code === 'DUPLICATE_KEY' || e === first)
    throw new ConfigErrors(shown.map((e) => syntaxError(e, text, lineCounter, file)))
  }
  const locator = yamlLocator(doc, text, lineCounter, file)
  const { errors: envErrors, rereads } = interpolateDocument(doc, { env: opts.env ?? process.env, lineCounter, file })
  let obj: unknown
  try {
    obj = doc.toJS()
  } catch (e) {
    // Only alias abuse (a "billion laughs" document) fails here; yaml caps the expansion.
    throw new ConfigErrors([new ConfigError('SLC_CONFIG_SYNTAX', `invalid YAML: ${errorMessage(e)}`, { file })])
  }
  const baseDir = resolve(opts.baseDir ?? (file ? dirname(resolve(file)) : process.cwd()))
  return validate(obj, { registry: opts.registry, baseDir, file, locator, envErrors, rereads })
}

/**
 * Validates a config built in TypeScript (the same object a YAML file parses to). Same checks and
 * same result as for YAML, without line/column positions.
 */
export function validateConfigObject(obj: unknown, opts: { registry: Registry; baseDir: string; file?: string }): PipelineConfig {
  const where: ConfigLocation = opts.file === undefined ? {} : { file: opts.file }
  const locator: Locator = { key: () => ({ ...where }), value: () => ({ ...where }), source: () => undefined }
  return validate(obj, { registry: opts.registry, baseDir: resolve(opts.baseDir), file: opts.file, locator, envErrors: [], rereads: [] })
}

// ─── Positions ────────────────────────────────────────────────────────────────────────────

/** Positions of document paths; a path that does not exist resolves to its nearest existing parent. */
interface Locator {
  /** Where the key of the entry at `path` is written (for unknown keys and missing options). */
  key(path: ConfigPath): ConfigLocation
  /** Where the value at `path` is written. */
  value(path: ConfigPath): ConfigLocation
  /** The value's text as written, if known. */
  source(path: ConfigPath): string | undefined
}

function yamlLocator(doc: Document, text: string, lc: LineCounter, file: string | undefined): Locator {
  const walk = (path: ConfigPath) => {
    let node: unknown = doc.contents
    let key: unknown
    let depth = 0
    for (const seg of path) {
      const cur = isAlias(node) ? node.resolve(doc) : node
      if (isMap(cur)) {
        const pair = cur.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg))
        if (!pair) break
        key = pair.key
        node = pair.value
      } else if (isSeq(cur) && typeof seg === 'number' && seg < cur.items.length) {
        key = undefined
        node = cur.items[seg]
      } else break
      depth++
    }
    return { node: node as Node | null, key: key as Node | undefined, complete: depth === path.length }
  }
  const at = (node: Node | null | undefined): ConfigLocation | undefined => {
    if (!node?.range) return undefined
    const { line, col } = lc.linePos(node.range[0])
    return { file, line, column: col }
  }
  // An empty value (`db:`) has a zero-length range after the colon: point at its key instead.
  const hasText = (node: Node | null): node is Node => !!node?.range && node.range[1] > node.range[0]
  return {
    key(path) {
      const { node, key } = walk(path)
      return at(key) ?? at(node) ?? { file }
    },
    value(path) {
      const { node, key } = walk(path)
      return (hasText(node) ? at(node) : at(key) ?? at(node)) ?? { file }
    },
    source(path) {
      const { node, complete } = walk(path)
      if (!complete || !hasText(node)) return undefined
      const src = text.slice(node.range![0], node.range![1])
      // An interpolated scalar shows both what it became and what was written.
      return isScalar(node) && src.includes('${') ? `${JSON.stringify(node.value)} (from ${src})` : src
    },
  }
}

function syntaxError(e: YAMLError, text: string, lc: LineCounter, file: string | undefined): ConfigError {
  const { line, col } = lc.linePos(e.pos[0])
  if (e.code === 'DUPLICATE_KEY') {
    const key = /^(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^:\n,{}[\]]+)/.exec(text.slice(e.pos[0]))?.[0].trim() ?? ''
    return new ConfigError('SLC_CONFIG_SYNTAX', `duplicate key ${key.startsWith('"') ? key : `"${key}"`}`, {
      file,
      line,
      column: col,
      expected: 'each key once per mapping',
    })
  }
  const message = e.message.charAt(0).toLowerCase() + e.message.slice(1)
  return new ConfigError('SLC_CONFIG_SYNTAX', `invalid YAML: ${message}`, { file, line, column: col })
}

// ─── Validation ───────────────────────────────────────────────────────────────────────────

interface ValidateContext {
  registry: Registry
  baseDir: string
  file?: string
  locator: Locator
  /** Interpolation errors: reported first, and they mute value errors at the same spot. */
  envErrors: ConfigError[]
  rereads: Reread[]
}

type Block = Record<string, unknown>

const isBlock = (v: unknown): v is Block => typeof v === 'object' && v !== null && !Array.isArray(v)
const truncate = (s: string) => {
  const line = s.split('\n', 1)[0]!
  return line.length > 60 || line !== s ? `${line.slice(0, 60)}…` : line
}

function validate(obj: unknown, ctx: ValidateContext): PipelineConfig {
  const { registry, locator } = ctx
  const errors: ConfigError[] = []
  const fail = (
    code: ConstructorParameters<typeof ConfigError>[0],
    message: string,
    path: ConfigPath,
    at: 'key' | 'value' | 'parent',
    details: { expected?: string; found?: string; suggestion?: string } = {},
  ) => {
    // 'parent': a missing entry is shown at the key of the mapping it should be in.
    const location = at === 'key' ? locator.key(path) : at === 'value' ? locator.value(path) : locator.key(path.slice(0, -1))
    errors.push(new ConfigError(code, message, { ...location, ...describeConfigPath(path), ...details }))
  }
  const finish = (): void => {
    const muted = new Set(ctx.envErrors.map((e) => `${e.location.line}:${e.location.column}`))
    const all = [...ctx.envErrors, ...errors.filter((e) => !muted.has(`${e.location.line}:${e.location.column}`))]
    all.sort((a, b) => (a.location.line ?? 0) - (b.location.line ?? 0) || (a.location.column ?? 0) - (b.location.column ?? 0))
    if (all.length) throw new ConfigErrors(all)
  }

  /** Parses `input` with `schema`, turning zod issues into located errors. Undefined on failure. */
  const parseWith = <S extends z.ZodType>(schema: S, input: Block, base: ConfigPath, extraKeys: string[] = []): z.output<S> | undefined => {
    restoreStrings(schema, input, base)
    let result: ReturnType<S['safeParse']>
    try {
      result = schema.safeParse(input) as ReturnType<S['safeParse']>
    } catch (e) {
      // A component's own transform threw instead of reporting an issue; still a config error.
      fail('SLC_CONFIG_INVALID', `invalid options${where(base)}: ${errorMessage(e)}`, base, 'key')
      return undefined
    }
    if (result.success) return result.data as z.output<S>
    for (const issue of result.error.issues) reportIssue(issue, schema, input, base, extraKeys)
    return undefined
  }

  /**
   * A `${VAR}` value was re-read as YAML (`8080` → a number); where the option takes the text but
   * not the re-read value (`password: ${PW}` with PW=1234), the text is put back.
   */
  const restoreStrings = (schema: z.ZodType, input: Block, base: ConfigPath) => {
    for (const r of ctx.rereads) {
      if (r.path.length <= base.length || base.some((seg, i) => r.path[i] !== seg)) continue
      const rel = r.path.slice(base.length)
      const at = schemaAt(schema, rel)
      if (at && !z.safeParse(at, valueAt(input, rel)).success && z.safeParse(at, r.text).success) setAt(input, rel, r.text)
    }
  }

  const where = (base: ConfigPath) => {
    const label = componentLabel(base)
    return label ? ` in ${label}` : ''
  }

  const reportIssue = (issue: z.core.$ZodIssue, schema: z.ZodType, input: unknown, base: ConfigPath, extraKeys: string[]) => {
    const rel = issue.path as ConfigPath
    const path = [...base, ...rel]
    const noun = componentLabel(base) ? 'option' : 'top-level key'
    const name = (p: ConfigPath) => `${noun} "${dottedPath(p)}"`
    if (issue.code === 'unrecognized_keys') {
      const parent = schemaAt(schema, rel)
      const known = knownKeys(parent)
      const candidates = rel.length === 0 ? [...known, ...extraKeys] : known
      // Top-level keys are all listed; a component's common keys would only add noise to each message.
      const listed = rel.length === 0 && !componentLabel(base) ? candidates : known
      // A nested option written one level too high (`lingr` for `batch.linger`) is a near miss too.
      const nested = parent ? optionRows(parent).filter((r) => r.name.includes('.')) : []
      const nestedMatch = (key: string) => {
        const leaf = suggest(key, new Set(nested.map((r) => r.name.slice(r.name.lastIndexOf('.') + 1))))
        return leaf && nested.find((r) => r.name.endsWith(`.${leaf}`))?.name
      }
      for (const key of issue.keys) {
        fail('SLC_CONFIG_UNKNOWN_KEY', `unknown ${name([...rel, key])}${where(base)}`, [...path, key], 'key', {
          expected: listed.length ? `one of ${listed.join(', ')}` : 'no options here',
          suggestion: suggest(key, candidates) ?? nestedMatch(key),
        })
      }
      return
    }
    const value = valueAt(input, rel)
    if (value === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
      fail('SLC_CONFIG_INVALID', `missing required ${name(rel)}${where(base)}`, path, 'parent', {
        expected: describeExpected(issue, schema, rel),
      })
      return
    }
    if (rel.length === 0) {
      // A rule over the whole block (a refinement such as "at least one of …"): point at its name.
      fail('SLC_CONFIG_INVALID', `invalid ${componentLabel(base) ?? 'config'}: ${issue.message}`, path, 'key')
      return
    }
    const found = truncate(locator.source(path) ?? JSON.stringify(value) ?? String(value))
    if (issue.code === 'custom') {
      // Option schemas may name a more precise catalog code (expressions do: SLC_CONFIG_EXPRESSION).
      const code = issue.params?.code === 'SLC_CONFIG_EXPRESSION' ? 'SLC_CONFIG_EXPRESSION' : 'SLC_CONFIG_INVALID'
      fail(code, `invalid value for ${name(rel)}${where(base)}: ${issue.message}`, path, 'value', { found })
      return
    }
    const suggestion =
      issue.code === 'invalid_value' && typeof value === 'string'
        ? suggest(value, issue.values.filter((v): v is string => typeof v === 'string'))
        : undefined
    fail('SLC_CONFIG_INVALID', `invalid value for ${name(rel)}${where(base)}`, path, 'value', {
      expected: describeExpected(issue, schema, rel),
      found,
      suggestion,
    })
  }

  if (!isBlock(obj)) {
    fail('SLC_CONFIG_INVALID', obj == null ? 'the config is empty' : 'the config must be a mapping of keys to values', [], 'value', {
      expected: 'a mapping with `sources` and `sinks` (and optionally `transforms`)',
    })
    finish()
  }
  const config = obj as Block
  const sectionKeys: string[] = SECTIONS.map((s) => s.key)
  const settingsInput = Object.fromEntries(Object.entries(config).filter(([k]) => !sectionKeys.includes(k)))
  const settings = parseWith(settingsSchema, settingsInput, [], sectionKeys)

  // Names first (uniqueness, shape), so dead_letter references can be checked against all sinks.
  const entries: { kind: ComponentKind; name: string; block: unknown; path: ConfigPath }[] = []
  const kindOf = new Map<string, ComponentKind>()
  // Sections in the order they are written, so a duplicate name is reported where it repeats.
  const written = Object.keys(config).flatMap((k) => SECTIONS.filter((s) => s.key === k))
  for (const section of written) {
    const value = config[section.key]
    if (value == null) continue
    if (!isBlock(value)) {
      fail('SLC_CONFIG_INVALID', `"${section.key}" must be a mapping of component names to components`, [section.key], 'value', {
        expected: `a mapping such as \`${section.key}: { <name>: { type: ... } }\``,
        found: truncate(locator.source([section.key]) ?? JSON.stringify(value)),
      })
      continue
    }
    for (const [name, block] of Object.entries(value)) {
      const path = [section.key, name]
      if (!COMPONENT_NAME_RE.test(name)) {
        fail('SLC_CONFIG_INVALID', `invalid component name "${name}"`, path, 'key', {
          expected: 'a letter or `_`, then letters, digits, `_` or `-`',
        })
      }
      const previous = kindOf.get(name)
      if (previous) {
        fail('SLC_CONFIG_TOPOLOGY', `component name "${name}" is already used by a ${previous}`, path, 'key', {
          expected: 'names unique across sources, transforms and sinks',
        })
        continue
      }
      kindOf.set(name, section.kind)
      entries.push({ kind: section.kind, name, block, path })
    }
  }
  const sectionIndex = (kind: ComponentKind) => SECTIONS.findIndex((s) => s.kind === kind)
  entries.sort((a, b) => sectionIndex(a.kind) - sectionIndex(b.kind))
  for (const kind of ['source', 'sink'] as const) {
    if (!entries.some((e) => e.kind === kind)) {
      const key = kind === 'source' ? 'sources' : 'sinks'
      fail('SLC_CONFIG_INVALID', `the config has no ${key}`, [key], 'key', { expected: `at least one entry under \`${key}\`` })
    }
  }

  const sinkNames = entries.filter((e) => e.kind === 'sink').map((e) => e.name)
  const deadLetterTargets = new Set<unknown>([config.dead_letter])
  for (const e of entries) if (isBlock(e.block)) deadLetterTargets.add(e.block.dead_letter)

  /** A dead_letter reference must name a sink other than the one it sits in. */
  const checkDeadLetter = (target: unknown, path: ConfigPath, self?: string) => {
    if (typeof target !== 'string' || !COMPONENT_NAME_RE.test(target)) return
    if (target === self) {
      fail('SLC_CONFIG_TOPOLOGY', `sink "${self}" cannot be its own dead_letter`, path, 'value', { expected: 'another sink' })
    } else if (!sinkNames.includes(target)) {
      const other = kindOf.get(target)
      fail(
        'SLC_CONFIG_TOPOLOGY',
        other ? `dead_letter "${target}"${where(path)} is a ${other}, not a sink` : `unknown dead_letter sink "${target}"${where(path)}`,
        path,
        'value',
        {
          expected: sinkNames.length ? `one of the sinks: ${sinkNames.join(', ')}` : 'a sink (there are none)',
          suggestion: other ? undefined : suggest(target, sinkNames.filter((n) => n !== self)),
        },
      )
    }
  }
  checkDeadLetter(config.dead_letter, ['dead_letter'])

  const components: ComponentConfig[] = []
  for (const { kind, name, block, path } of entries) {
    const label = componentLabel(path)!
    if (!isBlock(block)) {
      fail('SLC_CONFIG_INVALID', `${label} must be a mapping with a "type"`, path, 'value', {
        expected: `a mapping such as \`{ type: ... }\``,
        found: truncate(locator.source(path) ?? JSON.stringify(block) ?? 'nothing'),
      })
      continue
    }
    const types = registry.types(kind)
    const typesText = types.length ? `one of ${types.join(', ')}` : `a registered ${kind} type (none are registered)`
    const { type, ...rest } = block
    let decl: AnyDeclaration | undefined
    if (type === undefined) {
      fail('SLC_CONFIG_INVALID', `missing required option "type" in ${label}`, [...path, 'type'], 'parent', { expected: typesText })
    } else if (typeof type !== 'string') {
      fail('SLC_CONFIG_INVALID', `invalid value for option "type" in ${label}`, [...path, 'type'], 'value', {
        expected: typesText,
        found: truncate(locator.source([...path, 'type']) ?? JSON.stringify(type)),
      })
    } else {
      decl = registry.get(kind, type)
      if (!decl) {
        fail('SLC_CONFIG_UNKNOWN_TYPE', `unknown ${kind} type "${type}" in ${label}`, [...path, 'type'], 'value', {
          expected: typesText,
          suggestion: suggest(type, types),
        })
      }
    }

    // Keys Sluice owns are split off; everything else belongs to the component's own schema.
    const commonSchema = commonKeysSchema(kind).omit({ type: true })
    const commonNames = Object.keys(commonKeysSchema(kind).shape)
    const commonInput: Block = {}
    const optionsInput: Block = {}
    for (const [k, v] of Object.entries(rest)) (commonNames.includes(k) ? commonInput : optionsInput)[k] = v
    const common = parseWith(commonSchema, commonInput, path) as
      | { inputs?: string[]; dead_letter?: string; buffer?: { max_records?: number; max_bytes?: number } }
      | undefined
    if (kind === 'sink' && commonInput.inputs === undefined && !deadLetterTargets.has(name)) {
      fail('SLC_CONFIG_INVALID', `missing required option "inputs" in ${label}`, [...path, 'inputs'], 'parent', {
        expected: 'the components this sink reads from (only a sink used as a dead_letter may have none)',
      })
    }
    checkDeadLetter(commonInput.dead_letter, [...path, 'dead_letter'], kind === 'sink' ? name : undefined)
    const options = decl ? parseWith(decl.options, optionsInput, path, commonNames) : undefined
    if (!decl || !common || options === undefined || !settings) continue

    const component: ComponentConfig = { id: name, kind, type: decl.type, decl, inputs: common.inputs ?? [], options, path }
    if (common.dead_letter !== undefined) component.deadLetter = common.dead_letter
    if (common.buffer) component.buffer = bufferBounds(common.buffer, settings.channel)
    components.push(component)
  }
  finish()

  // finish() threw unless everything parsed, so settings is set here.
  const s = settings!
  const result: PipelineConfig = {
    baseDir: ctx.baseDir,
    dataDir: resolve(ctx.baseDir, s.data_dir),
    shutdownTimeoutMs: s.shutdown_timeout,
    checkpointIntervalMs: s.checkpoint_interval,
    stateCheckpointIntervalMs: s.state_checkpoint_interval,
    channel: { maxRecords: s.channel.max_records, maxBytes: s.channel.max_bytes },
    components,
    locate: locator.value,
  }
  if (ctx.file !== undefined) result.file = ctx.file
  if (s.dead_letter !== undefined) result.deadLetter = s.dead_letter
  if (s.memory_limit !== undefined) result.memoryLimit = s.memory_limit
  return result
}

function bufferBounds(buffer: { max_records?: number; max_bytes?: number }, channel: { max_records: number; max_bytes: number }): ChannelBounds {
  return { maxRecords: buffer.max_records ?? channel.max_records, maxBytes: buffer.max_bytes ?? channel.max_bytes }
}

function setAt(input: Block, path: ConfigPath, value: unknown): void {
  const parent = valueAt(input, path.slice(0, -1)) as Record<string | number, unknown>
  parent[path[path.length - 1]!] = value
}

function valueAt(input: unknown, path: ConfigPath): unknown {
  let v = input
  for (const seg of path) v = isBlock(v) || Array.isArray(v) ? (v as Record<string | number, unknown>)[seg] : undefined
  return v
}

/** What a zod issue says was expected, in the words the docs use for the same schema. */
function describeExpected(issue: z.core.$ZodIssue, schema: z.ZodType, rel: ConfigPath): string {
  const at = schemaAt(schema, rel)
  switch (issue.code) {
    case 'invalid_type':
    case 'invalid_union':
      return at ? typeText(at) : issue.code === 'invalid_type' ? issue.expected : 'a valid value'
    case 'invalid_value':
      return issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
    case 'invalid_format':
      if (issue.message.startsWith('expected ')) return issue.message.slice('expected '.length)
      return issue.format === 'regex' && 'pattern' in issue ? `a string matching ${String(issue.pattern)}` : `a valid ${issue.format}`
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small'
      const limit = small ? issue.minimum : issue.maximum
      const inclusive = issue.inclusive !== false
      if (issue.origin === 'string') return `${small ? 'at least' : 'at most'} ${limit} character${limit === 1 ? '' : 's'}`
      if (issue.origin === 'array' || issue.origin === 'set') return `${small ? 'at least' : 'at most'} ${limit} item${limit === 1 ? '' : 's'}`
      return `a number ${small ? '>' : '<'}${inclusive ? '=' : ''} ${limit}`
    }
    default:
      return issue.message
  }
}
