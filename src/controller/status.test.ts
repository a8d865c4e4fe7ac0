import { test } from "node:test";
import assert from "node:assert/strict";
import type { AppliedRecord, DruidIngestion, DruidIngestionSpec, DruidIngestionStatus, JsonObject } from "../api/druid-ingestion.ts";
import type { LiveSupervisor } from "../druid/decode.ts";
import { findCondition } from "./conditions.ts";
import type { DruidAction, Outcome } from "./model.ts";
import type { OwnershipDecision, Target } from "./ownership.ts";
import { renderIngestion, type DesiredIngestion } from "./render.ts";
import { awaitsStateChange, eventsFor, healthyCondition, isTransitional, MAX_STATUS_COPY_BYTES, nextStatus, reasonOf, statusEquals, type StatusFacts } from "./status.ts";

const spec: JsonObject = { type: "kafka", spec: { dataSchema: { dataSource: "m" }, ioConfig: { topic: "m" } } };
const T0 = "2026-01-01T00:00:00Z";
const T1 = "2026-01-01T00:01:00Z";
const E1 = "http://druid-a.ns.svc:8088";
const E2 = "http://druid-b.ns.svc:8088";

function ing(s: Partial<DruidIngestionSpec> = {}, status?: DruidIngestionStatus): DruidIngestion {
  return {
    apiVersion: "druid.apache.org/v1alpha1", kind: "DruidIngestion",
    metadata: { name: "m", namespace: "ns", uid: "u", generation: 3, resourceVersion: "1" },
    spec: { druidCluster: "c", ingestion: { type: "kafka", nativeSpec: spec }, ...s },
    ...(status ? { status } : {}),
  };
}
const running: LiveSupervisor = { id: "m", state: "RUNNING", detailedState: "RUNNING", healthy: true, suspended: false, spec: { ...spec, suspended: false } };
const pending: LiveSupervisor = { ...running, state: "PENDING", detailedState: "PENDING" };
const targetOf = (desired: DesiredIngestion, endpoint = E1): Target => ({ druidEndpoint: endpoint, endpointSource: "RouterService", kind: desired.kind, dataSource: desired.dataSource, ...(desired.kind === "supervisor" ? { supervisorId: desired.supervisorId } : {}) });
const recordM: AppliedRecord = { druidEndpoint: E1, endpointSource: "RouterService", supervisorId: "m", dataSource: "m", origin: "Created" };

function cond(status: DruidIngestionStatus, type: string): string {
  const c = findCondition(status.conditions, type);
  return c ? `${c.status}/${c.reason}` : "absent";
}

/** Facts of a reconcile that managed its target. */
function managed(i: DruidIngestion, decision: OwnershipDecision, extra: Partial<StatusFacts> = {}): StatusFacts {
  const desired = renderIngestion(i);
  return { ingestion: i, now: T0, desired, target: targetOf(desired), record: i.status?.applied, decision, observed: { druidVersion: "33.0.0" }, outcome: { executed: [] }, ...extra };
}

const created = (i: DruidIngestion): DruidAction => ({ kind: "submitSupervisor", supervisorId: "m", spec: {}, cause: "Created" });

test("create: the record is written once Druid accepted, with Druid's state read after the write", () => {
  const i = ing({ resetNonce: "n" }, { pendingCreate: { druidEndpoint: E1, supervisorId: "m", since: T0 } });
  const desired = renderIngestion(i);
  const outcome: Outcome = { executed: [created(i)], druidSpecHash: "live", supervisorAfter: pending };
  const s = nextStatus(managed(i, { kind: "create" }, { outcome, configMap: { name: "cm" } }));
  assert.deepEqual(s.applied, { druidEndpoint: E1, endpointSource: "RouterService", supervisorId: "m", dataSource: "m", origin: "Created" });
  assert.equal(s.pendingCreate, undefined, "the pending create is done with");
  assert.equal(s.observedGeneration, 3);
  assert.equal(s.specHash, desired.specHash);
  assert.equal(s.druidSpecHash, "live");
  assert.equal(s.supervisorId, "m");
  assert.equal(s.taskId, "m", "druid-operator compatible: taskId holds the supervisor id");
  assert.equal(s.druidEndpoint, E1);
  assert.equal(s.lastResetNonce, "n", "a fresh supervisor consumes the nonce");
  assert.equal(s["currentIngestionSpec.json"], desired.canonical);
  assert.equal(s.state, "PENDING", "the state is the one read after the create, not before it");
  assert.equal(cond(s, "Synced"), "True/Synced");
  assert.equal(cond(s, "Ready"), "False/Pending");
  assert.equal(cond(s, "Suspended"), "False/Running");
  assert.equal(cond(s, "ConfigMapSynced"), "True/Applied");
  assert.equal(s.reason, "Synced");
  assert.equal(s.lastUpdateTime, T0);
  assert.deepEqual(eventsFor(undefined, s, outcome).map((e) => `${e.type}:${e.reason}`), ["Normal:Created"]);
});

