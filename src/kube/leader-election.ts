// Leader election on a coordination.k8s.io Lease, with client-go's LeaseLock semantics:
// a candidate takes the Lease only when its holder has not renewed it for leaseDuration as
// measured on the candidate's own clock (from when it last saw the record change, so clock
// skew between replicas does not matter); the leader renews every retryPeriod and steps down
// when it could not renew within renewDeadline. Writes carry the resourceVersion read, so two
// candidates can never both win.
//
// Fencing: every Lease call is bounded by the time left to the renew deadline (an API server that
// black-holes the connection cannot hold a round open), and a timer of its own steps down at the
// deadline whatever the API server does. `holdsLease()` is what the Druid write fence asks.
import { ApiException, CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from "@kubernetes/client-node";
import type { Logger } from "winston";
import { withSignal } from "./api.ts";

export interface LeaderElectionOptions {
  name: string;
  namespace: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  logger: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  /** Wall clock, for the times written into the Lease. */
  now?: () => number;
  /** Monotonic clock (default performance.now), for every duration: deadlines, expiry. */
  monotonicNow?: () => number;
}

type LeaseApi = Pick<CoordinationV1Api, "readNamespacedLease" | "createNamespacedLease" | "replaceNamespacedLease">;

export class LeaderElector {
  private readonly api: LeaseApi;
  private readonly options: LeaderElectionOptions;
  private leading = false;
  private stopped = false;
  private ticking: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The last Lease record seen, and when (local clock) it last changed. */
  private observed: { holder: string; renewTime: string; resourceVersion: string; at: number } | undefined;
  /** When the last successful round started (conservative: the renewal is at least this old). */
  private lastRenewAt = 0;
  private current: V1Lease | undefined;
  /** Steps down at the renew deadline unless a renewal re-arms it first. */
  private deadlineTimer: NodeJS.Timeout | undefined;

  constructor(kc: KubeConfig | LeaseApi, options: LeaderElectionOptions) {
    this.api = "makeApiClient" in kc ? kc.makeApiClient(CoordinationV1Api) : kc;
    this.options = options;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Leading, and the last renewal is within the renew deadline (no standby can have taken over). */
  holdsLease(): boolean {
    return this.leading && this.mono() - this.lastRenewAt < this.options.renewDeadlineMs;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private mono(): number {
    return (this.options.monotonicNow ?? performance.now.bind(performance))();
  }

  start(): void {
    this.stopped = false;
    this.runTick();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.runTick(), this.options.retryPeriodMs);
  }

  /** The round in flight is kept, so a release never races a renew of our own (a 409). */
  private runTick(): void {
    const round = this.tick();
    this.ticking = round;
    void round.finally(() => {
      if (this.ticking === round) this.ticking = undefined;
    });
  }

  private async tick(): Promise<void> {
    const roundStart = this.mono();
    // A renewal must land before the deadline; a standby round is bounded by the same span.
    const budget = this.leading ? this.lastRenewAt + this.options.renewDeadlineMs - roundStart : this.options.renewDeadlineMs;
    let acquired = false;
    if (budget >= 1) {
      try {
        acquired = await this.tryAcquireOrRenew(AbortSignal.timeout(Math.max(1, Math.floor(budget))));
      } catch (error) {
        this.options.logger.warn("lease update failed", { lease: this.leaseRef(), error: describe(error) });
      }
    }
    if (this.stopped) return;
    if (acquired) {
      this.lastRenewAt = roundStart;
      this.armDeadline();
      if (!this.leading) {
        this.leading = true;
        this.options.logger.info("became leader", { lease: this.leaseRef(), identity: this.options.identity });
        this.options.onStartedLeading();
      }
    } else if (this.leading && !this.holdsLease()) {
      this.stepDown();
    }
    this.schedule();
  }

  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const left = this.lastRenewAt + this.options.renewDeadlineMs - this.mono();
    this.deadlineTimer = setTimeout(() => {
      if (!this.leading) return;
      // Timers may fire a little early: look again until the deadline really passed.
      if (this.holdsLease()) this.armDeadline();
      else this.stepDown();
    }, Math.max(1, left));
  }

  /** Terminal: a renewal arriving later (a round already in flight) never makes this replica lead again. */
  private stepDown(): void {
    if (!this.leading) return;
    this.leading = false;
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadlineTimer);
    this.options.logger.error("lost leadership: could not renew the lease within the renew deadline", { lease: this.leaseRef(), renewDeadlineMs: this.options.renewDeadlineMs });
    this.options.onStoppedLeading();
  }

  private leaseRef(): string {
    return `${this.options.namespace}/${this.options.name}`;
  }

  /** One round of client-go's tryAcquireOrRenew. Returns true when we hold the lease now. */
  async tryAcquireOrRenew(signal: AbortSignal = AbortSignal.timeout(this.options.renewDeadlineMs)): Promise<boolean> {
    const { name, namespace, identity, leaseDurationMs } = this.options;
    const now = this.now();
    const bounded = withSignal(signal);
    const durationSeconds = Math.ceil(leaseDurationMs / 1000);
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace }, bounded);
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 404)) throw error;
      try {
        this.current = await this.api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
          },
        }, bounded);
        return true;
      } catch (createError) {
        if (createError instanceof ApiException && createError.code === 409) return false;
        throw createError;
      }
    }
    // Seen now, after the read returned (a slow read must not back-date what it saw).
    const seenAt = this.mono();
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const renewTime = spec.renewTime ? new Date(spec.renewTime).toISOString() : "";
    const resourceVersion = lease.metadata?.resourceVersion ?? "";
    if (!this.observed || this.observed.holder !== holder || this.observed.renewTime !== renewTime) {
      this.observed = { holder, renewTime, resourceVersion, at: seenAt };
    }
    const heldByOther = holder !== "" && holder !== identity;
    const leaseMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldByOther && this.observed.at + leaseMs > seenAt) return false;
    const takingOver = holder !== identity;
    const next: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(now),
        acquireTime: takingOver ? microTime(now) : spec.acquireTime ? microTime(new Date(spec.acquireTime).getTime()) : microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver && holder !== "" ? 1 : 0),
      },
    };
    try {
      this.current = await this.api.replaceNamespacedLease({ name, namespace, body: next }, bounded);
      return true;
    } catch (error) {
      if (error instanceof ApiException && error.code === 409) return false;
      throw error;
    }
  }

  /**
   * Stop trying; if the lease is still held, hand it over at once (client-go's ReleaseOnCancel).
   * Call it only once this replica's Druid work has finished or been abandoned.
   */
  async stop(options: { release: boolean } = { release: true }): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // A round in flight is bounded by the renew deadline; never wait longer than that for it.
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([this.ticking?.catch(() => undefined), new Promise((resolve) => (waited = setTimeout(resolve, this.options.renewDeadlineMs)))]);
    clearTimeout(waited);
    clearTimeout(this.deadlineTimer);
    const held = this.holdsLease();
    this.leading = false;
    if (!held || !this.current || !options.release) return;
    const { name, namespace } = this.options;
    const bounded = withSignal(AbortSignal.timeout(Math.max(1, Math.floor(this.lastRenewAt + this.options.renewDeadlineMs - this.mono()))));
    const release = async (): Promise<boolean> => {
      const lease = await this.api.readNamespacedLease({ name, namespace }, bounded);
      if (lease.spec?.holderIdentity !== this.options.identity) return false;
      const now = this.now();
      await this.api.replaceNamespacedLease(
        { name, namespace, body: { ...lease, spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: microTime(now), acquireTime: microTime(now) } } },
        bounded,
      );
      return true;
    };
    try {
      let released: boolean;
      try {
        released = await release();
      } catch (error) {
        // The Lease changed between our read and write (it is read again, once).
        if (!(error instanceof ApiException && error.code === 409)) throw error;
        released = await release();
      }
      if (released) this.options.logger.info("released the lease", { lease: this.leaseRef() });
    } catch (error) {
      this.options.logger.warn("could not release the lease; a standby takes over after the lease duration", { error: describe(error) });
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function microTime(ms: number): V1MicroTime {
  return new V1MicroTime(ms);
}
