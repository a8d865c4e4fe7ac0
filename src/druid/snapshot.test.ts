import { test } from "node:test";
import assert from "node:assert/strict";
import type { DruidClient } from "./client.ts";
import type { LiveSupervisor } from "./decode.ts";
import { DruidSnapshots } from "./snapshot.ts";

const running = (id: string): LiveSupervisor => ({ id, state: "RUNNING", detailedState: "RUNNING", healthy: true, suspended: false, spec: undefined });

/** A client whose list answers after `listDelayMs`, from what `druid` holds when the request arrives. */
function fakeClient(baseUrl: string, user = "admin") {
  const calls = { list: 0, item: 0 };
  /** Ids whose stored spec says suspended (the list never shows it, as Druid 33's ?state=true). */
  const suspended = new Set<string>();
  const druid = new Set<string>(["a"]);
  let fail = false;
  let listDelayMs = 5;
  const client = {
    target: { baseUrl, credentials: { username: user, password: "p" } },
    async version() { return "33.0.0"; },
    async listSupervisorStates(): Promise<LiveSupervisor[]> {
      calls.list++;
      const seen = [...druid].map(running); // what Druid holds when the request arrives
      await new Promise((r) => setTimeout(r, listDelayMs));
      if (fail) throw new Error("down");
      return seen;
    },
    async supervisorWithState(id: string): Promise<LiveSupervisor | undefined> {
      calls.item++;
      if (!druid.has(id)) return undefined;
      const flag = suspended.has(id);
      return { ...running(id), state: flag ? "UNHEALTHY_SUPERVISOR" : "RUNNING", suspended: flag, spec: { type: "kafka", id, suspended: flag } };
    },
  } as unknown as DruidClient;
  return { client, calls, druid, suspended, setFail: (f: boolean) => { fail = f; }, setListDelay: (ms: number) => { listDelayMs = ms; } };
}

test("many resources on one cluster share one reading per period", async () => {
  let now = 1000;
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000, now: () => now });
  const { client, calls } = fakeClient("http://d1");
  await Promise.all(Array.from({ length: 50 }, (_, i) => snapshots.supervisor(client, `s${i}`)));
  assert.equal(calls.list, 1, "concurrent readers share one request");
  now += 30_000;
  await snapshots.supervisor(client, "s1");
  assert.equal(calls.list, 1, "still fresh");
  now += 31_000;
  await snapshots.supervisor(client, "s1");
  assert.equal(calls.list, 2, "refreshed after maxAge");
  assert.equal(calls.item, 0);
});

test("clusters and users are observed separately", async () => {
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000 });
  const a = fakeClient("http://d1");
  const b = fakeClient("http://d2");
  const c = fakeClient("http://d1", "other");
  await Promise.all([snapshots.supervisor(a.client, "x"), snapshots.supervisor(b.client, "x"), snapshots.supervisor(c.client, "x")]);
  assert.deepEqual([a.calls.list, b.calls.list, c.calls.list], [1, 1, 1]);
});

test("after a write, only that supervisor is read again, alone; others keep the list", async () => {
  let now = 1000;
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000, now: () => now });
  const f = fakeClient("http://d1");
  await snapshots.supervisor(f.client, "a");
  f.calls.item = 0; // that first reading also read a's stored spec, to learn its suspension
  now += 10;
  await snapshots.write(f.client, "supervisors", "b", async () => void f.druid.add("b"));
  now += 10;
  assert.equal((await snapshots.supervisor(f.client, "a")).supervisor?.id, "a");
  assert.deepEqual([f.calls.list, f.calls.item], [1, 0], "others keep using the reading");
  assert.equal((await snapshots.supervisor(f.client, "b")).supervisor?.id, "b", "the written one is seen");
  assert.deepEqual([f.calls.list, f.calls.item], [1, 1], "read alone, not the whole list");
  now += 60_001;
  await snapshots.supervisor(f.client, "b");
  assert.deepEqual([f.calls.list, f.calls.item], [2, 1], "a list that started after the write serves it again");
});

test("a list that started while our write was in flight is not fresh for what we wrote (the 'Recreated' race)", async () => {
  let now = 1000;
  const snapshots = new DruidSnapshots({ maxAgeMs: 1_000, now: () => now });
  const f = fakeClient("http://d1");
  f.setListDelay(20);
  let releasePost!: () => void;
  const post = snapshots.write(f.client, "supervisors", "new", () => new Promise<void>((resolve) => {
    releasePost = () => {
      f.druid.add("new");
      resolve();
    };
  }));
  now += 5_000; // another resource's reconcile refreshes the (stale) list during our POST
  const during = snapshots.supervisor(f.client, "other");
  await new Promise((r) => setTimeout(r, 1));
  releasePost();
  await post;
  await during;
  // The list above was fetched before Druid had "new"; it must not be taken as "new is gone".
  const reading = await snapshots.supervisor(f.client, "new");
  assert.equal(reading.supervisor?.id, "new");
  assert.equal(f.calls.item, 1);
});

