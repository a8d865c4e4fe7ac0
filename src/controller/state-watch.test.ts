import { test } from "node:test";
import assert from "node:assert/strict";
import type { DruidClient } from "../druid/client.ts";
import type { LiveSupervisor } from "../druid/decode.ts";
import { LIST_ENTRIES_PER_ITEM_READ, SupervisorStateWatch, type Timers } from "./state-watch.ts";

const clientOf = (baseUrl: string, password = "p") => ({ target: { baseUrl, credentials: { username: "admin", password } } }) as unknown as DruidClient;
const supervisor = (id: string, state: string, detailedState = state): LiveSupervisor => ({ id, state, detailedState, healthy: true, suspended: false, spec: undefined });
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A fake clock with its timers, and a Druid whose state list answers `listMs` after it is asked
 * (on that clock) with what it holds when asked. Nothing depends on the machine's speed.
 */
function world(options: { intervalMs?: number; maxIntervalMs?: number; listMs?: number } = {}) {
  let now = 0;
  const timers: Array<{ due: number; callback: () => void; id: number }> = [];
  let nextId = 0;
  const fakeTimers: Timers = {
    set: (callback, delayMs) => {
      const id = nextId++;
      timers.push({ due: now + delayMs, callback, id });
      return id;
    },
    clear: (handle) => {
      const i = timers.findIndex((t) => t.id === handle);
      if (i >= 0) timers.splice(i, 1);
    },
  };
  const states = new Map<string, string>();
  const calls = { lists: 0, inFlight: 0, maxInFlight: 0, notBefore: [] as number[] };
  let fail = false;
  const listMs = options.listMs ?? 0;
  const snapshots = {
    clock: () => now,
    async supervisorStates(_client: DruidClient, notBefore: number) {
      calls.lists++;
      calls.notBefore.push(notBefore);
      calls.inFlight++;
      calls.maxInFlight = Math.max(calls.maxInFlight, calls.inFlight);
      const startedAt = now;
      const seen = new Map([...states].map(([id, state]) => [id, supervisor(id, state)]));
      const failing = fail;
      if (listMs > 0) await new Promise<void>((resolve) => fakeTimers.set(resolve, listMs));
      calls.inFlight--;
      if (failing) throw new Error("druid down");
      return { startedAt, supervisors: seen };
    },
  };
  const woken: string[] = [];
  const polls: Array<[string, number, number]> = [];
  const watch = new SupervisorStateWatch({
    snapshots,
    intervalMs: options.intervalMs ?? 3_000,
    maxIntervalMs: options.maxIntervalMs ?? 60_000,
    wake: (key) => woken.push(key),
    onPoll: (result, n, waiting) => polls.push([result, n, waiting]),
    timers: fakeTimers,
  });
  /** Moves the clock by `ms`, firing what falls due on the way (and what those schedule). */
  const advance = async (ms: number) => {
    const end = now + ms;
    for (;;) {
      await flush();
      timers.sort((a, b) => a.due - b.due || a.id - b.id);
      const next = timers[0];
      if (!next || next.due > end) break;
      timers.shift();
      now = next.due;
      next.callback();
    }
    now = end;
    await flush();
  };
  return { watch, states, calls, woken, polls, advance, timers, setFail: (f: boolean) => { fail = f; }, now: () => now };
}

/** Advances the fake clock a second at a time until `condition` holds (at most 10 minutes). */
async function until(w: ReturnType<typeof world>, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !condition(); i++) await w.advance(1_000);
  assert.ok(condition(), "condition not reached in 10 minutes of fake time");
}

test("wakes only the resources whose listed state changed, one list at a time for all of them", async () => {
  const w = world({ listMs: 500 });
  const client = clientOf("http://d1");
  for (let i = 0; i < 50; i++) {
    w.states.set(`s${i}`, "PENDING");
    assert.equal(w.watch.watch(`ns/r${i}`, client, `s${i}`, supervisor(`s${i}`, "PENDING")), true);
  }
  await w.advance(10_000);
  assert.deepEqual(w.woken, [], "nothing changed: nobody is woken");
  assert.equal(w.calls.lists, 3, "a list every 3 s (+ its 0.5 s) while they wait");
  w.states.set("s3", "SUSPENDED");
  w.states.set("s7", "RUNNING");
  await w.advance(4_000);
  assert.deepEqual(w.woken.sort(), ["ns/r3", "ns/r7"]);
  assert.equal(w.calls.maxInFlight, 1, "lists never overlap");
  assert.equal(w.watch.waiting, 48);
  assert.deepEqual(w.polls.at(-1), ["ok", 2, 48]);
});

