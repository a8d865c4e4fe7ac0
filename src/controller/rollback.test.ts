import { test } from "node:test";
import assert from "node:assert/strict";
import type { DruidIngestion, DruidIngestionSpec, DruidIngestionStatus, JsonObject } from "../api/druid-ingestion.ts";
import type { LiveSupervisor } from "../druid/decode.ts";
import { renderIngestion, type DesiredSupervisor } from "./render.ts";
import { heldBack, lastKnownGoodDesired, lastKnownGoodPending, nextLastKnownGood, rollbackDue, rollbackSpecProblem, rollbackWindowMs } from "./rollback.ts";

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
/** The bad spec applied at T0, to a healthy supervisor, over a recorded last known good. */
const updated: DruidIngestionStatus = { specHash: bad.specHash, specAppliedTime: T0, specAppliedOnHealthy: true, lastKnownGood: lkg };
const withSpec = (l: LiveSupervisor, body: JsonObject): LiveSupervisor => ({ ...l, spec: body });

test("rollback: the window is asked for, with a default and bounds", () => {
  assert.equal(rollbackWindowMs(ingestion({ rollback: undefined })), undefined);
  assert.equal(rollbackWindowMs(ingestion({ rollback: { enabled: false, window: "1m" } })), undefined);
  assert.equal(rollbackWindowMs(ingestion({ rollback: { enabled: true } })), 600_000);
  assert.equal(rollbackWindowMs(ingestion({ rollback: { enabled: true, window: "1m30s" } })), 90_000);
  assert.equal(rollbackSpecProblem(ingestion({ rollback: { enabled: true, window: "1m30s" } })), undefined);
  for (const window of ["0s", "5s", "25h"]) {
    assert.equal(rollbackWindowMs(ingestion({ rollback: { enabled: true, window } })), undefined, window);
    assert.match(rollbackSpecProblem(ingestion({ rollback: { enabled: true, window } })) ?? "", /must be a duration from 10s to 24h/, window);
  }
});

test("rollback: when an update is rolled back, and when not", () => {
  const moved: JsonObject = { type: "kafka", spec: { dataSchema: { dataSource: "orders" }, ioConfig: { topic: "orders-v2", consumerProperties: { "bootstrap.servers": "bad:9092" } } } };
  const rows: Array<[string, DruidIngestionStatus, LiveSupervisor | undefined, { httpStatus: number } | undefined, string, string | undefined, Partial<DruidIngestionSpec>?]> = [
    // name, status, live, rejected (HTTP status), now → expected reason
    ["unhealthy 30 s after the update", updated, live(false), undefined, at(30), "Unhealthy"],
    ["unhealthy after the window: its own trouble, not the update's", updated, live(false), undefined, at(61), undefined],
    ["unhealthy, but the update was made to an unhealthy supervisor (it may be the fix)", { ...updated, specAppliedOnHealthy: false }, live(false), undefined, at(30), undefined],
    ["healthy within the window", updated, live(true), undefined, at(30), undefined],
    ["suspended", updated, live(false, "SUSPENDED", true), undefined, at(30), undefined],
    ["not reported", updated, undefined, undefined, at(30), undefined],
    ["Druid refused the update (400) while running the last known good", { ...updated, specHash: good.specHash }, live(true), { httpStatus: 400 }, at(5), "DruidRejected"],
    ["Druid refused the update while running another accepted spec: not replaced by an older one", { ...updated, specHash: "accepted-meanwhile" }, live(true), { httpStatus: 400 }, at(5), undefined],
    ["a 429 or 409 is not a refusal of the spec", { ...updated, specHash: good.specHash }, live(true), { httpStatus: 429 }, at(5), undefined],
    ["this spec already rolled back once (never flaps, whatever the generation)", { ...updated, rollback: { generation: 1, fromSpecHash: bad.specHash, toSpecHash: good.specHash, reason: "Unhealthy", message: "", time: T0 } }, live(false), undefined, at(30), undefined],
    ["a rollback of another spec does not hold this one", { ...updated, rollback: { generation: 1, fromSpecHash: "x", toSpecHash: good.specHash, reason: "Unhealthy", message: "", time: T0 } }, live(false), undefined, at(30), "Unhealthy"],
    ["no last known good", { ...updated, lastKnownGood: undefined }, live(false), undefined, at(30), undefined],
    ["the last known good is this spec", { ...updated, lastKnownGood: { ...lkg, specHash: bad.specHash, spec: bad.canonical } }, live(false), undefined, at(30), undefined],
    ["Druid runs another topic than the last known good (a recreate moved it): never rolled back across it", updated, withSpec(live(false), moved), undefined, at(30), undefined],
    ["rollback not asked", updated, live(false), undefined, at(30), undefined, { rollback: undefined }],
    ["the resource's spec is not applied yet (a failed submit that may have reached Druid)", { ...updated, specHash: good.specHash }, live(false), undefined, at(30), undefined],
  ];
  for (const [name, status, l, rejected, now, expected, spec] of rows) {
    const due = rollbackDue({ ingestion: ingestion({ ingestion: { type: "kafka", nativeSpec: kafka("bad:9092") }, ...spec }, status), desired: bad, live: l, rejected: rejected ? { reason: "DruidRejected", message: "HTTP 400: unknown inputFormat", httpStatus: rejected.httpStatus } : undefined, now });
    assert.equal(due?.reason, expected, name);
    if (due) {
      assert.deepEqual([due.generation, due.fromSpecHash, due.toSpecHash], [2, bad.specHash, good.specHash], name);
      assert.match(due.message, /is not applied again: change the spec to apply a fixed one, or set spec\.rollback\.enabled false/, name);
    }
  }
});

