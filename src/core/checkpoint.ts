// Source positions that survive kill -9: a SQLite table in `data_dir`, written only with the
// highest *contiguous* acknowledged position of each input (a file, a partition), so a restart
// never skips a record that some sink had not yet made durable.
//
//   pushed:  p1 p2 p3 p4 p5        acked: p1 p2 _ p4 _   → committed = p2 (p4 waits for p3)
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { SluiceError, errorMessage } from './errors.js'

/** In-order positions of one input; `push` returns the ack callback for that position. */
export class PositionTracker<P> {
  private readonly positions: (P | undefined)[] = []
  private readonly acked: boolean[] = []
  private head = 0
  /** Sequence number of positions[0]; slots are absolute so compaction never moves an ack. */
  private base = 0
  private committedPosition: P | undefined

  constructor(
    initial: P | undefined,
    private readonly onAdvance: (position: P) => void,
  ) {
    this.committedPosition = initial
  }

  /** Register the next position (the input's position after the batch); ack it when delivered. */
  push(position: P): () => void {
    const slot = this.base + this.positions.length
    this.positions.push(position)
    this.acked.push(false)
    let done = false
    return () => {
      if (done) return
      done = true
      this.acked[slot - this.base] = true
      this.advance()
    }
  }

  get committed(): P | undefined {
    return this.committedPosition
  }

  /** Positions pushed but not yet committed. */
  get inFlight(): number {
    return this.positions.length - this.head
  }

  private advance(): void {
    let moved = false
    while (this.head < this.positions.length && this.acked[this.head]) {
      this.committedPosition = this.positions[this.head]
      this.positions[this.head] = undefined
      this.head++
      moved = true
    }
    if (this.head > 1024 && this.head * 2 > this.positions.length) {
      this.positions.splice(0, this.head)
      this.acked.splice(0, this.head)
      this.base += this.head
      this.head = 0
    }
    if (moved) this.onAdvance(this.committedPosition as P)
  }
}

/** One source's view of the store. */
export interface CheckpointHandle {
  /** The stored position of `key` when the run started. */
  get<P>(key: string): P | undefined
  /** All keys stored for this source. */
  keys(): string[]
  /** Ordered tracker for `key`; committed positions are persisted as they advance. */
  tracker<P>(key: string, initial?: P): PositionTracker<P>
  /** Store a position directly (e.g. a file finished before it was ever tracked). */
  set(key: string, position: unknown): void
}

export class CheckpointStore {
  private readonly db: Database.Database
  private readonly loaded = new Map<string, Map<string, unknown>>()
  private readonly dirty = new Map<string, { source: string; key: string; position: unknown }>()
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined
  private closed = false
  private readonly upsert: Database.Statement

  private readonly states = new Map<string, unknown>()
  private readonly upsertState: Database.Statement

  /**
   * `deferPositions`: positions are written only by `commitBarrier`, together with the state of
   * stateful transforms (docs/design/0002-state.md); otherwise they are written as they advance.
   */
  constructor(
    dataDir: string,
    private readonly flushIntervalMs = 0,
    private readonly deferPositions = false,
    /** A write failed (disk full, I/O error): the positions stay pending and are tried again. */
    private readonly onError: (e: SluiceError) => void = (e) => {
      throw e
    },
  ) {
    try {
      mkdirSync(dataDir, { recursive: true })
      this.db = new Database(join(dataDir, 'checkpoints.db'))
      this.db.pragma('journal_mode = WAL')
      this.db.pragma('synchronous = NORMAL')
      this.db.exec(`CREATE TABLE IF NOT EXISTS checkpoints (
        source TEXT NOT NULL, key TEXT NOT NULL, position TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (source, key))`)
      for (const row of this.db.prepare('SELECT source, key, position FROM checkpoints').all() as { source: string; key: string; position: string }[]) {
        let bySource = this.loaded.get(row.source)
        if (!bySource) this.loaded.set(row.source, (bySource = new Map()))
        bySource.set(row.key, JSON.parse(row.position))
      }
      this.upsert = this.db.prepare(`INSERT INTO checkpoints (source, key, position, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (source, key) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`)
      this.db.exec(`CREATE TABLE IF NOT EXISTS state (
        component TEXT PRIMARY KEY, snapshot TEXT NOT NULL, updated_at TEXT NOT NULL)`)
      for (const row of this.db.prepare('SELECT component, snapshot FROM state').all() as { component: string; snapshot: string }[]) {
        this.states.set(row.component, JSON.parse(row.snapshot))
      }
      this.upsertState = this.db.prepare(`INSERT INTO state (component, snapshot, updated_at) VALUES (?, ?, ?)
        ON CONFLICT (component) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at`)
    } catch (e) {
      throw new SluiceError('SLC_CHECKPOINT', `Cannot open the checkpoint store in ${dataDir}: ${errorMessage(e)}`, { cause: e })
    }
  }

