import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { DruidClient } from "../druid/client.ts";
import type { LiveSupervisor } from "../druid/decode.ts";
import { SupervisorStateWatch } from "./state-watch.ts";

const clientOf = (baseUrl: string) => ({ target: { baseUrl, credentials: { username: "admin", password: "p" } } }) as unknown as DruidClient;
const supervisor = (id: string, state: string, detailedState = state): LiveSupervisor => ({ id, state, detailedState, healthy: true, suspended: false, spec: undefined });

/** A Druid whose state list answers after `delayMs` with what it holds when asked. */
function fakeDruid(delayMs = 2) {
  const states = new Map<string, string>();
  const calls = { lists: 0, done: 0, inFlight: 0, maxInFlight: 0 };
  let fail = false;
  const snapshots = {
    clock: () => performance.now(),
    async supervisorStates(_client: DruidClient, _notBefore: number) {
      calls.lists++;
      calls.inFlight++;
      calls.maxInFlight = Math.max(calls.maxInFlight, calls.inFlight);
      const startedAt = performance.now();
      const seen = new Map([...states].map(([id, state]) => [id, supervisor(id, state)]));
      await sleep(delayMs);
      calls.inFlight--;
      calls.done++;
      if (fail) throw new Error("druid down");
      return { startedAt, supervisors: seen };
    },
  };
  /** Resolves once `n` more lists have ended and the poller has acted on them (no wall-clock guesses). */
  const lists = async (n: number) => {
    const target = calls.done + n;
    while (calls.done < target) await sleep(1);
    await sleep(0);
  };
  return { snapshots, states, calls, lists, setFail: (f: boolean) => { fail = f; } };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(1);
}

function watchOf(druid: ReturnType<typeof fakeDruid>, intervalMs = 5) {
  const woken: string[] = [];
  const polls: Array<["ok" | "error", number]> = [];
  const watch = new SupervisorStateWatch({ snapshots: druid.snapshots, intervalMs, maxIntervalMs: 40, wake: (key) => woken.push(key), onPoll: (result, n) => polls.push([result, n]) });
  return { watch, woken, polls };
}

test("wakes only the resources whose listed state changed, with one list at a time for all of them", async () => {
  const druid = fakeDruid(8);
  const { watch, woken } = watchOf(druid, 2);
  const client = clientOf("http://d1");
  for (let i = 0; i < 50; i++) {
    druid.states.set(`s${i}`, "PENDING");
    assert.equal(watch.watch(`ns/r${i}`, client, `s${i}`, supervisor(`s${i}`, "PENDING")), true);
  }
  await druid.lists(3);
  assert.deepEqual(woken, [], "nothing changed: nobody is woken");
  druid.states.set("s3", "SUSPENDED");
  druid.states.set("s7", "RUNNING");
  await until(() => woken.length === 2);
  await druid.lists(2);
  assert.deepEqual(woken.sort(), ["ns/r3", "ns/r7"]);
  assert.equal(druid.calls.maxInFlight, 1, "the poller never overlaps its lists");
  assert.equal(watch.waiting, 48);
  watch.stop();
});

test("a list that started before the resource registered is not compared with what it saw", async () => {
  const druid = fakeDruid(20);
  const { watch, woken } = watchOf(druid, 1);
  const client = clientOf("http://d1");
  druid.states.set("a", "PENDING");
  druid.states.set("b", "PENDING");
  watch.watch("ns/a", client, "a", supervisor("a", "PENDING"));
  await until(() => druid.calls.inFlight === 1); // a list is in flight, showing b PENDING
  druid.states.set("b", "SUSPENDED");
  // b read Druid after that list started, and saw SUSPENDED: the list's PENDING is older news.
  watch.watch("ns/b", client, "b", supervisor("b", "SUSPENDED"));
  await druid.lists(1);
  assert.deepEqual(woken, []);
  await druid.lists(2);
  assert.deepEqual(woken, [], "later lists show what b saw");
  watch.stop();
});