test("create refused by Druid: no record, the pending create is dropped (nothing was created)", () => {
  const i = ing({}, { pendingCreate: { druidEndpoint: E1, supervisorId: "m", since: T0 } });
  const outcome: Outcome = { executed: [], failed: { action: created(i), failure: { reason: "DruidRejected", message: "bad spec" }, ambiguous: false } };
  const s = nextStatus(managed(i, { kind: "create" }, { outcome }));
  assert.equal(s.applied, undefined);
  assert.equal(s.supervisorId, undefined, "the resource owns nothing: nothing to show, nothing to delete");
  assert.equal(s.pendingCreate, undefined);
  assert.equal(cond(s, "Synced"), "False/DruidRejected");
});

test("create with a lost outcome (timeout, 5xx): no record, but the pending create stays", () => {
  const i = ing({}, { pendingCreate: { druidEndpoint: E1, supervisorId: "m", since: T0 } });
  const outcome: Outcome = { executed: [], failed: { action: created(i), failure: { reason: "DruidTimeout", message: "timed out", transient: true }, ambiguous: true } };
  const s = nextStatus(managed(i, { kind: "create" }, { outcome }));
  assert.equal(s.applied, undefined);
  assert.deepEqual(s.pendingCreate, { druidEndpoint: E1, supervisorId: "m", since: T0 });
  assert.equal(cond(s, "Ready"), "Unknown/DruidTimeout");
});

test("a failed update keeps the record and the old hash so the next reconcile tries again", () => {
  const i = ing({}, { applied: recordM, specHash: "old", druidSpecHash: "oldlive" });
  const action: DruidAction = { kind: "submitSupervisor", supervisorId: "m", spec: {}, cause: "Updated" };
  const s = nextStatus(managed(i, { kind: "owned", record: recordM }, { observed: { druidVersion: "33.0.0", supervisor: running }, outcome: { executed: [], failed: { action, failure: { reason: "DruidRejected", message: "bad spec" }, ambiguous: false } } }));
  assert.equal(s.specHash, "old");
  assert.deepEqual(s.applied, recordM);
  assert.equal(cond(s, "Synced"), "False/DruidRejected");
});

test("steady state: same status, no lastUpdateTime bump, no events", () => {
  const i0 = ing({}, { applied: recordM });
  const facts = (i: DruidIngestion, now: string): StatusFacts => ({ ...managed(i, { kind: "owned", record: recordM }), now, observed: { druidVersion: "33.0.0", supervisor: running } });
  const first = nextStatus(facts(i0, T0));
  assert.equal(cond(first, "Ready"), "True/Running");
  const second = nextStatus(facts(ing({}, first), T1));
  assert.ok(statusEquals(first, second), "nothing changed");
  assert.equal(second.lastUpdateTime, T0);
  assert.deepEqual(eventsFor(first, second, { executed: [] }), []);
});

