// Renders the component reference (docs/reference/**) and the `sluice components` listing from the
// same zod schemas the loader validates with, through one schema walker that also serves the
// loader's error messages (type names, known keys).
import type { AnyDeclaration, ComponentKind } from '../component/define.js'
import type { Registry } from '../component/registry.js'
import { z } from '../component/options.js'
import { ConfigError, ERROR_CATALOG } from '../core/errors.js'
import { suggest } from '../component/suggest.js'
import { commonKeysSchema, type ConfigPath, SECTIONS, settingsSchema } from './types.js'

// ─── Schema walker ────────────────────────────────────────────────────────────────────────

type Schema = z.core.$ZodType

/** The parts of zod 4 definitions the walker reads; `_zod.def` is typed per class, this is their union. */
interface Def {
  type: string
  innerType?: Schema
  in?: Schema
  out?: Schema
  shape?: Record<string, Schema>
  options?: Schema[]
  element?: Schema
  items?: Schema[]
  valueType?: Schema
  entries?: Record<string, string | number>
  values?: unknown[]
  defaultValue?: unknown
  getter?: () => Schema
}

const defOf = (s: Schema): Def => s._zod.def as unknown as Def

/** A schema with its wrappers (optional, default, pipe, …) peeled off, and what they said. */
interface Peeled {
  core: Schema
  optional: boolean
  nullable: boolean
  hasDefault: boolean
  defaultValue?: unknown
  description?: string
  format?: string
}

/**
 * Peels wrappers from the outside in. Descriptions may sit on any layer (helpers put `.meta()`
 * inside `.prefault()`), so the outermost one found wins. Pipes are read on their input side,
 * which is what a user writes; a pipe whose input is a bare transform (z.preprocess) is read on
 * its output side instead.
 */
function peel(schema: Schema): Peeled {
  const p: Peeled = { core: schema, optional: false, nullable: false, hasDefault: false }
  for (let s: Schema | undefined = schema; s; ) {
    const meta = z.globalRegistry.get(s)
    p.description ??= meta?.description
    if (typeof meta?.format === 'string') p.format ??= meta.format
    p.core = s
    const d = defOf(s)
    switch (d.type) {
      case 'optional':
        p.optional = true
        s = d.innerType
        break
      case 'default':
      case 'prefault':
        if (!p.hasDefault) p.defaultValue = d.defaultValue
        p.hasDefault = true
        s = d.innerType
        break
      case 'nullable':
        p.nullable = true
        s = d.innerType
        break
      case 'readonly':
      case 'catch':
      case 'nonoptional':
        s = d.innerType
        break
      case 'pipe':
        s = defOf(d.in!).type === 'transform' ? d.out : d.in
        break
      case 'lazy':
        s = d.getter!()
        break
      default:
        s = undefined
    }
  }
  return p
}

/** A short human name of what a schema accepts: `string`, `duration`, `"csv" | "json"`, `string[]`. */
export function typeText(schema: Schema): string {
  const p = peel(schema)
  const base = p.format ? p.format.replace(/-/g, ' ') : coreTypeText(p.core)
  return p.nullable ? `${base} | null` : base
}

function coreTypeText(s: Schema): string {
  const d = defOf(s)
  switch (d.type) {
    case 'string':
    case 'boolean':
    case 'null':
    case 'date':
    case 'object':
      return d.type
    case 'number':
      return (s as z.ZodNumber).isInt ? 'integer' : 'number'
    case 'bigint':
      return 'integer'
    case 'enum':
      return Object.values(d.entries!).map((v) => JSON.stringify(v)).join(' | ')
    case 'literal':
      return d.values!.map((v) => JSON.stringify(v)).join(' | ')
    case 'array': {
      const t = typeText(d.element!)
      return t.includes(' ') ? `(${t})[]` : `${t}[]`
    }
    case 'tuple':
      return `[${d.items!.map(typeText).join(', ')}]`
    case 'record':
      return `map of ${typeText(d.valueType!)}`
    case 'union':
      return [...new Set(d.options!.map(typeText))].join(' | ')
    default:
      return 'any'
  }
}

/** The schema a value at `path` (relative to `schema`) is checked against, if the walker can tell. */
export function schemaAt(schema: Schema, path: ConfigPath): Schema | undefined {
  let s: Schema | undefined = schema
  for (const seg of path) {
    if (!s) return undefined
    const core = peel(s).core
    const d = defOf(core)
    if (d.type === 'union') s = d.options!.map((o) => schemaAt(o, [seg])).find(Boolean)
    else if (typeof seg === 'string') s = d.type === 'object' ? d.shape![seg] : d.type === 'record' ? d.valueType : undefined
    else s = d.type === 'array' ? d.element : d.type === 'tuple' ? d.items![seg] : undefined
  }
  return s
}