test("rollback: a held spec applies the last known good for the same supervisor only", () => {
  const held = ingestion({}, { lastKnownGood: lkg, rollback: { generation: 2, fromSpecHash: bad.specHash, toSpecHash: good.specHash, reason: "Unhealthy", message: "m", time: T0 } });
  assert.ok(heldBack(held, bad.specHash));
  assert.ok(heldBack(ingestion({}, held.status, 3), bad.specHash), "a suspend or resume (a new generation, the same spec) does not apply it again");
  assert.equal(heldBack(held, render("fixed:9092").specHash), undefined, "a changed spec is applied");
  const applied = lastKnownGoodDesired(bad, lkg);
  assert.equal(applied?.specHash, good.specHash);
  assert.deepEqual(applied?.body, good.body);
  const other = renderIngestion(ingestion({ ingestion: { type: "kafka", nativeSpec: { ...kafka("good:9092"), spec: { dataSchema: { dataSource: "clicks" }, ioConfig: { topic: "clicks" } } } } })) as DesiredSupervisor;
  assert.equal(lastKnownGoodDesired(other, lkg), undefined, "another datasource: not a stand-in");
  assert.equal(lastKnownGoodDesired(bad, { ...lkg, spec: `${lkg.spec} ` }), undefined, "a copy that does not match its hash is not used");
});

test("rollback: a spec becomes the last known good after running healthy, without a break, for the window", () => {
  const next = (status: DruidIngestionStatus, l: LiveSupervisor | undefined, now: string, healthySince: string | undefined = T0) => nextLastKnownGood({ ingestion: ingestion({}, status), next: status, desired: bad, live: l, healthySince, now });
  const applied: DruidIngestionStatus = { specHash: bad.specHash, specAppliedTime: T0, lastKnownGood: lkg };
  assert.equal(next(applied, live(true), at(30))?.specHash, good.specHash, "not yet: within the window");
  assert.equal(next(applied, live(true), at(60))?.specHash, bad.specHash, "healthy for the window");
  assert.equal(next(applied, live(true), at(60), at(45))?.specHash, good.specHash, "healthy again only 15 s ago: a break within the window");
  assert.equal(nextLastKnownGood({ ingestion: ingestion({}, applied), next: applied, desired: bad, live: live(true), healthySince: undefined, now: at(60) })?.specHash, good.specHash, "Healthy was not True before this reconcile");
  assert.equal(next(applied, live(false), at(90))?.specHash, good.specHash, "unhealthy now");
  assert.equal(next(applied, live(true, "PENDING"), at(90))?.specHash, good.specHash, "not running yet");
  assert.equal(next({ specHash: bad.specHash }, live(true), at(0), "2025-12-31T00:00:00Z")?.specHash, bad.specHash, "applied before apply times were recorded: counts as long ago");
  assert.equal(nextLastKnownGood({ ingestion: ingestion({ rollback: undefined }, applied), next: applied, desired: bad, live: live(true), healthySince: T0, now: at(90) }), undefined, "rollback off: none kept");
  assert.equal(lastKnownGoodPending(ingestion({}, applied), at(30)), true);
  assert.equal(lastKnownGoodPending(ingestion({}, applied), at(600)), false, "long after the window the drift checks record it, not every resync");
  assert.equal(lastKnownGoodPending(ingestion({}, { ...applied, lastKnownGood: { ...lkg, specHash: bad.specHash } }), at(30)), false);
});
