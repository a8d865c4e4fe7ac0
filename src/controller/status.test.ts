import { test } from "node:test";
import assert from "node:assert/strict";
import type { DruidIngestion, DruidIngestionSpec, DruidIngestionStatus, JsonObject } from "../api/druid-ingestion.ts";
import type { LiveSupervisor } from "../druid/decode.ts";
import { findCondition } from "./conditions.ts";
import { renderIngestion, type DesiredSupervisor } from "./render.ts";
import { eventsFor, nextStatus, statusEquals, type StatusFacts } from "./status.ts";

const spec: JsonObject = { type: "kafka", spec: { dataSchema: { dataSource: "m" }, ioConfig: { topic: "m" } } };
const T0 = "2026-01-01T00:00:00Z";
const T1 = "2026-01-01T00:01:00Z";

function ing(s: Partial<DruidIngestionSpec> = {}, status?: DruidIngestionStatus): DruidIngestion {
  return {
    apiVersion: "druid.apache.org/v1alpha1", kind: "DruidIngestion",
    metadata: { name: "m", namespace: "ns", uid: "u", generation: 3, resourceVersion: "1" },
    spec: { druidCluster: "c", ingestion: { type: "kafka", nativeSpec: spec }, ...s },
    ...(status ? { status } : {}),
  };
}
const running: LiveSupervisor = { id: "m", state: "RUNNING", detailedState: "RUNNING", healthy: true, suspended: false, spec: { ...spec, suspended: false } };

function cond(status: DruidIngestionStatus, type: string): string {
  const c = findCondition(status.conditions, type);
  return c ? `${c.status}/${c.reason}` : "absent";
}

test("create: Synced, Ready waits for Druid, hashes and ids recorded, compat fields filled", () => {
  const i = ing({ resetNonce: "n" });
  const desired = renderIngestion(i) as DesiredSupervisor;
  const action = { kind: "submitSupervisor" as const, supervisorId: "m", spec: {}, cause: "Created" as const };
  const s = nextStatus({ ingestion: i, now: T0, desired, outcome: { executed: [action], druidSpecHash: "live" }, druidEndpoint: "http://d", configMapName: "cm" });
  assert.equal(s.observedGeneration, 3);
  assert.equal(s.specHash, desired.specHash);
  assert.equal(s.druidSpecHash, "live");
  assert.equal(s.supervisorId, "m");
  assert.equal(s.taskId, "m");
  assert.equal(s.lastResetNonce, "n", "a fresh supervisor consumes the nonce");
  assert.equal(s["currentIngestionSpec.json"], desired.canonical);
  assert.equal(cond(s, "Synced"), "True/Synced");
  assert.equal(cond(s, "Ready"), "Unknown/Applying");
  assert.equal(cond(s, "Suspended"), "False/Running");
  assert.equal(s.reason, "Synced");
  assert.equal(s.status, "True");
  assert.equal(s.lastUpdateTime, T0);
  assert.equal(findCondition(s.conditions, "Ready")?.observedGeneration, 3);
  assert.deepEqual(eventsFor(undefined, s, { executed: [action] }, false).map((e) => `${e.type}:${e.reason}`), ["Normal:Created"]);
});

test("steady state: same status, no lastUpdateTime bump, no events", () => {
  const i0 = ing();
  const desired = renderIngestion(i0);
  const facts = (i: DruidIngestion, now: string): StatusFacts => ({ ingestion: i, now, desired, outcome: { executed: [] }, supervisor: running });
  const first = nextStatus(facts(i0, T0));
  assert.equal(cond(first, "Ready"), "True/Running");
  const second = nextStatus(facts(ing({}, first), T1));
  assert.ok(statusEquals(first, second), "nothing changed");
  assert.equal(second.lastUpdateTime, T0);
  assert.deepEqual(eventsFor(first, second, { executed: [] }, false), []);
});

const readyRows: Array<[string, Partial<LiveSupervisor>, boolean, string]> = [
  ["suspended as wanted", { state: "SUSPENDED", suspended: true }, true, "True/Suspended"],
  ["suspended but should run", { state: "SUSPENDED", suspended: true }, false, "False/Suspended"],
  ["idle", { state: "IDLE" }, false, "True/Idle"],
  ["pending", { state: "PENDING" }, false, "False/Pending"],
  ["connecting (basic RUNNING)", { state: "RUNNING", detailedState: "CONNECTING_TO_STREAM" }, false, "True/Running"],
  ["unhealthy", { state: "UNHEALTHY_SUPERVISOR", detailedState: "UNABLE_TO_CONNECT_TO_STREAM", healthy: false }, false, "False/Unhealthy"],
];
for (const [name, patch, suspend, expected] of readyRows) {
  test(`Ready from Druid state: ${name}`, () => {
    const i = ing({ suspend });
    const s = nextStatus({ ingestion: i, now: T0, desired: renderIngestion(i), outcome: { executed: [] }, supervisor: { ...running, ...patch } });
    assert.equal(cond(s, "Ready"), expected);
    if (patch.detailedState) assert.equal(s.detailedState, patch.detailedState);
  });
}

