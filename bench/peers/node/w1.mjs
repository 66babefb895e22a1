// W1 as a TypeScript/Node developer would write it by hand: readline, a small CSV splitter that
// handles quotes, a Map of running totals.
// usage: node w1.mjs IN OUT
import { createReadStream, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

function splitCsv(line) {
  if (!line.includes('"')) return line.split(',')
  const out = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') { cur += '"'; i++ } else quoted = false
      } else cur += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') { out.push(cur); cur = '' }
    else cur += ch
  }
  out.push(cur)
  return out
}

const [input, output] = process.argv.slice(2)
const rl = createInterface({ input: createReadStream(input), crlfDelay: Infinity })
let header = null
const groups = new Map()
for await (const line of rl) {
  if (!line) continue
  const f = splitCsv(line)
  if (!header) { header = Object.fromEntries(f.map((name, i) => [name, i])); continue }
  if (f[header.event] !== 'purchase') continue
  const country = f[header.country]
  let g = groups.get(country)
  if (!g) groups.set(country, (g = { count: 0, sum: 0, latency: 0 }))
  g.count++
  g.sum += Number(f[header.amount])
  g.latency += Number(f[header.latency_ms])
}
let csv = 'country,count,sum_amount,avg_latency_ms\n'
for (const [country, g] of groups) csv += `${country},${g.count},${g.sum},${g.latency / g.count}\n`
writeFileSync(output, csv)
