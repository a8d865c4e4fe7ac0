import { test } from "node:test";
import assert from "node:assert/strict";
import type { DruidIngestion, DruidIngestionSpec, DruidIngestionStatus, JsonObject } from "../api/druid-ingestion.ts";
import type { LiveSupervisor } from "../druid/decode.ts";
import { renderIngestion, type DesiredSupervisor } from "./render.ts";
import { heldBack, lastKnownGoodDesired, lastKnownGoodPending, nextLastKnownGood, rollbackDue, rollbackWindowMs } from "./rollback.ts";

const kafka = (bootstrap: string): JsonObject => ({ type: "kafka", spec: { dataSchema: { dataSource: "orders" }, ioConfig: { topic: "orders", consumerProperties: { "bootstrap.servers": bootstrap } } } });
const ingestion = (spec: Partial<DruidIngestionSpec>, status: DruidIngestionStatus = {}, generation = 2): DruidIngestion => ({
  apiVersion: "druid.apache.org/v1alpha1",
  kind: "DruidIngestion",
  metadata: { name: "orders", namespace: "ns", uid: "u", generation, resourceVersion: "1" },
  spec: { druidCluster: "t", ingestion: { type: "kafka", nativeSpec: kafka("good:9092") }, rollback: { enabled: true, window: "60s" }, ...spec },
  status,
});
const render = (bootstrap: string): DesiredSupervisor => renderIngestion(ingestion({ ingestion: { type: "kafka", nativeSpec: kafka(bootstrap) } })) as DesiredSupervisor;
const good = render("good:9092");
const bad = render("bad:9092");
const lkg = { specHash: good.specHash, spec: good.canonical, recordedAt: "2026-01-01T00:00:00Z" };
const live = (healthy: boolean, state = healthy ? "RUNNING" : "UNHEALTHY_SUPERVISOR", suspended = false): LiveSupervisor => ({ id: "orders", state, detailedState: healthy ? state : "UNABLE_TO_CONNECT_TO_STREAM", healthy, suspended, spec: undefined });
const T0 = "2026-01-01T00:10:00Z";
const at = (seconds: number): string => new Date(Date.parse(T0) + seconds * 1000).toISOString();
/** The bad spec applied at T0 over a recorded last known good. */
const updated: DruidIngestionStatus = { specHash: bad.specHash, specAppliedTime: T0, lastKnownGood: lkg };

test("rollback: the window is asked for, with a default", () => {
  assert.equal(rollbackWindowMs(ingestion({ rollback: undefined })), undefined);
  assert.equal(rollbackWindowMs(ingestion({ rollback: { enabled: false, window: "1m" } })), undefined);
  assert.equal(rollbackWindowMs(ingestion({ rollback: { enabled: true } })), 600_000);
  assert.equal(rollbackWindowMs(ingestion({ rollback: { enabled: true, window: "1m30s" } })), 90_000);
});

