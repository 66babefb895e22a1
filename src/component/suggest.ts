// Near-miss suggestions ("did you mean …?") for option names, component types and input names.

/**
 * Edit distance where an adjacent transposition counts as one edit (optimal string alignment), so
 * the most common typo (`cuont` for `count`) is one edit away. Small strings only.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0
  let before = new Array<number>(b.length + 1).fill(0)
  let prev = new Array<number>(b.length + 1)
  let cur = new Array<number>(b.length + 1)
  for (let j = 0; j <= b.length; j++) prev[j] = j
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1)
      cur[j] = d
    }
    ;[before, prev, cur] = [prev, cur, before]
  }
  return prev[b.length]!
}

/** The closest candidate within a distance that scales with the word's length, if any. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase()
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase())
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3))
  return bestDistance <= limit ? best : undefined
}