test("older forms of the record become status.applied: this controller's and the druid-operator's (with an Adopted Event)", () => {
  const legacy = ing({}, { specHash: renderIngestion(ing()).specHash, supervisorId: "m", druidEndpoint: E1 });
  const fromLegacy = nextStatus(managed(legacy, { kind: "owned", record: { druidEndpoint: E1, supervisorId: "m", origin: "Created" } }, { observed: { druidVersion: "33.0.0", supervisor: running } }));
  assert.equal(fromLegacy.applied?.supervisorId, "m");
  assert.equal(fromLegacy.applied?.origin, "Created");
  assert.equal(fromLegacy.druidSpecHash !== undefined, true, "baseline of Druid's copy recorded");
  assert.deepEqual(eventsFor(legacy.status, fromLegacy, { executed: [] }), []);

  const operator = ing({}, { taskId: "m", "currentIngestionSpec.json": JSON.stringify(spec) });
  const opRecord: AppliedRecord = { druidEndpoint: E1, endpointSource: "RouterService", supervisorId: "m", dataSource: "m", origin: "DruidOperator" };
  const taken = nextStatus(managed(operator, { kind: "owned", record: opRecord }, { plan: { actions: [], specTakenOver: true }, observed: { druidVersion: "33.0.0", supervisor: running } }));
  assert.equal(taken.applied?.origin, "DruidOperator");
  assert.equal(taken.specHash, renderIngestion(operator).specHash, "taken over without a POST");
  assert.equal(taken.taskId, "m");
  assert.match(findCondition(taken.conditions, "Synced")?.message ?? "", /taken over from the druid-operator/);
  assert.deepEqual(eventsFor(operator.status, taken, { executed: [] }).map((e) => e.reason), ["Adopted"]);
  const again = nextStatus({ ...managed(ing({}, taken), { kind: "owned", record: taken.applied as AppliedRecord }), observed: { druidVersion: "33.0.0", supervisor: running }, now: T1 });
  assert.deepEqual(eventsFor(taken, again, { executed: [] }), [], "announced once");
});

test("a task's record keeps the id Druid gave it", () => {
  const i = ing({ ingestion: { type: "sql", nativeSpec: { query: "INSERT INTO x SELECT 1 PARTITIONED BY ALL" } } });
  const desired = renderIngestion(i);
  const action: DruidAction = { kind: "submitTask", taskId: desired.kind === "task" ? desired.taskId : "", spec: {}, sql: true, cause: "Created" };
  const s = nextStatus({ ...managed(i, { kind: "create" }), outcome: { executed: [action], submittedTaskId: "query-from-druid" } });
  assert.equal(s.applied?.taskId, "query-from-druid");
  assert.equal(s.taskId, "query-from-druid");
  assert.equal(cond(s, "Ready"), "Unknown/TaskSubmitted");
  assert.equal(cond(s, "Suspended"), "absent");
});

test("a move: confirmed removal takes the old supervisor out of the record; the new one comes next", () => {
  const i = ing({}, { applied: recordM, specHash: "h", druidSpecHash: "l", compactionHash: "c", druidCompactionHash: "lc", state: "RUNNING", "currentIngestionSpec.json": "{}" });
  const executed: DruidAction[] = [{ kind: "terminateSupervisor", supervisorId: "m", cause: "Moved" }, { kind: "deleteCompaction", dataSource: "m", cause: "Moved" }];
  const desired = renderIngestion(i);
  const removal = { actions: executed, forget: { main: false, compaction: false, rules: false } };
  const s = nextStatus({ ingestion: i, now: T0, desired, target: targetOf(desired, E2), record: recordM, decision: { kind: "move", from: recordM }, removal, outcome: { executed } });
  for (const key of ["applied", "specHash", "druidSpecHash", "compactionHash", "druidCompactionHash", "supervisorId", "taskId", "druidEndpoint", "state", "currentIngestionSpec.json"] as const) {
    assert.equal(s[key], undefined, key);
  }
  assert.equal(cond(s, "Synced"), "False/Moving");
  assert.match(findCondition(s.conditions, "Synced")?.message ?? "", /removed supervisor m on http:\/\/druid-a.*druid-b/);
  assert.deepEqual(eventsFor(i.status, s, { executed }).map((e) => `${e.type}:${e.reason}`), ["Normal:Terminated", "Normal:CompactionDeleted", "Normal:Moving"]);
});

test("a move whose old endpoint is unreachable changes nothing in the record and says why", () => {
  const i = ing({}, { applied: recordM, specHash: "h" });
  const desired = renderIngestion(i);
  const failed = { action: { kind: "terminateSupervisor", supervisorId: "m", cause: "Moved" } as DruidAction, failure: { reason: "DruidUnreachable", message: "POST .../terminate: cannot reach Druid", transient: true }, ambiguous: true };
  const removal = { actions: [failed.action], forget: { main: false, compaction: false, rules: false } };
  const s = nextStatus({ ingestion: i, now: T0, desired, target: { ...targetOf(desired, E2), dataSource: "other" }, record: recordM, decision: { kind: "move", from: recordM }, removal, outcome: { executed: [], failed } });
  assert.deepEqual(s.applied, recordM);
  assert.equal(s.specHash, "h");
  assert.equal(cond(s, "Synced"), "False/DruidUnreachable");
});

