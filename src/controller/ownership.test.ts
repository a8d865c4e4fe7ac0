import { test } from "node:test";
import assert from "node:assert/strict";
import type { AppliedRecord, DruidIngestion, DruidIngestionStatus, ManagementPolicy, PendingCreate } from "../api/druid-ingestion.ts";
import { betterClaimant, claimsOf, decideOwnership, lookupRecord, otherLiveClaimant, pendingCovers, planRemoval, recordMatches, resolveRecord, storedSince, type Claim, type Target } from "./ownership.ts";

const E1 = "http://druid-a.ns.svc:8088";
const E2 = "http://druid-b.ns.svc:8088";
const supervisorTarget = (supervisorId = "orders", druidEndpoint = E1, dataSource = "orders"): Target => ({ druidEndpoint, endpointSource: "RouterService", kind: "supervisor", supervisorId, dataSource });
const rec = (supervisorId = "orders", druidEndpoint = E1, dataSource = "orders"): AppliedRecord => ({ druidEndpoint, endpointSource: "RouterService", supervisorId, dataSource, origin: "Created" });
const pend = (supervisorId = "orders", druidEndpoint = E1): PendingCreate => ({ druidEndpoint, supervisorId, since: "2026-01-01T00:00:00Z" });
const claim = (key: string, createdAt: string, deleting = false, recorded = false): Claim => ({ key, createdAt, druidEndpoint: E1, supervisorId: "orders", deleting, recorded });

function ing(name: string, status?: DruidIngestionStatus, extra: Partial<DruidIngestion["metadata"]> = {}, type = "kafka"): DruidIngestion {
  return {
    apiVersion: "druid.apache.org/v1alpha1", kind: "DruidIngestion",
    metadata: { name, namespace: "ns", uid: name, generation: 1, resourceVersion: "1", creationTimestamp: "2026-01-01T00:00:05Z", ...extra },
    spec: { druidCluster: "c", ingestion: { type } },
    ...(status ? { status } : {}),
  };
}

test("ownership decision table", () => {
  const rows: Array<{ name: string; policy?: ManagementPolicy; target?: Target; record?: AppliedRecord; status?: DruidIngestionStatus; confirmed?: boolean; live?: boolean; older?: Claim; expect: string }> = [
    { name: "new resource, nothing in Druid → create", expect: "create" },
    { name: "our record is the target → owned", record: rec(), live: true, expect: "owned" },
    { name: "ours, gone from Druid → owned (recreated by the plan)", record: rec(), expect: "owned" },
    { name: "hand-made supervisor, default policy → stand down", live: true, expect: "standDown:SupervisorExists" },
    { name: "hand-made supervisor, Adopt → adopt", policy: "Adopt", live: true, expect: "adopt:Adopted" },
    { name: "hand-made supervisor, Observe → observe", policy: "Observe", live: true, expect: "observe" },
    { name: "our create's answer was lost and Druid stored it after our intent → adopt as created", confirmed: true, live: true, expect: "adopt:Created" },
    { name: "a pending create without evidence (stored before our intent) does not count", confirmed: false, live: true, expect: "standDown:SupervisorExists" },
    { name: "renamed datasource, same explicit id (Druid 34): the parts move", target: supervisorTarget("orders", E1, "orders_v2"), record: rec(), status: { compactionHash: "c" }, live: true, expect: "move" },
    { name: "renamed datasource, nothing of the datasource recorded: no move", target: supervisorTarget("orders", E1, "orders_v2"), record: rec(), live: true, expect: "owned" },
    { name: "a parts-only record (the supervisor was removed, its parts not yet): create the supervisor", record: { druidEndpoint: E1, dataSource: "orders", origin: "Created" }, status: { rulesHash: "r" }, expect: "create" },
    { name: "a parts-only record and someone else's supervisor → stand down", record: { druidEndpoint: E1, dataSource: "orders", origin: "Created" }, status: { rulesHash: "r" }, live: true, expect: "standDown:SupervisorExists" },
    { name: "a task record where a supervisor is now wanted (type change) → move", record: { druidEndpoint: E1, taskId: "t1", origin: "Created" }, live: false, expect: "move" },
    { name: "dataSource renamed → move", target: supervisorTarget("orders_v2", E1, "orders_v2"), record: rec(), expect: "move" },
    { name: "endpoint changed → move", target: supervisorTarget("orders", E2), record: rec(), expect: "move" },
    { name: "spelled differently, same endpoint → owned", target: supervisorTarget("orders", E1), record: rec("orders", "HTTP://druid-a.ns.svc.cluster.local:8088/"), live: true, expect: "owned" },
    { name: "renamed onto a supervisor someone else made → stand down, old kept", target: supervisorTarget("orders_v2", E1, "orders_v2"), record: rec(), live: true, expect: "standDown:SupervisorExists" },
    { name: "renamed onto an existing one with Adopt → move first", policy: "Adopt", target: supervisorTarget("orders_v2", E1, "orders_v2"), record: rec(), live: true, expect: "move" },
    { name: "an older resource claims it → stand down", older: claim("ns/older", "2026-01-01T00:00:00Z"), expect: "standDown:SupervisorConflict" },
    { name: "an older resource claims what we recorded (a lost race) → stand down, drop the record", older: claim("ns/older", "2026-01-01T00:00:00Z"), record: rec(), live: true, expect: "standDown:SupervisorConflict:drop" },
    { name: "Observe with a record elsewhere → observe (never a move)", policy: "Observe", target: supervisorTarget("orders", E2), record: rec(), expect: "observe" },
  ];
  for (const r of rows) {
    const d = decideOwnership({ policy: r.policy ?? "Manage", target: r.target ?? supervisorTarget(), record: r.record, status: r.status, pendingConfirmed: r.confirmed ?? false, live: r.live ?? false, olderClaimant: r.older });
    const got = d.kind === "standDown" ? `standDown:${d.failure.reason}${d.dropRecord ? ":drop" : ""}` : d.kind === "adopt" ? `adopt:${d.origin}` : d.kind;
    assert.equal(got, r.expect, r.name);
  }
});