test("lists come less often as the wait grows, and stop when nobody waits", async () => {
  const w = world();
  const client = clientOf("http://d1");
  w.states.set("a", "PENDING");
  w.watch.watch("ns/a", client, "a", supervisor("a", "PENDING"));
  await w.advance(60_000);
  const firstMinute = w.calls.lists;
  // A wait of t is looked at every max(3 s, t/10): 3 s up to 30 s, then slower.
  assert.ok(firstMinute >= 12 && firstMinute <= 17, `${firstMinute} lists in the first minute`);
  // The resource registers again at its own resync: the wait goes on, lists do not speed up.
  w.watch.watch("ns/a", client, "a", supervisor("a", "PENDING"));
  const before = w.calls.lists;
  await w.advance(600_000);
  // From 60 s to 660 s of waiting: one list per tenth of the wait, 10 × ln(660 / 60) ≈ 24.
  assert.ok(w.calls.lists - before <= 26, `${w.calls.lists - before} lists in the next 10 minutes`);
  const late = w.calls.lists;
  await w.advance(300_000);
  assert.ok(w.calls.lists - late <= 5, `${w.calls.lists - late} lists in 5 minutes after waiting 11: one per resync`);
  w.watch.unwatch("ns/a");
  const after = w.calls.lists;
  await w.advance(600_000);
  assert.equal(w.calls.lists, after, "no lists once nobody waits");
  assert.equal(w.watch.clusterCount, 0, "and the cluster (its client, its password) is forgotten");
  assert.equal(w.timers.length, 0);
});

test("a list that started before the resource registered is not compared with what it saw", async () => {
  const w = world({ listMs: 2_000 });
  const client = clientOf("http://d1");
  w.states.set("a", "PENDING");
  w.states.set("b", "PENDING");
  w.watch.watch("ns/a", client, "a", supervisor("a", "PENDING"));
  await w.advance(3_500); // a list is in flight since 3 s, showing b PENDING
  assert.equal(w.calls.inFlight, 1);
  w.states.set("b", "SUSPENDED");
  // b read Druid after that list started, and saw SUSPENDED: the list's PENDING is older news.
  assert.equal(w.watch.watch("ns/b", client, "b", supervisor("b", "SUSPENDED")), true);
  await w.advance(1_000); // that list ends
  assert.deepEqual(w.woken, []);
  await w.advance(20_000);
  assert.deepEqual(w.woken, [], "later lists show what b saw");
});

test("woken once per listed state; a reading that disagrees with the list is told to look on its own", async () => {
  const w = world();
  const client = clientOf("http://d1");
  w.states.set("a", "SUSPENDED");
  w.watch.watch("ns/a", client, "a", supervisor("a", "PENDING"));
  await w.advance(3_000);
  assert.deepEqual(w.woken, ["ns/a"]);
  // Its own reading (older than the list) still said PENDING: the poller will not wake it for
  // SUSPENDED again, so it must not count on the poller.
  assert.equal(w.watch.watch("ns/a", client, "a", supervisor("a", "PENDING")), false);
  await w.advance(10_000);
  assert.deepEqual(w.woken, ["ns/a"], "the same listed state does not wake it again");
  w.states.set("a", "RUNNING");
  await w.advance(3_000);
  assert.deepEqual(w.woken, ["ns/a", "ns/a"], "a new listed state does");
  // It agrees with the list now; when the list moves back to SUSPENDED, that wakes it again.
  assert.equal(w.watch.watch("ns/a", client, "a", supervisor("a", "RUNNING")), true);
  w.states.set("a", "SUSPENDED");
  await w.advance(3_000);
  assert.deepEqual(w.woken, ["ns/a", "ns/a", "ns/a"]);
});

test("a supervisor that disappears wakes its resource; the detailed state counts", async () => {
  const w = world();
  const client = clientOf("http://d1");
  w.states.set("a", "PENDING");
  w.states.set("b", "RUNNING");
  w.watch.watch("ns/a", client, "a", supervisor("a", "PENDING"));
  w.watch.watch("ns/b", client, "b", supervisor("b", "RUNNING", "CREATING_TASKS"));
  await w.advance(3_000);
  assert.deepEqual(w.woken, ["ns/b"], "RUNNING/CREATING_TASKS → RUNNING/RUNNING is a change");
  w.states.delete("a");
  await w.advance(3_000);
  assert.deepEqual(w.woken, ["ns/b", "ns/a"]);
});

