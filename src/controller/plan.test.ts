import { test } from "node:test";
import assert from "node:assert/strict";
import type { DruidIngestion, DruidIngestionSpec, DruidIngestionStatus, JsonObject } from "../api/druid-ingestion.ts";
import type { LiveSupervisor } from "../druid/decode.ts";
import { contentHash } from "./canonical-json.ts";
import { decideApply, liveSupervisorSpecHash, planDeletion, planIngestion, type DruidAction, type Observed } from "./plan.ts";
import { renderIngestion, type DesiredSupervisor } from "./render.ts";

const kafkaSpec: JsonObject = {
  type: "kafka",
  spec: {
    dataSchema: { dataSource: "metrics", timestampSpec: { column: "ts" }, dimensionsSpec: { dimensions: [] } },
    ioConfig: { topic: "metrics", consumerProperties: { "bootstrap.servers": "127.0.0.1:9092" } },
  },
};

function ingestion(spec: Partial<DruidIngestionSpec> = {}, status?: DruidIngestionStatus, extra: Partial<DruidIngestion["metadata"]> = {}): DruidIngestion {
  return {
    apiVersion: "druid.apache.org/v1alpha1",
    kind: "DruidIngestion",
    metadata: { name: "metrics", namespace: "analytics", uid: "u1", generation: 1, resourceVersion: "1", ...extra },
    spec: { druidCluster: "tiny", ingestion: { type: "kafka", nativeSpec: kafkaSpec }, ...spec },
    ...(status ? { status } : {}),
  };
}

/** Druid echoes the spec with defaults filled in: hashes differ from ours on purpose. */
function druidEcho(suspended: boolean, extra: JsonObject = {}): JsonObject {
  return { ...kafkaSpec, suspended, tuningConfig: { type: "kafka", maxRowsInMemory: 150000 }, ...extra };
}

function live(suspended: boolean, state = suspended ? "SUSPENDED" : "RUNNING", spec = druidEcho(suspended)): LiveSupervisor {
  return { id: "metrics", state, detailedState: state, healthy: true, suspended, spec };
}

const desired = renderIngestion(ingestion()) as DesiredSupervisor;
/** Status as it is after a successful apply of `desired` that Druid echoed as druidEcho(). */
const applied: DruidIngestionStatus = { specHash: desired.specHash, druidSpecHash: liveSupervisorSpecHash(druidEcho(false)), supervisorId: "metrics" };
const v35: Observed = { druidVersion: "35.0.1" };

function kinds(actions: DruidAction[]): string[] {
  return actions.map((a) => (a.kind === "submitSupervisor" ? `submit:${a.cause}:${a.spec["suspended"]}` : a.kind === "resetSupervisor" ? `reset:${a.cause}` : a.kind));
}

test("decideApply table", () => {
  const rows: Array<[string | undefined, string | undefined, string | undefined, string]> = [
    // applied, recordedLive, live → decision (desired = "d")
    [undefined, undefined, undefined, "Created"],
    ["d", "l", undefined, "Recreated"],
    ["old", "l", "l", "Updated"],
    ["d", "l", "l", "none"],
    ["d", "l", "other", "DriftCorrected"],
    ["d", undefined, "anything", "none"],
    [undefined, undefined, "l", "Updated"],
  ];
  for (const [appliedHash, recorded, liveHash, expected] of rows) {
    assert.equal(decideApply("d", appliedHash, recorded, liveHash), expected, `${appliedHash}/${recorded}/${liveHash}`);
  }
});