  /** Forget every stored position and state of the given components (`sluice run --reset`). */
  reset(components: string[]): void {
    const del = this.db.prepare('DELETE FROM checkpoints WHERE source = ?')
    const delState = this.db.prepare('DELETE FROM state WHERE component = ?')
    for (const c of components) {
      del.run(c)
      delState.run(c)
      this.loaded.delete(c)
      this.states.delete(c)
    }
  }

  /** The snapshot of a stateful transform saved at the last barrier, if any. */
  state(component: string): unknown {
    return this.states.get(component)
  }

  /** One transaction: every advanced position and the given state snapshots (a barrier). */
  commitBarrier(snapshots: Map<string, unknown>): void {
    if (this.closed) return
    this.writePositions(snapshots)
  }

  handle(source: string): CheckpointHandle {
    const stored = this.loaded.get(source) ?? new Map<string, unknown>()
    return {
      get: <P>(key: string) => stored.get(key) as P | undefined,
      keys: () => [...stored.keys()],
      tracker: <P>(key: string, initial?: P) =>
        new PositionTracker<P>(initial ?? (stored.get(key) as P | undefined), (position) => this.mark(source, key, position)),
      set: (key, position) => this.mark(source, key, position),
    }
  }

  private mark(source: string, key: string, position: unknown): void {
    if (this.closed) return
    this.dirty.set(`${source}\u0000${key}`, { source, key, position })
    if (this.deferPositions) return
    if (!this.timer) {
      // Interval 0: coalesce every advance of this turn of the event loop into one transaction.
      this.timer = this.flushIntervalMs > 0 ? setTimeout(() => this.flushSafely(), this.flushIntervalMs).unref() : setImmediate(() => this.flushSafely())
    }
  }

  /** Write every advanced position in one transaction. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout)
      clearImmediate(this.timer as NodeJS.Immediate)
    }
    this.timer = undefined
    if (this.dirty.size === 0 || this.closed) return
    this.writePositions(new Map())
  }

  /** Positions (and snapshots) in one transaction; on failure the positions stay pending. */
  private writePositions(snapshots: Map<string, unknown>): void {
    const rows = [...this.dirty]
    this.dirty.clear()
    const now = new Date().toISOString()
    try {
      this.db.transaction(() => {
        for (const [, r] of rows) this.upsert.run(r.source, r.key, JSON.stringify(r.position), now)
        for (const [component, snapshot] of snapshots) this.upsertState.run(component, JSON.stringify(snapshot), now)
      })()
    } catch (e) {
      // Keep what was not superseded meanwhile, so the next write tries again.
      for (const [k, r] of rows) if (!this.dirty.has(k)) this.dirty.set(k, r)
      throw new SluiceError('SLC_CHECKPOINT', `cannot write checkpoints: ${errorMessage(e)}`, { cause: e })
    }
  }

  private flushSafely(): void {
    try {
      this.flush()
    } catch (e) {
      this.onError(e as SluiceError)
    }
  }

  /** Close; with deferred positions, what was not committed at a barrier is dropped on purpose. */
  close(): void {
    if (this.closed) return
    if (!this.deferPositions) this.flushSafely()
    this.closed = true
    this.db.close()
  }
}
