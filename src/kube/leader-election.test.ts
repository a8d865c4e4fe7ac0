import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiException, type V1Lease } from "@kubernetes/client-node";
import { silentLogger } from "../../test/support/fakes.ts";
import { LeaderElector, type LeaderElectionOptions } from "./leader-election.ts";

/** An in-memory Lease store with the API server's optimistic concurrency. */
function leaseStore() {
  let lease: V1Lease | undefined;
  let version = 0;
  const conflict = () => new ApiException(409, "Conflict", "", {});
  const sent: V1Lease[] = [];
  return {
    sent,
    get current() { return lease; },
    async readNamespacedLease(): Promise<V1Lease> {
      if (!lease) throw new ApiException(404, "NotFound", "", {});
      return structuredClone(lease);
    },
    async createNamespacedLease({ body }: { body: V1Lease }): Promise<V1Lease> {
      sent.push(body);
      if (lease) throw conflict();
      lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++version) } };
      return structuredClone(lease);
    },
    async replaceNamespacedLease({ body }: { body: V1Lease }): Promise<V1Lease> {
      if (!lease || body.metadata?.resourceVersion !== lease.metadata?.resourceVersion) throw conflict();
      lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++version) } };
      return structuredClone(lease);
    },
  };
}

function elector(store: ReturnType<typeof leaseStore>, identity: string, clock: { now: number }, overrides: Partial<LeaderElectionOptions> = {}) {
  return new LeaderElector(store as never, {
    name: "l", namespace: "ns", identity, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000,
    logger: silentLogger(), onStartedLeading: () => {}, onStoppedLeading: () => {}, now: () => clock.now, monotonicNow: () => clock.now,
    ...overrides,
  });
}

test("the first candidate creates the lease; a second cannot take a fresh one", async () => {
  const store = leaseStore();
  const clock = { now: 1_000_000 };
  const a = elector(store, "a", clock);
  const b = elector(store, "b", clock);
  assert.equal(await a.tryAcquireOrRenew(), true);
  assert.equal(store.current?.spec?.holderIdentity, "a");
  assert.equal(await b.tryAcquireOrRenew(), false);
  clock.now += 5000;
  assert.equal(await a.tryAcquireOrRenew(), true, "the holder renews");
  assert.equal(await b.tryAcquireOrRenew(), false);
});

test("a standby takes over only after the lease went unrenewed for its duration (by its own clock)", async () => {
  const store = leaseStore();
  const clock = { now: 1_000_000 };
  const a = elector(store, "a", clock);
  const b = elector(store, "b", clock);
  await a.tryAcquireOrRenew();
  assert.equal(await b.tryAcquireOrRenew(), false); // b first sees the record now
  clock.now += 14_000;
  assert.equal(await b.tryAcquireOrRenew(), false, "not yet expired");
  clock.now += 2000;
  assert.equal(await b.tryAcquireOrRenew(), true, "expired: taken over");
  assert.equal(store.current?.spec?.holderIdentity, "b");
  assert.equal(store.current?.spec?.leaseTransitions, 1);
  assert.equal(await a.tryAcquireOrRenew(), false, "the old leader cannot renew any more");
});

test("times are sent as MicroTime (six fractional digits)", async () => {
  const store = leaseStore();
  await elector(store, "a", { now: Date.UTC(2026, 0, 1, 0, 0, 0, 123) }).tryAcquireOrRenew();
  assert.equal(store.sent[0]?.spec?.renewTime?.toISOString(), "2026-01-01T00:00:00.123000Z");
  assert.equal(store.sent[0]?.spec?.acquireTime?.toISOString(), "2026-01-01T00:00:00.123000Z");
});

test("two candidates racing on the same record: exactly one wins", async () => {
  const store = leaseStore();
  const clock = { now: 1_000_000 };
  const results = await Promise.all(["a", "b", "c"].map((id) => elector(store, id, clock).tryAcquireOrRenew()));
  assert.equal(results.filter(Boolean).length, 1);
});