const supervisorCases: Array<{ name: string; spec?: Partial<DruidIngestionSpec>; status?: DruidIngestionStatus; live?: LiveSupervisor; expect: string[]; adopted?: boolean }> = [
  { name: "new resource, nothing in Druid → create running", expect: ["submit:Created:false"] },
  { name: "new resource with suspend → create suspended", spec: { suspend: true }, expect: ["submit:Created:true"] },
  { name: "new resource with a resetNonce → create only (nothing to reset)", spec: { resetNonce: "a" }, expect: ["submit:Created:false"] },
  { name: "in sync and running → nothing", status: applied, live: live(false), expect: [] },
  { name: "in sync, suspended as wanted → nothing", spec: { suspend: true }, status: applied, live: live(true), expect: [] },
  { name: "suspend requested, Druid running → suspend", spec: { suspend: true }, status: applied, live: live(false), expect: ["suspendSupervisor"] },
  { name: "resume requested, Druid suspended → resume", spec: { suspend: false }, status: applied, live: live(true), expect: ["resumeSupervisor"] },
  { name: "resume with resetOnResume → reset then resume", spec: { suspend: false, resetOnResume: true }, status: applied, live: live(true), expect: ["reset:ResetOnResume", "resumeSupervisor"] },
  { name: "resetOnResume while staying suspended → nothing", spec: { suspend: true, resetOnResume: true }, status: applied, live: live(true), expect: [] },
  { name: "resetOnResume while running → nothing", spec: { resetOnResume: true }, status: applied, live: live(false), expect: [] },
  { name: "new resetNonce → one reset", spec: { resetNonce: "n1" }, status: applied, live: live(false), expect: ["reset:ResetNonce"] },
  { name: "resetNonce already acted on → nothing", spec: { resetNonce: "n1" }, status: { ...applied, lastResetNonce: "n1" }, live: live(false), expect: [] },
  { name: "new nonce while suspended → reset, stays suspended", spec: { suspend: true, resetNonce: "n2" }, status: { ...applied, lastResetNonce: "n1" }, live: live(true), expect: ["reset:ResetNonce"] },
  { name: "new nonce with resetOnResume resume → a single reset", spec: { resetNonce: "n2", resetOnResume: true }, status: applied, live: live(true), expect: ["reset:ResetOnResume", "resumeSupervisor"] },
  { name: "spec changed → update keeps running", status: { ...applied, specHash: "old" }, live: live(false), expect: ["submit:Updated:false"] },
  { name: "spec changed while suspended → update stays suspended", spec: { suspend: true }, status: { ...applied, specHash: "old" }, live: live(true), expect: ["submit:Updated:true"] },
  { name: "spec changed and resume requested → update resumes", status: { ...applied, specHash: "old" }, live: live(true), expect: ["submit:Updated:false"] },
  { name: "spec changed and suspend requested → update suspends", spec: { suspend: true }, status: { ...applied, specHash: "old" }, live: live(false), expect: ["submit:Updated:true"] },
  { name: "spec changed with a new nonce → update then reset", spec: { resetNonce: "n" }, status: { ...applied, specHash: "old" }, live: live(false), expect: ["submit:Updated:false", "reset:ResetNonce"] },
  { name: "deleted in Druid behind our back → recreate", status: applied, expect: ["submit:Recreated:false"] },
  { name: "deleted in Druid while suspend wanted → recreate suspended", spec: { suspend: true }, status: applied, expect: ["submit:Recreated:true"] },
  { name: "changed in the Druid console → restore", status: applied, live: live(false, "RUNNING", druidEcho(false, { tuningConfig: { type: "kafka", maxRowsInMemory: 1 } })), expect: ["submit:DriftCorrected:false"] },
  { name: "only suspended differs in Druid's copy → not drift, resume", status: applied, live: live(true), expect: ["resumeSupervisor"] },
  { name: "unhealthy but in sync → nothing (Druid's job)", status: applied, live: live(false, "UNHEALTHY_SUPERVISOR"), expect: [] },
  { name: "no live hash recorded yet (older status) → nothing", status: { ...applied, druidSpecHash: undefined }, live: live(false), expect: [] },
  {
    name: "druid-operator status with the same spec → adopt, no POST",
    status: { taskId: "metrics", "currentIngestionSpec.json": JSON.stringify(kafkaSpec) },
    live: live(false),
    expect: [],
    adopted: true,
  },
  {
    name: "druid-operator status with another spec → update",
    status: { taskId: "metrics", "currentIngestionSpec.json": JSON.stringify({ ...kafkaSpec, type: "kinesis" }) },
    live: live(false),
    expect: ["submit:Updated:false"],
  },
  {
    name: "druid-operator status but supervisor gone → create",
    status: { taskId: "metrics", "currentIngestionSpec.json": JSON.stringify(kafkaSpec) },
    expect: ["submit:Created:false"],
  },
];

for (const c of supervisorCases) {
  test(`plan supervisor: ${c.name}`, () => {
    const ing = ingestion(c.spec, c.status);
    const plan = planIngestion(ing, renderIngestion(ing), { ...v35, supervisor: c.live });
    assert.equal(plan.failure, undefined);
    assert.deepEqual(kinds(plan.actions), c.expect);
    assert.equal(plan.adopted, c.adopted ?? false);
  });
}

