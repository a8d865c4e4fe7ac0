import { test } from "node:test";
import assert from "node:assert/strict";
import type { SupervisorLag } from "../api/druid-ingestion.ts";
import type { SupervisorHealth } from "../druid/decode.ts";
import { SupervisorLagPoller, type LagTarget } from "./lag-poller.ts";
import type { Timers } from "./state-watch.ts";

const health = (aggregateLag: number | undefined): SupervisorHealth => ({ id: "s", state: "RUNNING", detailedState: "RUNNING", healthy: true, suspended: false, spec: undefined, aggregateLag, aggregateLagMillis: undefined, offsetsLastUpdated: undefined, recentErrors: [] }) as unknown as SupervisorHealth;

/** A Druid whose status reports give each supervisor's lag, counting reads in flight. */
function druid() {
  const lags = new Map<string, number | undefined | Error>();
  const calls = { reads: [] as string[], inFlight: 0, maxInFlight: 0 };
  const client: LagTarget["client"] = {
    async supervisorHealth(id: string) {
      calls.reads.push(id);
      calls.inFlight++;
      calls.maxInFlight = Math.max(calls.maxInFlight, calls.inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      calls.inFlight--;
      const lag = lags.get(id);
      if (lag instanceof Error) throw lag;
      return health(lag);
    },
  };
  return { lags, calls, client };
}

function poller(options: { statusLag?: Map<string, SupervisorLag | undefined>; concurrency?: number } = {}) {
  const scheduled: number[] = [];
  const timers: Timers = { set: (_cb, ms) => scheduled.push(ms), clear: () => {} };
  const woken: string[] = [];
  const reads: string[] = [];
  const statuses = options.statusLag ?? new Map<string, SupervisorLag | undefined>();
  const p = new SupervisorLagPoller({
    periodMs: 60_000,
    concurrency: options.concurrency ?? 2,
    statusLag: (key) => (statuses.has(key) ? { lag: statuses.get(key) } : undefined),
    wake: (key) => woken.push(key),
    onRead: (r) => reads.push(r),
    now: () => new Date("2026-11-24T10:00:00Z"),
    timers,
  });
  p.start();
  return { p, scheduled, woken, reads, statuses };
}

test("a round reads each registered supervisor once, at most `concurrency` at a time, and schedules the next a period on", async () => {
  const d = druid();
  const { p, scheduled } = poller({ concurrency: 2 });
  for (let i = 0; i < 7; i++) {
    d.lags.set(`s${i}`, i * 10);
    p.track(`ns/r${i}`, { client: d.client, supervisorId: `s${i}` });
  }
  assert.deepEqual(scheduled, [10_000], "the first round soon after start");
  await p.round();
  assert.deepEqual(d.calls.reads.sort(), ["s0", "s1", "s2", "s3", "s4", "s5", "s6"]);
  assert.equal(d.calls.maxInFlight, 2);
  assert.equal(scheduled.length, 2);
  assert.ok(scheduled[1]! <= 60_000 && scheduled[1]! > 50_000);
  assert.deepEqual([...p.samples()].find((s) => s.name === "r3"), { namespace: "ns", name: "r3", supervisor: "s3", records: 30 });
});

test("a reading worth a status write wakes the resource; one that is not, or a resource gone from the cache, does not", async () => {
  const d = druid();
  d.lags.set("a", 5).set("b", 5).set("c", 5);
  const statuses = new Map<string, SupervisorLag | undefined>([
    ["ns/a", undefined], // nothing written yet: first reading is written
    ["ns/b", { records: 5, lastUpdateTime: "2026-11-24T09:59:00Z" }], // same: no write
  ]);
  const { p, woken } = poller({ statusLag: statuses });
  for (const id of ["a", "b", "c"]) p.track(`ns/${id}`, { client: d.client, supervisorId: id });
  await p.round();
  assert.deepEqual(woken, ["ns/a"]);
});

test("a failed read drops the reading (no stale gauge) and wakes nobody; Druid reporting no lag drops the gauge and wakes to clear status", async () => {
  const d = druid();
  d.lags.set("a", 100).set("b", 100);
  const statuses = new Map<string, SupervisorLag | undefined>([
    ["ns/a", { records: 100, lastUpdateTime: "2026-11-24T09:59:00Z" }],
    ["ns/b", { records: 100, lastUpdateTime: "2026-11-24T09:59:00Z" }],
  ]);
  const { p, woken, reads } = poller({ statusLag: statuses });
  p.track("ns/a", { client: d.client, supervisorId: "a" });
  p.track("ns/b", { client: d.client, supervisorId: "b" });
  await p.round();
  assert.equal([...p.samples()].length, 2);
  d.lags.set("a", new Error("druid down"));
  d.lags.set("b", undefined);
  await p.round();
  assert.deepEqual([...p.samples()], []);
  assert.equal(p.reading("ns/a"), undefined, "failed: not known");
  assert.equal(p.reading("ns/b"), null, "Druid reports none");
  assert.deepEqual(woken, ["ns/b"]);
  assert.deepEqual(reads.sort(), ["error", "none", "ok", "ok"]);
});

test("untrack, a new supervisor id, and stop forget readings; a read that returns after untrack is dropped", async () => {
  const d = druid();
  d.lags.set("a", 1).set("a2", 2);
  const { p } = poller();
  const first = { client: d.client, supervisorId: "a" };
  p.track("ns/a", first);
  await p.round();
  assert.deepEqual(p.reading("ns/a"), { records: 1 });
  p.track("ns/a", { client: d.client, supervisorId: "a2" });
  assert.equal(p.reading("ns/a"), undefined, "another supervisor: the old reading is not its");
  const round = p.round();
  p.untrack("ns/a");
  await round;
  assert.equal(p.reading("ns/a"), undefined);
  assert.deepEqual([...p.samples()], []);
  p.track("ns/a", first);
  await p.round();
  p.stop();
  assert.deepEqual([...p.samples()], []);
});

test("a period of 0 turns it off: nothing is registered or scheduled", () => {
  const scheduled: number[] = [];
  const p = new SupervisorLagPoller({ periodMs: 0, concurrency: 2, statusLag: () => undefined, wake: () => {}, timers: { set: (_c, ms) => scheduled.push(ms), clear: () => {} } });
  p.start();
  p.track("ns/a", { client: druid().client, supervisorId: "a" });
  assert.equal(p.tracked, 0);
  assert.deepEqual(scheduled, []);
});

test("resources naming the same supervisor through the same client share one read; the read is tried once (#12)", async () => {
  const d = druid();
  d.lags.set("shared", 42);
  const seen: Array<readonly unknown[]> = [];
  const client: LagTarget["client"] = { supervisorHealth: (...args: Parameters<LagTarget["client"]["supervisorHealth"]>) => (seen.push(args), d.client.supervisorHealth(...args)) };
  const { p } = poller();
  p.track("a/one", { client, supervisorId: "shared" });
  p.track("b/two", { client, supervisorId: "shared" });
  await p.round();
  assert.equal(d.calls.reads.length, 1);
  assert.deepEqual(seen[0]?.[2], { retries: 0 });
  assert.deepEqual([...p.samples()].map((s) => `${s.namespace}/${s.name} ${s.records}`).sort(), ["a/one 42", "b/two 42"]);
});
