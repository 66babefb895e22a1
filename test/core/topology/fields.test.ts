// Projection pushdown: which fields the transforms downstream of a source read (fieldsReadFrom),
// and that a pipeline reading few fields gives the same results as one reading all of them.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { builtins } from '../../../src/component/builtins.js'
import { compileExpression } from '../../../src/component/expression.js'
import type { Transform } from '../../../src/component/define.js'
import { loadConfigText } from '../../../src/config/load.js'
import { fieldsReadFrom } from '../../../src/core/topology/fields.js'
import { buildGraph } from '../../../src/core/topology/graph.js'
import { runYaml } from '../../../src/testing/index.js'

const dir = mkdtempSync(join(tmpdir(), 'sluice-fields-'))
after(() => rmSync(dir, { recursive: true, force: true }))

async function fieldsOf(yaml: string): Promise<string[] | undefined> {
  const config = loadConfigText(yaml, { registry: builtins, baseDir: dir })
  const graph = buildGraph(config)
  const built = new Map<string, Transform>()
  for (const c of config.components) {
    if (c.kind !== 'transform') continue
    built.set(c.id, await builtins.get('transform', c.type)!.build(c.options as never, { id: c.id, baseDir: dir, dataDir: dir, log: undefined as never }))
  }
  const f = fieldsReadFrom(graph, built, 'in')
  return f && [...f].sort()
}

const SRC = 'sources:\n  in: { type: file, path: x.csv, format: csv }\n'

test('expressions report the fields they read, field()/has_field() names included', () => {
  const site = { component: 't', option: 'o' }
  assert.deepEqual([...compileExpression('a > 1 && b.c == "x" && "y" in d', site).fields()!].sort(), ['a', 'b', 'd'])
  assert.deepEqual([...compileExpression('has_field(e) && field("Order ID") > 0 && field("f", 0) < 2', site).fields()!].sort(), ['Order ID', 'e', 'f'])
  assert.deepEqual([...compileExpression('round(amount * 100.0)', site).fields()!], ['amount'])
})

test('filter → aggregate reads the condition, group and aggregation fields only', async () => {
  const f = await fieldsOf(`${SRC}transforms:
  p: { type: filter, inputs: [in], condition: event == "purchase" }
  g: { type: aggregate, inputs: [p], group_by: [country], window: { type: global }, aggregations: { n: count(), s: sum(amount), c: sum(price * qty) } }
sinks:
  out: { type: stdout, inputs: [g] }
`)
  assert.deepEqual(f, ['amount', 'country', 'event', 'price', 'qty'])
})

test('map with keep ends the walk; map without keep passes it on; a sink or a function reads everything', async () => {
  assert.deepEqual(
    await fieldsOf(`${SRC}transforms:
  p: { type: filter, inputs: [in], condition: amount > 50 }
  m: { type: map, inputs: [p], set: { cents: round(amount * 100.0) }, rename: { uid: user }, keep: [ts, user, cents] }
sinks:
  out: { type: stdout, inputs: [m] }
`),
    ['amount', 'cents', 'ts', 'uid', 'user'],
  )
  assert.equal(
    await fieldsOf(`${SRC}transforms:
  m: { type: map, inputs: [in], set: { cents: amount * 100 } }
sinks:
  out: { type: stdout, inputs: [m] }
`),
    undefined,
  )
  assert.equal(await fieldsOf(`${SRC}sinks:\n  out: { type: stdout, inputs: [in] }\n`), undefined)
  assert.equal(
    await fieldsOf(`${SRC}transforms:
  r: { type: route, inputs: [in], routes: { big: amount > 10 } }
  g: { type: aggregate, inputs: [r.big], group_by: [k], window: { type: global }, aggregations: { n: count() } }
sinks:
  out: { type: stdout, inputs: [g, r._unmatched] }
`),
    undefined,
    'the unmatched branch goes to a sink',
  )
})

test('a pipeline that reads few fields gives the results of one that reads them all', async () => {
  const rows = ['ts,user,country,event,amount,ua']
  for (let i = 0; i < 3000; i++) rows.push(`2024-01-01T00:00:${String(i % 60).padStart(2, '0')}Z,${i % 97},${['DE', 'FR', 'US'][i % 3]},${i % 5 === 0 ? 'purchase' : 'view'},${(i % 1000) / 10},"Mozilla, ${i}"`)
  writeFileSync(join(dir, 'e.csv'), rows.join('\n') + '\n')
  writeFileSync(join(dir, 'e.jsonl'), rows.slice(1).map((r) => { const [ts, user, country, event, amount] = r.split(','); return JSON.stringify({ ts, user: Number(user), country, event, amount: Number(amount), ua: { nested: [1, 'x'] } }) }).join('\n') + '\n')
  const run = async (format: string, file: string, tail: string, name: string) =>
    (
      await runYaml(
        `data_dir: .sluice-${name}
sources:
  in: { type: file, path: ${file}, format: ${format} }
transforms:
  p: { type: filter, inputs: [in], condition: event == "purchase" && amount > 10.0 }
${tail}`,
        { baseDir: dir },
      )
    ).out('out')
  for (const [format, file] of [['csv', 'e.csv'], ['jsonl', 'e.jsonl']]) {
    const agg = `  g: { type: aggregate, inputs: [p], group_by: [country], window: { type: global }, aggregations: { n: count(), s: sum(amount) } }
sinks:
  out: { type: collect, inputs: [g], name: out }
`
    const all = `  g: { type: aggregate, inputs: [p], group_by: [country], window: { type: global }, aggregations: { n: count(), s: sum(amount) } }
  f: { type: function, inputs: [in], module: ./noop.mjs }
sinks:
  out: { type: collect, inputs: [g], name: out }
  rest: { type: collect, inputs: [f], name: rest }
`
    writeFileSync(join(dir, 'noop.mjs'), 'export default (records) => records\n')
    const projected = (await run(format, file, agg, `${format}-a`)).sort((a, b) => String(a.country).localeCompare(String(b.country)))
    const full = (await run(format, file, all, `${format}-b`)).sort((a, b) => String(a.country).localeCompare(String(b.country)))
    assert.equal(projected.length, 3)
    assert.deepEqual(projected, full, format)
    const kept = await run(format, file, `  m: { type: map, inputs: [p], keep: [ts, user, amount] }\nsinks:\n  out: { type: collect, inputs: [m], name: out }\n`, `${format}-c`)
    assert.equal(kept.length, Array.from({ length: 3000 }, (_, i) => i).filter((i) => i % 5 === 0 && (i % 1000) / 10 > 10).length)
    assert.deepEqual(Object.keys(kept[0]!), ['ts', 'user', 'amount'])
  }
})