test("stop() releases the lease so a standby takes over at once", async () => {
  const store = leaseStore();
  const clock = { now: 1_000_000 };
  let started = 0;
  const a = elector(store, "a", clock, { retryPeriodMs: 60_000, onStartedLeading: () => { started++; } });
  a.start();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(started, 1);
  assert.equal(a.isLeader, true);
  await a.stop();
  assert.equal(store.current?.spec?.holderIdentity, "");
  const b = elector(store, "b", clock);
  assert.equal(await b.tryAcquireOrRenew(), true, "no waiting for the lease duration");
});

test("stop() releases the lease even while a renew of its own is in flight (no 409 race)", async () => {
  const store = leaseStore();
  const clock = { now: 1_000_000 };
  const a = elector(store, "a", clock, { retryPeriodMs: 5 });
  a.start();
  for (let i = 0; i < 100 && !a.isLeader; i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(a.isLeader);
  // Slow replaces: the next renew is in flight when stop() reads the lease.
  const replace = store.replaceNamespacedLease.bind(store);
  store.replaceNamespacedLease = async (args: { body: V1Lease }) => {
    await new Promise((r) => setTimeout(r, 20));
    return replace(args);
  };
  await new Promise((r) => setTimeout(r, 8));
  await a.stop();
  assert.equal(store.current?.spec?.holderIdentity, "", "released");
});

/** Waits (real time) until `check` holds, at most `ms`. */
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return check();
}

test("split brain: a black-holed API server cannot keep a leader acting; it steps down at the renew deadline on its own timer", async () => {
  const store = leaseStore();
  let stopped = 0;
  let blackHoled = false;
  const seenSignals: AbortSignal[] = [];
  const api = {
    readNamespacedLease: async (_p: unknown, options?: { middleware?: Array<{ pre: (c: { setSignal(s: AbortSignal): void }) => unknown }> }) => {
      // Record the signal client-node would hand to fetch.
      options?.middleware?.[0]?.pre({ setSignal: (s) => seenSignals.push(s) });
      if (blackHoled) return new Promise<V1Lease>(() => {}); // never answers, ignores aborts
      return store.readNamespacedLease();
    },
    createNamespacedLease: store.createNamespacedLease.bind(store),
    replaceNamespacedLease: store.replaceNamespacedLease.bind(store),
  };
  const a = new LeaderElector(api as never, {
    name: "l", namespace: "ns", identity: "a", leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 50,
    logger: silentLogger(), onStartedLeading: () => {}, onStoppedLeading: () => { stopped++; },
  });
  a.start();
  assert.ok(await until(() => a.isLeader, 1000));
  assert.ok(await until(() => seenSignals.length > 1, 1000), "renewals ran");
  blackHoled = true;
  const cut = performance.now();
  assert.equal(a.holdsLease(), true);
  assert.ok(await until(() => stopped === 1, 1500), "stepped down although the Lease call never returned");
  const took = performance.now() - cut;
  assert.ok(took <= 400 + 100, `stepped down within the renew deadline of the last renewal (${Math.round(took)} ms)`);
  assert.equal(a.holdsLease(), false);
  assert.equal(a.isLeader, false);
  const last = seenSignals.at(-1) as AbortSignal;
  assert.ok(await until(() => last.aborted, 600), "the hung Lease call's signal fires by the deadline");
  await a.stop();
});

test("holdsLease is false past the renew deadline even before any timer ran (a paused process waking up)", async () => {
  const store = leaseStore();
  const clock = { now: 1_000_000 };
  const a = elector(store, "a", clock, { retryPeriodMs: 60_000 });
  a.start();
  assert.ok(await until(() => a.isLeader, 1000));
  clock.now += 9_999;
  assert.equal(a.holdsLease(), true);
  clock.now += 1; // SIGSTOP for longer than the deadline: the clock jumped, timers have not fired
  assert.equal(a.holdsLease(), false, "the fence closes on the clock, not on a timer");
  await a.stop();
  assert.notEqual(store.current?.spec?.holderIdentity, "", "a lease no longer held is not released (a standby may own it)");
});
