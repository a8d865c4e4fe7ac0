import { test } from "node:test";
import assert from "node:assert/strict";
import type { AppliedRecord, DruidIngestion, DruidIngestionStatus, ManagementPolicy, PendingCreate } from "../api/druid-ingestion.ts";
import { claimsOf, decideOwnership, lookupRecord, olderClaimant, otherLiveClaimant, recordMatches, removalActions, resolveRecord, type Claim, type Target } from "./ownership.ts";

const E1 = "http://druid-a.ns.svc:8088";
const E2 = "http://druid-b.ns.svc:8088";
const supervisorTarget = (supervisorId = "orders", druidEndpoint = E1, dataSource = "orders"): Target => ({ druidEndpoint, endpointSource: "RouterService", kind: "supervisor", supervisorId, dataSource });
const rec = (supervisorId = "orders", druidEndpoint = E1, dataSource = "orders"): AppliedRecord => ({ druidEndpoint, endpointSource: "RouterService", supervisorId, dataSource, origin: "Created" });
const pend = (supervisorId = "orders", druidEndpoint = E1): PendingCreate => ({ druidEndpoint, supervisorId, since: "2026-01-01T00:00:00Z" });
const claim = (key: string, createdAt: string, deleting = false): Claim => ({ key, createdAt, druidEndpoint: E1, supervisorId: "orders", deleting });

function ing(name: string, status?: DruidIngestionStatus, extra: Partial<DruidIngestion["metadata"]> = {}, type = "kafka"): DruidIngestion {
  return {
    apiVersion: "druid.apache.org/v1alpha1", kind: "DruidIngestion",
    metadata: { name, namespace: "ns", uid: name, generation: 1, resourceVersion: "1", creationTimestamp: "2026-01-01T00:00:05Z", ...extra },
    spec: { druidCluster: "c", ingestion: { type } },
    ...(status ? { status } : {}),
  };
}

test("ownership decision table", () => {
  const rows: Array<{ name: string; policy?: ManagementPolicy; target?: Target; record?: AppliedRecord; pending?: PendingCreate; live?: boolean; older?: Claim; expect: string }> = [
    { name: "new resource, nothing in Druid → create", expect: "create" },
    { name: "our record is the target → owned", record: rec(), live: true, expect: "owned" },
    { name: "ours, gone from Druid → owned (recreated by the plan)", record: rec(), expect: "owned" },
    { name: "hand-made supervisor, default policy → stand down", live: true, expect: "standDown:SupervisorExists" },
    { name: "hand-made supervisor, Adopt → adopt", policy: "Adopt", live: true, expect: "adopt:Adopted" },
    { name: "hand-made supervisor, Observe → observe", policy: "Observe", live: true, expect: "observe" },
    { name: "our create's outcome was lost, Druid has it → adopt as created", pending: pend(), live: true, expect: "adopt:Created" },
    { name: "our create's outcome was lost, Druid has not → create", pending: pend(), expect: "create" },
    { name: "pending for another id does not count", pending: pend("other"), live: true, expect: "standDown:SupervisorExists" },
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
    const d = decideOwnership({ policy: r.policy ?? "Manage", target: r.target ?? supervisorTarget(), record: r.record, pending: r.pending, live: r.live ?? false, olderClaimant: r.older });
    const got = d.kind === "standDown" ? `standDown:${d.failure.reason}${d.dropRecord ? ":drop" : ""}` : d.kind === "adopt" ? `adopt:${d.origin}` : d.kind;
    assert.equal(got, r.expect, r.name);
  }
});

test("stand-down messages say how to take over and that nothing was sent", () => {
  const exists = decideOwnership({ policy: "Manage", target: supervisorTarget(), record: undefined, pending: undefined, live: true, olderClaimant: undefined });
  assert.ok(exists.kind === "standDown" && /managementPolicy: Adopt/.test(exists.failure.message) && /left untouched/.test(exists.failure.message));
  const conflict = decideOwnership({ policy: "Manage", target: supervisorTarget(), record: undefined, pending: undefined, live: true, olderClaimant: claim("ns/first", "2026-01-01T00:00:00Z") });
  assert.ok(conflict.kind === "standDown" && /already managed by DruidIngestion ns\/first/.test(conflict.failure.message) && /Nothing was sent to Druid/.test(conflict.failure.message));
});

