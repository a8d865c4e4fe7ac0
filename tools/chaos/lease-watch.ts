// Who leads: the run's Lease, read straight from kube-apiserver (not through any replica's
// tunnel) a few times per second. Changes of holder go to the journal (the leader history in
// violation reports). While the API server is down the last reading is kept and marked stale.
import { CoordinationV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Journal } from "./journal.ts";

export interface LeaseReading {
  holder: string;
  renewedAt: number | undefined;
  /** When the holder took the Lease (its acquireTime), as the acquiring replica stamped it. */
  acquiredAt: number | undefined;
  transitions: number;
  readAt: number;
}

export class LeaseWatch {
  private readonly api: CoordinationV1Api;
  private readonly name: string;
  private readonly namespace: string;
  private readonly journal: Journal;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  last: LeaseReading | undefined;

  constructor(kc: KubeConfig, lease: { name: string; namespace: string }, journal: Journal) {
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.name = lease.name;
    this.namespace = lease.namespace;
    this.journal = journal;
  }

  start(intervalMs = 250): void {
    const tick = async (): Promise<void> => {
      await this.read();
      if (!this.stopped) this.timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
  }

  async read(): Promise<LeaseReading | undefined> {
    try {
      const lease = await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace });
      const spec = lease.spec ?? {};
      const reading: LeaseReading = {
        holder: spec.holderIdentity ?? "",
        renewedAt: spec.renewTime ? new Date(spec.renewTime).getTime() : undefined,
        acquiredAt: spec.acquireTime ? new Date(spec.acquireTime).getTime() : undefined,
        transitions: spec.leaseTransitions ?? 0,
        readAt: Date.now(),
      };
      if (this.last?.holder !== reading.holder) {
        this.journal.record("leader", {
          holder: reading.holder,
          transitions: reading.transitions,
          ...(reading.acquiredAt === undefined ? {} : { acquiredAt: reading.acquiredAt }),
          // The last reading that still showed the previous holder: the handover came after it.
          ...(this.last ? { previousSeenAt: this.last.readAt } : {}),
        });
      }
      this.last = reading;
      return reading;
    } catch {
      return undefined;
    }
  }

  /** The holder if the Lease was renewed within `freshMs` (by our clock) and read recently. */
  actingHolder(freshMs: number): string | undefined {
    const last = this.last;
    if (!last || last.holder === "" || Date.now() - last.readAt > 2000) return undefined;
    if (last.renewedAt === undefined || Date.now() - last.renewedAt > freshMs) return undefined;
    return last.holder;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