test("a resource is not woken twice for the same listed state (a reading that disagrees with the list)", async () => {
  const druid = fakeDruid();
  const { watch, woken } = watchOf(druid, 2);
  const client = clientOf("http://d1");
  druid.states.set("a", "SUSPENDED");
  watch.watch("ns/a", client, "a", supervisor("a", "PENDING"));
  await until(() => woken.length === 1);
  // Its own reading (older than the list) still said PENDING: it waits again.
  watch.watch("ns/a", client, "a", supervisor("a", "PENDING"));
  await druid.lists(3);
  assert.deepEqual(woken, ["ns/a"], "the same listed state does not wake it again");
  druid.states.set("a", "RUNNING");
  await until(() => woken.length === 2);
  // The list moved on from SUSPENDED: back there, it wakes the resource again.
  watch.watch("ns/a", client, "a", supervisor("a", "RUNNING", "CREATING_TASKS"));
  druid.states.set("a", "SUSPENDED");
  await until(() => woken.length === 3);
  assert.deepEqual(woken, ["ns/a", "ns/a", "ns/a"]);
  watch.stop();
});

test("a supervisor that disappears wakes its resource; the detailed state counts", async () => {
  const druid = fakeDruid();
  const { watch, woken } = watchOf(druid, 2);
  const client = clientOf("http://d1");
  druid.states.set("a", "PENDING");
  druid.states.set("b", "RUNNING");
  watch.watch("ns/a", client, "a", supervisor("a", "PENDING"));
  watch.watch("ns/b", client, "b", supervisor("b", "RUNNING", "CREATING_TASKS"));
  await until(() => woken.length === 1);
  await druid.lists(1);
  assert.deepEqual(woken, ["ns/b"], "RUNNING/CREATING_TASKS → RUNNING/RUNNING is a change");
  druid.states.delete("a");
  await until(() => woken.length === 2);
  assert.deepEqual(woken, ["ns/b", "ns/a"]);
  watch.stop();
});

test("a failed list hands back those that relied on the poller, and the poller backs off until it works", async () => {
  const druid = fakeDruid();
  const { watch, woken, polls } = watchOf(druid, 2);
  const client = clientOf("http://d1");
  druid.states.set("a", "PENDING");
  druid.states.set("b", "PENDING");
  druid.setFail(true);
  assert.equal(watch.watch("ns/a", client, "a", supervisor("a", "PENDING")), true, "no list failed yet");
  await until(() => woken.length === 1);
  assert.deepEqual(woken, ["ns/a"], "woken to look on its own");
  assert.deepEqual(polls[0], ["error", 1]);
  // Registering again while lists fail: its own backoff applies (false), and it is not woken again.
  assert.equal(watch.watch("ns/a", client, "a", supervisor("a", "PENDING")), false);
  assert.equal(watch.watch("ns/b", client, "b", supervisor("b", "PENDING")), false);
  const started = performance.now();
  await druid.lists(3);
  assert.deepEqual(woken, ["ns/a"]);
  // Intervals double from 2 ms: the three lists took at least 4 + 8 + 16 ms.
  assert.ok(performance.now() - started >= 4 + 8 + 16 - 2, "backs off while failing");
  druid.setFail(false);
  druid.states.set("b", "SUSPENDED");
  await until(() => woken.length === 2);
  assert.deepEqual(woken, ["ns/a", "ns/b"], "once lists work, changes wake as before");
  assert.equal(watch.watch("ns/a", client, "a", supervisor("a", "PENDING")), true, "and the poller is relied on again");
  watch.stop();
});

test("nothing is listed while nobody waits, and a resource waits on one cluster at a time", async () => {
  const druid = fakeDruid();
  const { watch, woken } = watchOf(druid, 2);
  const d1 = clientOf("http://d1");
  const d2 = clientOf("http://d2");
  druid.states.set("a", "PENDING");
  watch.watch("ns/a", d1, "a", supervisor("a", "PENDING"));
  await druid.lists(1);
  watch.unwatch("ns/a");
  await until(() => druid.calls.inFlight === 0);
  const lists = druid.calls.lists;
  await sleep(30);
  assert.equal(druid.calls.lists, lists, "no lists once nobody waits");
  // Moved to another Druid: it waits there only.
  watch.watch("ns/a", d1, "a", supervisor("a", "PENDING"));
  watch.watch("ns/a", d2, "a", supervisor("a", "PENDING"));
  assert.equal(watch.waiting, 1);
  watch.stop();
  assert.deepEqual(woken, []);
  assert.equal(watch.watch("ns/a", d1, "a", supervisor("a", "PENDING")), false, "a stopped watch relies on nothing");
});
