// The quickstart's orders table, one row at a time: shared by scripts/gen-sample-data.ts (the
// committed 30k-row sample) and bench/lib/gen-orders.ts (F1's input at benchmark size), so the
// benchmark runs the quickstart pipeline on the same kind of data.

export const ORDERS_HEADER = 'order_id,ts,customer_id,country,status,amount,items,user_agent'
export const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN', 'CA', 'AU', 'ES', 'IT', 'NL']
const STATUSES = ['paid', 'paid', 'paid', 'pending', 'refunded', 'cancelled']
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64)', 'curl/8.5.0', 'Sluice-Test, v1', 'Mozilla/5.0 (Macintosh; "Intel")']

/** A seeded xorshift32 in [0, 1). */
export function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return state / 0x1_0000_0000
  }
}

const csvField = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)

/** Order `id` (from 1), placed ~2 s after the previous one from `start` (ms): its CSV line, time, status and amount in cents. */
export function orderRow(id: number, random: () => number, start: number): { line: string; ts: string; status: string; cents: number } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!
  const ts = new Date(start + id * 2_000 + Math.floor(random() * 1_500)).toISOString()
  const cents = Math.round(random() * 50_000)
  const customer = 1 + Math.floor(random() * 5_000)
  const country = pick(COUNTRIES)
  const status = pick(STATUSES)
  const items = 1 + Math.floor(random() * 5)
  const line = [id, ts, customer, country, status, (cents / 100).toFixed(2), items, csvField(pick(AGENTS))].join(',')
  return { line, ts, status, cents }
}
