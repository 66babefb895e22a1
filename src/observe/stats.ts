// Per-component counters of a run, counted per batch (never per record), read by the progress
// bar and the end-of-run summary.

export interface ComponentStats {
  id: string
  kind: 'source' | 'transform' | 'sink' | 'dead_letter'
  type: string
  /** Records that entered the component (for sources: records read). */
  received: number
  /** Records that left it (for sinks: records durably written). */
  sent: number
  /** Records this component sent to the dead-letter output. */
  deadLettered: number
  /** Bytes read (sources) or accepted (sinks, approximate). */
  bytes: number
  /** Write failures retried (sinks). */
  retries: number
  /** Stateful transforms: entries and approximate bytes held at the end of the run. */
  state?: { keys: number; bytes: number }
}

export class RunStats {
  readonly components = new Map<string, ComponentStats>()
  readonly startedAt = performance.now()
  /** Bounded inputs: bytes read and total bytes known so far, for progress and ETA. */
  bytesRead = 0
  bytesTotal = 0
  /** True once every source knows its total (all inputs bounded). */
  bounded = true

  register(id: string, kind: ComponentStats['kind'], type: string): ComponentStats {
    const s: ComponentStats = { id, kind, type, received: 0, sent: 0, deadLettered: 0, bytes: 0, retries: 0 }
    this.components.set(id, s)
    return s
  }

  get(id: string): ComponentStats {
    return this.components.get(id)!
  }

  totals(): { read: number; written: number; deadLettered: number } {
    let read = 0
    let written = 0
    let deadLettered = 0
    for (const s of this.components.values()) {
      if (s.kind === 'source') read += s.received
      if (s.kind === 'sink') written += s.sent
      if (s.kind !== 'dead_letter') deadLettered += s.deadLettered
    }
    return { read, written, deadLettered }
  }
}
