// Acknowledgement tokens: one rides on every batch from its source to every sink it reaches.
//
//   source batch ──token(pending=1)──► fan-out to 3 branches: retain(2) → pending=3
//        branch A: sink writes durably → settle()            pending=2
//        branch B: all filtered        → settle()            pending=1
//        branch C: dead-lettered, DLQ written → settle()     pending=0 → onSettle('delivered')
//
// A token settles exactly once, when its pending count reaches zero. The worst status wins
// (delivered < failed): a failed token means some record reached neither a sink nor the
// dead-letter output, so the source must not commit past it.

export type AckStatus = 'delivered' | 'failed'

export class AckToken {
  private pending = 1
  private status: AckStatus = 'delivered'
  private readonly onSettle: (status: AckStatus) => void

  constructor(onSettle: (status: AckStatus) => void) {
    this.onSettle = onSettle
  }

  /** Another holder (a fan-out branch, a dead-letter batch) must settle before the token does. */
  retain(count = 1): void {
    if (this.pending <= 0) throw new Error('AckToken.retain after the token settled')
    this.pending += count
  }

  /** One holder is done with the batch. */
  settle(status: AckStatus = 'delivered'): void {
    if (this.pending <= 0) throw new Error('AckToken.settle called more times than retained')
    if (status === 'failed') this.status = 'failed'
    if (--this.pending === 0) this.onSettle(this.status)
  }

  get settled(): boolean {
    return this.pending === 0
  }
}

/** A token for batches nobody waits on (tests, dead letters of dead letters). */
export function noopAck(): AckToken {
  return new AckToken(() => {})
}
