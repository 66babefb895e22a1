// Environment interpolation of a parsed YAML document: `${VAR}`, `${VAR:-default}` and `$$` in
// string scalars. It rewrites scalar nodes in place (never the text), so every position the
// loader reports afterwards still points at what the user wrote.
import { type Document, isMap, isScalar, isSeq, type LineCounter, parseDocument, type Scalar } from 'yaml'
import { ConfigError } from '../core/errors.js'
import { type Env, interpolateString, WHOLE_REFERENCE_RE } from './env-reference.js'
import { componentLabel, type ConfigPath, describeConfigPath } from './types.js'

export { type Env, interpolateString }

/** A scalar that was exactly one `${VAR}` and was re-read from `text` into a non-string value. */
export interface Reread {
  path: ConfigPath
  text: string
}

/**
 * Interpolates every string scalar that is a map value or a sequence item (keys are names and
 * stay literal). A scalar that is exactly one reference is re-read as a YAML scalar, quoted or
 * not (flow mappings force quotes around `${…}`), and listed in `rereads` so the loader can keep
 * the text where an option takes a string (`password: ${PW}` with PW=1234). Returns one
 * SLC_CONFIG_ENV error per unset variable, at its scalar's position.
 */
export function interpolateDocument(
  doc: Document,
  opts: { env: Env; lineCounter?: LineCounter; file?: string },
): { errors: ConfigError[]; rereads: Reread[] } {
  const errors: ConfigError[] = []
  const rereads: Reread[] = []
  const visit = (node: unknown, path: ConfigPath): void => {
    if (isMap(node)) {
      for (const pair of node.items) visit(pair.value, [...path, isScalar(pair.key) ? String(pair.key.value) : String(pair.key)])
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, [...path, i]))
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
      interpolateScalar(node, path)
    }
  }
  const interpolateScalar = (node: Scalar, path: ConfigPath) => {
    const raw = node.value as string
    const { value, missing } = interpolateString(raw, opts.env)
    const label = componentLabel(path)
    for (const name of missing) {
      const pos = node.range && opts.lineCounter?.linePos(node.range[0])
      errors.push(
        new ConfigError('SLC_CONFIG_ENV', `environment variable "${name}"${label ? ` used by ${label}` : ''} is not set`, {
          file: opts.file,
          line: pos?.line,
          column: pos?.col,
          ...describeConfigPath(path),
          expected: `"${name}" set in the environment, or a default: \${${name}:-default}`,
        }),
      )
    }
    if (missing.length) return
    node.value = WHOLE_REFERENCE_RE.test(raw) && !node.type?.startsWith('BLOCK') ? reread(value) : value
    if (typeof node.value !== 'string') rereads.push({ path, text: value })
  }
  visit(doc.contents, [])
  return { errors, rereads }
}

/**
 * Reads a substituted value as a YAML plain scalar, so `port: ${PORT}` gives a number. Only a
 * clean null, boolean or number is taken: a value such as `abc #1` would otherwise lose its tail
 * to a comment, so anything that is not exactly one such scalar stays the string it was. An empty
 * substitution stays `''` (YAML would read it as null).
 */
function reread(value: string): unknown {
  if (value === '') return value
  const doc = parseDocument(value)
  const node = doc.contents
  if (doc.errors.length || !isScalar(node) || typeof node.value === 'string' || node.comment) return value
  return node.range?.[0] === 0 && node.range[1] === value.length ? node.value : value
}
