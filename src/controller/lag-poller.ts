// Reads the lag of the running supervisors this controller stands for, once per lag period, and
// keeps the last reading of each for the gauges. Invariants:
// - only what a reconcile registered is read (a running supervisor it owns, adopts or observes),
//   with the client that reconcile used; a reconcile that finds it no longer running unregisters it;
// - one round at a time, at most `concurrency` reads in flight: Druid sees a steady trickle, never
//   a burst of one read per resource; a round longer than the period delays the next one;
// - a reading worth a status write (lag.ts) wakes the resource's reconcile, which writes it;
// - a failed read drops that supervisor's reading (no gauge shows a stale lag) and wakes nobody.
import type { SupervisorLag } from "../api/druid-ingestion.ts";
import type { DruidClient } from "../druid/client.ts";
import { lagOf, nextStatusLag, type LagReading } from "./lag.ts";
import { REAL_TIMERS, type Timers } from "./state-watch.ts";

export interface LagTarget {
  /** The same object for the same Druid and login (the manager keeps one client per pair). */
  client: Pick<DruidClient, "supervisorHealth">;
  supervisorId: string;
}

export interface LagSample extends LagReading {
  namespace: string;
  name: string;
  supervisor: string;
}

export interface LagPollerOptions {
  /** The lag period: how often each registered supervisor is read. */
  periodMs: number;
  /** Reads in flight at once, over all Druid clusters. */
  concurrency: number;
  /** The resource's status.lag as the cache has it (undefined for a resource that is gone). */
  statusLag(key: string): { lag: SupervisorLag | undefined } | undefined;
  /** Enqueue the resource's reconcile (its status.lag is worth a write). */
  wake(key: string): void;
  onRead?: (result: "ok" | "error" | "none") => void;
  now?: () => Date;
  timers?: Timers;
}

/** The first round after start, at the latest (what the first reconciles registered by then). */
export const FIRST_ROUND_MS = 10_000;

export class SupervisorLagPoller {
  private readonly options: LagPollerOptions;
  private readonly timers: Timers;
  private readonly targets = new Map<string, LagTarget>();
  /** null: Druid's report had no lag (no task has reported offsets). */
  private readonly readings = new Map<string, { supervisorId: string; reading: LagReading | null }>();
  private timer: unknown;
  private running = false;
  private stopped = true;

  constructor(options: LagPollerOptions) {
    this.options = options;
    this.timers = options.timers ?? REAL_TIMERS;
  }

  start(): void {
    if (!this.stopped || this.options.periodMs <= 0) return;
    this.stopped = false;
    // Soon after start (a new leader): gauges should not stay empty for a whole period.
    this.schedule(Math.min(this.options.periodMs, FIRST_ROUND_MS));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.readings.clear();
  }

  /**
   * A reconcile saw the supervisor running: read its lag from now on. The same supervisor through
   * the same client keeps its registration (a read in flight still counts); another id or client
   * replaces it, and another id drops the reading.
   */
  track(key: string, target: LagTarget): void {
    if (this.options.periodMs <= 0) return;
    const known = this.targets.get(key);
    if (known?.supervisorId === target.supervisorId && known.client === target.client) return;
    if (known?.supervisorId !== target.supervisorId) this.readings.delete(key);
    this.targets.set(key, target);
  }

  untrack(key: string): void {
    this.targets.delete(key);
    this.readings.delete(key);
  }

  /** The last reading of the resource's supervisor (null: Druid reports no lag; undefined: not read yet, or the read failed). */
  reading(key: string): LagReading | null | undefined {
    return this.targets.has(key) ? this.readings.get(key)?.reading : undefined;
  }

  *samples(): Iterable<LagSample> {
    for (const [key, { supervisorId, reading }] of this.readings) {
      if (reading === null) continue;
      const slash = key.indexOf("/");
      yield { namespace: key.slice(0, slash), name: key.slice(slash + 1), supervisor: supervisorId, ...reading };
    }
  }

  get tracked(): number {
    return this.targets.size;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.timers.set(() => {
      this.timer = undefined;
      void this.round();
    }, delayMs);
  }

  /** One pass over what is registered now; the next starts a period after this one started. */
  async round(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const started = Date.now();
    try {
      // One read per supervisor and client, however many resources name it (Observe ones, say).
      const bySupervisor = new Map<LagTarget["client"], Map<string, Array<[string, LagTarget]>>>();
      for (const [key, target] of this.targets) {
        const ids = bySupervisor.get(target.client) ?? new Map<string, Array<[string, LagTarget]>>();
        bySupervisor.set(target.client, ids);
        ids.set(target.supervisorId, [...(ids.get(target.supervisorId) ?? []), [key, target]]);
      }
      const queue = [...bySupervisor.values()].flatMap((ids) => [...ids.values()]);
      const worker = async (): Promise<void> => {
        for (let next = queue.shift(); next && !this.stopped; next = queue.shift()) await this.readOne(next);
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(this.options.concurrency, queue.length)) }, worker));
    } finally {
      this.running = false;
      this.schedule(Math.max(0, this.options.periodMs - (Date.now() - started)));
    }
  }

  /** One supervisor through one client, for every resource registered for it. */
  private async readOne(registered: ReadonlyArray<[string, LagTarget]>): Promise<void> {
    const [, first] = registered[0] as [string, LagTarget];
    let reading: LagReading | null;
    try {
      // No Secret values to clean: only numbers are kept from the report. One attempt: a
      // struggling Druid is asked again next period, not three times now.
      const health = await first.client.supervisorHealth(first.supervisorId, [], { retries: 0 });
      reading = (health && lagOf(health)) ?? null;
    } catch {
      for (const [key, target] of registered) if (this.targets.get(key) === target) this.readings.delete(key);
      this.options.onRead?.("error");
      return;
    }
    if (this.stopped) return;
    this.options.onRead?.(reading ? "ok" : "none");
    const now = this.options.now?.() ?? new Date();
    for (const [key, target] of registered) {
      // Unregistered or replaced meanwhile: this reading is about something no longer asked.
      if (this.targets.get(key) !== target) continue;
      this.readings.set(key, { supervisorId: target.supervisorId, reading });
      const cached = this.options.statusLag(key);
      if (cached && nextStatusLag(cached.lag, reading, now, this.options.periodMs) !== cached.lag) this.options.wake(key);
    }
  }
}
