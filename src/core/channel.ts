// Bounded channel between an async producer and one consumer (a sink's loop), measured in
// records and bytes. A full channel makes the producer wait: that is how backpressure travels
// from a slow sink back to the source that stops reading.
//
//   producers ──send()──► [ b0 b1 b2 … ]  ──recv()──► consumer
//                          ▲ head          ▲ items.length
//   invariant: records <= maxRecords && bytes <= maxBytes, except that one batch is always
//   admitted into an empty channel (a batch larger than the bound must still make progress).

export interface Sized {
  records: { length: number }
  bytes: number
}

export interface ChannelLimits {
  maxRecords: number
  maxBytes: number
}

export interface ChannelStats {
  /** Batches waiting. */
  depth: number
  records: number
  bytes: number
  /** Total ms producers spent waiting for room. */
  blockedMs: number
}

export class ChannelClosedError extends Error {
  constructor() {
    super('send on a closed channel')
  }
}

export class Channel<T extends Sized> {
  private items: (T | undefined)[] = []
  private head = 0
  private records = 0
  private bytes = 0
  private blockedMs = 0
  private closed = false
  private producers = 0
  /** Producers waiting for room, in arrival order (fairness between fan-in producers). */
  private readonly waitingSenders: { item: T; resolve: () => void; reject: (e: Error) => void; since: number }[] = []
  private waitingReceiver: ((item: T | undefined) => void) | undefined

  constructor(readonly limits: ChannelLimits) {}

  /** Declare one more producer; the channel closes once every producer called `producerDone()`. */
  addProducer(): void {
    this.producers++
  }

  producerDone(): void {
    if (--this.producers <= 0) this.close()
  }

  /**
   * Enqueue a batch. Returns undefined when it was admitted at once (the fast path allocates no
   * promise), or a promise that resolves once it was admitted.
   */
  send(item: T): Promise<void> | undefined {
    if (this.closed) throw new ChannelClosedError()
    if (this.waitingSenders.length === 0 && this.hasRoomFor(item)) {
      this.admit(item)
      return undefined
    }
    return new Promise<void>((resolve, reject) => {
      this.waitingSenders.push({ item, resolve, reject, since: performance.now() })
    })
  }

  /** Non-blocking send: returns false (and keeps nothing) when the channel is full. */
  trySend(item: T): boolean {
    if (this.closed) throw new ChannelClosedError()
    if (this.waitingSenders.length > 0 || !this.hasRoomFor(item)) return false
    this.admit(item)
    return true
  }

  /** Next batch, or undefined once the channel is closed and drained. */
  recv(): Promise<T | undefined> | T | undefined {
    const item = this.shift()
    if (item !== undefined) return item
    if (this.closed) return undefined
    return new Promise<T | undefined>((resolve) => {
      this.waitingReceiver = resolve
    })
  }

  /** Next batch if one is queued right now. */
  tryRecv(): T | undefined {
    return this.shift()
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const w of this.waitingSenders.splice(0)) w.reject(new ChannelClosedError())
    const receiver = this.waitingReceiver
    if (receiver && this.items.length - this.head === 0) {
      this.waitingReceiver = undefined
      receiver(undefined)
    }
  }

  get isClosed(): boolean {
    return this.closed
  }

  stats(): ChannelStats {
    return { depth: this.items.length - this.head, records: this.records, bytes: this.bytes, blockedMs: this.blockedMs }
  }

  private hasRoomFor(item: T): boolean {
    if (this.items.length - this.head === 0) return true
    return this.records + item.records.length <= this.limits.maxRecords && this.bytes + item.bytes <= this.limits.maxBytes
  }

  private admit(item: T): void {
    const receiver = this.waitingReceiver
    if (receiver) {
      // Hand over directly; the batch is never counted as queued.
      this.waitingReceiver = undefined
      receiver(item)
      return
    }
    this.items.push(item)
    this.records += item.records.length
    this.bytes += item.bytes
  }

  private shift(): T | undefined {
    if (this.head === this.items.length) return undefined
    const item = this.items[this.head]!
    this.items[this.head++] = undefined
    // Compact only when the dead prefix dominates, so shift stays O(1) amortised (no Array.shift).
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    this.records -= item.records.length
    this.bytes -= item.bytes
    this.admitWaiting()
    return item
  }

  private admitWaiting(): void {
    while (this.waitingSenders.length > 0) {
      const next = this.waitingSenders[0]!
      if (!this.hasRoomFor(next.item)) return
      this.waitingSenders.shift()
      this.blockedMs += performance.now() - next.since
      this.items.push(next.item)
      this.records += next.item.records.length
      this.bytes += next.item.bytes
      next.resolve()
    }
  }
}