test("only the parts of an unchanged supervisor moved: the supervisor stays recorded under the new datasource", () => {
  const i = ing({}, { applied: recordM, specHash: "h", rulesHash: "r" });
  const desired = renderIngestion(i);
  const executed: DruidAction[] = [{ kind: "clearRules", dataSource: "m", cause: "Moved" }];
  const s = nextStatus({ ingestion: i, now: T0, desired, target: { ...targetOf(desired), dataSource: "m2" }, record: recordM, decision: { kind: "move", from: recordM }, removal: { actions: executed, forget: { main: false, compaction: false, rules: false } }, outcome: { executed } });
  assert.deepEqual(s.applied, { ...recordM, dataSource: "m2" });
  assert.equal(s.rulesHash, undefined);
});

test("a move that removed the supervisor but not yet its parts keeps a parts-only record (nothing is forgotten, nothing created)", () => {
  const i = ing({}, { applied: recordM, specHash: "h", compactionHash: "c", rulesHash: "r" });
  const desired = renderIngestion(i);
  const executed: DruidAction[] = [{ kind: "terminateSupervisor", supervisorId: "m", cause: "Moved" }];
  const removal = { actions: [...executed, { kind: "deleteCompaction", dataSource: "m", cause: "Moved" } as DruidAction], forget: { main: false, compaction: false, rules: false } };
  const failed = { action: removal.actions[1] as DruidAction, failure: { reason: "DruidUnreachable", message: "coordinator down", transient: true }, ambiguous: true };
  const s = nextStatus({ ingestion: i, now: T0, desired, target: targetOf(desired, E2), record: recordM, decision: { kind: "move", from: recordM }, removal, outcome: { executed, failed } });
  assert.deepEqual(s.applied, { druidEndpoint: E1, endpointSource: "RouterService", dataSource: "m", origin: "Created" });
  assert.equal(s.compactionHash, "c");
  assert.equal(s.rulesHash, "r");
  assert.equal(s.specHash, undefined);
});

test("a move under deletionPolicy Orphan lets go of the old record without a call", () => {
  const i = ing({ deletionPolicy: "Orphan" }, { applied: recordM, specHash: "h", rulesHash: "r" });
  const desired = renderIngestion(i);
  const s = nextStatus({ ingestion: i, now: T0, desired, target: targetOf(desired, E2), record: recordM, decision: { kind: "move", from: recordM }, removal: { actions: [], forget: { main: true, compaction: false, rules: true } }, outcome: { executed: [] } });
  assert.equal(s.applied, undefined);
  assert.equal(s.rulesHash, undefined);
});

test("standing down: nothing recorded changes, no live state is shown; a lost race drops the record", () => {
  const i = ing({}, { pendingCreate: { druidEndpoint: E1, supervisorId: "m", since: T0 } });
  const failure = { reason: "SupervisorExists", message: "supervisor m already exists" };
  const s = nextStatus(managed(i, { kind: "standDown", failure, dropRecord: false }));
  assert.equal(cond(s, "Synced"), "False/SupervisorExists");
  assert.equal(cond(s, "Ready"), "False/SupervisorExists");
  assert.equal(s.pendingCreate, undefined, "not creating it after all");
  assert.equal(s.state, undefined);
  assert.deepEqual(eventsFor(i.status, s, undefined).map((e) => `${e.type}:${e.reason}`), ["Warning:SupervisorExists"]);

  const racer = ing({}, { applied: recordM, specHash: "h", compactionHash: "c" });
  const lost = nextStatus(managed(racer, { kind: "standDown", failure: { reason: "SupervisorConflict", message: "older" }, dropRecord: true }));
  assert.equal(lost.applied, undefined);
  assert.equal(lost.compactionHash, undefined);
  assert.equal(lost.supervisorId, undefined);
});

