// The gate every Druid write passes first. A replica may write only while it holds the Lease (or
// runs without leader election) and is not shutting down; once the gate closes it stays closed,
// and every Druid call still in flight is aborted through `signal`. This bounds what a replica
// that lost its Lease (API server black-holed, process paused) can still do: nothing new after
// the renew deadline, and nothing in flight past it.

export type FenceReason = "NotLeader" | "ShuttingDown";

export class FenceClosedError extends Error {
  readonly reason: FenceReason;
  constructor(reason: FenceReason, message: string) {
    super(message);
    this.name = "FenceClosedError";
    this.reason = reason;
  }
}

export interface WriteFence {
  /** Throws FenceClosedError when this replica must not write to Druid now. */
  check(what: string): void;
  /** Aborted when the fence closes: in-flight Druid calls stop at once. */
  readonly signal: AbortSignal;
}

export class LeadershipFence implements WriteFence {
  private readonly holdsLease: () => boolean;
  private readonly aborter = new AbortController();
  private closed: { reason: FenceReason; why: string } | undefined;

  /** `holdsLease`: true while this replica holds the Lease within its renew deadline. */
  constructor(holdsLease: () => boolean = () => true) {
    this.holdsLease = holdsLease;
  }

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  get isOpen(): boolean {
    return this.closed === undefined && this.holdsLease();
  }

  check(what: string): void {
    if (this.closed) throw new FenceClosedError(this.closed.reason, `${what} not sent: ${this.closed.why}`);
    if (!this.holdsLease()) throw new FenceClosedError("NotLeader", `${what} not sent: this replica does not hold the leader Lease within its renew deadline`);
  }

  /** Closes for good and aborts every Druid call in flight. */
  close(reason: FenceReason, why: string): void {
    if (this.closed) return;
    this.closed = { reason, why };
    this.aborter.abort(new FenceClosedError(reason, why));
  }
}