test("a caller waiting for a state change gets a reading at most maxAgeMs old", async () => {
  let now = 1000;
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000, now: () => now });
  const f = fakeClient("http://d1");
  await snapshots.supervisor(f.client, "a");
  f.calls.item = 0; // that first reading also read a's stored spec, to learn its suspension
  now += 5_000;
  await snapshots.supervisor(f.client, "a", 10_000);
  assert.equal(f.calls.item, 0, "young enough");
  await snapshots.supervisor(f.client, "a", 3_000);
  assert.deepEqual([f.calls.list, f.calls.item], [1, 1], "too old for this caller: read alone");
});

test("a failed reading is not cached", async () => {
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000 });
  const f = fakeClient("http://d1");
  f.setFail(true);
  await assert.rejects(snapshots.supervisor(f.client, "a"), /down/);
  f.setFail(false);
  const reading = await snapshots.supervisor(f.client, "a");
  assert.equal(reading.supervisor?.state, "RUNNING");
  assert.equal(f.calls.list, 2);
});

test("a failed write still marks the item: Druid may have acted before the error", async () => {
  let now = 1000;
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000, now: () => now });
  const f = fakeClient("http://d1");
  await snapshots.supervisor(f.client, "a");
  f.calls.item = 0; // that first reading also read a's stored spec, to learn its suspension
  now += 10;
  await assert.rejects(snapshots.write(f.client, "supervisors", "a", async () => {
    throw new Error("timeout");
  }));
  now += 10;
  await snapshots.supervisor(f.client, "a");
  assert.equal(f.calls.item, 1);
});

test("the list has states only; a supervisor whose suspension is not known yet, or whose spec is wanted, is read on its own; its suspension is remembered for spec-less readings", async () => {
  let now = 1000;
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000, now: () => now });
  const { client, calls, druid, suspended } = fakeClient("http://d1");
  druid.add("b");
  suspended.add("b");
  // First reading since start: the list would say "not suspended" (a restarted controller would
  // then suspend every suspended supervisor again), so the stored spec is read once.
  const first = await snapshots.supervisor(client, "b");
  assert.equal(first.supervisor?.suspended, true);
  assert.deepEqual(calls, { list: 1, item: 1 });
  // Known now: spec-less readings keep the stored flag as last read, and the list is enough.
  const plain = await snapshots.supervisor(client, "b");
  assert.equal(plain.supervisor?.spec, undefined);
  assert.equal(plain.supervisor?.suspended, true);
  assert.deepEqual(calls, { list: 1, item: 1 });
  const asked: string[] = [];
  const withSpec = await snapshots.supervisor(client, "b", undefined, (listed) => (asked.push(listed.state ?? ""), true));
  assert.deepEqual(asked, ["RUNNING"], "the decision sees what the list shows");
  assert.deepEqual(withSpec.supervisor?.spec, { type: "kafka", id: "b", suspended: true });
  assert.equal(withSpec.supervisor?.state, "UNHEALTHY_SUPERVISOR", "state and spec from the same moment");
  assert.deepEqual(calls, { list: 1, item: 2 });
  // Not in the list: gone, and nothing more is read.
  assert.equal((await snapshots.supervisor(client, "zzz", undefined, () => true)).supervisor, undefined);
  assert.equal(calls.item, 2);
  // Terminated: a fresh list forgets the flag; a recreated b is read again before it is trusted.
  druid.delete("b");
  now += 60_001;
  assert.equal((await snapshots.supervisor(client, "b")).supervisor, undefined);
  druid.add("b");
  suspended.delete("b");
  now += 60_001;
  assert.equal((await snapshots.supervisor(client, "b")).supervisor?.suspended, false);
  assert.equal(calls.item, 3);
});

