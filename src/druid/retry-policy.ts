// How one Druid call is retried, and so the longest it can take: the shutdown deadline and the
// pod's termination grace period are checked against this at start.

/** First retry delay (doubling, randomized). */
export const RETRY_MIN_DELAY_MS = 250;
/** Cap of one retry delay. */
export const RETRY_MAX_DELAY_MS = 4_000;

/** The longest one Druid call can take with its retries: every attempt times out, every delay is the longest. */
export function druidCallBudgetMs(requestTimeoutMs: number, retries: number): number {
  return (retries + 1) * requestTimeoutMs + retries * RETRY_MAX_DELAY_MS;
}