test("stand-down messages say how to take over and that nothing was sent", () => {
  const exists = decideOwnership({ policy: "Manage", target: supervisorTarget(), record: undefined, pendingConfirmed: false, live: true, olderClaimant: undefined });
  assert.ok(exists.kind === "standDown" && /managementPolicy: Adopt/.test(exists.failure.message) && /left untouched/.test(exists.failure.message));
  const conflict = decideOwnership({ policy: "Manage", target: supervisorTarget(), record: undefined, pendingConfirmed: false, live: true, olderClaimant: claim("ns/first", "2026-01-01T00:00:00Z") });
  assert.ok(conflict.kind === "standDown" && /already managed by DruidIngestion ns\/first/.test(conflict.failure.message) && /Nothing was sent to Druid/.test(conflict.failure.message));
});

test("tasks: the endpoint is the target; a recorded supervisor (the type changed) is moved away", () => {
  const taskTarget: Target = { druidEndpoint: E1, endpointSource: "DruidEndpoint", kind: "task", dataSource: "wiki" };
  const taskRecord: AppliedRecord = { druidEndpoint: E1, taskId: "t1", dataSource: "wiki", origin: "Created" };
  assert.ok(recordMatches(taskRecord, taskTarget));
  assert.ok(!recordMatches({ ...taskRecord, druidEndpoint: E2 }, taskTarget));
  assert.ok(!recordMatches(rec(), taskTarget), "a supervisor record for a task target");
  assert.equal(decideOwnership({ policy: "Manage", target: taskTarget, record: rec(), pendingConfirmed: false, live: false, olderClaimant: undefined }).kind, "move");
});