test("observe: Druid's state is reported, nothing is recorded as applied", () => {
  const i = ing({ managementPolicy: "Observe" });
  const s = nextStatus({ ...managed(i, { kind: "observe", record: undefined }), plan: { actions: [{ kind: "submitSupervisor", supervisorId: "m", spec: {}, cause: "Updated" }] }, observed: { druidVersion: "33.0.0", supervisor: running } });
  assert.equal(s.applied, undefined);
  assert.equal(s.state, "RUNNING");
  assert.equal(cond(s, "Synced"), "Unknown/Observing");
  assert.match(findCondition(s.conditions, "Synced")?.message ?? "", /never changed; managing it would now submitSupervisor/);
  assert.equal(cond(s, "Ready"), "True/Running");
  assert.deepEqual(eventsFor(undefined, s, undefined), []);
  const missing = nextStatus({ ...managed(i, { kind: "observe", record: undefined }), observed: { druidVersion: "33.0.0" } });
  assert.equal(cond(missing, "Ready"), "False/NotFound");
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
    const i = ing({ suspend }, { applied: recordM });
    const s = nextStatus({ ...managed(i, { kind: "owned", record: recordM }), observed: { druidVersion: "33.0.0", supervisor: { ...running, ...patch } } });
    assert.equal(cond(s, "Ready"), expected);
    if (patch.detailedState) assert.equal(s.detailedState, patch.detailedState);
  });
}

test("a failure: Synced False with the reason, one Warning, recovery emits Synced", () => {
  const i = ing();
  const failed = nextStatus({ ingestion: i, now: T0, stop: { reason: "DruidUnauthorized", message: "GET /x: HTTP 401" } });
  assert.equal(cond(failed, "Synced"), "False/DruidUnauthorized");
  assert.equal(cond(failed, "Ready"), "False/DruidUnauthorized");
  assert.equal(failed.message, "GET /x: HTTP 401");
  assert.deepEqual(eventsFor(undefined, failed, undefined).map((e) => `${e.type}:${e.reason}:${e.message}`), ["Warning:DruidUnauthorized:GET /x: HTTP 401"]);
  const again = nextStatus({ ingestion: ing({}, failed), now: T1, stop: { reason: "DruidUnauthorized", message: "GET /x: HTTP 401" } });
  assert.deepEqual(eventsFor(failed, again, undefined), [], "the same failure is not repeated");
  const transient = nextStatus({ ingestion: i, now: T0, stop: { reason: "DruidUnreachable", message: "down", transient: true } });
  assert.equal(cond(transient, "Ready"), "Unknown/DruidUnreachable");
  const fixed = nextStatus({ ...managed(ing({}, failed), { kind: "create" }), outcome: { executed: [created(i)], supervisorAfter: running } });
  assert.equal(cond(fixed, "Synced"), "True/Synced");
  assert.deepEqual(eventsFor(failed, fixed, { executed: [] }).map((e) => e.reason), ["Synced"]);
});

test("a stop keeps everything recorded", () => {
  const i = ing({}, { applied: recordM, specHash: "h", state: "RUNNING" });
  const s = nextStatus({ ingestion: i, now: T0, stop: { reason: "SecretNotFound", message: "Secret ns/x not found" } });
  assert.deepEqual(s.applied, recordM);
  assert.equal(s.supervisorId, "m");
  assert.equal(s.state, "RUNNING");
});

test("paused: only the Synced condition changes", () => {
  const i = ing({}, { specHash: "h", state: "RUNNING" });
  const s = nextStatus({ ingestion: i, now: T0, paused: true });
  assert.equal(cond(s, "Synced"), "False/ReconcilePaused");
  assert.equal(s.specHash, "h");
  assert.equal(s.state, "RUNNING");
  assert.deepEqual(eventsFor(i.status, s, undefined).map((e) => `${e.type}:${e.reason}`), ["Normal:ReconcilePaused"]);
});

test("a reset records the nonce; the state read after the writes sets Suspended", () => {
  const i = ing({ resetNonce: "n2", suspend: true }, { applied: recordM, lastResetNonce: "n1" });
  const executed: DruidAction[] = [{ kind: "suspendSupervisor", supervisorId: "m" }, { kind: "resetSupervisor", supervisorId: "m", cause: "ResetNonce" }];
  const s = nextStatus({ ...managed(i, { kind: "owned", record: recordM }), observed: { druidVersion: "33.0.0", supervisor: running }, outcome: { executed, supervisorAfter: { ...running, suspended: true, state: "SUSPENDED" } } });
  assert.equal(s.lastResetNonce, "n2");
  assert.equal(cond(s, "Suspended"), "True/Suspended");
  assert.equal(cond(s, "Ready"), "True/Suspended");
  assert.deepEqual(eventsFor(i.status, s, { executed }).map((e) => e.reason), ["Suspended", "Reset"]);
});

