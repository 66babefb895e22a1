// Structured logs: JSON lines on stderr, pretty and colourful when stderr is a terminal.
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
