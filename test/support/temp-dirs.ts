// Fresh temporary folders for a test file, all removed when the file's tests end.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'

/** A function that makes a new empty folder under one root (`<prefix>…/t1`, `t2`, …) per call. */
export function tempDirs(prefix: string): () => string {
  const root = mkdtempSync(join(tmpdir(), prefix))
  after(() => rmSync(root, { recursive: true, force: true }))
  let n = 0
  return () => {
    const d = join(root, `t${++n}`)
    mkdirSync(d)
    return d
  }
}