test("lookupRecord reads status.applied, this controller's older status, and the druid-operator's", () => {
  const spec = JSON.stringify({ type: "kafka", spec: { dataSchema: { dataSource: "orders" } } });
  assert.deepEqual(lookupRecord(ing("a")), { kind: "none" });
  assert.deepEqual(lookupRecord(ing("a", { applied: rec() })), { kind: "recorded", record: rec() });
  assert.deepEqual(lookupRecord(ing("a", { specHash: "h", supervisorId: "orders", taskId: "orders", druidEndpoint: "http://druid-a.ns.svc.cluster.local:8088/", "currentIngestionSpec.json": spec })), {
    kind: "recorded",
    record: { druidEndpoint: E1, supervisorId: "orders", dataSource: "orders", origin: "Created" },
  });
  const operator = lookupRecord(ing("a", { taskId: "orders", "currentIngestionSpec.json": spec }));
  assert.deepEqual(operator, { kind: "druidOperator", partial: { supervisorId: "orders", dataSource: "orders", origin: "DruidOperator" } });
  assert.deepEqual(resolveRecord(operator, { druidEndpoint: E1, endpointSource: "RouterService" }), { supervisorId: "orders", dataSource: "orders", origin: "DruidOperator", druidEndpoint: E1, endpointSource: "RouterService" });
  assert.equal(resolveRecord(operator, undefined), undefined, "no endpoint known: no record to act on");
  const operatorTask = lookupRecord(ing("b", { taskId: "index_parallel_wiki_x", "currentIngestionSpec.json": "{}" }, {}, "native-batch"));
  assert.ok(operatorTask.kind === "druidOperator" && operatorTask.partial.taskId === "index_parallel_wiki_x" && operatorTask.partial.supervisorId === undefined);
  assert.deepEqual(lookupRecord(ing("a", { supervisorId: "orders", druidEndpoint: E1, conditions: [] })), { kind: "none" }, "a target that was never applied (no specHash) is no record");
});

test("removals: exactly what the record names, on its endpoint; a move keeps what stays; Orphan and finished tasks are let go", () => {
  const status: DruidIngestionStatus = { compactionHash: "c", rulesHash: "r" };
  const show = (r: ReturnType<typeof planRemoval>) => [
    ...r.actions.map((a) => `${a.kind}:${"supervisorId" in a ? a.supervisorId : "taskId" in a ? a.taskId : "dataSource" in a ? a.dataSource : ""}:${"cause" in a ? a.cause : ""}`),
    ...Object.entries(r.forget).filter(([, v]) => v).map(([k]) => `forget:${k}`),
  ];
  assert.deepEqual(show(planRemoval(rec(), status, { cause: "Deleted" })), ["terminateSupervisor:orders:Deleted", "deleteCompaction:orders:Deleted", "clearRules:orders:Deleted"]);
  assert.deepEqual(show(planRemoval(rec(), {}, { cause: "Deleted" })), ["terminateSupervisor:orders:Deleted"], "parts never applied are not removed");
  assert.deepEqual(show(planRemoval(rec(), status, { cause: "Moved", keep: supervisorTarget("orders_v2", E1, "orders_v2") })), ["terminateSupervisor:orders:Moved", "deleteCompaction:orders:Moved", "clearRules:orders:Moved"], "rename");
  assert.deepEqual(show(planRemoval(rec(), status, { cause: "Moved", keep: supervisorTarget("orders", E2) })), ["terminateSupervisor:orders:Moved", "deleteCompaction:orders:Moved", "clearRules:orders:Moved"], "endpoint change");
  assert.deepEqual(show(planRemoval(rec("sup1", E1, "orders"), status, { cause: "Moved", keep: supervisorTarget("sup2", E1, "orders") })), ["terminateSupervisor:sup1:Moved"], "Druid 34 id change: the datasource's parts stay");
  assert.deepEqual(show(planRemoval(rec("sup1", E1, "orders"), status, { cause: "Moved", keep: supervisorTarget("sup1", E1, "orders_v2") })), ["deleteCompaction:orders:Moved", "clearRules:orders:Moved"], "Druid 34 datasource change under the same id: the supervisor stays");
  assert.deepEqual(show(planRemoval(rec(), status, { cause: "Moved", keep: supervisorTarget("orders_v2", E1, "orders_v2"), orphan: true })), ["forget:main", "forget:compaction", "forget:rules"], "Orphan: let go, no call");
  const taskRecord: AppliedRecord = { druidEndpoint: E1, taskId: "t1", origin: "DruidOperator" };
  assert.deepEqual(show(planRemoval(taskRecord, {}, { cause: "Deleted" })), ["shutdownTask:t1:Deleted"], "the task under the id Druid has");
  assert.deepEqual(show(planRemoval(taskRecord, {}, { cause: "Deleted", taskFinished: true })), ["forget:main"], "a finished task needs no shutdown");
  assert.deepEqual(show(planRemoval(taskRecord, {}, { cause: "Moved", keep: supervisorTarget() })), ["shutdownTask:t1:Moved"], "task → supervisor on the same endpoint: the task goes");
  assert.deepEqual(show(planRemoval(taskRecord, {}, { cause: "Moved", keep: { druidEndpoint: E1, endpointSource: "RouterService", kind: "task", dataSource: undefined } })), [], "task → task: a new run is the planner's");
});

