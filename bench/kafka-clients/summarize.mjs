// Markdown summary of results.jsonl (medians over runs): node summarize.mjs results.jsonl
import { readFileSync } from 'node:fs'

const rows = readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b)
  if (s.length === 0) return NaN
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–')
const clients = ['platformatic', 'confluent', 'kafkajs']
const out = []
const p = (s = '') => out.push(s)

for (const i of rows.filter((r) => r.op === 'install')) p(`- install \`${i.packages}\` ${i.env ? `with ${i.env}` : '(no environment)'}: rc=${i.rc}, ${i.secs} s (node ${i.node}, npm ${i.npm})`)
for (const b of rows.filter((r) => r.op === 'ckjs-build')) p(`- confluent native build: librdkafka ${b.librdkafka}, features ${b.features.join(',')}`)
p()

const table = (op, title) => {
  const sel = rows.filter((r) => r.op === op)
  if (sel.length === 0) return
  p(`### ${title}`)
  p()
  p('| client | runs | msgs/s (median) | MB/s | runs msgs/s | CPU s | peak RSS MB | load avg | all ok |')
  p('|---|---|---|---|---|---|---|---|---|')
  for (const c of clients) {
    const rs = sel.filter((r) => r.client === c)
    if (rs.length === 0) continue
    const ok = rs.every((r) => (r.op.startsWith('produce') ? r.failed === 0 && r.acked === r.n : r.unique === r.n && r.dups === 0))
    p(`| ${c} ${rs[0].version} | ${rs.length} | ${fmt(median(rs.map((r) => r.msgsPerS)))} | ${fmt(median(rs.map((r) => r.MBPerS)), 1)} | ${rs.map((r) => fmt(r.msgsPerS)).join(' / ')} | ${fmt(median(rs.map((r) => r.cpuS)), 1)} | ${fmt(median(rs.map((r) => r.peakRssMB)))} | ${rs.map((r) => fmt(r.load1, 1)).join(' / ')} | ${ok ? 'yes' : 'NO'} |`)
  }
  p()
}
table('produce', 'Produce, 1 send() of 1000 messages in flight')
table('consume', 'Consume as a group member, manual commits every 10k messages')
table('produce-w4', 'Produce, 4 send() calls of 1000 messages in flight')
table('readback-w4', 'Read back after the 4-in-flight produce')
table('produce-lz4', 'Produce with lz4, 1 send() in flight')
table('consume-lz4', 'Consume lz4 batches')
table('consume-ckjs32', 'confluent consume with js.consumer.max.batch.size=32 (its default)')
table('consume-ckjs1000', 'confluent consume with js.consumer.max.batch.size=1000')

p('### Correctness')
p()
for (const r of rows.filter((r) => ['consume', 'readback-w4', 'consume-lz4', 'consume-ckjs32', 'consume-ckjs1000'].includes(r.op))) {
  if (r.unique !== r.n || r.dups) p(`- ${r.op} ${r.client} run ${r.run ?? ''}: count ${r.count}, unique ${r.unique}/${r.n}, dups ${r.dups}, why ${r.why}`)
}
for (const r of rows.filter((r) => r.op === 'produce-w4' && r.failed)) p(`- produce-w4 ${r.client}: ${r.failed} of ${r.n} rejected: ${Object.keys(r.errors).join('; ')}`)
for (const r of rows.filter((r) => r.op === 'keys')) p(`- keyed partitioning ${r.client}: ${r.sameAsJava}/${r.keys} keys on the same partition as the Java producer${r.differ ? `; e.g. ${JSON.stringify(r.example)} (key, java, client)` : ''}`)
for (const r of rows.filter((r) => r.op === 'outage-produce')) {
  const rb = rows.find((x) => x.op === 'outage-readback' && x.client === r.client && x.window === r.window)
  p(`- broker SIGKILL 10 s mid-produce, ${r.client}, ${r.window ?? 1} send() in flight: ${r.hung ?? ''} acked ${r.acked}/${r.n}, rejected ${r.failed} (${Object.keys(r.errors ?? {}).join('; ') || 'no errors'}), produce took ${r.secs} s; timeline ${JSON.stringify(r.timeline)}; read back: unique ${rb?.unique}/${r.n}, dups ${rb?.dups}, missing ${rb?.missingCount} ${rb?.missingFirst?.length ? `(first ${rb.missingFirst.join(',')})` : ''}`)
}
for (const r of rows.filter((r) => r.op === 'leave')) p(`- leave on close, ${r.client}: second member owned all 6 partitions ${r.secondGotAllPartitions ? `${r.handoverS} s after close()` : 'NOT within 90 s'} (session timeout 30 s, heartbeat 3 s; close() took ${r.closeS} s)`)
console.log(out.join('\n'))