/** Option names an object schema (or a union of them) accepts, in declaration order. */
export function knownKeys(schema: Schema | undefined): string[] {
  if (!schema) return []
  const d = defOf(peel(schema).core)
  if (d.type === 'object') return Object.keys(d.shape!)
  if (d.type === 'union') return [...new Set(d.options!.flatMap(knownKeys))]
  return []
}

/** One row of an options table. */
export interface OptionRow {
  /** Dotted for nested objects (`batch.linger`), `[]` for items of a list (`fields[].name`). */
  name: string
  type: string
  /** The default as a user would write it, when there is one worth showing. */
  default?: string
  /** Required within its parent object. */
  required: boolean
  description?: string
}

/** Flattens an options schema into rows, nested objects (and lists of objects) included. */
export function optionRows(schema: Schema, prefix = ''): OptionRow[] {
  const d = defOf(peel(schema).core)
  if (d.type === 'union') return mergeVariants(d.options!.map((o) => optionRows(o, prefix)))
  if (d.type !== 'object') return []
  const rows: OptionRow[] = []
  for (const [key, child] of Object.entries(d.shape!)) {
    const p = peel(child)
    const name = prefix + key
    rows.push({
      name,
      type: typeText(child),
      default: p.hasDefault ? defaultText(p.defaultValue) : undefined,
      required: !p.optional && !p.hasDefault,
      description: p.description,
    })
    const cd = defOf(p.core)
    if (cd.type === 'array') rows.push(...optionRows(cd.element!, `${name}[].`))
    else if (!p.format) rows.push(...optionRows(p.core, `${name}.`))
  }
  return rows
}

/** Rows of the variants of a union of objects (`window: tumbling | hopping`), merged by name. */
function mergeVariants(variants: OptionRow[][]): OptionRow[] {
  const byName = new Map<string, OptionRow[]>()
  for (const rows of variants) for (const r of rows) byName.set(r.name, [...(byName.get(r.name) ?? []), r])
  return [...byName.entries()].map(([name, rows]) => ({
    name,
    type: [...new Set(rows.map((r) => r.type))].join(' | '),
    default: rows.every((r) => r.default === rows[0]!.default) ? rows[0]!.default : undefined,
    required: rows.length === variants.length && rows.every((r) => r.required),
    description: rows.find((r) => r.description)?.description,
  }))
}

function defaultText(v: unknown): string | undefined {
  if (v === undefined) return undefined
  if (typeof v === 'string') return v
  // An empty-object default (`batch: {}`) only says "use the defaults of the fields below".
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0) return undefined
  return JSON.stringify(v)
}

// ─── Markdown reference ───────────────────────────────────────────────────────────────────

const HEADER = '<!-- generated by scripts/gen-docs.ts; do not edit -->'
const FOLDER: Record<ComponentKind, string> = { source: 'sources', transform: 'transforms', sink: 'sinks' }
const TITLE: Record<ComponentKind, string> = { source: 'Sources', transform: 'Transforms', sink: 'Sinks' }

/** Every page of docs/reference, keyed by path relative to that folder. */
export function renderReference(registry: Registry): Map<string, string> {
  const pages = new Map<string, string>()
  pages.set('index.md', renderIndex(registry))
  pages.set('config.md', renderConfigPage())
  pages.set('errors.md', renderErrorsPage())
  for (const decl of registry.all()) pages.set(`${FOLDER[decl.kind]}/${decl.type}.md`, renderComponentPage(decl))
  return pages
}

const cell = (s: string | undefined) => (s ?? '').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ')
const code = (s: string | undefined) => (s === undefined || s === '' ? '' : `\`${s.replace(/\|/g, '\\|')}\``)

function page(lines: string[]): string {
  return `${HEADER}\n${lines.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`
}

function optionsTable(rows: OptionRow[], firstColumn = 'Option'): string[] {
  return [
    `| ${firstColumn} | Type | Default | Required | Description |`,
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${code(r.name)} | ${cell(r.type)} | ${code(r.default)} | ${r.required ? 'yes' : 'no'} | ${cell(r.description)} |`),
  ]
}

function renderIndex(registry: Registry): string {
  const lines = [
    '# Component reference',
    '',
    'Every source, transform and sink Sluice ships with. See also the [config file reference](config.md)',
    'for the top-level keys and the keys every component shares, and the [error codes](errors.md).',
  ]
  for (const { kind } of SECTIONS) {
    lines.push('', `## ${TITLE[kind]}`, '')
    const decls = registry.all(kind)
    if (decls.length === 0) {
      lines.push('None registered.')
      continue
    }
    lines.push('| Type | Status | Summary |', '| --- | --- | --- |')
    for (const d of decls) lines.push(`| [\`${d.type}\`](${FOLDER[kind]}/${d.type}.md) | ${d.status} | ${cell(d.summary)} |`)
  }
  return page(lines)
}

