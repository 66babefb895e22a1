// Test service: a real Apache Kafka 4.x broker (KRaft, one node acting as broker and controller)
// on free loopback ports, plus the broker's own console producer and consumer as an external
// client that is not ours. Jars come from scripts/install-kafka.sh (run on first use).
//
// Broker settings chosen for tests:
// - `auto.create.topics.enable=false`: every test creates its topics (createTopic), so a typo
//   fails loudly and the sink's "unknown topic" path can be exercised;
// - one replica everywhere (offsets, transactions, share state), `min.insync.replicas=1`;
// - `group.initial.rebalance.delay.ms=0` so a consumer group forms at once;
// - a small `__consumer_offsets` (4 partitions) because creating 50 costs seconds.
//
// Every JVM started here is paired with a watchdog (`sh`, reading our stdin pipe) that SIGKILLs it
// when this process dies in any way, kill -9 included: no orphan JVM outlives a test file.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { after, before } from 'node:test'
import { fileURLToPath } from 'node:url'
import { KafkaAdmin, KafkaProducer } from '../../src/clients/kafka.js'

export interface KafkaBroker {
  /** `127.0.0.1:PORT`, for `brokers:` options and clients. */
  readonly bootstrap: string
  readonly port: number
  createTopic(name: string, partitions?: number, config?: Record<string, string>): Promise<void>
  /** SIGTERM (controlled shutdown) and wait for the JVM to exit. */
  stop(): Promise<void>
  /** SIGKILL and wait for the JVM to exit (fault tests). */
  kill(): Promise<void>
  /** Start again on the same ports and log dir; resolves when the broker answers. */
  restart(): Promise<void>
  /** Stop and remove the log dir. Idempotent. */
  close(): Promise<void>
}

export interface StartKafkaOptions {
  /** `num.partitions` for topics created without a count (default 1). */
  partitionsDefault?: number
  /** JVM heap in MiB (default 512). */
  heapMb?: number
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const READY_TIMEOUT_MS = 30_000

interface KafkaHome {
  version: string
  dir: string
  classpath: string
}

let home: KafkaHome | undefined

/** The provisioned Kafka folder; runs scripts/install-kafka.sh first when the cache lacks it. */
export function kafkaHome(): KafkaHome {
  if (home) return home
  const root = path.join(process.env.SLUICE_CACHE || path.join(os.homedir(), '.cache', 'sluice'), 'kafka')
  const ready = (): KafkaHome | undefined => {
    const current = path.join(root, 'current')
    if (!fs.existsSync(current)) return undefined
    const version = fs.readFileSync(current, 'utf8').trim()
    const dir = path.join(root, version)
    if (!fs.existsSync(path.join(dir, '.complete'))) return undefined
    return { version, dir, classpath: path.join(dir, 'libs', '*') }
  }
  home = ready()
  if (home) return home
  // First use on this machine: resolve the jars from Maven Central (the script locks against a
  // concurrent install from the other test file).
  const r = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'install-kafka.sh')], { stdio: ['ignore', 'inherit', 'inherit'] })
  if (r.status !== 0) throw new Error(`scripts/install-kafka.sh failed (exit ${r.status ?? r.signal}); see its output above`)
  home = ready()
  if (!home) throw new Error('scripts/install-kafka.sh succeeded but left no usable Kafka in the cache')
  return home
}

// ─── JVM processes and their watchdogs ────────────────────────────────────────────────────────

const liveJvms = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  const killAll = (): void => {
    for (const c of liveJvms) {
      try {
        c.kill('SIGKILL')
      } catch {
        // already gone
      }
    }
  }
  process.on('exit', killAll)
  // A signal skips 'exit' handlers: kill the JVMs, then die of the same signal as before.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAll()
      process.removeListener(sig, onSignal)
      process.kill(process.pid, sig)
    }
    process.on(sig, onSignal)
  }
}

/**
 * Spawn `java` and a watchdog that SIGKILLs it once our end of the watchdog's stdin closes,
 * which the kernel does when this process dies, even of SIGKILL.
 */
