// The `sluice` command line: run, validate, schema, components. Exit codes: 0 success,
// 1 runtime failure, 2 config or usage error. Users never see a stack trace for their mistakes.
import { Command, CommanderError } from '@commander-js/extra-typings'
import { readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { builtins } from '../component/builtins.js'
import { formatConfigErrors } from '../config/diagnostics.js'
import { configJsonSchema } from '../config/json-schema.js'
import { loadConfigFile } from '../config/load.js'
import { renderComponentsText } from '../config/render-docs.js'
import { ConfigError, ConfigErrors, isSluiceError, type SluiceError } from '../core/errors.js'
import { buildGraph } from '../core/topology/graph.js'
import { runPipeline } from '../core/topology/run.js'
import type { PipelineConfig } from '../config/types.js'
import { createLogger, type Logger, type LogLevel } from '../observe/log.js'
import { startProfile, type RunningProfile } from '../observe/profile.js'
import { startProgress } from '../observe/progress.js'
import { stderrIsTerminal } from '../observe/terminal.js'
import { RunStats } from '../observe/stats.js'
import { renderSummary } from '../observe/summary.js'
import { LAUNCHED_ENV } from './launch.js'

export const EXIT_OK = 0
export const EXIT_RUNTIME = 1
export const EXIT_CONFIG = 2
/** Signals this close together count as one stop request (see runCommand). */
const SAME_SIGNAL_MS = 250

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

/** Runs the CLI and returns the exit code (the caller sets process.exitCode). */
export async function main(argv: string[]): Promise<number> {
  let code = EXIT_OK
  const program = new Command()
    .name('sluice')
    .description('Streaming data pipelines with bounded memory, backpressure and no data lost.')
    .version(packageJson.version, '-v, --version')
    .showHelpAfterError('(run `sluice --help` for usage)')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(`error[SLC_USAGE]: ${s.replace(/^error: /, '')}`),
    })

  program
    .command('run')
    .description('Run a pipeline until its bounded inputs are drained, or until SIGINT/SIGTERM.')
    .argument('<config>', 'pipeline config (YAML)')
    .option('--reset', 'forget stored source positions and read every input from the start')
    .option('--log-level <level>', 'trace, debug, info, warn, error or silent', 'info')
    .option('--json-logs', 'JSON log lines even on a terminal')
    .option('--no-progress', 'no progress line on a terminal')
    .option('-q, --quiet', 'no summary table at the end')
    .option('--profile [dir]', 'write a V8 CPU profile (.cpuprofile) and a flamegraph (.svg) of the run into dir (default .)')
    .action(async (file, opts) => {
      code = await runCommand(file, opts)
    })

  program
    .command('validate')
    .description('Check a config without running it: syntax, options, graph.')
    .argument('<config>', 'pipeline config (YAML)')
    .action((file) => {
      code = withConfigErrors(file, () => {
        const config = loadConfigFile(file, { registry: builtins })
        checkGraph(config)
        process.stdout.write(`${file}: valid (${config.components.length} components)\n`)
      })
    })

  program
    .command('schema')
    .description('Print the JSON Schema of the config file (for editor autocompletion).')
    .action(() => {
      process.stdout.write(JSON.stringify(configJsonSchema(builtins), null, 2) + '\n')
    })

  program
    .command('components')
    .description('List every component with its options, or one component in detail.')
    .argument('[type]', 'a component type, e.g. file or sqlite')
    .action((type) => {
      code = withConfigErrors(undefined, () => {
        process.stdout.write(renderComponentsText(builtins, type))
      })
    })

  try {
    await program.parseAsync(argv)
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT_OK
      return EXIT_CONFIG
    }
    process.stderr.write(`error: ${(e as Error).message}\n`)
    return EXIT_RUNTIME
  }
  return code
}

interface RunFlags {
  reset?: true
  logLevel: string
  jsonLogs?: true
  progress: boolean
  quiet?: true
  profile?: string | true
}