function renderComponentPage(decl: AnyDeclaration): string {
  const rows = optionRows(decl.options)
  const common = Object.keys(commonKeysSchema(decl.kind).shape)
  const lines = [`# \`${decl.type}\` ${decl.kind}`, '', `Status: **${decl.status}**`, '', decl.summary, '']
  if (decl.description) lines.push(decl.description.trim(), '')
  lines.push('## Options', '')
  lines.push(...(rows.length ? optionsTable(rows) : ['This component has no options of its own.']), '')
  lines.push(`Every ${decl.kind} also takes the [common keys](../config.md#common-component-keys): ${common.map((k) => `\`${k}\``).join(', ')}.`)
  if (decl.examples?.length) {
    lines.push('', '## Examples')
    for (const ex of decl.examples) lines.push('', `### ${ex.title}`, '', '```yaml', ex.yaml.trimEnd(), '```')
  }
  return page(lines)
}

function renderConfigPage(): string {
  const sectionRows: OptionRow[] = SECTIONS.map((s) => ({
    name: s.key,
    type: `map of ${s.kind}`,
    required: s.kind !== 'transform',
    description: s.description,
  }))
  const lines = [
    '# Config file reference',
    '',
    'A pipeline is a YAML file: a few settings, then named components under `sources`, `transforms`',
    'and `sinks`. Transforms and sinks name the components they read from in `inputs`, which makes',
    'the pipeline a graph. Relative paths resolve against the folder of the config file.',
    '',
    '```yaml',
    'data_dir: ./.sluice',
    'sources:',
    '  orders: { type: file, path: "data/orders-*.csv" }',
    'transforms:',
    '  paid: { type: filter, inputs: [orders], condition: status == "paid" }',
    'sinks:',
    '  out: { type: stdout, inputs: [paid] }',
    '```',
    '',
    '## Top-level keys',
    '',
    ...optionsTable([...optionRows(settingsSchema), ...sectionRows], 'Key'),
    '',
    '## Common component keys',
    '',
    'Component names start with a letter or `_`, continue with letters, digits, `_` or `-`, and are',
    'unique across all three sections. Besides the options of its type, each component takes:',
  ]
  for (const { kind } of SECTIONS) lines.push('', `### ${TITLE[kind]}`, '', ...optionsTable(optionRows(commonKeysSchema(kind)), 'Key'))
  lines.push(
    '',
    '## Environment variables',
    '',
    'Any string value may contain `${VAR}` (the variable must be set) or `${VAR:-default}` (used when',
    '`VAR` is unset or empty); `$$` is a literal `$`. A value that is exactly one `${VAR}`, quoted or',
    'not, is read as YAML after substitution, so `port: ${PORT}` gives a number and',
    '`enabled: "${ON:-true}"` a boolean, except where the option takes a string: `password: ${PW}`',
    'stays the text of `PW` even when it looks like a number. Keys are never interpolated.',
  )
  return page(lines)
}

function renderErrorsPage(): string {
  const lines = [
    '# Error codes',
    '',
    'Every error Sluice reports carries one of these stable codes; a code is never reused.',
  ]
  for (const [code, meaning] of Object.entries(ERROR_CATALOG)) lines.push('', `## \`${code}\``, '', meaning)
  return page(lines)
}

// ─── `sluice components` ──────────────────────────────────────────────────────────────────

/**
 * The plain-text listing of `sluice components [type]`: every component, or those of one type
 * (of any kind). Throws SLC_CONFIG_UNKNOWN_TYPE, with a near-miss suggestion, for an unknown type.
 */
export function renderComponentsText(registry: Registry, type?: string): string {
  const decls = type === undefined ? registry.all() : registry.all().filter((d) => d.type === type)
  if (type !== undefined && decls.length === 0) {
    const types = [...new Set(registry.all().map((d) => d.type))].sort()
    throw new ConfigError('SLC_CONFIG_UNKNOWN_TYPE', `unknown component type "${type}"`, {
      expected: `one of ${types.join(', ')}`,
      suggestion: suggest(type, types),
    })
  }
  return `${decls.map(componentText).join('\n\n')}\n`
}

function componentText(decl: AnyDeclaration): string {
  const rows = optionRows(decl.options)
  const lines = [`${decl.kind} ${decl.type} (${decl.status})`, `  ${decl.summary}`]
  const common = Object.keys(commonKeysSchema(decl.kind).shape)
  if (rows.length === 0) lines.push('  options: none')
  else {
    lines.push('  options:')
    const cols = rows.map((r) => [r.name, r.type, r.required ? 'required' : r.default !== undefined ? `default: ${r.default}` : 'optional'])
    const widths = [0, 1, 2].map((i) => Math.max(...cols.map((c) => c[i]!.length)))
    rows.forEach((r, i) => {
      const text = cols[i]!.map((c, j) => c.padEnd(widths[j]!)).join('  ')
      lines.push(`    ${text}  ${r.description ?? ''}`.trimEnd())
    })
  }
  lines.push(`  common keys: ${common.join(', ')}`)
  return lines.join('\n')
}