function spawnJava(args: string[], stdio: ['pipe' | 'ignore' | number, 'pipe' | 'ignore', 'pipe' | 'ignore']): ChildProcess {
  installExitHook()
  const child = spawn('java', args, { stdio })
  liveJvms.add(child)
  if (child.pid !== undefined) {
    const watchdog = spawn('sh', ['-c', `read _ignored; kill -9 ${child.pid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'] })
    watchdog.unref()
    ;(watchdog.stdin as unknown as net.Socket).unref()
    watchdog.stdin?.on('error', () => {})
    child.once('exit', () => {
      // The JVM is gone: retire its watchdog without letting it signal a recycled pid.
      watchdog.kill('SIGKILL')
    })
  }
  child.once('exit', () => liveJvms.delete(child))
  return child
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port
      srv.close(() => resolve(port))
    })
  })
}

function tail(file: string, lines = 25): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/** Run a short-lived JVM tool to completion; rejects with its stderr on a non-zero exit. */
async function runTool(args: string[]): Promise<string> {
  const child = spawnJava(args, ['ignore', 'pipe', 'pipe'])
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
  await exited(child)
  if (child.exitCode !== 0) throw new Error(`${args.find((a) => /^(kafka|org)\./.test(a))} failed (exit ${child.exitCode ?? child.signalCode}): ${err.trim() || out.trim()}`)
  return out
}

// ─── The broker ───────────────────────────────────────────────────────────────────────────────

/**
 * One broker and one scratch folder for all the tests of a file: the broker starts before them
 * and is closed after, with the folder. `onStart` receives the broker (the tests keep it in a
 * variable of their own). Returns the folder.
 */
export function kafkaFixture(prefix: string, onStart: (broker: KafkaBroker) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  let broker: KafkaBroker | undefined
  before(async () => {
    broker = await startKafka()
    onStart(broker)
  })
  after(async () => {
    await broker?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

/** A fresh single-node KRaft broker on free loopback ports; resolves when it answers requests. */
export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaBroker> {
  const kh = kafkaHome()
  const port = await freePort()
  let controllerPort = await freePort()
  while (controllerPort === port) controllerPort = await freePort()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-kafka-'))
  const dataDir = path.join(dir, 'data')
  const propsFile = path.join(dir, 'server.properties')
  const props: Record<string, string | number> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.bootstrap.servers': `127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': dataDir,
    'num.partitions': opts.partitionsDefault ?? 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'auto.create.topics.enable': 'false',
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 4,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 4,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    // After a kill -9 the controller keeps the dead broker's session until it expires, and the
    // restarted broker cannot register before that: keep it short so restart() is quick.
    'broker.heartbeat.interval.ms': 500,
    'broker.session.timeout.ms': 3000,
    'num.network.threads': 2,
    'num.io.threads': 4,
    'log.retention.check.interval.ms': 600_000,
  }
  fs.writeFileSync(propsFile, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
  const logFile = path.join(dir, 'server.log')
  const jvmArgs = [
    `-Xmx${opts.heapMb ?? 512}m`,
    '-Xms64m',
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${dir}`,
    `-Dlog4j2.configurationFile=${path.join(kh.dir, 'log4j2.xml')}`,
    '-cp',
    kh.classpath,
  ]
  // A cluster id is a base64url-encoded 16-byte UUID (22 characters). One starting with '-' is
  // read by StorageTool's argument parser as an option (seen: 1 start in 64 failed).
  let clusterId = crypto.randomBytes(16).toString('base64url')
  while (clusterId.startsWith('-')) clusterId = crypto.randomBytes(16).toString('base64url')
  await runTool([...jvmArgs, 'kafka.tools.StorageTool', 'format', '--config', propsFile, '--cluster-id', clusterId, '--standalone'])

  let proc: ChildProcess | undefined
  let closed = false
  const bootstrap = `127.0.0.1:${port}`

  const launch = async (): Promise<void> => {
    const child = spawnJava([...jvmArgs, 'kafka.Kafka', propsFile], ['ignore', 'ignore', 'pipe'])
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
    proc = child
    const deadline = Date.now() + READY_TIMEOUT_MS
    let lastError: unknown
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`Kafka exited during startup (${child.exitCode ?? child.signalCode}): ${stderr.trim()}\n${tail(logFile)}`)
      }
      const admin = new KafkaAdmin([bootstrap], 'sluice-test-ready')
      try {
        await admin.listTopics()
        return
      } catch (e) {
        lastError = e
      } finally {
        await admin.close().catch(() => {})
      }
      await new Promise((r) => setTimeout(r, 200))
    }
    child.kill('SIGKILL')
    await exited(child)
    throw new Error(`Kafka did not answer within ${READY_TIMEOUT_MS / 1000} s (${String(lastError)}):\n${tail(logFile)}`)
  }

  const halt = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const child = proc
    if (!child) return
    proc = undefined
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    await exited(child)
  }

  try {
    await launch()
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true })
    throw e
  }

  return {
    bootstrap,
    port,
    async createTopic(name, partitions = 1, config = {}) {
      const admin = new KafkaAdmin([bootstrap], 'sluice-test-admin')
      try {
        await admin.createTopic(name, partitions, config)
      } finally {
        await admin.close().catch(() => {})
      }
      await waitForLeaders(bootstrap, name, partitions)
    },
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    async restart() {
      if (closed) throw new Error('restart() after close()')
      await halt('SIGTERM')
      await launch()
    },
    async close() {
      if (closed) return
      closed = true
      await halt('SIGTERM')
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * CreateTopics returns before every partition has a leader; a producer sent to at once may see
 * NOT_LEADER / UNKNOWN_TOPIC. Waiting here keeps that startup noise out of the tests.
 */
async function waitForLeaders(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const probe = new KafkaProducer({ brokers: [bootstrap], clientId: 'sluice-test-probe', compression: 'none', timeoutMs: 5000, retries: 0 })
  const deadline = Date.now() + 10_000
  try {
    for (;;) {
      try {
        if (((await probe.partitions(topic)) ?? 0) >= partitions) return
      } catch (e) {
        if (Date.now() > deadline) throw e
      }
      if (Date.now() > deadline) throw new Error(`topic ${topic} has no leaders after 10 s`)
      await new Promise((r) => setTimeout(r, 100))
    }
  } finally {
    await probe.close().catch(() => {})
  }
}

// ─── Console tools: an external client that is not ours ───────────────────────────────────────

function toolArgs(): string[] {
  const kh = kafkaHome()
  return ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dlog4j2.configurationFile=${path.join(kh.dir, 'log4j2-tools.xml')}`, '-cp', kh.classpath]
}

/**
 * Produce one record per line with Kafka's ConsoleProducer (acks=all, idempotent). `lines` is
 * an iterable, an async iterable, or a file path (streamed straight into the tool's stdin, which
 * is how a million lines go in quickly). With `keySeparator`, each line is `key<sep>value`.
 */
export async function consoleProduce(
  broker: KafkaBroker,
  topic: string,
  lines: AsyncIterable<string> | Iterable<string> | string,
  opts: { keySeparator?: string } = {},
): Promise<void> {
  const args = [
    ...toolArgs(),
    'org.apache.kafka.tools.ConsoleProducer',
    '--bootstrap-server', broker.bootstrap,
    '--topic', topic,
    '--command-property', 'acks=all',
    '--command-property', 'linger.ms=20',
    '--command-property', 'batch.size=262144',
    '--command-property', 'buffer.memory=67108864',
  ]
  if (opts.keySeparator !== undefined) args.push('--reader-property', 'parse.key=true', '--reader-property', `key.separator=${opts.keySeparator}`)
  let fd: number | undefined
  if (typeof lines === 'string') fd = fs.openSync(lines, 'r')
  try {
    const child = spawnJava(args, [fd ?? 'pipe', 'ignore', 'pipe'])
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
    if (fd === undefined) {
      const source = Readable.from(joinLines(lines as AsyncIterable<string> | Iterable<string>))
      child.stdin?.on('error', () => {}) // the tool exiting early surfaces through its exit code
      source.pipe(child.stdin!)
    }
    await exited(child)
    if (child.exitCode !== 0) throw new Error(`ConsoleProducer failed (exit ${child.exitCode ?? child.signalCode}): ${stderr.trim()}`)
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/** Lines batched into ~64 KiB chunks: one write per chunk, not per line. */
async function* joinLines(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<string> {
  let buf = ''
  for await (const line of lines) {
    buf += line + '\n'
    if (buf.length >= 65_536) {
      yield buf
      buf = ''
    }
  }
  if (buf) yield buf
}

/**
 * Read up to `maxMessages` records with Kafka's ConsoleConsumer (no group commits). Ends after
 * `maxMessages`, or once no record arrived for `timeoutMs`. Each line is the value, preceded by
 * `key\t` with `printKey`, by `h1:v1,h2:v2\t` with `printHeaders` and by `Partition:N\t` with
 * `printPartition`.
 */
export async function consoleConsume(
  broker: KafkaBroker,
  topic: string,
  opts: { maxMessages: number; timeoutMs: number; fromBeginning?: boolean; printKey?: boolean; printPartition?: boolean; printHeaders?: boolean },
): Promise<string[]> {
  const args = [
    ...toolArgs(),
    'org.apache.kafka.tools.consumer.ConsoleConsumer',
    '--bootstrap-server', broker.bootstrap,
    '--topic', topic,
    '--max-messages', String(opts.maxMessages),
    '--timeout-ms', String(opts.timeoutMs),
    '--command-property', 'enable.auto.commit=false',
    '--command-property', 'max.poll.records=5000',
  ]
  if (opts.fromBeginning ?? true) args.push('--from-beginning')
  if (opts.printKey) args.push('--formatter-property', 'print.key=true', '--formatter-property', 'key.separator=\t')
  if (opts.printPartition) args.push('--formatter-property', 'print.partition=true')
  if (opts.printHeaders) args.push('--formatter-property', 'print.headers=true')
  const child = spawnJava(args, ['ignore', 'pipe', 'pipe'])
  const chunks: Buffer[] = []
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => chunks.push(d))
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
  await exited(child)
  // A timeout with fewer records than asked is a normal end (exit 0 or 1 depending on version);
  // anything else on stderr than the summary line is a failure.
  const problems = stderr.split('\n').filter((l) => l.trim() && !/Processed a total of|TimeoutException/.test(l))
  if (child.exitCode !== 0 && problems.length > 0) throw new Error(`ConsoleConsumer failed (exit ${child.exitCode ?? child.signalCode}): ${problems.join('\n')}`)
  const text = Buffer.concat(chunks).toString('utf8')
  return text.length === 0 ? [] : text.replace(/\n$/, '').split('\n')
}