test("a login whose list Druid filters forgets only its own flags, and invalidating an anonymous client's lists leaves the logins' lists", async () => {
  let now = 1000;
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000, now: () => now });
  const admin = fakeClient("http://d1");
  const narrow = fakeClient("http://d1", "tenant");
  admin.druid.add("b");
  admin.suspended.add("b");
  assert.equal((await snapshots.supervisor(admin.client, "b")).supervisor?.suspended, true);
  assert.equal(admin.calls.item, 1);
  now += 60_001;
  await snapshots.supervisor(narrow.client, "x"); // the tenant's list does not show b
  assert.equal((await snapshots.supervisor(admin.client, "b")).supervisor?.suspended, true);
  assert.equal(admin.calls.item, 1, "the admin's flag for b was kept: no second read");

  const anonymous = fakeClient("http://d1");
  (anonymous.client as { target: { credentials?: unknown } }).target.credentials = undefined;
  await snapshots.supervisor(anonymous.client, "a");
  const listsBefore = admin.calls.list;
  snapshots.invalidate(anonymous.client);
  await snapshots.supervisor(admin.client, "a");
  assert.equal(admin.calls.list, listsBefore, "the admin's list is still fresh");
});
test("our own write to a supervisor forgets its suspended flag for every login; the read-back after it is remembered", async () => {
  let now = 1000;
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000, now: () => now });
  const admin = fakeClient("http://d1");
  const other = fakeClient("http://d1", "other");
  for (const f of [admin, other]) {
    f.druid.add("b");
    f.suspended.add("b");
    assert.equal((await snapshots.supervisor(f.client, "b")).supervisor?.suspended, true);
  }
  // Resumed by us: no login may serve "suspended" from memory any more.
  await snapshots.write(admin.client, "supervisors", "b", async () => {
    admin.suspended.delete("b");
    other.suspended.delete("b");
  });
  now += 60_001; // lists that started after the write
  const items = [admin.calls.item, other.calls.item];
  assert.equal((await snapshots.supervisor(other.client, "b")).supervisor?.suspended, false);
  assert.equal(other.calls.item, items[1]! + 1, "the other login reads it alone: its flag was forgotten");
  // The read-back after a write is taken as the flag.
  snapshots.remember(admin.client, "b", { id: "b", state: "RUNNING", detailedState: "RUNNING", healthy: true, suspended: false, spec: { type: "kafka", id: "b" } });
  assert.equal((await snapshots.supervisor(admin.client, "b")).supervisor?.suspended, false);
  assert.equal(admin.calls.item, items[0], "served from the list with the remembered flag");
});

test("the state poller's list: shared when newer than asked, never evicting or failing other readers", async () => {
  let now = 1000;
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000, now: () => now });
  const f = fakeClient("http://d1");
  await snapshots.supervisor(f.client, "a"); // the shared list, started at 1000
  assert.equal(f.calls.list, 1);
  now = 2000;
  const shared = await snapshots.supervisorStates(f.client, 1000);
  assert.deepEqual([shared.startedAt, f.calls.list], [1000, 1], "a list that started at or after notBefore is reused");
  // A poll whose list fails: the shared list stays, and readers meanwhile are not failed by it.
  f.setFail(true);
  now = 4000;
  const poll = snapshots.supervisorStates(f.client, 1001);
  const reader = snapshots.supervisor(f.client, "a");
  await assert.rejects(poll, /down/);
  const read = await reader;
  assert.equal(read.supervisor?.id, "a", "the reader used the shared list");
  assert.equal(f.calls.list, 2, "only the poll asked Druid");
  // A poll that works becomes the shared list: later readers see its news.
  f.setFail(false);
  f.druid.add("b");
  now = 7000;
  const fresh = await snapshots.supervisorStates(f.client, 4001);
  assert.equal(fresh.startedAt, 7000);
  assert.ok(fresh.supervisors.has("b"));
  now = 8000;
  f.suspended.add("b");
  await snapshots.supervisor(f.client, "b"); // unknown flag: read alone once
  const listsBefore = f.calls.list;
  const fromShared = await snapshots.supervisor(f.client, "b", 3_000);
  assert.equal(fromShared.supervisor?.id, "b");
  assert.equal(f.calls.list, listsBefore, "served from the poll's list (1 s old, within the 3 s asked)");
});

test("listedSupervisor answers from the list with the stored flag, and never reads a supervisor alone", async () => {
  let now = 1000;
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000, now: () => now });
  const { client, calls, suspended } = fakeClient("http://d1");
  assert.equal(await snapshots.listedSupervisor(client, "a"), undefined, "the flag is not known yet: that takes a read of its own");
  assert.deepEqual(await snapshots.listedSupervisor(client, "gone"), { version: "33.0.0", supervisor: undefined }, "not listed: gone");
  suspended.add("a");
  await snapshots.supervisor(client, "a", undefined, () => true); // read alone: the flag is known
  now += 1;
  assert.deepEqual(await snapshots.listedSupervisor(client, "a"), { version: "33.0.0", supervisor: { ...running("a"), suspended: true } });
  assert.equal(calls.item, 1, "only the read asked for");
  assert.equal(calls.list, 1);
});
