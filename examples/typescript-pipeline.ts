// The orders branch of examples/quickstart.yaml, built with the TypeScript API: bundled orders (CSV)
// → paid orders only → a typed function computing each row → SQLite (out/typescript-pipeline.db).
// Run it with `npx tsx examples/typescript-pipeline.ts`, then:
//   sqlite3 out/typescript-pipeline.db "SELECT country, count(*), sum(amount_cents) FROM paid_orders GROUP BY country"
import { pipeline } from '../src/index.js'

// Relative paths resolve against this file's folder, as they do against a YAML config's folder.
const here = import.meta.dirname

const orders = pipeline({ base_dir: here, data_dir: '../.sluice/typescript-pipeline' })
  .source('orders', {
    type: 'file',
    path: 'data/orders.csv',
    format: 'csv',
    // The declared column types give the records their TypeScript type: amount is a number, …
    csv: {
      columns: {
        order_id: 'int',
        ts: 'timestamp',
        customer_id: 'int',
        country: 'string',
        status: 'string',
        amount: 'float',
        items: 'int',
        user_agent: 'string',
      },
    },
  })
  .transform('paid_orders', { type: 'filter', inputs: ['orders'], condition: 'status == "paid" && amount > 0' })
  .transform('order_rows', {
    type: 'function',
    inputs: ['paid_orders'],
    // `order` is typed from the CSV columns; the returned object is the type of the rows that flow on.
    fn: (order) => ({
      order_id: order.order_id,
      ts: order.ts,
      customer_id: order.customer_id,
      country: order.country,
      items: order.items,
      amount_cents: Math.round(order.amount * 100),
      avg_item_cents: Math.round((order.amount * 100) / Math.max(order.items, 1)),
      large: order.amount >= 250,
      day: order.ts.slice(0, 10),
    }),
  })
  .sink('orders_db', {
    type: 'sqlite',
    inputs: ['order_rows'],
    path: '../out/typescript-pipeline.db',
    table: 'paid_orders',
    upsert_key: ['order_id'],
  })

// `reset`: read the sample file again on every run (the source otherwise resumes at its checkpoint).
const result = await orders.run({ reset: true })
const { read, written, deadLettered } = result.stats.totals()
console.log(
  `${result.status}: read ${read} orders, wrote ${written} paid orders to out/typescript-pipeline.db (table paid_orders), ` +
    `${deadLettered} dead-lettered, in ${Math.round(result.durationMs)} ms`,
)
if (result.status !== 'completed') {
  if (result.error) console.error(result.error.message)
  process.exitCode = 1
}