test("a failed list wakes nobody; the poller backs off, new waiters look on their own, and lists that work again wake as before", async () => {
  const w = world();
  const client = clientOf("http://d1");
  w.states.set("a", "PENDING");
  w.states.set("b", "PENDING");
  w.setFail(true);
  assert.equal(w.watch.watch("ns/a", client, "a", supervisor("a", "PENDING")), true, "no list failed yet");
  await w.advance(3_000);
  assert.deepEqual(w.polls[0], ["error", 0, 1]);
  assert.deepEqual(w.woken, [], "no herd at a failing Druid: a keeps its resync as safety net");
  assert.equal(w.watch.watch("ns/b", client, "b", supervisor("b", "PENDING")), false, "lists fail: look on your own");
  const listsBefore = w.calls.lists;
  await w.advance(40_000);
  // 6, 12, 24 s after the failures: at most 3 lists in 40 s.
  assert.ok(w.calls.lists - listsBefore <= 3, `${w.calls.lists - listsBefore} lists while failing`);
  w.setFail(false);
  w.states.set("a", "SUSPENDED");
  w.states.set("b", "SUSPENDED");
  await w.advance(60_000);
  assert.deepEqual(w.woken.sort(), ["ns/a", "ns/b"], "once lists work, changes wake as before");
  assert.equal(w.watch.watch("ns/a", client, "a", supervisor("a", "SUSPENDED")), true, "and the poller is relied on again");
});

test("after a failed list nobody is told its shared reading is fresh enough", async () => {
  const w = world();
  const client = clientOf("http://d1");
  w.states.set("a", "PENDING");
  w.watch.watch("ns/a", client, "a", supervisor("a", "PENDING"));
  assert.equal(w.watch.reliesOnPoller("ns/a", client), true);
  assert.equal(w.watch.reliesOnPoller("ns/a", clientOf("http://d1", "rotated")), false, "another login's list is not the one the poller keeps fresh");
  w.setFail(true);
  await w.advance(3_000);
  assert.equal(w.watch.reliesOnPoller("ns/a", client), false, "its next reconcile reads fresh");
  assert.equal(w.watch.watching("ns/a"), true, "it still waits, and is woken once lists work");
});

test("registering again with the same state keeps the lists already in flight for it", async () => {
  const w = world({ listMs: 2_000 });
  const client = clientOf("http://d1");
  w.states.set("a", "PENDING");
  w.watch.watch("ns/a", client, "a", supervisor("a", "PENDING"));
  await w.advance(3_000); // a list starts at 3 s
  w.states.set("a", "SUSPENDED"); // (the list in flight still shows PENDING)
  await w.advance(6_500); // the next list starts at 9 s (ends at 5 s, then twice its 2 s), showing SUSPENDED
  assert.equal(w.calls.inFlight, 1);
  w.watch.watch("ns/a", client, "a", supervisor("a", "PENDING")); // its resync, read before the change
  await w.advance(1_500); // that list ends
  assert.deepEqual(w.woken, ["ns/a"], "the list in flight when it registered again wakes it");
});

test("a new waiter is not held up by the slow timer of a long wait", async () => {
  const w = world();
  const client = clientOf("http://d1");
  w.states.set("old", "RUNNING");
  w.states.set("new", "PENDING");
  w.watch.watch("ns/old", client, "old", supervisor("old", "RUNNING", "CREATING_TASKS"));
  await w.advance(900_000); // 15 minutes: its lists are a resync apart now
  w.watch.watch("ns/new", client, "new", supervisor("new", "PENDING"));
  const at = w.now();
  w.states.set("new", "SUSPENDED");
  await until(w, () => w.woken.includes("ns/new"));
  assert.ok(w.now() - at <= 3_000, `woken ${w.now() - at} ms after registering`);
});