test("rollback: when an update is rolled back, and when not", () => {
  const rows: Array<[string, DruidIngestionStatus, LiveSupervisor | undefined, string | undefined, string, Partial<DruidIngestionSpec>?]> = [
    // name, status, live, rejected message, now → expected reason
    ["unhealthy 30 s after the update", updated, live(false), undefined, at(30)],
    ["unhealthy after the window: its own trouble, not the update's", updated, live(false), undefined, at(61)],
    ["healthy within the window", updated, live(true), undefined, at(30)],
    ["suspended", updated, live(false, "SUSPENDED", true), undefined, at(30)],
    ["not reported", updated, undefined, undefined, at(30)],
    ["Druid refused the update", { ...updated, specHash: good.specHash }, live(true), "HTTP 400: unknown inputFormat", at(5)],
    ["already rolled back in this generation (never flaps)", { ...updated, rollback: { generation: 2, fromSpecHash: bad.specHash, toSpecHash: good.specHash, reason: "Unhealthy", message: "", time: T0 } }, live(false), undefined, at(30)],
    ["a rollback of an earlier generation does not hold this one", { ...updated, rollback: { generation: 1, fromSpecHash: "x", toSpecHash: good.specHash, reason: "Unhealthy", message: "", time: T0 } }, live(false), undefined, at(30)],
    ["no last known good", { ...updated, lastKnownGood: undefined }, live(false), undefined, at(30)],
    ["the last known good is this spec", { ...updated, lastKnownGood: { ...lkg, specHash: bad.specHash, spec: bad.canonical } }, live(false), undefined, at(30)],
    ["rollback not asked", updated, live(false), undefined, at(30), { rollback: undefined }],
    ["the resource's spec is not applied yet (a failed submit that may have reached Druid)", { ...updated, specHash: good.specHash }, live(false), undefined, at(30)],
  ];
  const expected = ["Unhealthy", undefined, undefined, undefined, undefined, "DruidRejected", undefined, "Unhealthy", undefined, undefined, undefined, undefined];
  rows.forEach(([name, status, l, rejected, now, spec], i) => {
    const due = rollbackDue({ ingestion: ingestion({ ingestion: { type: "kafka", nativeSpec: kafka("bad:9092") }, ...spec }, status), desired: bad, live: l, rejected: rejected ? { reason: "DruidRejected", message: rejected } : undefined, now });
    assert.equal(due?.reason, expected[i], name);
    if (due) {
      assert.deepEqual([due.generation, due.fromSpecHash, due.toSpecHash], [2, bad.specHash, good.specHash], name);
      assert.match(due.message, /generation 2 is not applied again: edit the resource/, name);
    }
  });
});

test("rollback: a held generation applies the last known good for the same supervisor only", () => {
  const held = ingestion({}, { lastKnownGood: lkg, rollback: { generation: 2, fromSpecHash: bad.specHash, toSpecHash: good.specHash, reason: "Unhealthy", message: "m", time: T0 } });
  assert.ok(heldBack(held));
  assert.equal(heldBack(ingestion({}, held.status, 3)), undefined, "a new generation is applied");
  const applied = lastKnownGoodDesired(bad, lkg);
  assert.equal(applied?.specHash, good.specHash);
  assert.deepEqual(applied?.body, good.body);
  const other = renderIngestion(ingestion({ ingestion: { type: "kafka", nativeSpec: { ...kafka("good:9092"), spec: { dataSchema: { dataSource: "clicks" }, ioConfig: { topic: "clicks" } } } } })) as DesiredSupervisor;
  assert.equal(lastKnownGoodDesired(other, lkg), undefined, "another datasource: not a stand-in");
  assert.equal(lastKnownGoodDesired(bad, { ...lkg, spec: `${lkg.spec} ` }), undefined, "a copy that does not match its hash is not used");
});

test("rollback: a spec becomes the last known good after running healthy for the window", () => {
  const next = (status: DruidIngestionStatus, l: LiveSupervisor | undefined, now: string) => nextLastKnownGood({ ingestion: ingestion({}, status), next: status, desired: bad, live: l, now });
  const applied: DruidIngestionStatus = { specHash: bad.specHash, specAppliedTime: T0, lastKnownGood: lkg };
  assert.equal(next(applied, live(true), at(30))?.specHash, good.specHash, "not yet: within the window");
  assert.equal(next(applied, live(true), at(60))?.specHash, bad.specHash, "healthy for the window");
  assert.equal(next(applied, live(false), at(90))?.specHash, good.specHash, "unhealthy now");
  assert.equal(next(applied, live(true, "PENDING"), at(90))?.specHash, good.specHash, "not running yet");
  assert.equal(next({ specHash: bad.specHash }, live(true), at(0))?.specHash, bad.specHash, "applied before this was recorded: counts as long ago");
  assert.equal(nextLastKnownGood({ ingestion: ingestion({ rollback: undefined }, applied), next: applied, desired: bad, live: live(true), now: at(90) }), undefined, "rollback off: none kept");
  assert.equal(lastKnownGoodPending(ingestion({}, applied)), true);
  assert.equal(lastKnownGoodPending(ingestion({}, { ...applied, lastKnownGood: { ...lkg, specHash: bad.specHash } })), false);
});
