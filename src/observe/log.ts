// Structured logs: JSON lines on stderr, pretty and colourful when stderr is a terminal.
import { createRequire } from 'node:module'
import pino from 'pino'
import { stderrIsTerminal } from './terminal.js'

export type Logger = pino.Logger

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'

export interface LogOptions {
  level?: LogLevel
  /** Force JSON (true) or pretty (false); default: pretty on a TTY. */
  json?: boolean
}

export function createLogger(options: LogOptions = {}): Logger {
  const level = options.level ?? (process.env.SLUICE_LOG_LEVEL as LogLevel | undefined) ?? 'info'
  const pretty = options.json === undefined ? stderrIsTerminal() : !options.json
  if (pretty) {
    pointPinoAtItsWorker()
    return pino({
      level,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' } },
    })
  }
  return pino({ level, base: undefined }, pino.destination({ dest: 2, sync: true }))
}

/** A logger that prints nothing (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}

/**
 * pino-pretty runs in a worker thread that thread-stream starts from a file beside its own code.
 * In the CLI bundle (scripts/bundle.ts) pino and thread-stream are bundled, so that path would
 * point into dist/bundle/: `__bundlerPathsOverrides` is pino's and thread-stream's way to be
 * told where the worker file is, here the installed one.
 */
function pointPinoAtItsWorker(): void {
  const g = globalThis as { __bundlerPathsOverrides?: Record<string, string> }
  if (g.__bundlerPathsOverrides?.['thread-stream-worker']) return
  const fromPino = createRequire(createRequire(import.meta.url).resolve('pino'))
  g.__bundlerPathsOverrides = { ...g.__bundlerPathsOverrides, 'thread-stream-worker': fromPino.resolve('thread-stream/lib/worker.js') }
}
