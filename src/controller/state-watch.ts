// Wakes the resources whose supervisor is on its way somewhere (PENDING, STOPPING, creating
// tasks) as soon as Druid's state list shows it arrived, instead of each resource polling on its
// own. Invariants:
// - per Druid cluster (as one login sees it), one state list at a time, and only while some
//   resource waits there; a list is compared only with waiters registered before it started;
// - a resource is woken once per listed state it has not seen (not twice for the same one while
//   the list shows it);
// - when a list fails, the resources that counted on the poller are woken to read on their own
//   (their usual backoff), and the poller retries with backoff of its own while anyone waits.
import type { DruidClient } from "../druid/client.ts";
import type { LiveSupervisor } from "../druid/decode.ts";
import { clusterKey, type DruidSnapshots } from "../druid/snapshot.ts";

export interface StateWatchOptions {
  snapshots: Pick<DruidSnapshots, "supervisorStates" | "clock">;
  /** Between two lists while anyone waits (the settle delay). */
  intervalMs: number;
  /** The longest wait between two lists after failures (the resync). */
  maxIntervalMs: number;
  /** Enqueue the resource's reconcile now. */
  wake(key: string): void;
  onPoll?: (result: "ok" | "error", woken: number) => void;
}

/** What a waiting resource last saw of its supervisor. */
export type SeenState = Pick<LiveSupervisor, "state" | "detailedState"> | undefined;

interface Waiter {
  supervisorId: string;
  seen: string;
  registeredAt: number;
  /** Registered while the poller worked: its own requeue is long, so a failed list must wake it. */
  reliesOnPoller: boolean;
}

interface ClusterPoll {
  client: DruidClient;
  waiters: Map<string, Waiter>;
  timer: NodeJS.Timeout | undefined;
  polling: boolean;
  failures: number;
}

export class SupervisorStateWatch {
  private readonly options: StateWatchOptions;
  private readonly clusters = new Map<string, ClusterPoll>();
  /** key → the cluster it waits on (a resource waits on one cluster at a time). */
  private readonly waitingOn = new Map<string, string>();
  /** key → the listed state it was last woken for. */
  private readonly wokenFor = new Map<string, string>();
  private stopped = false;

  constructor(options: StateWatchOptions) {
    this.options = options;
  }

  /**
   * The resource waits for its supervisor to leave `seen`. True when the poller will wake it (its
   * own requeue can be long); false while the cluster's list fails (it should look on its own).
   */
  watch(key: string, client: DruidClient, supervisorId: string, seen: SeenState): boolean {
    if (this.stopped) return false;
    const cluster = clusterKey(client);
    const previous = this.waitingOn.get(key);
    if (previous !== undefined && previous !== cluster) this.clusters.get(previous)?.waiters.delete(key);
    let poll = this.clusters.get(cluster);
    if (!poll) {
      poll = { client, waiters: new Map(), timer: undefined, polling: false, failures: 0 };
      this.clusters.set(cluster, poll);
    }
    poll.client = client;
    const reliesOnPoller = poll.failures === 0;
    poll.waiters.set(key, { supervisorId, seen: describe(seen), registeredAt: this.options.snapshots.clock(), reliesOnPoller });
    this.waitingOn.set(key, cluster);
    this.schedule(cluster, poll, this.options.intervalMs);
    return reliesOnPoller;
  }

  /** The resource no longer waits (its supervisor arrived, it was deleted, or it moved). */
  unwatch(key: string): void {
    const cluster = this.waitingOn.get(key);
    this.waitingOn.delete(key);
    this.wokenFor.delete(key);
    if (cluster !== undefined) this.clusters.get(cluster)?.waiters.delete(key);
  }

  /** How many resources wait, across clusters. */
  get waiting(): number {
    return this.waitingOn.size;
  }

  stop(): void {
    this.stopped = true;
    for (const poll of this.clusters.values()) clearTimeout(poll.timer);
    this.clusters.clear();
    this.waitingOn.clear();
  }

  private schedule(cluster: string, poll: ClusterPoll, delayMs: number): void {
    if (poll.timer !== undefined || poll.polling || this.stopped) return;
    poll.timer = setTimeout(() => {
      poll.timer = undefined;
      void this.poll(cluster, poll);
    }, delayMs);
    poll.timer.unref();
  }

  private async poll(cluster: string, poll: ClusterPoll): Promise<void> {
    if (poll.waiters.size === 0) {
      if (poll.failures === 0 && this.clusters.get(cluster) === poll) this.clusters.delete(cluster);
      return;
    }
    poll.polling = true;
    const startedAt = this.options.snapshots.clock();
    let woken = 0;
    try {
      const list = await this.options.snapshots.supervisorStates(poll.client, startedAt);
      poll.failures = 0;
      for (const [key, waiter] of poll.waiters) {
        if (waiter.registeredAt > list.startedAt) continue;
        const listed = describe(list.supervisors.get(waiter.supervisorId));
        const last = this.wokenFor.get(key);
        // Once the list has moved on from what it last woke the resource for, that may wake it again.
        if (last !== undefined && listed !== last) this.wokenFor.delete(key);
        if (listed === waiter.seen || listed === last) continue;
        poll.waiters.delete(key);
        this.waitingOn.delete(key);
        this.wokenFor.set(key, listed);
        woken++;
        this.options.wake(key);
      }
      this.options.onPoll?.("ok", woken);
    } catch {
      poll.failures++;
      // Those with a long requeue look on their own now; they register again as not relying.
      for (const [key, waiter] of poll.waiters) {
        if (!waiter.reliesOnPoller) continue;
        poll.waiters.delete(key);
        this.waitingOn.delete(key);
        woken++;
        this.options.wake(key);
      }
      this.options.onPoll?.("error", woken);
    } finally {
      poll.polling = false;
    }
    if (this.stopped) return;
    if (poll.waiters.size === 0) {
      // A failing cluster is remembered (its next waiters look on their own) until a list works.
      if (poll.failures === 0 && this.clusters.get(cluster) === poll) this.clusters.delete(cluster);
      return;
    }
    const elapsed = this.options.snapshots.clock() - startedAt;
    // A list slower than the interval is not asked for back to back.
    const delay = poll.failures > 0 ? Math.min(this.options.maxIntervalMs, this.options.intervalMs * 2 ** poll.failures) : Math.max(this.options.intervalMs, 2 * elapsed);
    this.schedule(cluster, poll, delay);
  }
}

function describe(seen: SeenState): string {
  return seen === undefined ? "absent" : `${seen.state ?? "?"}/${seen.detailedState ?? "?"}`;
}
