// Run a pipeline written as YAML text in-process, with the test sinks registered, and return what
// the sinks received. Paths resolve against `baseDir` (a temp folder in tests).
import { builtins } from '../component/builtins.js'
import type { Registry } from '../component/registry.js'
import { loadConfigText } from '../config/load.js'
import type { Rec } from '../core/batch.js'
import { runPipeline, type RunResult } from '../core/topology/run.js'
import { silentLogger, type Logger } from '../observe/log.js'
import type { RunStats } from '../observe/stats.js'
import { collectSink, faultySink, type CollectedRecords } from './fault-sinks.js'

export interface RunYamlOptions {
  baseDir: string
  registry?: Registry
  log?: Logger
  signal?: AbortSignal
  reset?: boolean
  env?: Record<string, string | undefined>
  /** Pass one in to watch the run while it goes on. */
  stats?: RunStats
}

export async function runYaml(yaml: string, o: RunYamlOptions): Promise<RunResult & { collected: CollectedRecords; out(name: string): Rec[] }> {
  const collected: CollectedRecords = new Map()
  const registry = (o.registry ?? builtins).with(collectSink(collected), faultySink(collected))
  const config = loadConfigText(yaml, { registry, baseDir: o.baseDir, file: 'test.yaml', env: o.env ?? {} })
  const result = await runPipeline(config, { registry, log: o.log ?? silentLogger(), signal: o.signal, reset: o.reset, stats: o.stats })
  return { ...result, collected, out: (name) => collected.get(name) ?? [] }
}
