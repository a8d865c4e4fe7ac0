import { test } from "node:test";
import assert from "node:assert/strict";
import type { DruidClient } from "./client.ts";
import type { LiveSupervisor } from "./decode.ts";
import { DruidSnapshots } from "./snapshot.ts";

function fakeClient(baseUrl: string, user = "admin") {
  const calls = { list: 0 };
  let fail = false;
  const client = {
    target: { baseUrl, credentials: { username: user, password: "p" } },
    async version() { return "35.0.0"; },
    async listSupervisors(): Promise<LiveSupervisor[]> {
      calls.list++;
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error("down");
      return [{ id: "a", state: "RUNNING", detailedState: "RUNNING", healthy: true, suspended: false, spec: undefined }];
    },
  } as unknown as DruidClient;
  return { client, calls, setFail: (f: boolean) => { fail = f; } };
}

test("many resources on one cluster share one reading per period", async () => {
  let now = 1000;
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000, now: () => now });
  const { client, calls } = fakeClient("http://d1");
  await Promise.all(Array.from({ length: 50 }, (_, i) => snapshots.supervisors(client, `s${i}`)));
  assert.equal(calls.list, 1, "concurrent readers share one request");
  now += 30_000;
  await snapshots.supervisors(client, "s1");
  assert.equal(calls.list, 1, "still fresh");
  now += 31_000;
  await snapshots.supervisors(client, "s1");
  assert.equal(calls.list, 2, "refreshed after maxAge");
});

test("clusters and users are observed separately", async () => {
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000 });
  const a = fakeClient("http://d1");
  const b = fakeClient("http://d2");
  const c = fakeClient("http://d1", "other");
  await Promise.all([snapshots.supervisors(a.client, "x"), snapshots.supervisors(b.client, "x"), snapshots.supervisors(c.client, "x")]);
  assert.deepEqual([a.calls.list, b.calls.list, c.calls.list], [1, 1, 1]);
});

test("after a write, only that supervisor's next reading waits for a newer list", async () => {
  let now = 1000;
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000, now: () => now });
  const { client, calls } = fakeClient("http://d1");
  await snapshots.supervisors(client, "a");
  now += 10;
  snapshots.noteWrite(client, "supervisors", "a");
  await snapshots.supervisors(client, "b");
  assert.equal(calls.list, 1, "others keep using the reading");
  now += 10;
  await snapshots.supervisors(client, "a");
  assert.equal(calls.list, 2, "the written one asks again");
  await snapshots.supervisors(client, "a");
  assert.equal(calls.list, 2, "once");
});

test("a failed reading is not cached", async () => {
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000 });
  const f = fakeClient("http://d1");
  f.setFail(true);
  await assert.rejects(snapshots.supervisors(f.client, "a"), /down/);
  f.setFail(false);
  const reading = await snapshots.supervisors(f.client, "a");
  assert.equal(reading.supervisors.get("a")?.state, "RUNNING");
  assert.equal(f.calls.list, 2);
});
