// Parsing a config's YAML, once per start. The CLI launcher reads `memory_limit` and the file
// sources (cli/launch.ts) before the engine loads, and the loader (load.ts) validates the same
// text: both parse it with these options, and the loader takes the launcher's document instead
// of parsing again. The two are separate bundles with their own copy of yaml, so the second
// parse ran on cold code: ~7 ms of every `sluice run` of a file source. (yaml's node types are
// tagged with Symbol.for keys, so either copy reads the other's document.) Free of the config
// schemas.
import { type Document, LineCounter, parseDocument } from 'yaml'

export interface ParsedYaml {
  text: string
  doc: Document
  lineCounter: LineCounter
}

// Shared through globalThis: the launcher and the CLI are separate bundles (and module copies).
const LEFT = Symbol.for('sluice.parsedConfigYaml')
const shelf = globalThis as { [LEFT]?: ParsedYaml }

/** `text` parsed as the loader parses a config; the document is left for one `takeParsedYaml`. */
export function parseConfigYaml(text: string): ParsedYaml {
  const left = shelf[LEFT]
  if (left?.text === text) return left
  const lineCounter = new LineCounter()
  const parsed = { text, doc: parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false }), lineCounter }
  shelf[LEFT] = parsed
  return parsed
}

/**
 * `text` parsed, for a caller that may change the document (the loader interpolates `${VAR}`
 * in place): the launcher's document when it parsed the same text, which is no one's after this.
 */
export function takeParsedYaml(text: string): ParsedYaml {
  const parsed = parseConfigYaml(text)
  shelf[LEFT] = undefined
  return parsed
}
