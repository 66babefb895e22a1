// W2 as a Node developer would write it by hand: readline, JSON.parse per line, JSON.stringify,
// a write stream (waiting for 'drain' when it is full).
// usage: node w2.mjs IN OUT
import { once } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { createInterface } from 'node:readline'

const [input, output] = process.argv.slice(2)
const rl = createInterface({ input: createReadStream(input), crlfDelay: Infinity })
const out = createWriteStream(output)
for await (const line of rl) {
  if (!line) continue
  const r = JSON.parse(line)
  if (!(r.amount > 50)) continue
  const o = { ts: r.ts, user_id: r.user_id, amount: r.amount, amount_cents: Math.round(r.amount * 100) }
  if (!out.write(JSON.stringify(o) + '\n')) await once(out, 'drain')
}
out.end()
await once(out, 'finish')
