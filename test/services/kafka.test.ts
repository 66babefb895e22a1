// Tests of the Kafka test service itself: a real broker, the console tools, kill -9 and restart.
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { KafkaAdmin } from '../../src/clients/kafka.js'
import { consoleConsume, consoleProduce, startKafka, type KafkaBroker } from './kafka.js'

describe('kafka test service', () => {
  let broker: KafkaBroker

  before(async () => {
    broker = await startKafka()
  })
  after(async () => {
    await broker?.close()
  })

  it('listens on loopback and creates topics with the asked partition count', async () => {
    assert.equal(broker.bootstrap, `127.0.0.1:${broker.port}`)
    await broker.createTopic('svc-topics', 3)
    const admin = new KafkaAdmin([broker.bootstrap])
    try {
      assert.ok((await admin.listTopics()).includes('svc-topics'))
    } finally {
      await admin.close()
    }
  })

  it('round-trips keyed lines through the console producer and consumer', async () => {
    await broker.createTopic('svc-roundtrip', 2)
    const lines = Array.from({ length: 500 }, (_, i) => `k${i % 7}|value-${i}`)
    await consoleProduce(broker, 'svc-roundtrip', lines, { keySeparator: '|' })
    const out = await consoleConsume(broker, 'svc-roundtrip', { maxMessages: 500, timeoutMs: 10_000, printKey: true })
    assert.equal(out.length, 500)
    const expected = lines.map((l) => l.replace('|', '\t')).sort()
    assert.deepEqual([...out].sort(), expected)
  })

  it('produces from a file path and from an async iterable', async () => {
    await broker.createTopic('svc-file')
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-kafka-svc-')), 'lines.txt')
    fs.writeFileSync(file, Array.from({ length: 20_000 }, (_, i) => `line-${i}`).join('\n') + '\n')
    await consoleProduce(broker, 'svc-file', file)
    async function* more(): AsyncGenerator<string> {
      for (let i = 0; i < 100; i++) yield `async-${i}`
    }
    await consoleProduce(broker, 'svc-file', more())
    const out = await consoleConsume(broker, 'svc-file', { maxMessages: 20_100, timeoutMs: 10_000 })
    assert.equal(out.length, 20_100)
    assert.equal(new Set(out).size, 20_100)
    assert.equal(out[0], 'line-0') // one partition: order kept
    fs.rmSync(path.dirname(file), { recursive: true, force: true })
  })

  it('keeps acknowledged data across kill -9 and restart on the same port', async () => {
    await broker.createTopic('svc-restart')
    await consoleProduce(broker, 'svc-restart', ['before-1', 'before-2'])
    const port = broker.port
    await broker.kill()
    await broker.restart()
    assert.equal(broker.port, port)
    await consoleProduce(broker, 'svc-restart', ['after-1'])
    const out = await consoleConsume(broker, 'svc-restart', { maxMessages: 3, timeoutMs: 10_000 })
    assert.deepEqual(out, ['before-1', 'before-2', 'after-1'])
  })

  it('no broker JVM outlives a test process killed with SIGKILL', async () => {
    // The child keeps its broker's folder under a TMPDIR of ours, removed below.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-kafka-orphan-'))
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'broker-then-wait.ts')], {
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve())
        child.once('exit', (code) => reject(new Error(`the fixture exited (${code}) before its broker was ready`)))
      })
      const jvm = Number(execFileSync('pgrep', ['-P', String(child.pid), 'java'], { encoding: 'utf8' }).trim().split('\n')[0])
      assert.ok(jvm > 0)
      child.kill('SIGKILL')
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0)
          return true
        } catch {
          return false
        }
      }
      const deadline = Date.now() + 10_000
      while (alive(jvm)) {
        assert.ok(Date.now() < deadline, `JVM ${jvm} still runs 10 s after its parent was killed`)
        await new Promise((r) => setTimeout(r, 100))
      }
    } finally {
      child.kill('SIGKILL')
      fs.rmSync(tmp, { recursive: true, force: true })
    }
  })

  it('consoleConsume returns what there is once timeoutMs passes without a record', async () => {
    await broker.createTopic('svc-empty')
    const out = await consoleConsume(broker, 'svc-empty', { maxMessages: 10, timeoutMs: 1500 })
    assert.deepEqual(out, [])
  })
})