test("compaction: a part failure shows on its own condition and Synced; a stand-down too", () => {
  const i = ing({ ingestion: { type: "kafka", nativeSpec: spec, compaction: { a: 1 } } }, { applied: recordM });
  const action: DruidAction = { kind: "submitCompaction", dataSource: "m", config: {}, cause: "Created" };
  const s = nextStatus({ ...managed(i, { kind: "owned", record: recordM }), observed: { druidVersion: "33.0.0", supervisor: running }, outcome: { executed: [], failed: { action, failure: { reason: "DruidRejected", message: "no" }, ambiguous: false } } });
  assert.equal(cond(s, "CompactionSynced"), "False/DruidRejected");
  assert.equal(cond(s, "Synced"), "False/DruidRejected");
  assert.equal(cond(s, "RulesSynced"), "absent");
  const standDown = { reason: "CompactionConfigExists", message: "datasource m already has a compaction config" };
  const left = nextStatus({ ...managed(i, { kind: "owned", record: recordM }), plan: { actions: [], compactionStandDown: standDown }, observed: { druidVersion: "33.0.0", supervisor: running } });
  assert.equal(cond(left, "CompactionSynced"), "False/CompactionConfigExists");
  assert.equal(cond(left, "Synced"), "False/CompactionConfigExists");
  assert.equal(left.compactionHash, undefined);
});

test("a compaction config taken over is recorded with Druid's hash, without a POST", () => {
  const i = ing({ ingestion: { type: "kafka", nativeSpec: spec, compaction: { a: 1 } } }, { applied: recordM });
  const s = nextStatus({ ...managed(i, { kind: "owned", record: recordM }), plan: { actions: [], compactionTakenOver: { hash: "want", liveHash: "druid" } }, observed: { druidVersion: "33.0.0", supervisor: running } });
  assert.equal(s.compactionHash, "want");
  assert.equal(s.druidCompactionHash, "druid");
  assert.equal(cond(s, "CompactionSynced"), "True/Synced");
});

test("ConfigMap failures are a condition and a Warning, never a stop", () => {
  const i = ing({}, { applied: recordM });
  const s = nextStatus({ ...managed(i, { kind: "owned", record: recordM }), observed: { druidVersion: "33.0.0", supervisor: running }, configMap: { name: "m-druid-spec", failure: { reason: "ConfigMapApplyFailed", message: "could not apply ConfigMap m-druid-spec (HTTP 403: exceeded quota)" } } });
  assert.equal(cond(s, "ConfigMapSynced"), "False/ConfigMapApplyFailed");
  assert.equal(cond(s, "Synced"), "True/Synced");
  assert.deepEqual(eventsFor(i.status, s, { executed: [] }).map((e) => `${e.type}:${e.reason}`), ["Warning:ConfigMapApplyFailed"]);
});

test("status copies of a huge spec are left out, so the object stays below etcd's limit", () => {
  const big = { ...spec, blob: "x".repeat(MAX_STATUS_COPY_BYTES + 1) };
  const i = ing({ ingestion: { type: "kafka", nativeSpec: big } });
  const s = nextStatus({ ...managed(i, { kind: "create" }), outcome: { executed: [created(i)] } });
  assert.equal(s["currentIngestionSpec.json"], undefined);
  assert.ok(s.specHash);
  assert.ok(JSON.stringify(s).length < 20_000);
});

test("a status awaiting a state change is read fresh: by Ready, or by a transitional state Ready does not show", () => {
  const ready = (reason: string, status: "True" | "False" = "False") => [{ type: "Ready", status, reason, message: "", lastTransitionTime: T0 }];
  const table: Array<[string, DruidIngestionStatus, boolean]> = [
    ["no status yet (nothing to wait for: unrecorded is read fresh anyway)", {}, false],
    ["Ready Pending", { conditions: ready("Pending") }, true],
    ["Ready Applying", { conditions: ready("Applying") }, true],
    ["Ready Stopping", { conditions: ready("Stopping") }, true],
    ["running", { state: "RUNNING", detailedState: "RUNNING", conditions: ready("Running", "True") }, false],
    ["suspended as asked, Druid still PENDING", { state: "PENDING", detailedState: "PENDING", conditions: ready("Suspended", "True") }, true],
    ["suspended as asked and SUSPENDED", { state: "SUSPENDED", detailedState: "SUSPENDED", conditions: ready("Suspended", "True") }, false],
    ["running, creating tasks", { state: "RUNNING", detailedState: "CREATING_TASKS", conditions: ready("Running", "True") }, true],
    ["unhealthy (a stable state: resync)", { state: "UNHEALTHY_SUPERVISOR", conditions: ready("Unhealthy") }, false],
    // Suspending (Druid 33 shows RUNNING before SUSPENDED) is left to the state poller: the
    // Suspended condition is not kept for Observe, and a stale one would mean single reads for ever.
    ["stored suspended, Druid still RUNNING (the poller's)", { state: "RUNNING", detailedState: "CONNECTING_TO_STREAM", conditions: [...ready("Suspended", "True"), suspendedCondition("True")] }, false],
  ];
  for (const [name, status, expected] of table) assert.equal(awaitsStateChange(status), expected, name);
});

