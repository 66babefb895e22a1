// What a chunk worker sends in place of records when it pre-aggregates for the aggregate after
// its steps (transforms/aggregate: `preaggregable`, `takePartial`).

/** A chunk's aggregate entries as a worker sends them (structured-clone safe). */
export interface AggregatePartial {
  /** Records the worker's aggregate took (rejected ones included, as a transform counts them). */
  received: number
  /** Entries in order of first appearance, encoded as the aggregate's snapshots encode them. */
  groups: unknown[]
}

/**
 * A partial travelling downstream as the only record of its batch, as EncodedLine views travel
 * to JSON-lines sinks: only the aggregate it was planned for receives it.
 */
export class PartialRecord {
  constructor(readonly partial: AggregatePartial) {}
}

/** Records a batch stands for: a partial's count, else its length. */
export function recordsIn(records: readonly unknown[]): number {
  const first = records.length === 1 ? records[0] : undefined
  return first instanceof PartialRecord ? first.partial.received : records.length
}