test("plan: an explicit supervisor id needs Druid 34+", () => {
  const ing = ingestion({ ingestion: { type: "kafka", nativeSpec: { ...kafkaSpec, id: "metrics-eu" } } });
  const d = renderIngestion(ing);
  assert.equal(d.kind === "supervisor" && d.supervisorId, "metrics-eu");
  const old = planIngestion(ing, d, { druidVersion: "33.0.0" });
  assert.equal(old.failure?.reason, "SupervisorIdUnsupported");
  assert.deepEqual(old.actions, []);
  assert.deepEqual(kinds(planIngestion(ing, d, { druidVersion: "34.0.0" }).actions), ["submit:Created:false"]);
});

test("plan: the submitted spec carries the desired suspended flag and the user's fields", () => {
  const ing = ingestion({ suspend: true });
  const [action] = planIngestion(ing, renderIngestion(ing), v35).actions;
  assert.equal(action?.kind, "submitSupervisor");
  if (action?.kind === "submitSupervisor") assert.deepEqual(action.spec, { ...kafkaSpec, suspended: true });
});

// --- compaction and rules -----------------------------------------------------------------

const compaction = { skipOffsetFromLatest: "PT0S" };
const rules = [{ type: "loadForever" }];

test("plan compaction and rules: created, in sync, drift, removal", () => {
  const withParts = (status?: DruidIngestionStatus) => ingestion({ ingestion: { type: "kafka", nativeSpec: kafkaSpec, compaction, rules } }, status);
  const d = renderIngestion(withParts());
  const base = { ...applied };
  const supervisor = live(false);
  const echoCompaction = { ...compaction, dataSource: "metrics", taskPriority: 25 };
  const echoRules = [{ type: "loadForever", tieredReplicants: { _default_tier: 2 } }];

  const fresh = planIngestion(withParts(base), d, { ...v35, supervisor, compaction: undefined, rules: [] });
  assert.deepEqual(fresh.actions.map((a) => a.kind), ["submitCompaction", "submitRules"]);
  const sc = fresh.actions[0];
  assert.deepEqual(sc?.kind === "submitCompaction" && sc.config, { skipOffsetFromLatest: "PT0S", dataSource: "metrics" });

  const inSync = { ...base, compactionHash: d.compaction?.hash, druidCompactionHash: contentHash(echoCompaction), rulesHash: d.rules?.hash, druidRulesHash: contentHash(echoRules) };
  assert.deepEqual(planIngestion(withParts(inSync), d, { ...v35, supervisor, compaction: echoCompaction, rules: echoRules }).actions, []);

  const drifted = planIngestion(withParts(inSync), d, { ...v35, supervisor, compaction: { ...echoCompaction, taskPriority: 1 }, rules: [] });
  assert.deepEqual(drifted.actions.map((a) => `${a.kind}:${"cause" in a ? a.cause : ""}`), ["submitCompaction:DriftCorrected", "submitRules:Recreated"]);

  const removed = ingestion({}, inSync);
  const removal = planIngestion(removed, renderIngestion(removed), { ...v35, supervisor, compaction: echoCompaction, rules: echoRules });
  assert.deepEqual(removal.actions.map((a) => `${a.kind}:${"cause" in a ? a.cause : ""}`), ["deleteCompaction:", "submitRules:Cleared"]);

  const removedAlreadyGone = planIngestion(removed, renderIngestion(removed), { ...v35, supervisor, compaction: undefined, rules: [] });
  assert.deepEqual(removedAlreadyGone.actions, []);
});

test("plan rules: an explicit empty list clears Druid's rules once", () => {
  const ing = ingestion({ ingestion: { type: "kafka", nativeSpec: kafkaSpec, rules: [] } }, applied);
  const d = renderIngestion(ing);
  assert.deepEqual(planIngestion(ing, d, { ...v35, supervisor: live(false), rules: [{ type: "dropForever" }] }).actions.map((a) => a.kind), ["submitRules"]);
  const after = ingestion({ ingestion: { type: "kafka", nativeSpec: kafkaSpec, rules: [] } }, { ...applied, rulesHash: d.rules?.hash, druidRulesHash: contentHash([]) });
  assert.deepEqual(planIngestion(after, d, { ...v35, supervisor: live(false), rules: [] }).actions, []);
});

// --- tasks -------------------------------------------------------------------------------------

const batchSpec: JsonObject = { type: "index_parallel", spec: { dataSchema: { dataSource: "wiki" }, ioConfig: { type: "index_parallel" } } };

function batch(spec: Partial<DruidIngestionSpec> = {}, status?: DruidIngestionStatus): DruidIngestion {
  return ingestion({ ingestion: { type: "native-batch", spec: JSON.stringify(batchSpec) }, ...spec }, status);
}