async function runCommand(file: string, flags: RunFlags): Promise<number> {
  const log = createLogger({ level: flags.logLevel as LogLevel, json: flags.jsonLogs ? true : undefined })
  let config
  try {
    config = loadConfigFile(file, { registry: builtins })
    checkGraph(config)
  } catch (e) {
    return reportConfigError(e, file)
  }

  const controller = new AbortController()
  let signals = 0
  let firstSignalAt = 0
  const onSignal = (signal: NodeJS.Signals) => {
    // Under memory_limit the launcher forwards signals to this process, which may also get the
    // same one from its terminal or supervisor: a repeat within 250 ms is the same request.
    if (signals === 1 && performance.now() - firstSignalAt < SAME_SIGNAL_MS) return
    if (++signals === 1) {
      firstSignalAt = performance.now()
      log.info({ signal }, 'Stopping: no more reading, draining in-flight batches (send the signal again to exit at once).')
      controller.abort()
    } else {
      log.warn({ signal }, 'Second signal: exiting now; unacknowledged input will be read again.')
      process.exit(130)
    }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const orphaned = () => {
    // Nobody reads the launcher's pipe any more: a log line written to it would fail.
    process.stderr.on('error', () => undefined)
    log.level = 'silent'
    onSignal('SIGTERM')
  }
  if (process.env[LAUNCHED_ENV] === '1' && process.channel) {
    // The memory_limit launcher's channel (cli/launch.ts) closes when the launcher dies, even by
    // kill -9. It must not keep this process alive by itself.
    process.channel.unref()
    process.once('disconnect', orphaned)
  }
  // From here on a signal means a clean shutdown (scripts can wait for this line).
  log.info({ config: file, components: config.components.length }, 'Pipeline started.')

  const stats = new RunStats()
  const profile = flags.profile !== undefined ? await startProfile(flags.profile === true ? '.' : flags.profile) : undefined
  const progress = flags.progress && stderrIsTerminal() ? startProgress(stats) : undefined
  try {
    const result = await runPipeline(config, { registry: builtins, log, signal: controller.signal, reset: flags.reset, stats })
    progress?.stop()
    await stopProfile(profile, log)
    if (!flags.quiet) process.stderr.write(renderSummary(result, relative(process.cwd(), join(config.dataDir, 'dead-letter.jsonl'))))
    if (result.status === 'failed' || result.timedOut) {
      // Failures were logged when they happened; a missed deadline is only known now.
      if (result.timedOut && result.status !== 'failed' && result.error) log.error({ code: result.error.code }, result.error.message)
      return EXIT_RUNTIME
    }
    return EXIT_OK
  } catch (e) {
    progress?.stop()
    await stopProfile(profile, log)
    if (e instanceof ConfigError || e instanceof ConfigErrors) return reportConfigError(e, file)
    if (isSluiceError(e)) {
      log.error({ code: e.code }, e.message)
      return EXIT_RUNTIME
    }
    log.error({ err: e }, 'Unexpected failure (a bug in Sluice; please report it with this log).')
    return EXIT_RUNTIME
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('disconnect', orphaned)
    await new Promise<void>((resolve) => log.flush(() => resolve()))
  }
}

/** Write the profile of the run (once, also after a failure) and say where it went. */
async function stopProfile(profile: RunningProfile | undefined, log: Logger): Promise<void> {
  if (!profile) return
  try {
    const files = await profile.stop()
    log.info({ cpuprofile: files.cpuprofile, flamegraph: files.flamegraph, ...(files.threads.length > 0 && { worker_threads: files.threads }) }, 'CPU profile written.')
  } catch (e) {
    log.warn({ err: e }, 'Could not write the CPU profile.')
  }
}

/** Graph errors (unknown inputs, cycles) are config errors too: build the graph to find them. */
function checkGraph(config: PipelineConfig): void {
  buildGraph(config)
}

function withConfigErrors(file: string | undefined, fn: () => void): number {
  try {
    fn()
    return EXIT_OK
  } catch (e) {
    return reportConfigError(e, file)
  }
}

function reportConfigError(e: unknown, file: string | undefined): number {
  const color = stderrIsTerminal()
  let source: string | undefined
  try {
    source = file ? readFileSync(file, 'utf8') : undefined
  } catch {
    source = undefined
  }
  if (e instanceof ConfigErrors) {
    process.stderr.write(formatConfigErrors(e, { source, color }) + '\n')
    return EXIT_CONFIG
  }
  if (e instanceof ConfigError) {
    process.stderr.write(formatConfigErrors(new ConfigErrors([e]), { source, color }) + '\n')
    return EXIT_CONFIG
  }
  if (isSluiceError(e)) {
    process.stderr.write(`error[${(e as SluiceError).code}]: ${(e as SluiceError).message}\n`)
    return EXIT_RUNTIME
  }
  process.stderr.write(`error[SLC_INTERNAL]: ${(e as Error)?.message ?? String(e)}\n`)
  return EXIT_RUNTIME
}
