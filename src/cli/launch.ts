// `sluice run` under `memory_limit`. V8's heap sizes are fixed when node starts, so the command
// runs the pipeline in a child node started with the heap flags that fit the limit
// (core/memory.ts) and waits for it, forwarding signals and the exit code. It reads only the
// config's top-level `memory_limit` (with `${VAR}` references, as the loader reads it) and
// leaves every other check to the child. This module loads before the engine and keeps the
// waiting process small: node:*, yaml and zod-free helpers (~6 MiB over a bare node).
import { spawn } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { availableParallelism, constants } from 'node:os'
import { dirname, resolve } from 'node:path'
import { type Document, isScalar } from 'yaml'
import { parseConfigYaml } from '../config/parse-yaml.js'
import { interpolateString } from '../config/env-reference.js'
import { heapMatches, heapPlan, memoryFlags, MIN_MEMORY_LIMIT_MIB, threadsWithin } from '../core/memory.js'
import { prewarmChunkWorkers } from '../core/threads/spawn.js'
import { parseByteSize } from '../core/units.js'
import { isGzip, threadsWanted } from '../sources/file/threads.js'

/** Set in the child: it runs the pipeline itself. */
export const LAUNCHED_ENV = 'SLUICE_LAUNCHED'
/** Set in the child when the launcher's stderr is a terminal (the child's is a pipe). */
export const STDERR_TTY_ENV = 'SLUICE_STDERR_TTY' // read by observe/terminal.ts

/**
 * Options of `sluice run` that take a value, as declared in main.ts: `required` consumes the next
 * argument, `optional` the next one unless it starts with `-` (commander's rules).
 */
const RUN_VALUE_OPTIONS: Readonly<Record<string, 'required' | 'optional'>> = { '--log-level': 'required', '--profile': 'optional' }

// What V8 prints when a heap runs out, before its native stack trace: from here on the child's
// stderr is not passed on, and the launcher says what happened instead.
const OOM_MARKERS = ['\n<--- Last few GCs --->', 'FATAL ERROR: ']

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/**
 * The exit code of `sluice run` re-run under its memory limit, or undefined when this process
 * should run the command itself: not `run`, no `memory_limit` (or one the CLI will report as
 * wrong), already the child, or node already started with heap flags of its own.
 */
export async function launch(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  if (env[LAUNCHED_ENV] === '1') return undefined
  const file = runConfigArgument(argv.slice(2))
  if (file === undefined) return undefined
  const limit = memoryLimitOf(file, env)
  if (limit === undefined) return undefined
  // Only a file source has chunk workers to make room for (memoryFlags).
  const cores = fileSourceIn(file, env) ? availableParallelism() : 1
  if (heapMatches(limit, cores)) return undefined
  const own = [...process.execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)]
  if (own.some((a) => /^--max-(old|semi)-space-size\b/.test(a))) return undefined // the user's flags win; the run warns
  return runChild(limit, cores, argv, env)
}

/**
 * The config text as a YAML document, undefined when it does not parse. Parsed once per text:
 * the launcher, prewarm and memoryLimitOf read the same config in one start, and the CLI's
 * loader takes the document after them (config/parse-yaml.ts).
 */
function parsed(text: string): Document | undefined {
  const { doc } = parseConfigYaml(text)
  return doc.errors.length > 0 ? undefined : doc
}

/** Each source of the config, as a reader of its options with `${VAR}` references resolved; undefined when the file does not parse. */
function sourcesOf(file: string, env: NodeJS.ProcessEnv): ((key: string) => unknown)[] | undefined {
  try {
    const config = parsed(readFileSync(file, 'utf8'))?.toJS() as { sources?: Record<string, Record<string, unknown>> } | undefined
    if (config === undefined) return undefined
    return Object.values(config?.sources ?? {}).map((source) => (key: string) => {
      const v = source?.[key]
      return typeof v === 'string' ? interpolateString(v, env).value : v
    })
  } catch {
    return undefined
  }
}

/** Whether the config may have a file source (one that does not parse may: the CLI reports it). */
function fileSourceIn(file: string, env: NodeJS.ProcessEnv): boolean {
  const sources = sourcesOf(file, env)
  return sources === undefined || sources.some((value) => value('type') === 'file')
}

/**
 * Before the CLI loads (~40 ms with its code cache, ~120 ms without), start the chunk workers
 * the file sources of `sluice run` will want (core/threads/spawn.ts), so that their start
 * overlaps the loading. Read from the config as the file source will read it (threadsWanted,
 * threadsWithin): its `threads`, `follow`, `compression`, the size of a literal path (a glob
 * counts as large) and `memory_limit`, which may leave room for fewer (this runs in the child
 * node the launcher starts, with the limit's heap). A config this cannot read prewarms nothing:
 * the CLI reports what is wrong.
 */
export function prewarm(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  const n = prewarmCount(argv, env)
  if (n >= 2) prewarmChunkWorkers(n)
}

