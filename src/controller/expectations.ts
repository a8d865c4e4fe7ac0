// After the controller writes a resource, its informer cache lags until the watch delivers the
// write. A reconcile starting in between would act on the version the write replaced and repeat
// what that write recorded (a reset, an update, a move step). Expectations remember, per key, the
// versions our writes replaced; while the cache still shows one of them, the reconcile waits.
// (client-go's controllers keep "expectations" for the same reason.) Bounded: after `maxWaitMs`
// without the cache catching up (a stalled watch), reconciles read the resource from the API
// server instead of the cache until the cache catches up; never the stale copy.

export class WriteExpectations {
  private readonly replaced = new Map<string, { versions: Set<string>; since: number; readThrough: boolean }>();
  private readonly maxWaitMs: number;
  private readonly now: () => number;

  constructor(maxWaitMs: number, now: () => number = performance.now.bind(performance)) {
    this.maxWaitMs = maxWaitMs;
    this.now = now;
  }

  /** Our write replaced `version` of the resource at `key`. */
  wrote(key: string, version: string): void {
    const entry = this.replaced.get(key);
    if (entry) entry.versions.add(version);
    else this.replaced.set(key, { versions: new Set([version]), since: this.now(), readThrough: false });
  }

  /**
   * "wait" while the cached version is one our own write already replaced; "readThrough" when it
   * still is after `maxWaitMs` (read the resource from the API server instead, and keep doing so
   * while the cache stays behind); "fresh" once the cache shows a version we did not replace (it
   * caught up, or moved past our write).
   */
  check(key: string, cachedVersion: string | undefined): "fresh" | "wait" | "readThrough" {
    const entry = this.replaced.get(key);
    if (!entry) return "fresh";
    if (cachedVersion === undefined || !entry.versions.has(cachedVersion)) {
      this.replaced.delete(key);
      return "fresh";
    }
    if (!entry.readThrough && this.now() - entry.since < this.maxWaitMs) return "wait";
    entry.readThrough = true;
    return "readThrough";
  }

  forget(key: string): void {
    this.replaced.delete(key);
  }

  get size(): number {
    return this.replaced.size;
  }
}
