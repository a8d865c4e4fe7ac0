// Polling for eventually-true facts. A timeout reports the last value seen, so a failing
// e2e test says what the system looked like instead of just "timed out".
import { setTimeout as sleep } from "node:timers/promises";

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false | null>, timeoutMs = 90_000, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false && value !== null) return value;
      last = value;
    } catch (error) {
      last = error instanceof Error ? `${error.name}: ${error.message}` : error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 2000)}`);
    await sleep(intervalMs);
  }
}