/** How many workers `prewarm` starts (0: none). */
export function prewarmCount(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  const file = runConfigArgument(argv.slice(2))
  if (file === undefined) return 0
  let n = 0
  try {
    if (!/\btype:\s*["']?file\b/.test(readFileSync(file, 'utf8'))) return 0
    const limit = memoryLimitOf(file, env)
    for (const value of sourcesOf(file, env) ?? []) {
      if (value('type') !== 'file' || typeof value('path') !== 'string') continue
      const path = resolve(dirname(file), value('path') as string)
      const threads = value('threads') ?? 'auto'
      const wanted = threadsWanted(threads === 'auto' ? 'auto' : Number(threads), {
        follow: value('follow') === true || value('follow') === 'true',
        bytes: /[*?[{]/.test(path) ? Infinity : statSync(path).size,
      })
      n = Math.max(n, threadsWithin(limit, wanted, isGzip(value('compression') ?? 'auto', path)))
    }
  } catch {
    return 0
  }
  return n >= 2 && n <= 64 ? n : 0
}

/** The config argument of `run [options] <config>`, or undefined for any other command. */
export function runConfigArgument(args: readonly string[]): string | undefined {
  if (args[0] !== 'run') return undefined
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!
    if (a === '--') return args[i + 1]
    if (!a.startsWith('-')) return a
    const takes = RUN_VALUE_OPTIONS[a]
    if (takes === 'required' || (takes === 'optional' && i + 1 < args.length && !args[i + 1]!.startsWith('-'))) i++
  }
  return undefined
}

/** The top-level `memory_limit` in bytes; undefined when absent or not valid (the CLI says why). */
export function memoryLimitOf(file: string, env: NodeJS.ProcessEnv): number | undefined {
  let node: unknown
  try {
    const text = readFileSync(file, 'utf8')
    // Most configs have no limit: skip parsing them twice (~10 ms of every run). The key can only
    // be there, even through an anchor or merge key, if its name is in the text.
    if (!text.includes('memory_limit')) return undefined
    const doc = parsed(text)
    if (doc === undefined) return undefined
    node = doc.get('memory_limit', true)
  } catch {
    return undefined
  }
  if (!isScalar(node)) return undefined
  let value = node.value
  if (typeof value === 'string') {
    const { value: text, missing } = interpolateString(value, env)
    if (missing.length > 0) return undefined
    value = /^\d+$/.test(text.trim()) ? Number(text) : text
  }
  let bytes: number
  try {
    bytes = typeof value === 'number' ? value : typeof value === 'string' ? parseByteSize(value) : NaN
  } catch {
    return undefined
  }
  return Number.isSafeInteger(bytes) && bytes >= MIN_MEMORY_LIMIT_MIB * 1024 * 1024 ? bytes : undefined
}

function runChild(limit: number, cores: number, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const args = [...memoryFlags(limit, cores), ...process.execArgv, argv[1]!, ...argv.slice(2)]
  const child = spawn(process.execPath, args, {
    // The IPC channel is how the child learns that this process died (even by kill -9): it
    // closes, and the child stops as on SIGTERM instead of running on alone (cli/main.ts).
    stdio: ['inherit', 'inherit', 'pipe', 'ipc'],
    env: { ...env, [LAUNCHED_ENV]: '1', ...(process.stderr.isTTY && { [STDERR_TTY_ENV]: '1' }) },
  })
  // The child shares the terminal's process group, so Ctrl-C reaches it directly too; it treats
  // a repeat within 250 ms as the same request (cli/main.ts).
  const forward = (signal: NodeJS.Signals) => child.kill(signal)
  for (const s of SIGNALS) process.on(s, forward)
  const stderr = new OomFilter((b) => process.stderr.write(b))
  child.stderr!.on('data', (b: Buffer) => stderr.push(b))
  return new Promise((resolve) => {
    child.on('error', (e) => {
      process.stderr.write(`error[SLC_INTERNAL]: could not start node for memory_limit: ${e.message}\n`)
      resolve(1)
    })
    child.on('close', (code, signal) => {
      for (const s of SIGNALS) process.off(s, forward)
      stderr.end()
      if (stderr.outOfMemory) {
        const p = heapPlan(limit, cores)
        process.stderr.write(
          `error[SLC_MEMORY_LIMIT]: the pipeline needed more memory than memory_limit (${Math.round(limit / 1048576)} MiB) allows: ` +
            `its heap (${p.oldSpaceMiB} MiB old space, ${3 * p.semiSpaceMiB} MiB young) ran out. Raise memory_limit, or lower ` +
            'channel.max_bytes, batch sizes or the state a transform keeps. Unacknowledged input will be read again on restart.\n',
        )
        resolve(1)
      } else resolve(code ?? 128 + (signal ? constants.signals[signal] : 0))
    })
  })
}

/** Passes the child's stderr through until V8 starts its out-of-memory report. */
class OomFilter {
  outOfMemory = false
  private held = ''

  constructor(private readonly write: (b: Buffer) => void) {}

  push(chunk: Buffer): void {
    if (this.outOfMemory) return
    // latin1 maps bytes 1:1, so a UTF-8 sequence split across chunks passes through intact.
    const text = this.held + chunk.toString('latin1')
    this.held = ''
    let cut = -1
    for (const m of OOM_MARKERS) {
      const i = text.indexOf(m)
      if (i >= 0 && (cut < 0 || i < cut)) cut = i
    }
    if (cut >= 0) {
      this.outOfMemory = true
      this.emit(text.slice(0, cut))
      return
    }
    // Hold back a tail that may be the start of a marker split across chunks.
    let keep = 0
    for (const m of OOM_MARKERS) {
      for (let n = Math.min(m.length - 1, text.length); n > keep; n--) {
        if (text.endsWith(m.slice(0, n))) {
          keep = n
          break
        }
      }
    }
    this.held = text.slice(text.length - keep)
    this.emit(text.slice(0, text.length - keep))
  }

  end(): void {
    if (!this.outOfMemory) this.emit(this.held)
    this.held = ''
  }

  private emit(text: string): void {
    if (text.length > 0) this.write(Buffer.from(text, 'latin1'))
  }
}

