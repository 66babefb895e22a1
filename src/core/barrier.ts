// Checkpoint barriers for pipelines with stateful transforms (docs/design/0002-state.md): a gate
// that holds sources at their next emit, and a count of ack tokens in flight, so the runtime can
// wait until every emitted batch is durable and then save positions and state together.

/** Ack tokens created and not yet settled, with a way to wait until there are none. */
export class InFlight {
  private count = 0
  private waiters: (() => void)[] = []

  add(): void {
    this.count++
  }

  done(): void {
    if (--this.count === 0) for (const w of this.waiters.splice(0)) w()
  }

  get size(): number {
    return this.count
  }

  /** Resolves once nothing is in flight. */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }
}

/** Closed during a barrier: emits wait until it opens again. */
export class Gate {
  private opened: Promise<void> | undefined
  private release: (() => void) | undefined

  get closed(): boolean {
    return this.opened !== undefined
  }

  close(): void {
    if (this.opened) return
    this.opened = new Promise((resolve) => (this.release = resolve))
  }

  open(): void {
    const release = this.release
    this.opened = undefined
    this.release = undefined
    release?.()
  }

  /** Resolves when the gate is open (at once if it is). */
  wait(): Promise<void> {
    return this.opened ?? Promise.resolve()
  }
}