test("tasks: the endpoint is the target; a recorded supervisor (the type changed) is moved away", () => {
  const taskTarget: Target = { druidEndpoint: E1, endpointSource: "DruidEndpoint", kind: "task", dataSource: "wiki" };
  const taskRecord: AppliedRecord = { druidEndpoint: E1, taskId: "t1", dataSource: "wiki", origin: "Created" };
  assert.ok(recordMatches(taskRecord, taskTarget));
  assert.ok(!recordMatches({ ...taskRecord, druidEndpoint: E2 }, taskTarget));
  assert.ok(!recordMatches(rec(), taskTarget), "a supervisor record for a task target");
  assert.equal(decideOwnership({ policy: "Manage", target: taskTarget, record: rec(), pending: undefined, live: false, olderClaimant: undefined }).kind, "move");
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

test("removals: exactly what the record names, on its endpoint; a move keeps what stays", () => {
  const status: DruidIngestionStatus = { compactionHash: "c", rulesHash: "r" };
  const show = (actions: ReturnType<typeof removalActions>) => actions.map((a) => `${a.kind}:${"supervisorId" in a ? a.supervisorId : "taskId" in a ? a.taskId : "dataSource" in a ? a.dataSource : ""}:${"cause" in a ? a.cause : ""}`);
  assert.deepEqual(show(removalActions(rec(), status, { cause: "Deleted" })), ["terminateSupervisor:orders:Deleted", "deleteCompaction:orders:Deleted", "clearRules:orders:Deleted"]);
  assert.deepEqual(show(removalActions(rec(), {}, { cause: "Deleted" })), ["terminateSupervisor:orders:Deleted"], "parts never applied are not removed");
  assert.deepEqual(show(removalActions(rec(), status, { cause: "Moved", keep: supervisorTarget("orders_v2", E1, "orders_v2") })), ["terminateSupervisor:orders:Moved", "deleteCompaction:orders:Moved", "clearRules:orders:Moved"], "rename");
  assert.deepEqual(show(removalActions(rec(), status, { cause: "Moved", keep: supervisorTarget("orders", E2) })), ["terminateSupervisor:orders:Moved", "deleteCompaction:orders:Moved", "clearRules:orders:Moved"], "endpoint change");
  assert.deepEqual(show(removalActions(rec("sup1", E1, "orders"), status, { cause: "Moved", keep: supervisorTarget("sup2", E1, "orders") })), ["terminateSupervisor:sup1:Moved"], "Druid 34 id change: the datasource's parts stay");
  assert.deepEqual(show(removalActions(rec("sup1", E1, "orders"), status, { cause: "Moved", keep: supervisorTarget("sup1", E1, "orders_v2") })), ["deleteCompaction:orders:Moved", "clearRules:orders:Moved"], "Druid 34 datasource change under the same id: the supervisor stays");
  const taskRecord: AppliedRecord = { druidEndpoint: E1, taskId: "t1", origin: "DruidOperator" };
  assert.deepEqual(show(removalActions(taskRecord, {}, { cause: "Deleted" })), ["shutdownTask:t1:Deleted"], "the task under the id Druid has");
  assert.deepEqual(show(removalActions(taskRecord, {}, { cause: "Deleted", taskFinished: true })), [], "a finished task needs no shutdown");
});

test("claims: what a resource records or is creating; the older resource wins", () => {
  const a = ing("a", { applied: rec() }, { creationTimestamp: "2026-01-01T00:00:00Z" });
  const b = ing("b", { pendingCreate: pend() }, { creationTimestamp: "2026-01-01T00:00:05Z" });
  const claimsA = claimsOf(a);
  const claimsB = claimsOf(b);
  assert.deepEqual(claimsA.map((c) => `${c.key}@${c.druidEndpoint}/${c.supervisorId}`), [`ns/a@${E1}/orders`]);
  assert.deepEqual(claimsB.map((c) => c.key), ["ns/b"]);
  const all = [...claimsA, ...claimsB];
  assert.equal(olderClaimant(b, all)?.key, "ns/a");
  assert.equal(olderClaimant(a, all), undefined);
  const sameTime = ing("c", undefined, { creationTimestamp: "2026-01-01T00:00:00Z" });
  assert.equal(olderClaimant(sameTime, claimsA)?.key, "ns/a", "same creation time: the name breaks the tie");
  assert.deepEqual(claimsOf(ing("x", { specHash: "h", supervisorId: "s" })), [], "no endpoint recorded: nothing claimed");
});

test("deletion leaves a supervisor alone that another live resource claims", () => {
  const self = ing("b");
  assert.equal(otherLiveClaimant(self, [claim("ns/a", "t"), claim("ns/b", "t")])?.key, "ns/a");
  assert.equal(otherLiveClaimant(self, [claim("ns/a", "t", true)]), undefined, "the other one is itself being deleted");
});
