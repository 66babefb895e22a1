// Exponential backoff with full jitter (AWS architecture blog): spreads retries of many writers
// so a recovering downstream is not hit by a synchronized wave.

export interface BackoffPolicy {
  initialMs: number
  maxMs: number
}

/** Delay before retry number `attempt` (1-based): uniform in [0, min(max, initial·2^(attempt-1))]. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt - 1, 30))
  return Math.round(random() * ceiling)
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
