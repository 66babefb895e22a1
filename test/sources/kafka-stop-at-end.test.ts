// The kafka source's `stop_at_end`: a bounded run ends by itself once every assigned partition was
// read up to its end offset at start (empty partitions and topics included), commits what it read, and a
// second run of the same group (already at the end) stops at once without reading anything.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { KafkaAdmin } from '../../src/clients/kafka.js'
import { builtins } from '../../src/component/builtins.js'
import { loadConfigText } from '../../src/config/load.js'
import { runPipeline } from '../../src/core/topology/run.js'
import { silentLogger } from '../../src/observe/log.js'
import { collectSink, type CollectedRecords } from '../../src/testing/fault-sinks.js'
import { consoleProduce, kafkaFixture, type KafkaBroker } from '../services/kafka.js'

let broker: KafkaBroker
const dir = kafkaFixture('sluice-kafka-end-', (b) => (broker = b))

async function run(topics: string, group: string) {
  const collected: CollectedRecords = new Map()
  const registry = builtins.with(collectSink(collected))
  const yaml = `data_dir: ${join(dir, group)}
sources:
  in: { type: kafka, brokers: "${broker.bootstrap}", group: ${group}, topics: [${topics}], stop_at_end: true }
sinks:
  out: { type: collect, inputs: [in], name: out }
`
  const config = loadConfigText(yaml, { registry, baseDir: dir, file: 'test.yaml', env: {} })
  // A bound on the test, not on the source: stop_at_end must end the run long before this.
  const result = await runPipeline(config, { registry, log: silentLogger(), signal: AbortSignal.timeout(60_000) })
  return { result, out: collected.get('out') ?? [] }
}

describe('kafka source stop_at_end', () => {
  test('ends after every record present at start (an empty topic too), commits them; a rerun of the group stops at once', { timeout: 120_000 }, async () => {
    await broker.createTopic('end', 3)
    // A second topic with no record at all: its empty partitions must not hold the run open.
    await broker.createTopic('empty', 2)
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: i }))
    await consoleProduce(broker, 'end', lines)
    const first = await run('end, empty', 'g1')
    assert.equal(first.result.status, 'completed')
    assert.equal(first.out.length, 3000)
    assert.equal(new Set(first.out.map((r) => r.id)).size, 3000)
    const admin = new KafkaAdmin([broker.bootstrap])
    try {
      const committed = await admin.committedOffsets('g1')
      assert.equal([...committed.values()].reduce((a, b) => a + b, 0), 3000)
    } finally {
      await admin.close()
    }
    const t0 = Date.now()
    const second = await run('end, empty', 'g1')
    assert.equal(second.result.status, 'completed')
    assert.equal(second.out.length, 0)
    assert.ok(Date.now() - t0 < 30_000, `the rerun took ${Date.now() - t0} ms`)
  })
})