test("a failure: Synced False with the reason, one Warning, recovery emits Synced", () => {
  const i = ing();
  const failed = nextStatus({ ingestion: i, now: T0, failure: { reason: "DruidUnauthorized", message: "GET /x: HTTP 401" } });
  assert.equal(cond(failed, "Synced"), "False/DruidUnauthorized");
  assert.equal(cond(failed, "Ready"), "False/DruidUnauthorized");
  assert.equal(failed.message, "GET /x: HTTP 401");
  assert.deepEqual(eventsFor(undefined, failed, undefined, false).map((e) => `${e.type}:${e.reason}:${e.message}`), ["Warning:DruidUnauthorized:GET /x: HTTP 401"]);
  const again = nextStatus({ ingestion: ing({}, failed), now: T1, failure: { reason: "DruidUnauthorized", message: "GET /x: HTTP 401" } });
  assert.deepEqual(eventsFor(failed, again, undefined, false), [], "the same failure is not repeated");
  const transient = nextStatus({ ingestion: i, now: T0, failure: { reason: "DruidUnreachable", message: "down", transient: true } });
  assert.equal(cond(transient, "Ready"), "Unknown/DruidUnreachable");
  const fixed = nextStatus({ ingestion: ing({}, failed), now: T1, desired: renderIngestion(i), outcome: { executed: [] }, supervisor: running });
  assert.equal(cond(fixed, "Synced"), "True/Synced");
  assert.deepEqual(eventsFor(failed, fixed, { executed: [] }, false).map((e) => e.reason), ["Synced"]);
});

test("a failed submit keeps the old hash so the next reconcile tries again", () => {
  const i = ing({}, { specHash: "old", druidSpecHash: "oldlive" });
  const desired = renderIngestion(i);
  const action = { kind: "submitSupervisor" as const, supervisorId: "m", spec: {}, cause: "Updated" as const };
  const s = nextStatus({ ingestion: i, now: T0, desired, supervisor: running, outcome: { executed: [], failed: { action, failure: { reason: "DruidRejected", message: "bad spec" } } } });
  assert.equal(s.specHash, "old");
  assert.equal(cond(s, "Synced"), "False/DruidRejected");
});

test("paused: only the Synced condition changes", () => {
  const i = ing({}, { specHash: "h", state: "RUNNING" });
  const s = nextStatus({ ingestion: i, now: T0, paused: true });
  assert.equal(cond(s, "Synced"), "False/ReconcilePaused");
  assert.equal(s.specHash, "h");
  assert.equal(s.state, "RUNNING");
  assert.deepEqual(eventsFor(i.status, s, undefined, false).map((e) => `${e.type}:${e.reason}`), ["Normal:ReconcilePaused"]);
});

test("a reset records the nonce; suspend action flips the Suspended condition", () => {
  const i = ing({ resetNonce: "n2", suspend: true }, { lastResetNonce: "n1" });
  const executed = [{ kind: "suspendSupervisor" as const, supervisorId: "m" }, { kind: "resetSupervisor" as const, supervisorId: "m", cause: "ResetNonce" as const }];
  const s = nextStatus({ ingestion: i, now: T0, desired: renderIngestion(i), supervisor: running, outcome: { executed } });
  assert.equal(s.lastResetNonce, "n2");
  assert.equal(cond(s, "Suspended"), "True/Suspended");
  assert.deepEqual(eventsFor(i.status, s, { executed }, false).map((e) => e.reason), ["Suspended", "Reset"]);
});

test("compaction part failure shows on its own condition and Synced", () => {
  const i = ing({ ingestion: { type: "kafka", nativeSpec: spec, compaction: { a: 1 } } });
  const action = { kind: "submitCompaction" as const, dataSource: "m", config: {}, cause: "Created" as const };
  const s = nextStatus({ ingestion: i, now: T0, desired: renderIngestion(i), supervisor: running, outcome: { executed: [], failed: { action, failure: { reason: "DruidRejected", message: "no" } } } });
  assert.equal(cond(s, "CompactionSynced"), "False/DruidRejected");
  assert.equal(cond(s, "Synced"), "False/DruidRejected");
  assert.equal(cond(s, "RulesSynced"), "absent");
});
