// One measurement per process, printed as one JSON line (run.sh collects them).
//
//   node bench.mjs produce  CLIENT BROKERS TOPIC N [java]   N keyed ~200 B JSON messages, ids 0..N-1
//   node bench.mjs consume  CLIENT BROKERS TOPIC GROUP N    read as a group member until all N ids seen
//   node bench.mjs outage   CLIENT BROKERS TOPIC N BROKERDIR  produce N; SIGKILL the broker at 3 s, restart it 10 s later
//   node bench.mjs keys     CLIENT BROKERS TOPIC N [java]   produce key-0..key-(N-1), client's partitioner
//   node bench.mjs keymap   BROKERS TOPIC N                 read N messages, print {key: partition}
//   node bench.mjs leave    CLIENT BROKERS TOPIC            2 members; close one; time until the other owns all
//   node bench.mjs topic    BROKERS create|delete TOPIC [PARTITIONS]
//
// CPU seconds and peak RSS are the whole process's (process.resourceUsage()), so they include
// Node's start-up and the library's load; the same for every client.
import { execFile } from 'node:child_process'
import { loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { COMMIT_EVERY, SEND_BATCH, WINDOW, COMPRESSION, loadClient } from './clients.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const [cmd, ...args] = process.argv.slice(2)
const now = () => performance.now() / 1000
const usage = () => {
  const u = process.resourceUsage()
  return { cpuS: +((u.userCPUTime + u.systemCPUTime) / 1e6).toFixed(2), peakRssMB: Math.round(u.maxRSS / 1024), load1: +loadavg()[0].toFixed(1) }
}
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')
const brokersOf = (s) => s.split(',')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const describe = (e) => {
  const parts = [e?.message ?? String(e)]
  if (e?.code) parts.push(String(e.code))
  if (Array.isArray(e?.errors)) for (const x of e.errors.slice(0, 2)) parts.push(x?.message ?? String(x))
  if (e?.cause?.message) parts.push(e.cause.message)
  return parts.join(' | ').slice(0, 300)
}

// ~200 B JSON: {"id":N,"ts":…,"user":"user-…","event":"…","url":"…","pad":"…"} padded to 200 bytes.
const EVENTS = ['page_view', 'click', 'add_to_cart', 'checkout', 'search']
function message(id) {
  const user = `user-${String(id % 50000).padStart(5, '0')}`
  let s = `{"id":${id},"ts":${1767225600000 + id},"user":"${user}","event":"${EVENTS[id % 5]}","url":"/products/${(id * 7919) % 100000}","pad":"`
  s += 'x'.repeat(Math.max(0, 198 - s.length)) + '"}'
  return { key: Buffer.from(user), value: Buffer.from(s) }
}
// The id sits right after {"id": — read the digits without JSON.parse (same cost for every client).
function idOf(v) {
  let n = 0
  for (let i = 6; i < v.length; i++) {
    const c = v[i]
    if (c < 48 || c > 57) break
    n = n * 10 + (c - 48)
  }
  return n
}

async function produce(client, brokers, topic, n, makeMsg = message, opts = {}, onStart = () => {}) {
  const c = await loadClient(client)
  const t0 = now()
  const p = await c.producer(brokers, opts)
  const tConn = now()
  onStart()
  let next = 0
  let acked = 0
  let failed = 0
  const errors = new Map()
  const failedRanges = []
  const inflight = new Set()
  let bytes = 0
  while (next < n || inflight.size > 0) {
    while (inflight.size < WINDOW && next < n) {
      const from = next
      const len = Math.min(SEND_BATCH, n - next)
      const batch = new Array(len)
      for (let i = 0; i < len; i++) {
        batch[i] = makeMsg(from + i)
        bytes += batch[i].value.length + batch[i].key.length
      }
      next += len
      const pr = p.send(topic, batch).then(
        () => { acked += len },
        (e) => {
          failed += len
          failedRanges.push([from, from + len - 1])
          const d = describe(e)
          errors.set(d, (errors.get(d) ?? 0) + 1)
        },
      ).finally(() => inflight.delete(pr))
      inflight.add(pr)
    }
    if (inflight.size > 0) await Promise.race(inflight)
  }
  const tEnd = now()
  await p.close().catch((e) => errors.set(`close: ${describe(e)}`, 1))
  const secs = tEnd - tConn
  return {
    op: 'produce', client: c.name, version: c.version, compression: COMPRESSION, n, acked, failed, failedRanges: failedRanges.slice(0, 20),
    errors: Object.fromEntries([...errors].slice(0, 10)), connectS: +(tConn - t0).toFixed(2), secs: +secs.toFixed(2),
    msgsPerS: Math.round(n / secs), MBPerS: +(bytes / secs / 1e6).toFixed(1), ...usage(),
  }
}

async function consume(client, brokers, topic, group, n, idleLimitS = 30) {
  const c = await loadClient(client)
  const t0 = now()
  const seen = new Uint8Array(n)
  let count = 0
  let unique = 0
  let dups = 0
  let outOfRange = 0
  let tFirst = 0
  let tLast = now()
  let commits = 0
  const next = new Map()
  let sinceCommit = 0
  const cons = await c.consumer(brokers, group, topic)
  const commit = async () => {
    if (next.size === 0) return
    await cons.commit([...next].map(([partition, offset]) => ({ partition, offset })))
    commits++
    sinceCommit = 0
  }
  let finish
  const finished = new Promise((r) => { finish = r })
  const running = cons.run(async (msgs) => {
    if (tFirst === 0) tFirst = now()
    tLast = now()
    for (const m of msgs) {
      count++
      const id = idOf(m.value)
      if (id >= n) outOfRange++
      else if (seen[id]) dups++
      else { seen[id] = 1; unique++ }
      const prev = next.get(m.partition) ?? -1
      if (m.offset + 1 > prev) next.set(m.partition, m.offset + 1)
    }
    sinceCommit += msgs.length
    if (sinceCommit >= COMMIT_EVERY || unique >= n) await commit()
    if (unique >= n) finish('complete')
  })
  running.catch((e) => finish(`run failed: ${describe(e)}`))
  const watchdog = setInterval(() => { if (now() - tLast > idleLimitS) finish('idle timeout') }, 500)
  const why = await finished
  const tEnd = now()
  clearInterval(watchdog)
  cons.stop()
  await commit().catch(() => {})
  await cons.close().catch(() => {})
  const missing = []
  if (unique < n) for (let i = 0; i < n && missing.length < 10; i++) if (!seen[i]) missing.push(i)
  const steady = tFirst ? tEnd - tFirst : 0
  return {
    op: 'consume', client: c.name, version: c.version, n, why, count, unique, dups, outOfRange, missingCount: n - unique, missingFirst: missing, commits,
    joinS: tFirst ? +(tFirst - t0).toFixed(2) : null, secs: +steady.toFixed(2), totalS: +(tEnd - t0).toFixed(2),
    msgsPerS: steady ? Math.round(count / steady) : 0, MBPerS: steady ? +((count * 211) / steady / 1e6).toFixed(1) : 0, ...usage(),
  }
}

function broker(action, dir) {
  return new Promise((res, rej) => execFile('bash', [join(here, 'broker.sh'), action, dir], (e, so, se) => (e ? rej(new Error(se || e.message)) : res(so.trim()))))
}

async function outage(client, brokers, topic, n, brokerDir) {
  const timeline = []
  let t0 = 0
  const mark = (what) => timeline.push([what, +(now() - t0).toFixed(1)])
  const chaos = (async () => {
    while (t0 === 0) await sleep(50)
    await sleep(3000)
    await broker('kill', brokerDir); mark('broker SIGKILL')
    await sleep(10000)
    mark('broker restarting'); await broker('restart', brokerDir); mark('broker up')
  })()
  const res = await Promise.race([
    produce(client, brokers, topic, n, message, {}, () => { t0 = now() }),
    sleep(240000).then(() => ({ op: 'produce', client, hung: 'no completion within 240 s' })),
  ])
  await chaos.catch((e) => mark(`chaos failed: ${e.message}`))
  mark('producer done')
  return { ...res, op: 'outage-produce', timeline }
}

async function keys(client, brokers, topic, n, partitioner) {
  const mk = (i) => ({ key: Buffer.from(`key-${i}`), value: Buffer.from(`{"id":${i}}`) })
  const c = await loadClient(client)
  const p = await c.producer(brokers, { partitioner })
  await p.send(topic, Array.from({ length: n }, (_, i) => mk(i)))
  await p.close()
  return { op: 'keys', client: c.name, partitioner: partitioner ?? 'default', topic, n }
}

async function keymap(brokers, topic, n) {
  const c = await loadClient('platformatic')
  const map = {}
  let got = 0
  const cons = await c.consumer(brokers, `keymap-${topic}-${Date.now()}`, topic)
  let finish
  const done = new Promise((r) => { finish = r })
  cons.run(async (msgs) => { for (const m of msgs) { map[m.key.toString()] = m.partition; got++ } if (got >= n) finish() })
  await Promise.race([done, sleep(60000)])
  cons.stop(); await cons.close().catch(() => {})
  return map
}

async function leave(client, brokers, topic) {
  const c = await loadClient(client)
  const group = `leave-${client}-${Date.now()}`
  const waitFor = async (pred, ms) => { const t = now(); while (!pred()) { if (now() - t > ms / 1000) return false; await sleep(50) } return true }
  const a = await c.consumer(brokers, group, topic)
  a.run(async () => {}).catch(() => {})
  const aAll = await waitFor(() => a.assignment().length === 6, 60000)
  const b = await c.consumer(brokers, group, topic)
  b.run(async () => {}).catch(() => {})
  const tJoin = now()
  const split = await waitFor(() => a.assignment().length === 3 && b.assignment().length === 3, 90000)
  const splitS = now() - tJoin
  const tClose = now()
  await a.close().catch(() => {})
  const closeS = now() - tClose
  const got = await waitFor(() => b.assignment().length === 6, 90000)
  const handoverS = now() - tClose
  await b.close().catch(() => {})
  return { op: 'leave', client: c.name, firstMemberGotAll: aAll, splitAfterSecondJoined: split, splitS: +splitS.toFixed(2), closeS: +closeS.toFixed(2), secondGotAllPartitions: got, handoverS: +handoverS.toFixed(2) }
}

async function main() {
  switch (cmd) {
    case 'produce': return out(await produce(args[0], brokersOf(args[1]), args[2], Number(args[3])))
    case 'consume': return out(await consume(args[0], brokersOf(args[1]), args[2], args[3], Number(args[4])))
    case 'outage': return out(await outage(args[0], brokersOf(args[1]), args[2], Number(args[3]), args[4]))
    case 'keys': return out(await keys(args[0], brokersOf(args[1]), args[2], Number(args[3]), args[4]))
    case 'keymap': return out(await keymap(brokersOf(args[0]), args[1], Number(args[2])))
    case 'leave': return out(await leave(args[0], brokersOf(args[1]), args[2]))
    case 'topic': {
      const c = await loadClient('platformatic')
      if (args[1] === 'create') await c.createTopic(brokersOf(args[0]), args[2], Number(args[3] ?? 6))
      else await c.deleteTopic(brokersOf(args[0]), args[2])
      return
    }
    default: throw new Error(`unknown command ${cmd}`)
  }
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1) })
void SEND_BATCH; void COMMIT_EVERY