test("plan task: submit once with a deterministic id; a new spec or nonce runs again", () => {
  const first = batch();
  const d = renderIngestion(first);
  assert.equal(d.kind, "task");
  if (d.kind !== "task") return;
  assert.match(d.taskId, /^druidingestion_analytics_metrics_[0-9a-f]{16}$/);
  const submit = planIngestion(first, d, v35).actions;
  assert.deepEqual(submit.map((a) => a.kind), ["submitTask"]);
  assert.equal(submit[0]?.kind === "submitTask" && submit[0].spec["id"], d.taskId);

  const done = batch({}, { taskId: d.taskId, specHash: d.specHash });
  assert.deepEqual(planIngestion(done, renderIngestion(done), { ...v35, task: { id: d.taskId, statusCode: "SUCCESS", runnerStatusCode: "NONE", errorMsg: undefined } }).actions, []);

  const rerun = batch({ resetNonce: "again" }, { taskId: d.taskId, specHash: d.specHash });
  const rd = renderIngestion(rerun);
  assert.ok(rd.kind === "task" && rd.taskId !== d.taskId, "a nonce gives a new task id");
  assert.deepEqual(planIngestion(rerun, rd, { ...v35, task: { id: d.taskId, statusCode: "RUNNING", runnerStatusCode: "RUNNING", errorMsg: undefined } }).actions.map((a) => a.kind), ["shutdownTask", "submitTask"]);
});

test("plan task: druid-operator's task with the same spec is adopted", () => {
  const ing = batch({}, { taskId: "index_parallel_wiki_abc", "currentIngestionSpec.json": JSON.stringify(batchSpec) });
  const plan = planIngestion(ing, renderIngestion(ing), v35);
  assert.equal(plan.adopted, true);
  assert.deepEqual(plan.actions, []);
});

test("plan task: sql gets a deterministic sqlQueryId", () => {
  const ing = ingestion({ ingestion: { type: "sql", nativeSpec: { query: "INSERT INTO x SELECT 1 PARTITIONED BY ALL", context: { maxNumTasks: 2 } } } });
  const [action] = planIngestion(ing, renderIngestion(ing), v35).actions;
  assert.equal(action?.kind, "submitTask");
  if (action?.kind !== "submitTask") return;
  assert.equal(action.sql, true);
  assert.equal((action.spec["context"] as JsonObject)["maxNumTasks"], 2);
  assert.match(String((action.spec["context"] as JsonObject)["sqlQueryId"]), /^druidingestion_analytics_metrics_/);
});

// --- deletion ------------------------------------------------------------------------------------

test("plan deletion table", () => {
  const withParts = { ingestion: { type: "kafka", nativeSpec: kafkaSpec, compaction, rules } };
  const rows: Array<[string, DruidIngestion, string[]]> = [
    ["Delete terminates the supervisor", ingestion({}, applied), ["terminateSupervisor:metrics"]],
    ["Orphan leaves Druid alone", ingestion({ deletionPolicy: "Orphan" }, applied), []],
    ["druid-operator status: its taskId is the supervisor id", ingestion({}, { taskId: "metrics" }), ["terminateSupervisor:metrics"]],
    ["never applied: falls back to the rendered id (404 is fine)", ingestion(), ["terminateSupervisor:metrics"]],
    ["compaction and rules are removed too", ingestion(withParts, { ...applied, compactionHash: "c", rulesHash: "r" }), ["terminateSupervisor:metrics", "deleteCompaction:metrics", "submitRules:metrics"]],
    ["a batch task is shut down", batch({}, { taskId: "t1" }), ["shutdownTask:t1"]],
  ];
  for (const [name, ing, expected] of rows) {
    let d;
    try {
      d = renderIngestion(ing);
    } catch {
      d = undefined;
    }
    const got = planDeletion(ing, d).map((a) => `${a.kind}:${"supervisorId" in a ? a.supervisorId : "taskId" in a ? a.taskId : a.dataSource}`);
    assert.deepEqual(got, expected, name);
  }
});

test("plan deletion: an unparseable spec still terminates what status recorded", () => {
  const ing = ingestion({ ingestion: { type: "kafka", spec: "{not json" } }, { supervisorId: "metrics", "currentIngestionSpec.json": JSON.stringify(kafkaSpec), compactionHash: "c" });
  assert.throws(() => renderIngestion(ing));
  assert.deepEqual(planDeletion(ing, undefined).map((a) => a.kind), ["terminateSupervisor", "deleteCompaction"]);
});