test("the size of a big cluster is remembered between waits: a lone waiter reads on its own", async () => {
  const w = world();
  const client = clientOf("http://d1");
  for (let i = 0; i < 10 * LIST_ENTRIES_PER_ITEM_READ; i++) w.states.set(`s${i}`, "RUNNING");
  w.states.set("s0", "PENDING");
  assert.equal(w.watch.watch("ns/r0", client, "s0", supervisor("s0", "PENDING")), true, "the size is not known yet");
  await w.advance(3_000);
  w.watch.unwatch("ns/r0");
  assert.equal(w.watch.clusterCount, 0);
  const lists = w.calls.lists;
  assert.equal(w.watch.watch("ns/r1", client, "s1", supervisor("s1", "PENDING")), false, "a later lone wait: its own reads cost less");
  await w.advance(60_000);
  assert.equal(w.calls.lists, lists, "and no list is made for it");
});

test("a few waiters on a big cluster read on their own: a list of everything would cost more", async () => {
  const w = world();
  const client = clientOf("http://d1");
  const size = 10 * LIST_ENTRIES_PER_ITEM_READ;
  for (let i = 0; i < size; i++) w.states.set(`s${i}`, i < 20 ? "PENDING" : "RUNNING");
  assert.equal(w.watch.watch("ns/r0", client, "s0", supervisor("s0", "PENDING")), true, "the cluster's size is not known yet");
  await w.advance(3_000);
  assert.equal(w.calls.lists, 1);
  assert.equal(w.watch.watch("ns/r1", client, "s1", supervisor("s1", "PENDING")), false, `2 waiters for ${size} supervisors`);
  w.watch.unwatch("ns/r0");
  await w.advance(30_000);
  assert.equal(w.calls.lists, 1, "nobody relies on the poller and the list does not pay: no list");
  // A burst: once enough wait, the list pays, for them and for those who came first.
  for (let i = 2; i < 10; i++) assert.equal(w.watch.watch(`ns/r${i}`, client, `s${i}`, supervisor(`s${i}`, "PENDING")), false);
  assert.equal(w.watch.watch("ns/r10", client, "s10", supervisor("s10", "PENDING")), true, `10 waiters for ${size}: the list pays`);
  w.states.set("s1", "SUSPENDED");
  await w.advance(3_000);
  assert.equal(w.calls.lists, 2);
  assert.deepEqual(w.woken, ["ns/r1"]);
});

test("the poller shares a list another reader started since its last one", async () => {
  const w = world();
  const client = clientOf("http://d1");
  w.states.set("a", "PENDING");
  w.watch.watch("ns/a", client, "a", supervisor("a", "PENDING"));
  await w.advance(3_000);
  await w.advance(3_000);
  assert.deepEqual(w.calls.notBefore, [1, 3_001], "each poll asks for a list newer than the one it compared (the first: than the first waiter)");
});

test("a resource waits on one cluster at a time; stop ends everything", async () => {
  const w = world();
  const d1 = clientOf("http://d1");
  const d2 = clientOf("http://d2");
  w.states.set("a", "PENDING");
  w.watch.watch("ns/a", d1, "a", supervisor("a", "PENDING"));
  w.watch.watch("ns/a", d2, "a", supervisor("a", "PENDING"));
  assert.equal(w.watch.clusterCount, 1, "moved to another Druid: it waits there only");
  // A rotated password is another login: the old one is forgotten with its last waiter.
  w.watch.watch("ns/a", clientOf("http://d2", "rotated"), "a", supervisor("a", "PENDING"));
  assert.equal(w.watch.clusterCount, 1);
  w.watch.stop();
  assert.equal(w.timers.length, 0);
  assert.equal(w.watch.watch("ns/a", d1, "a", supervisor("a", "PENDING")), false, "a stopped watch relies on nothing");
  await w.advance(10_000);
  assert.deepEqual(w.woken, []);
});

test("a throwing wake neither stops the poller nor escapes", async () => {
  let calls = 0;
  let now = 0;
  const timers: Array<() => void> = [];
  const watch = new SupervisorStateWatch({
    snapshots: { clock: () => now, supervisorStates: async () => ({ startedAt: now, supervisors: new Map([["a", supervisor("a", "SUSPENDED")], ["b", supervisor("b", "SUSPENDED")]]) }) },
    intervalMs: 3_000,
    maxIntervalMs: 60_000,
    wake: () => {
      calls++;
      throw new Error("queue broken");
    },
    timers: { set: (callback) => timers.push(callback), clear: () => {} },
  });
  watch.watch("ns/a", clientOf("http://d1"), "a", supervisor("a", "PENDING"));
  watch.watch("ns/b", clientOf("http://d1"), "b", supervisor("b", "PENDING"));
  now = 3_000;
  timers.shift()?.();
  await flush();
  assert.equal(calls, 2, "both woken despite the first throwing");
});
