import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { runYaml } from '../../../src/testing/index.js'

const dir = mkdtempSync(join(tmpdir(), 'sluice-run-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function deadLetters(sub = '.sluice'): Record<string, unknown>[] {
  try {
    return readFileSync(join(dir, sub, 'dead-letter.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
  } catch {
    return []
  }
}

test('fused filter → map chain: filters, maps, and dead-letters a failing record with its file and line', async () => {
  writeFileSync(join(dir, 'a.csv'), 'id,amount,status\n1,10,paid\n2,5,open\n3,7.5,paid\n4,x,paid\n5,1,paid\n')
  const r = await runYaml(
    `
data_dir: .sluice
sources:
  in: { type: file, path: a.csv, format: csv }
transforms:
  paid: { type: filter, inputs: [in], condition: status == "paid" }
  cents: { type: map, inputs: [paid], set: { cents: amount * 100 } }
sinks:
  out: { type: collect, inputs: [cents], name: out }
`,
    { baseDir: dir },
  )
  assert.equal(r.status, 'completed')
  assert.deepEqual(
    r.out('out').map((x) => [x.id, x.cents]),
    [[1, 1000], [3, 750], [5, 100]],
  )
  const dl = deadLetters()
  assert.equal(dl.length, 1)
  assert.equal(dl[0]!.component, 'cents')
  assert.equal(dl[0]!.code, 'SLC_RECORD_TRANSFORM')
  assert.deepEqual((dl[0]!.origin as { line: number }).line, 5, 'row 4 is on line 5 (after the header), found through the filter index')
  assert.equal(r.stats.get('paid').received, 5)
  assert.equal(r.stats.get('paid').sent, 4)
  assert.equal(r.stats.get('cents').deadLettered, 1)
})

test('fan-out: two branches that change records in place never see each other\'s changes', async () => {
  writeFileSync(join(dir, 'b.jsonl'), '{"n":1}\n{"n":2}\n')
  const r = await runYaml(
    `
data_dir: .sluice-b
sources:
  in: { type: file, path: b.jsonl, format: jsonl }
transforms:
  a: { type: map, inputs: [in], set: { tag: '"a"' } }
  b: { type: map, inputs: [in], set: { tag: '"b"' }, remove: [n] }
sinks:
  sa: { type: collect, inputs: [a], name: a }
  sb: { type: collect, inputs: [b], name: b }
  raw: { type: collect, inputs: [in], name: raw }
`,
    { baseDir: dir },
  )
  assert.deepEqual(r.out('a'), [{ n: 1, tag: 'a' }, { n: 2, tag: 'a' }])
  assert.deepEqual(r.out('b'), [{ tag: 'b' }, { tag: 'b' }])
  assert.deepEqual(r.out('raw'), [{ n: 1 }, { n: 2 }])
})

test('route: records go to every matching output, unmatched to _unmatched; fan-in merges', async () => {
  const r = await runYaml(
    `
data_dir: .sluice-c
sources:
  gen:
    type: generator
    count: 100
    fields: { id: sequence, v: { kind: int, min: 0, max: 9 } }
transforms:
  split:
    type: route
    inputs: [gen]
    routes: { low: v < 3, even: v % 2 == 0 }
  both: { type: filter, inputs: [split.low, split.even], condition: "true" }
sinks:
  low: { type: collect, inputs: [split.low], name: low }
  even: { type: collect, inputs: [split.even], name: even }
  rest: { type: collect, inputs: [split._unmatched], name: rest }
  merged: { type: collect, inputs: [both], name: merged }
  all: { type: collect, inputs: [gen], name: all }
`,
    { baseDir: dir },
  )
  const v = (x: Record<string, unknown>) => x.v as number
  const all = r.out('all')
  assert.equal(all.length, 100)
  assert.deepEqual(r.out('low'), all.filter((x) => v(x) < 3))
  assert.deepEqual(r.out('even'), all.filter((x) => v(x) % 2 === 0))
  assert.deepEqual(r.out('rest'), all.filter((x) => v(x) >= 3 && v(x) % 2 === 1))
  // Fan-in: a record matching both routes arrives once from each.
  assert.equal(r.out('merged').length, r.out('low').length + r.out('even').length)
})

test('a sink that fails transiently is retried and every record arrives once', async () => {
  const r = await runYaml(
    `
data_dir: .sluice-d
sources:
  gen: { type: generator, count: 5000, batch_size: 500 }
sinks:
  flaky:
    type: faulty
    inputs: [gen]
    name: flaky
    fail_first: 3
    retry: { initial_backoff: 1ms, max_backoff: 5ms }
`,
    { baseDir: dir },
  )
  assert.equal(r.status, 'completed')
  const ids = r.out('flaky').map((x) => x.id as number)
  assert.equal(ids.length, 5000)
  assert.equal(new Set(ids).size, 5000)
  assert.equal(r.stats.get('flaky').retries, 3)
})

test('permanent and partial sink failures go to the dead-letter output; the rest is written', async () => {
  const r = await runYaml(
    `
data_dir: .sluice-e
sources:
  gen:
    type: generator
    count: 100
    fields: { id: sequence, bad: { kind: choice, values: [false, false, false, true] } }
sinks:
  picky: { type: faulty, inputs: [gen], name: picky, reject_field: bad }
  broken: { type: faulty, inputs: [gen], name: broken, permanent: true, retry: { max_attempts: 0 } }
`,
    { baseDir: dir },
  )
  assert.equal(r.status, 'completed')
  const written = r.out('picky')
  const dl = deadLetters('.sluice-e')
  const rejected = dl.filter((d) => d.component === 'picky')
  assert.equal(written.length + rejected.length, 100)
  assert.ok(rejected.every((d) => (d.record as { bad: boolean }).bad === true && d.code === 'SLC_RECORD_REJECTED'))
  assert.equal(dl.filter((d) => d.component === 'broken').length, 100)
  assert.equal(r.out('broken').length, 0)
})

test('a named dead_letter sink receives the envelopes', async () => {
  writeFileSync(join(dir, 'f.jsonl'), '{"a":1}\nnot json\n{"a":2}\n')
  const r = await runYaml(
    `
data_dir: .sluice-f
dead_letter: bad
sources:
  in: { type: file, path: f.jsonl, format: jsonl }
sinks:
  good: { type: collect, inputs: [in], name: good }
  bad: { type: collect, name: bad }
`,
    { baseDir: dir },
  )
  assert.equal(r.out('good').length, 2)
  const bad = r.out('bad')
  assert.equal(bad.length, 1)
  assert.equal(bad[0]!.code, 'SLC_RECORD_PARSE')
  assert.equal(bad[0]!.raw, 'not json')
  assert.equal((bad[0]!.origin as { line: number }).line, 2)
})

test('a slow sink holds back a fast source: memory stays bounded by the channel', async () => {
  const controller = new AbortController()
  const samples: number[] = []
  const sampler = setInterval(() => samples.push(process.memoryUsage().heapUsed), 20)
  setTimeout(() => controller.abort(), 1500)
  const r = await runYaml(
    `
data_dir: .sluice-g
channel: { max_records: 2000, max_bytes: 1MiB }
sources:
  gen: { type: generator, batch_size: 500 }
sinks:
  slow: { type: faulty, inputs: [gen], name: slow, delay: 20ms, keep: false, batch: { max_records: 500 } }
`,
    { baseDir: dir, signal: controller.signal },
  )
  clearInterval(sampler)
  assert.equal(r.status, 'stopped')
  const read = r.stats.get('gen').received
  const written = r.stats.get('slow').sent
  // The generator could make millions of records in 1.5 s; the sink takes ~25 batches/s.
  assert.ok(read - written <= 2000 + 500 + 500, `in flight at stop: ${read - written} (read ${read}, written ${written})`)
  assert.ok(read < 100_000, `source was not held back: read ${read}`)
  const growth = Math.max(...samples) - samples[0]!
  assert.ok(growth < 64 * 1024 * 1024, `heap grew by ${growth} bytes`)
})

test('a sink never gets more than batch.max_records in one write, whatever the source batch size', async () => {
  const sizes: number[] = []
  const { defineSink } = await import('../../../src/component/define.js')
  const { batchOptions, retryOptions, z } = await import('../../../src/component/options.js')
  const { builtins } = await import('../../../src/component/builtins.js')
  const counting = defineSink({
    type: 'counting',
    status: 'alpha',
    summary: 'test',
    options: z.strictObject({ batch: batchOptions({ max_records: 100, max_bytes: '1MiB', linger: '5ms' }), retry: retryOptions() }),
    build: () => ({ write: (records) => void sizes.push(records.length), close() {} }),
  })
  const r = await runYaml(
    `
data_dir: .sluice-max
sources:
  gen: { type: generator, count: 5000, batch_size: 2048 }
sinks:
  out: { type: counting, inputs: [gen] }
`,
    { baseDir: dir, registry: builtins.with(counting) },
  )
  assert.equal(r.status, 'completed')
  assert.equal(sizes.reduce((a, b) => a + b, 0), 5000)
  assert.ok(Math.max(...sizes) <= 100, `largest write: ${Math.max(...sizes)}`)
})

test('duplicate inputs are a config error, not records delivered twice', async () => {
  await assert.rejects(
    runYaml(
      `
sources:
  g: { type: generator, count: 3 }
sinks:
  out: { type: collect, inputs: [g, g], name: out }
`,
      { baseDir: dir },
    ),
    (e: Error) => /lists input "g" twice/.test(e.message),
  )
})

test('a batch function that changes its array and then throws: every record it got is dead-lettered, with its line', async () => {
  const { pipeline } = await import('../../../src/index.js')
  const { collectSink } = await import('../../../src/testing/index.js')
  const { builtins } = await import('../../../src/component/builtins.js')
  const sub = join(dir, 'splice')
  const { mkdirSync } = await import('node:fs')
  mkdirSync(sub)
  writeFileSync(join(sub, 'in.jsonl'), '{"n":1}\n{"n":2}\n{"n":3}\n')
  const collected = new Map()
  const r = await pipeline({ base_dir: sub, data_dir: 'state' }, builtins.with(collectSink(collected)))
    .source('in', { type: 'file', path: 'in.jsonl', format: 'jsonl' })
    .transform('chunks', {
      type: 'function',
      inputs: ['in'],
      mode: 'batch',
      fn: async (records: Record<string, unknown>[]) => {
        records.splice(0, 2)
        throw new Error('boom')
      },
    })
    .sink('out', { type: 'collect', inputs: ['chunks'], name: 'out' })
    .run()
  assert.equal(r.status, 'completed')
  const dl = readFileSync(join(sub, 'state', 'dead-letter.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  assert.deepEqual(dl.map((d) => [d.record.n, d.origin.line]), [[1, 1], [2, 2], [3, 3]])
})

test('dead letters after a record-mode function that drops records keep their lines', async () => {
  const { pipeline } = await import('../../../src/index.js')
  const { collectSink } = await import('../../../src/testing/index.js')
  const { builtins } = await import('../../../src/component/builtins.js')
  const sub = join(dir, 'lines')
  const { mkdirSync } = await import('node:fs')
  mkdirSync(sub)
  writeFileSync(join(sub, 'in.jsonl'), '{"x":"1"}\n{"x":"drop"}\n{"x":"bad"}\n{"x":"4"}\n')
  const r = await pipeline({ base_dir: sub, data_dir: 'state' }, builtins.with(collectSink(new Map())))
    .source('in', { type: 'file', path: 'in.jsonl', format: 'jsonl' })
    .transform('f', { type: 'function', inputs: ['in'], fn: (rec: Record<string, unknown>) => (rec.x === 'drop' ? null : rec) })
    .transform('m', { type: 'map', inputs: ['f'], cast: { x: 'int' } })
    .sink('out', { type: 'collect', inputs: ['m'], name: 'out' })
    .run()
  assert.equal(r.status, 'completed')
  const dl = readFileSync(join(sub, 'state', 'dead-letter.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  assert.equal(dl.length, 1)
  assert.equal(dl[0].origin.line, 3)
})