const suspendedCondition = (status: "True" | "False") => ({ type: "Suspended", status, reason: status === "True" ? "Suspended" : "Running", message: "", lastTransitionTime: T0 });

test("transitional supervisor states, with and without the stored suspended flag", () => {
  const table: Array<[string, Parameters<typeof isTransitional>[0], boolean]> = [
    ["absent", undefined, true],
    ["no state", { state: undefined, detailedState: undefined }, true],
    ["PENDING", { state: "PENDING", detailedState: "PENDING" }, true],
    ["STOPPING", { state: "STOPPING", detailedState: "STOPPING" }, true],
    ["creating tasks", { state: "RUNNING", detailedState: "CREATING_TASKS" }, true],
    ["running", { state: "RUNNING", detailedState: "RUNNING" }, false],
    ["running, flag unknown", { state: "RUNNING", detailedState: "CONNECTING_TO_STREAM" }, false],
    ["running while stored suspended: suspending", { state: "RUNNING", detailedState: "CONNECTING_TO_STREAM", suspended: true }, true],
    ["suspended while stored running: resuming", { state: "SUSPENDED", detailedState: "SUSPENDED", suspended: false }, true],
    ["suspended, stored suspended", { state: "SUSPENDED", detailedState: "SUSPENDED", suspended: true }, false],
    ["unhealthy while stored suspended (never ran: stable)", { state: "UNHEALTHY_SUPERVISOR", detailedState: "UNABLE_TO_CONNECT_TO_STREAM", suspended: true }, false],
  ];
  for (const [name, live, expected] of table) assert.equal(isTransitional(live), expected, name);
});

test("Healthy is Druid's own flag; False names Druid's state and its newest error (#12)", () => {
  const live = (over: Partial<LiveSupervisor>): LiveSupervisor => ({ id: "s", state: "RUNNING", detailedState: "RUNNING", healthy: true, suspended: false, spec: undefined, ...over });
  const cases: Array<[string, LiveSupervisor | undefined, Array<{ timestamp?: string; exceptionClass?: string; message: string }> | undefined, string, RegExp]> = [
    ["not listed", undefined, undefined, "Unknown/NotReported", /does not report/],
    ["no flag", live({ healthy: undefined }), undefined, "Unknown/NotReported", /without saying/],
    ["running", live({}), undefined, "True/Healthy", /healthy: RUNNING$/],
    ["suspended", live({ state: "SUSPENDED", detailedState: "SUSPENDED", suspended: true }), undefined, "True/Suspended", /suspended and runs nothing$/],
    ["suspended, Druid still unhealthy from before", live({ state: "UNHEALTHY_TASKS", detailedState: "UNHEALTHY_TASKS", healthy: false, suspended: true }), undefined, "True/Suspended", /runs nothing \(Druid still reports UNHEALTHY_TASKS from before\)/],
    ["stream unreachable", live({ state: "UNHEALTHY_SUPERVISOR", detailedState: "UNABLE_TO_CONNECT_TO_STREAM", healthy: false }), [{ timestamp: "t2", exceptionClass: "E", message: "newest" }, { message: "older" }], "False/UnableToConnectToStream", /UNHEALTHY_SUPERVISOR \(UNABLE_TO_CONNECT_TO_STREAM\); its newest error: E: newest$/],
    ["tasks failing, no text", live({ state: "UNHEALTHY_TASKS", detailedState: "UNHEALTHY_TASKS", healthy: false }), [], "False/UnhealthyTasks", /gave no error text/],
  ];
  for (const [what, supervisor, errors, expected, message] of cases) {
    const c = healthyCondition(supervisor, errors);
    assert.equal(`${c.status}/${c.reason}`, expected, what);
    assert.match(c.message, message, what);
  }
  const unread = healthyCondition(live({ state: "UNHEALTHY_SUPERVISOR", healthy: false }), undefined, true);
  assert.match(unread.message, /could not be read .* asked again at the next resync$/);
  assert.equal(reasonOf("LOST_CONTACT_WITH_STREAM"), "LostContactWithStream");
  assert.equal(reasonOf(""), "Unhealthy");
  assert.equal(reasonOf("9_LIVES"), "State9Lives", "a letter first, as Kubernetes wants");
  assert.equal(reasonOf(`X_${"Y".repeat(500)}`).length, 64);
});

