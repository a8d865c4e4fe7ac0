// Wakes the resources whose supervisor is on its way somewhere (PENDING, STOPPING, creating
// tasks, suspending or resuming) as soon as Druid's state list shows it arrived, instead of each
// resource reading its supervisor on its own. Invariants:
// - per Druid cluster (as one login sees it), one state list at a time, and only while some
//   resource waits there; a list is compared only with waiters registered before it started;
// - lists come less often as the wait grows (a tenth of the shortest wait, between the settle
//   delay and the resync), and only for enough waiters to cost less than their own reads;
// - a resource is woken once per listed state it has not seen; one whose own reading disagrees
//   with the list is told to look on its own (`watch` returns false), as while lists fail;
// - a failed list wakes nobody (a struggling Druid gets no herd): the poller retries with
//   backoff, the resync is the waiters' safety net, and new waiters look on their own meanwhile.
import type { DruidClient } from "../druid/client.ts";
import type { LiveSupervisor } from "../druid/decode.ts";
import { clusterKey, type DruidSnapshots } from "../druid/snapshot.ts";

/** A state list entry is ~100 bytes; one supervisor read on its own (spec + status) ~4 KB. */
export const LIST_ENTRIES_PER_ITEM_READ = 40;

export interface Timers {
  set(callback: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

/** setTimeout, unref'd: a pending timer never keeps the process alive. */
export const REAL_TIMERS: Timers = {
  set: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface StateWatchOptions {
  snapshots: Pick<DruidSnapshots, "supervisorStates" | "clock">;
  /** The shortest time between two lists (the settle delay). */
  intervalMs: number;
  /** The longest (the resync): past it, waiting resources look on their own anyway. */
  maxIntervalMs: number;
  /** Enqueue the resource's reconcile now. */
  wake(key: string): void;
  onPoll?: (result: "ok" | "error", woken: number, waiting: number) => void;
  onWake?: (key: string, seen: string, listed: string) => void;
  timers?: Timers;
}

/** What a waiting resource last saw of its supervisor. */
export type SeenState = Pick<LiveSupervisor, "state" | "detailedState" | "healthy"> | undefined;

interface Waiter {
  supervisorId: string;
  seen: string;
  registeredAt: number;
  /** When this wait began (kept while the resource registers again with the same wait). */
  waitingSince: number;
  /** Told to count on the poller (its own requeue is the resync). */
  reliesOnPoller: boolean;
}

interface ClusterPoll {
  /** Undefined once nobody waits (kept only to remember failures, without the password). */
  client: DruidClient | undefined;
  waiters: Map<string, Waiter>;
  timer: unknown;
  /** When the pending timer fires (a new waiter may bring it forward). */
  timerDue: number;
  polling: boolean;
  failures: number;
  failedAt: number;
  /** When the last list compared started (a newer shared list is reused, not asked again). */
  lastStartedAt: number;
  lastElapsedMs: number;
  /** How many supervisors the last list showed. */
  listed: number | undefined;
}

export class SupervisorStateWatch {
  private readonly options: StateWatchOptions;
  private readonly timers: Timers;
  private readonly clusters = new Map<string, ClusterPoll>();
  /** key → the cluster it waits on (a resource waits on one cluster at a time). */
  private readonly waitingOn = new Map<string, string>();
  /** key → the listed state it was last woken for. */
  private readonly wokenFor = new Map<string, string>();
  /** cluster → how many supervisors its last list showed, kept after its waiters are gone. */
  private readonly sizes = new Map<string, { listed: number; at: number }>();
  private stopped = false;

  constructor(options: StateWatchOptions) {
    this.options = options;
    this.timers = options.timers ?? REAL_TIMERS;
  }

  /**
   * The resource waits for its supervisor to leave `seen`. True when the poller will wake it (its
   * own requeue can be long); false when it should look on its own (lists fail or are slow, too
   * few wait on a big cluster for a list to pay, or its reading disagrees with the last list).
   */
  watch(key: string, client: DruidClient, supervisorId: string, seen: SeenState): boolean {
    if (this.stopped) return false;
    const cluster = clusterKey(client);
    const previousCluster = this.waitingOn.get(key);
    if (previousCluster !== undefined && previousCluster !== cluster) this.leave(key, previousCluster);
    const now = this.options.snapshots.clock();
    let poll = this.clusters.get(cluster);
    if (!poll) {
      this.forgetIdleClusters(now);
      // A list older than the first waiter tells nothing about it: the first poll asks for a newer one.
      poll = { client, waiters: new Map(), timer: undefined, timerDue: 0, polling: false, failures: 0, failedAt: 0, lastStartedAt: now, lastElapsedMs: 0, listed: this.sizes.get(cluster)?.listed };
      this.clusters.set(cluster, poll);
    }
    poll.client = client;
    const previous = poll.waiters.get(key);
    const seenText = describe(seen);
    const last = this.wokenFor.get(key);
    const slow = 2 * poll.lastElapsedMs > this.options.maxIntervalMs / 2;
    // Registered either way: a burst of waiters makes the list pay only once enough have come.
    // Seen the same again (its resync): lists in flight since its first registration still count.
    const registeredAt = previous && previous.seen === seenText ? previous.registeredAt : now;
    poll.waiters.set(key, { supervisorId, seen: seenText, registeredAt, waitingSince: previous?.waitingSince ?? now, reliesOnPoller: false });
    const reliesOnPoller = poll.failures === 0 && !slow && (last === undefined || last === seenText) && listPays(poll);
    (poll.waiters.get(key) as Waiter).reliesOnPoller = reliesOnPoller;
    this.waitingOn.set(key, cluster);
    // A timer set for long waiters must not hold up a new one.
    if (poll.timer !== undefined && poll.timerDue > now + this.nextDelay(poll)) {
      this.timers.clear(poll.timer);
      poll.timer = undefined;
    }
    this.schedule(cluster, poll);
    return reliesOnPoller;
  }

  /**
   * The resource waits on the poller of this client's cluster and may count on it: its reading may
   * be as old as a poll (the shared list, which the poller keeps fresh while its lists work).
   */
  reliesOnPoller(key: string, client: DruidClient): boolean {
    const cluster = this.waitingOn.get(key);
    if (cluster === undefined || cluster !== clusterKey(client)) return false;
    const poll = this.clusters.get(cluster);
    return poll !== undefined && poll.failures === 0 && poll.waiters.get(key)?.reliesOnPoller === true;
  }

  /** The resource waits on the poller (relying on it or not): its supervisor is on its way somewhere. */
  watching(key: string): boolean {
    return this.waitingOn.has(key);
  }

  /** The resource no longer waits (its supervisor arrived, it was deleted, or it moved). */
  unwatch(key: string): void {
    const cluster = this.waitingOn.get(key);
    this.wokenFor.delete(key);
    if (cluster !== undefined) this.leave(key, cluster);
  }

  /** How many resources wait, across clusters. */
  get waiting(): number {
    return this.waitingOn.size;
  }

  /** How many clusters are polled or about to be. */
  get clusterCount(): number {
    return this.clusters.size;
  }

  stop(): void {
    this.stopped = true;
    for (const poll of this.clusters.values()) if (poll.timer !== undefined) this.timers.clear(poll.timer);
    this.clusters.clear();
    this.waitingOn.clear();
    this.wokenFor.clear();
  }

  private leave(key: string, cluster: string): void {
    this.waitingOn.delete(key);
    const poll = this.clusters.get(cluster);
    if (!poll) return;
    poll.waiters.delete(key);
    this.dropIfIdle(cluster, poll);
  }

  /**
   * A cluster nobody waits on is forgotten (its client holds a password); one whose lists fail is
   * remembered without its client for a while, so its next waiters look on their own at once.
   */
  private dropIfIdle(cluster: string, poll: ClusterPoll): void {
    if (poll.waiters.size > 0 || poll.polling) return;
    if (poll.timer !== undefined) this.timers.clear(poll.timer);
    poll.timer = undefined;
    poll.client = undefined;
    if (poll.failures === 0 && this.clusters.get(cluster) === poll) this.clusters.delete(cluster);
  }

  private forgetIdleClusters(now: number): void {
    for (const [cluster, poll] of this.clusters) {
      if (poll.waiters.size === 0 && !poll.polling && now - poll.failedAt > this.options.maxIntervalMs) this.clusters.delete(cluster);
    }
    // Sizes are numbers, but keyed by login: they go when no list has refreshed them for long.
    for (const [cluster, size] of this.sizes) if (now - size.at > 10 * this.options.maxIntervalMs) this.sizes.delete(cluster);
  }

  private schedule(cluster: string, poll: ClusterPoll): void {
    if (poll.timer !== undefined || poll.polling || this.stopped || poll.waiters.size === 0) return;
    const delay = this.nextDelay(poll);
    poll.timerDue = this.options.snapshots.clock() + delay;
    poll.timer = this.timers.set(() => {
      poll.timer = undefined;
      void this.poll(cluster, poll);
    }, delay);
  }

  private nextDelay(poll: ClusterPoll): number {
    const { intervalMs, maxIntervalMs } = this.options;
    if (poll.failures > 0) return Math.min(maxIntervalMs, intervalMs * 2 ** poll.failures);
    const now = this.options.snapshots.clock();
    let shortestWait = Infinity;
    for (const waiter of poll.waiters.values()) shortestWait = Math.min(shortestWait, now - waiter.waitingSince);
    // A list slower than the interval is not asked for back to back.
    return Math.min(maxIntervalMs, Math.max(intervalMs, shortestWait / 10, 2 * poll.lastElapsedMs));
  }

  private async poll(cluster: string, poll: ClusterPoll): Promise<void> {
    if (this.stopped || poll.waiters.size === 0 || poll.client === undefined) return this.dropIfIdle(cluster, poll);
    if (!listPays(poll) && ![...poll.waiters.values()].some((w) => w.reliesOnPoller)) {
      // Too few wait for a whole-cluster list, and they look on their own: not this time.
      return this.schedule(cluster, poll);
    }
    poll.polling = true;
    const startedAt = this.options.snapshots.clock();
    const toWake: Array<{ key: string; seen: string; listed: string }> = [];
    let ok = false;
    try {
      // A list another reader started since the last one compared is as good as a new one.
      const list = await this.options.snapshots.supervisorStates(poll.client, poll.lastStartedAt + 1);
      ok = true;
      poll.failures = 0;
      poll.lastStartedAt = list.startedAt;
      poll.listed = list.supervisors.size;
      this.sizes.set(cluster, { listed: list.supervisors.size, at: startedAt });
      for (const [key, waiter] of poll.waiters) {
        if (waiter.registeredAt > list.startedAt) continue;
        const listed = describe(list.supervisors.get(waiter.supervisorId));
        const last = this.wokenFor.get(key);
        // Once the list has moved on from what it last woke the resource for, that may wake it again.
        if (last !== undefined && listed !== last) this.wokenFor.delete(key);
        if (listed === waiter.seen || listed === last) continue;
        this.wokenFor.set(key, listed);
        toWake.push({ key, seen: waiter.seen, listed });
      }
    } catch {
      // Nobody is woken: a herd of single reads would hit a Druid that is failing lists already.
      // Waiters keep their resync; those registering from now on look on their own.
      poll.failures++;
      poll.failedAt = this.options.snapshots.clock();
    } finally {
      poll.polling = false;
      poll.lastElapsedMs = this.options.snapshots.clock() - startedAt;
    }
    for (const { key } of toWake) {
      poll.waiters.delete(key);
      this.waitingOn.delete(key);
    }
    if (!this.stopped) {
      for (const woken of toWake) {
        guarded(() => this.options.onWake?.(woken.key, woken.seen, woken.listed));
        guarded(() => this.options.wake(woken.key));
      }
      guarded(() => this.options.onPoll?.(ok ? "ok" : "error", toWake.length, this.waitingOn.size));
    }
    if (poll.waiters.size === 0) return this.dropIfIdle(cluster, poll);
    this.schedule(cluster, poll);
  }
}

/** A list of the whole cluster costs less than the waiters' own reads (always, before the first list). */
function listPays(poll: ClusterPoll): boolean {
  return poll.listed === undefined || poll.waiters.size * LIST_ENTRIES_PER_ITEM_READ >= poll.listed;
}

/** A callback's failure must not stop the poller nor escape as an unhandled rejection. */
function guarded(callback: () => void): void {
  try {
    callback();
  } catch {
    // the callbacks are the queue and metrics: nothing to do about their failure here
  }
}

function describe(seen: SeenState): string {
  return seen === undefined ? "absent" : `${seen.state ?? "?"}/${seen.detailedState ?? "?"}${seen.healthy === false ? "/unhealthy" : ""}`;
}