test("pending creates: which target they cover, and evidence by Druid's clock", () => {
  const p = pend();
  assert.ok(pendingCovers(p, supervisorTarget(), undefined));
  assert.ok(!pendingCovers(p, supervisorTarget("orders_v2"), undefined));
  assert.ok(!pendingCovers(p, supervisorTarget("orders", E2), undefined));
  assert.ok(!pendingCovers({ ...p, supervisorId: undefined, taskId: "run1" }, { druidEndpoint: E1, endpointSource: "RouterService", kind: "task", dataSource: "x" }, "run2"), "another run");
  assert.ok(storedSince("2026-01-01T00:00:10Z", "2026-01-01T00:00:05Z"));
  assert.ok(storedSince("2026-01-01T00:00:00Z", "2026-01-01T00:00:05Z"), "within the clock skew");
  assert.ok(!storedSince("2025-12-31T23:00:00Z", "2026-01-01T00:00:05Z"), "stored well before: not ours");
  assert.ok(!storedSince("garbage", "2026-01-01T00:00:05Z"));
});

test("claims: what a resource records or is creating; the older resource wins", () => {
  const a = ing("a", { applied: rec() }, { creationTimestamp: "2026-01-01T00:00:00Z" });
  const b = ing("b", { pendingCreate: pend() }, { creationTimestamp: "2026-01-01T00:00:05Z" });
  const claimsA = claimsOf(a);
  const claimsB = claimsOf(b);
  assert.deepEqual(claimsA.map((c) => `${c.key}@${c.druidEndpoint}/${c.supervisorId}`), [`ns/a@${E1}/orders`]);
  assert.deepEqual(claimsB.map((c) => c.key), ["ns/b"]);
  const all = [...claimsA, ...claimsB];
  assert.equal(betterClaimant(b, false, all)?.key, "ns/a");
  assert.equal(betterClaimant(a, true, all), undefined);
  const sameTime = ing("c", undefined, { creationTimestamp: "2026-01-01T00:00:00Z" });
  assert.equal(betterClaimant(sameTime, false, [claim("ns/a", "2026-01-01T00:00:00Z")])?.key, "ns/a", "same creation time: the name breaks the tie");
});

test("a recorded owner beats an older resource that only wants it (even with Adopt)", () => {
  const older = ing("older", undefined, { creationTimestamp: "2025-01-01T00:00:00Z" });
  const owner = claim("ns/newer", "2026-06-01T00:00:00Z", false, true);
  assert.equal(betterClaimant(older, false, [owner])?.key, "ns/newer");
  const newerSelf = ing("newer", undefined, { creationTimestamp: "2026-06-01T00:00:00Z" });
  assert.equal(betterClaimant(newerSelf, true, [claim("ns/older", "2025-01-01T00:00:00Z", false, false)]), undefined, "the owner keeps it");
  assert.equal(betterClaimant(newerSelf, true, [claim("ns/older", "2025-01-01T00:00:00Z", false, true)])?.key, "ns/older", "both recorded (a race): the older wins");
  assert.deepEqual(claimsOf(ing("x", { specHash: "h", supervisorId: "s" })), [], "no endpoint recorded: nothing claimed");
});

test("deletion leaves a supervisor alone that another live resource claims", () => {
  const self = ing("b");
  assert.equal(otherLiveClaimant(self, [claim("ns/a", "t"), claim("ns/b", "t")])?.key, "ns/a");
  assert.equal(otherLiveClaimant(self, [claim("ns/a", "t", true)]), undefined, "the other one is itself being deleted");
});