test("paused: health is not known; stopped: a healthy supervisor is not vouched for, an unhealthy one stays so; nothing else recorded is lost (#12)", () => {
  const condition = (status: "True" | "False") => ({ type: "Healthy", status, reason: status === "False" ? "UnhealthyTasks" : "Healthy", message: "m", lastTransitionTime: T0, observedGeneration: 1 });
  const i = ing({}, { applied: recordM, specHash: "h", state: "UNHEALTHY_TASKS", healthy: false, recentErrors: [{ message: "x" }], conditions: [condition("False")] });
  const paused = nextStatus({ ingestion: i, now: T0, paused: true });
  assert.equal(cond(paused, "Healthy"), "Unknown/NotObserved");
  assert.match(findCondition(paused.conditions, "Healthy")?.message ?? "", /paused/);
  assert.deepEqual([paused.healthy, paused.recentErrors, paused.state], [undefined, undefined, "UNHEALTHY_TASKS"]);
  const stop = { reason: "DruidUnreachable", message: "cannot reach Druid", transient: true };
  const stillUnhealthy = nextStatus({ ingestion: i, now: T0, stop });
  assert.equal(cond(stillUnhealthy, "Healthy"), "False/UnhealthyTasks");
  assert.deepEqual([stillUnhealthy.healthy, stillUnhealthy.recentErrors], [false, [{ message: "x" }]]);
  const wasHealthy = ing({}, { applied: recordM, specHash: "h", state: "RUNNING", healthy: true, conditions: [condition("True")] });
  const stopped = nextStatus({ ingestion: wasHealthy, now: T0, stop });
  assert.equal(cond(stopped, "Healthy"), "Unknown/NotObserved");
  assert.match(findCondition(stopped.conditions, "Healthy")?.message ?? "", /cannot reach Druid/);
  assert.equal(stopped.healthy, undefined);
  assert.deepEqual(stopped.applied, recordM);
  // A resource that never had a Healthy condition gets none from a pause.
  assert.equal(cond(nextStatus({ ingestion: ing({}, { specHash: "h" }), now: T0, paused: true }), "Healthy"), "absent");
});

test("recent errors: dropped while suspended (a resume reads them again) and when a new read failed (never shown as the new incident's) (#12)", () => {
  const live = (over: Partial<LiveSupervisor>): LiveSupervisor => ({ id: "m", state: "UNHEALTHY_SUPERVISOR", detailedState: "LOST_CONTACT_WITH_STREAM", healthy: false, suspended: false, spec: undefined, ...over });
  const i = ing({}, { applied: recordM, specHash: "h", state: "UNHEALTHY_SUPERVISOR", detailedState: "UNABLE_TO_CONNECT_TO_STREAM", healthy: false, recentErrors: [{ message: "old incident" }] });
  const base = { ingestion: i, now: T0, desired: renderIngestion(i), decision: { kind: "owned", record: recordM } as OwnershipDecision, target: { druidEndpoint: recordM.druidEndpoint, endpointSource: "DruidEndpoint", kind: "supervisor", supervisorId: "m", dataSource: "m" } as Target };
  const unread = nextStatus({ ...base, observed: { druidVersion: "33.0.0", supervisor: live({}), healthUnread: true } });
  assert.equal(unread.recentErrors, undefined);
  assert.match(findCondition(unread.conditions, "Healthy")?.message ?? "", /could not be read/);
  const suspended = nextStatus({ ...base, observed: { druidVersion: "33.0.0", supervisor: live({ suspended: true }) } });
  assert.equal(suspended.recentErrors, undefined);
  assert.equal(cond(suspended, "Healthy"), "True/Suspended");
});
