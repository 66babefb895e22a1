// Shared pieces of the Kafka end-to-end tests: `sluice` CLI processes, SQLite counts read while
// they run, RSS from /proc, and deadline polling (never fixed sleeps).
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { KafkaAdmin } from '../../src/clients/kafka.js'

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'sluice.js')

export interface SluiceProcess {
  readonly child: ChildProcess
  /** Everything written to stderr so far (JSON logs). */
  stderr(): string
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Start `sluice run <config>` with JSON logs at `level` on stderr. */
export function sluice(config: string, level = 'info'): SluiceProcess {
  const child = spawn(process.execPath, [BIN, 'run', config, '--log-level', level], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr!.on('data', (d) => (err += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  return { child, stderr: () => err, exited }
}

/** Polls `cond` every 50 ms until it holds; throws `what` after `timeoutMs`. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** One query on a SQLite file another process writes (WAL); 0 while the table does not exist. */
export function queryNumber(db: string, sql: string): number {
  try {
    const conn = new Database(db, { readonly: true, fileMustExist: true })
    try {
      return Number((conn.prepare(sql).get() as { n: number }).n)
    } finally {
      conn.close()
    }
  } catch {
    return 0
  }
}

/** Every `id` column value of `table` across the given SQLite files. */
export function ids(dbs: string[], table: string): number[] {
  const out: number[] = []
  for (const db of dbs) {
    const conn = new Database(db, { readonly: true, fileMustExist: true })
    try {
      for (const r of conn.prepare(`SELECT id FROM ${table}`).iterate() as Iterable<{ id: number }>) out.push(r.id)
    } finally {
      conn.close()
    }
  }
  return out
}

/** Resident set size of a process in MiB (Linux), undefined once it is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

/** `count` JSON lines `{"id":N,…}` with ids from `from`, padded to about 100 bytes. */
export function* jsonLines(count: number, from = 0): Generator<string> {
  const pad = 'p'.repeat(64)
  for (let i = from; i < from + count; i++) yield `{"id":${i},"pad":"${pad}"}`
}

/** The group's committed offsets summed over every partition. */
export async function committedTotal(bootstrap: string, group: string): Promise<number> {
  const admin = new KafkaAdmin([bootstrap])
  try {
    let n = 0
    for (const v of (await admin.committedOffsets(group)).values()) n += v
    return n
  } finally {
    await admin.close().catch(() => {})
  }
}

/** Write a pipeline config file and return its path. */
export function writeConfig(path: string, yaml: string): string {
  writeFileSync(path, yaml)
  return path
}
