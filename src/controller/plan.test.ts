import { test } from "node:test";
import assert from "node:assert/strict";
import type { AppliedRecord, DruidIngestion, DruidIngestionSpec, DruidIngestionStatus, JsonObject, ManagementPolicy } from "../api/druid-ingestion.ts";
import type { LiveSupervisor, LiveTask } from "../druid/decode.ts";
import { contentHash } from "./canonical-json.ts";
import { ignoredPaths, liveSupervisorSpecHash } from "./drift.ts";
import type { DruidAction } from "./model.ts";
import { decideApply, includes, keepDruidOwnedValues, planIngestion, plannedCreates, type Holding, type Observed, type Plan } from "./plan.ts";
import { renderIngestion, type DesiredSupervisor } from "./render.ts";

const kafkaSpec: JsonObject = {
  type: "kafka",
  spec: {
    dataSchema: { dataSource: "metrics", timestampSpec: { column: "ts" }, dimensionsSpec: { dimensions: [] } },
    ioConfig: { topic: "metrics", consumerProperties: { "bootstrap.servers": "127.0.0.1:9092" } },
  },
};

function ingestion(spec: Partial<DruidIngestionSpec> = {}, status?: DruidIngestionStatus): DruidIngestion {
  return {
    apiVersion: "druid.apache.org/v1alpha1",
    kind: "DruidIngestion",
    metadata: { name: "metrics", namespace: "analytics", uid: "u1", generation: 1, resourceVersion: "1" },
    spec: { druidCluster: "tiny", ingestion: { type: "kafka", nativeSpec: kafkaSpec }, ...spec },
    ...(status ? { status } : {}),
  };
}

/** Druid echoes the spec with defaults filled in: hashes differ from ours on purpose. */
function druidEcho(suspended: boolean, extra: JsonObject = {}, body: JsonObject = kafkaSpec): JsonObject {
  return { ...body, suspended, tuningConfig: { type: "kafka", maxRowsInMemory: 150000 }, ...extra };
}

function live(suspended: boolean, state = suspended ? "SUSPENDED" : "RUNNING", spec = druidEcho(suspended)): LiveSupervisor {
  return { id: "metrics", state, detailedState: state, healthy: true, suspended, spec };
}

const ENDPOINT = "http://druid.analytics.svc:8088";
const record: AppliedRecord = { druidEndpoint: ENDPOINT, endpointSource: "RouterService", supervisorId: "metrics", dataSource: "metrics", origin: "Created" };
const desired = renderIngestion(ingestion()) as DesiredSupervisor;
/** Status as it is after a successful apply of `desired` that Druid echoed as druidEcho(). */
const applied: DruidIngestionStatus = { applied: record, specHash: desired.specHash, druidSpecHash: liveSupervisorSpecHash(druidEcho(false)), supervisorId: "metrics" };
const v33: Observed = { druidVersion: "33.0.0" };

interface Case {
  spec?: Partial<DruidIngestionSpec>;
  status?: DruidIngestionStatus;
  observed?: Partial<Observed>;
  holding?: Holding;
  record?: AppliedRecord | undefined;
  policy?: ManagementPolicy;
}

function plan(c: Case): Plan {
  const ing = ingestion(c.spec, c.status);
  const d = renderIngestion(ing);
  const rec = "record" in c ? c.record : c.status?.applied;
  const ignored = d.kind === "supervisor" ? ignoredPaths(d.body, ing.spec.driftIgnorePaths) : [];
  return planIngestion({ ingestion: ing, desired: d, observed: { ...v33, ...c.observed }, holding: c.holding ?? (rec ? "owned" : "create"), record: rec, policy: c.policy ?? "Manage", ignored });
}

function kinds(actions: DruidAction[]): string[] {
  return actions.map((a) => {
    if (a.kind === "submitSupervisor") return `submit:${a.cause}:${a.spec["suspended"]}`;
    if (a.kind === "resetSupervisor") return `reset:${a.cause}`;
    if (a.kind === "submitTask") return `submitTask:${a.cause}`;
    if (a.kind === "shutdownTask") return `shutdownTask:${a.taskId}:${a.cause}`;
    if ("cause" in a) return `${a.kind}:${a.cause}`;
    return a.kind;
  });
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

const operatorStatus = (body: JsonObject = kafkaSpec): DruidIngestionStatus => ({ taskId: "metrics", "currentIngestionSpec.json": JSON.stringify(body), reason: "DruidIngestionControllerCreateSuccess" });
const operatorRecord: AppliedRecord = { druidEndpoint: ENDPOINT, supervisorId: "metrics", dataSource: "metrics", origin: "DruidOperator" };
const suspendedBody: JsonObject = { ...kafkaSpec, suspended: true };

const offsets = (nonce: string, to: Partial<DruidIngestionSpec>["resetOffsets"] = { partitions: { "0": 5 } }): Partial<DruidIngestionSpec> => ({ resetOffsetsNonce: nonce, resetOffsets: to });

const supervisorCases: Array<{ name: string; expect: string[]; takenOver?: boolean } & Case> = [
  { name: "new resource, nothing in Druid → create running", expect: ["submit:Created:false"] },
  { name: "new resource with suspend → create suspended", spec: { suspend: true }, expect: ["submit:Created:true"] },
  { name: "new resource with a resetNonce → create only (nothing to reset)", spec: { resetNonce: "a" }, expect: ["submit:Created:false"] },
  { name: "a body with \"suspended\": true (druid-operator manifests) → create suspended", spec: { ingestion: { type: "kafka", nativeSpec: suspendedBody } }, expect: ["submit:Created:true"] },
  { name: "nothing recorded, older fields say applied → still Created (nothing is ours)", status: { specHash: desired.specHash }, record: undefined, expect: ["submit:Created:false"] },
  { name: "in sync and running → nothing", status: applied, observed: { supervisor: live(false) }, expect: [] },
  { name: "in sync, suspended as wanted → nothing", spec: { suspend: true }, status: applied, observed: { supervisor: live(true) }, expect: [] },
  { name: "suspend requested, Druid running → suspend", spec: { suspend: true }, status: applied, observed: { supervisor: live(false) }, expect: ["suspendSupervisor"] },
  { name: "body says suspended, spec.suspend false, Druid running → suspend", spec: { suspend: false, ingestion: { type: "kafka", nativeSpec: suspendedBody } }, status: applied, observed: { supervisor: live(false) }, expect: ["suspendSupervisor"] },
  { name: "resume requested, Druid suspended → resume", spec: { suspend: false }, status: applied, observed: { supervisor: live(true) }, expect: ["resumeSupervisor"] },
  { name: "resume with resetOnResume → reset then resume", spec: { suspend: false, resetOnResume: true }, status: applied, observed: { supervisor: live(true) }, expect: ["reset:ResetOnResume", "resumeSupervisor"] },
  { name: "resetOnResume while staying suspended → nothing", spec: { suspend: true, resetOnResume: true }, status: applied, observed: { supervisor: live(true) }, expect: [] },
  { name: "resetOnResume while running → nothing", spec: { resetOnResume: true }, status: applied, observed: { supervisor: live(false) }, expect: [] },
  { name: "new resetNonce → one reset", spec: { resetNonce: "n1" }, status: applied, observed: { supervisor: live(false) }, expect: ["reset:ResetNonce"] },
  { name: "resetNonce already acted on → nothing", spec: { resetNonce: "n1" }, status: { ...applied, lastResetNonce: "n1" }, observed: { supervisor: live(false) }, expect: [] },
  { name: "new nonce while suspended → reset, stays suspended", spec: { suspend: true, resetNonce: "n2" }, status: { ...applied, lastResetNonce: "n1" }, observed: { supervisor: live(true) }, expect: ["reset:ResetNonce"] },
  { name: "new nonce with resetOnResume resume → a single reset", spec: { resetNonce: "n2", resetOnResume: true }, status: applied, observed: { supervisor: live(true) }, expect: ["reset:ResetOnResume", "resumeSupervisor"] },
  { name: "spec changed → update keeps running", status: { ...applied, specHash: "old" }, observed: { supervisor: live(false) }, expect: ["submit:Updated:false"] },
  { name: "spec changed while suspended → update stays suspended", spec: { suspend: true }, status: { ...applied, specHash: "old" }, observed: { supervisor: live(true) }, expect: ["submit:Updated:true"] },
  { name: "spec changed and resume requested → update resumes", status: { ...applied, specHash: "old" }, observed: { supervisor: live(true) }, expect: ["submit:Updated:false"] },
  { name: "spec changed and suspend requested → update suspends", spec: { suspend: true }, status: { ...applied, specHash: "old" }, observed: { supervisor: live(false) }, expect: ["submit:Updated:true"] },
  { name: "spec changed with a new nonce → update then reset", spec: { resetNonce: "n" }, status: { ...applied, specHash: "old" }, observed: { supervisor: live(false) }, expect: ["submit:Updated:false", "reset:ResetNonce"] },
  { name: "new resource with a resetOffsetsNonce → create only (it starts where its spec says)", spec: offsets("o1"), expect: ["submit:Created:false"] },
  { name: "new resetOffsetsNonce → one offsets reset", spec: offsets("o1"), status: applied, observed: { supervisor: live(false) }, expect: ["resetOffsets"] },
  { name: "resetOffsetsNonce already acted on → nothing", spec: offsets("o1"), status: { ...applied, lastResetOffsetsNonce: "o1" }, observed: { supervisor: live(false) }, expect: [] },
  { name: "resetOffsetsNonce whose outcome is unknown → never sent again", spec: offsets("o1"), status: { ...applied, pendingResetOffsets: { nonce: "o1", supervisorId: "metrics", druidEndpoint: ENDPOINT, since: "2026-01-01T00:00:00Z" } }, observed: { supervisor: live(false) }, expect: [] },
  { name: "an unknown outcome for an older nonce does not hold a new one", spec: offsets("o2"), status: { ...applied, pendingResetOffsets: { nonce: "o1", supervisorId: "metrics", druidEndpoint: ENDPOINT, since: "2026-01-01T00:00:00Z" } }, observed: { supervisor: live(false) }, expect: ["resetOffsets"] },
  { name: "a new resetNonce and resetOffsetsNonce → the full reset now, the offsets on top at the next reconcile", spec: { ...offsets("o1"), resetNonce: "n1" }, status: applied, observed: { supervisor: live(false) }, expect: ["reset:ResetNonce"] },
  { name: "spec changed with a new offsets nonce → the update now, the offsets at the next reconcile", spec: offsets("o1"), status: { ...applied, specHash: "old" }, observed: { supervisor: live(false) }, expect: ["submit:Updated:false"] },
  { name: "a supervisor still PENDING (just created or updated) → the offsets wait", spec: offsets("o1"), status: applied, observed: { supervisor: live(false, "PENDING") }, expect: [] },
  { name: "adopting a supervisor with nonces already set → consumed, not acted on", spec: { ...offsets("o1"), resetNonce: "n1" }, holding: "adopt", record: undefined, observed: { supervisor: live(false) }, expect: ["submit:Updated:false"] },
  { name: "offsets moved while suspended → stays suspended", spec: { ...offsets("o1"), suspend: true }, status: applied, observed: { supervisor: live(true) }, expect: ["resetOffsets"] },
  { name: "resetOffsets kept with its nonce cleared → nothing", spec: { ...offsets("o1"), resetOffsetsNonce: "" }, status: applied, observed: { supervisor: live(false) }, expect: [] },
  { name: "ours, deleted in Druid behind our back → recreate", status: applied, expect: ["submit:Recreated:false"] },
  { name: "ours, deleted while suspend wanted → recreate suspended", spec: { suspend: true }, status: applied, expect: ["submit:Recreated:true"] },
  { name: "changed in the Druid console → restore", status: applied, observed: { supervisor: live(false, "RUNNING", druidEcho(false, { tuningConfig: { type: "kafka", maxRowsInMemory: 1 } })) }, expect: ["submit:DriftCorrected:false"] },
  { name: "only suspended differs in Druid's copy → not drift, resume", status: applied, observed: { supervisor: live(true) }, expect: ["resumeSupervisor"] },
  { name: "unhealthy but in sync → nothing (Druid's job)", status: applied, observed: { supervisor: live(false, "UNHEALTHY_SUPERVISOR") }, expect: [] },
  { name: "no live hash recorded yet (older status) → nothing", status: { ...applied, druidSpecHash: undefined }, observed: { supervisor: live(false) }, expect: [] },
  { name: "adopting an existing supervisor → one update to the spec", holding: "adopt", record: undefined, observed: { supervisor: live(false) }, expect: ["submit:Updated:false"] },
  { name: "druid-operator status with the same spec → taken over, no POST", status: operatorStatus(), record: operatorRecord, observed: { supervisor: live(false) }, expect: [], takenOver: true },
  {
    name: "druid-operator: body suspended:true, Druid suspended, spec.suspend false (written by it) → stays suspended, no resume",
    spec: { suspend: false, ingestion: { type: "kafka", nativeSpec: suspendedBody } },
    status: operatorStatus(suspendedBody),
    record: operatorRecord,
    observed: { supervisor: live(true) },
    expect: [],
    takenOver: true,
  },
  { name: "druid-operator status with another spec → update", status: operatorStatus({ ...kafkaSpec, type: "kinesis" }), record: operatorRecord, observed: { supervisor: live(false) }, expect: ["submit:Updated:false"] },
  { name: "druid-operator status but supervisor gone → recreate", status: operatorStatus(), record: operatorRecord, expect: ["submit:Recreated:false"] },
];

for (const c of supervisorCases) {
  test(`plan supervisor: ${c.name}`, () => {
    const p = plan(c);
    assert.equal(p.failure, undefined);
    assert.deepEqual(kinds(p.actions), c.expect);
    assert.equal(p.specTakenOver ?? false, c.takenOver ?? false);
  });
}

test("plan: an explicit supervisor id needs Druid 34+", () => {
  const spec = { ingestion: { type: "kafka", nativeSpec: { ...kafkaSpec, id: "metrics-eu" } } };
  const old = plan({ spec });
  assert.equal(old.failure?.reason, "SupervisorIdUnsupported");
  assert.deepEqual(old.actions, []);
  assert.deepEqual(kinds(plan({ spec, observed: { druidVersion: "34.0.0" } }).actions), ["submit:Created:false"]);
});

test("plan: offsets go to the topic Druid's supervisor reads; what Druid would refuse is refused before any call, and Observe only reports", () => {
  const [action] = plan({ spec: offsets("o1"), status: applied, observed: { supervisor: live(false) } }).actions;
  assert.deepEqual(action, { kind: "resetOffsets", supervisorId: "metrics", metadata: { type: "kafka", partitions: { type: "end", stream: "metrics", partitionSequenceNumberMap: { "0": 5 } } } });
  // Refused on its own: the other steps (here a suspend) still go.
  const bad = plan({ spec: { ...offsets("o1", { partitions: { zero: 5 } }), suspend: true }, status: applied, observed: { supervisor: live(false) } });
  assert.deepEqual(kinds(bad.actions), ["suspendSupervisor"]);
  assert.equal(bad.failure, undefined);
  assert.equal(bad.offsetsResetHeld?.reason, "ResetOffsetsInvalid");
  const observe = plan({ spec: offsets("o1", { partitions: { zero: 5 } }), status: applied, observed: { supervisor: live(false) }, policy: "Observe" });
  assert.equal(observe.failure, undefined);
  const old = plan({ spec: offsets("o1", { latestAndBackfill: {} }), status: applied, observed: { supervisor: live(false) } });
  assert.deepEqual(old.actions, []);
  assert.equal(old.offsetsResetHeld?.reason, "ResetToLatestAndBackfillUnsupported");
  assert.match(old.offsetsResetHeld?.message ?? "", /Druid 33\.0\.0 has no resetToLatestAndBackfill \(added in Druid 38\)/);
  assert.equal(plan({ spec: offsets("o1", { latestAndBackfill: {} }), status: applied, observed: { supervisor: live(false) }, policy: "Observe" }).failure, undefined);
});

test("plan: resetToLatestAndBackfill waits behind a resume, then for RUNNING, holding nothing else back", () => {
  const ready: JsonObject = { ...kafkaSpec, context: { useConcurrentLocks: true } };
  const spec = { ...offsets("o1", { latestAndBackfill: { backfillTaskCount: 2 } }), ingestion: { type: "kafka", nativeSpec: ready } };
  const status = { ...applied, specHash: (renderIngestion(ingestion(spec)) as DesiredSupervisor).specHash, druidSpecHash: liveSupervisorSpecHash(druidEcho(true, {}, ready)) };
  const v38 = { druidVersion: "38.0.0" };
  const resuming = plan({ spec, status, observed: { ...v38, supervisor: live(true, "SUSPENDED", druidEcho(true, {}, ready)) } });
  assert.deepEqual(kinds(resuming.actions), ["resumeSupervisor"]);
  assert.equal(resuming.failure, undefined);
  assert.equal(resuming.offsetsResetHeld?.reason, "WaitingForSupervisor");
  const pending = plan({ spec, status, observed: { ...v38, supervisor: live(false, "UNHEALTHY_SUPERVISOR", druidEcho(false, {}, ready)) } });
  assert.deepEqual(pending.actions, []);
  assert.equal(pending.failure, undefined);
  assert.equal(pending.offsetsResetHeld?.reason, "WaitingForRunning");
  assert.equal(pending.offsetsResetHeld?.transient, true);
  const go = plan({ spec, status, observed: { ...v38, supervisor: live(false, "RUNNING", druidEcho(false, {}, ready)) } });
  assert.deepEqual(go.actions, [{ kind: "resetToLatestAndBackfill", supervisorId: "metrics", backfillTaskCount: 2 }]);
});

test("plan: the submitted spec carries the desired suspended flag and the user's fields", () => {
  const [action] = plan({ spec: { suspend: true } }).actions;
  assert.equal(action?.kind, "submitSupervisor");
  if (action?.kind === "submitSupervisor") assert.deepEqual(action.spec, { ...kafkaSpec, suspended: true });
});

// --- Druid-owned and ignored paths ---------------------------------------------------------------

const autoscaled: JsonObject = {
  type: "kafka",
  spec: { dataSchema: { dataSource: "metrics" }, ioConfig: { topic: "metrics", taskCount: 1, autoScalerConfig: { enableTaskAutoScaler: true, taskCountMin: 1, taskCountMax: 4 } } },
};
/** Druid's copy, with ioConfig twice (under spec and at the top level), as Druid 33 stores it. */
function autoscaledEcho(taskCount: number, extra: JsonObject = {}): JsonObject {
  const ioConfig = { topic: "metrics", taskCount, autoScalerConfig: { enableTaskAutoScaler: true, taskCountMin: 1, taskCountMax: 4, scaleOutStep: 2 }, ...extra };
  return { type: "kafka", spec: { dataSchema: { dataSource: "metrics" }, ioConfig }, ioConfig, dataSchema: { dataSource: "metrics" }, suspended: false };
}

test("plan: the autoscaler's taskCount in Druid's copy is not drift; a real change still is", () => {
  const spec = { ingestion: { type: "kafka", nativeSpec: autoscaled } };
  const d = renderIngestion(ingestion(spec)) as DesiredSupervisor;
  const ignored = ignoredPaths(d.body, undefined);
  assert.deepEqual(ignored, ["/ioConfig/taskCount", "/spec/ioConfig/taskCount"]);
  const status: DruidIngestionStatus = { applied: record, specHash: d.specHash, druidSpecHash: liveSupervisorSpecHash(autoscaledEcho(1), ignored), driftIgnorePaths: ignored };
  const scaled = { ...live(false), spec: autoscaledEcho(3) };
  assert.deepEqual(kinds(plan({ spec, status, observed: { supervisor: scaled } }).actions), [], "scaled by Druid: nothing");
  const edited = { ...live(false), spec: autoscaledEcho(3, { period: "PT5S" }) };
  assert.deepEqual(kinds(plan({ spec, status, observed: { supervisor: edited } }).actions), ["submit:DriftCorrected:false"]);
});

test("plan: a status recorded before the ignored paths changed is re-baselined, not corrected", () => {
  const spec = { ingestion: { type: "kafka", nativeSpec: autoscaled } };
  const d = renderIngestion(ingestion(spec)) as DesiredSupervisor;
  // Recorded by an older version that hashed everything; Druid has scaled since.
  const status: DruidIngestionStatus = { applied: record, specHash: d.specHash, druidSpecHash: liveSupervisorSpecHash(autoscaledEcho(1)) };
  assert.deepEqual(kinds(plan({ spec, status, observed: { supervisor: { ...live(false), spec: autoscaledEcho(3) } } }).actions), []);
});

test("plan: spec.driftIgnorePaths leaves those paths to others (with Druid's twin path)", () => {
  const spec: Partial<DruidIngestionSpec> = { driftIgnorePaths: ["/spec/ioConfig/consumerProperties"] };
  const d = renderIngestion(ingestion(spec)) as DesiredSupervisor;
  const ignored = ignoredPaths(d.body, spec.driftIgnorePaths);
  assert.deepEqual(ignored, ["/ioConfig/consumerProperties", "/spec/ioConfig/consumerProperties"]);
  const base = druidEcho(false);
  const status: DruidIngestionStatus = { applied: record, specHash: d.specHash, druidSpecHash: liveSupervisorSpecHash(base, ignored), driftIgnorePaths: ignored };
  const rotated = druidEcho(false, { spec: { ...(kafkaSpec["spec"] as JsonObject), ioConfig: { topic: "metrics", consumerProperties: { "bootstrap.servers": "other:9092" } } } });
  assert.deepEqual(kinds(plan({ spec, status, observed: { supervisor: { ...live(false), spec: rotated } } }).actions), []);
});

test("keepDruidOwnedValues: an update keeps the count Druid scaled to, unless the resource changed it", () => {
  const d = renderIngestion(ingestion({ ingestion: { type: "kafka", nativeSpec: autoscaled } })) as DesiredSupervisor;
  const submission: JsonObject = { ...d.body, suspended: false };
  const scaled = { ...live(false), spec: autoscaledEcho(3) };
  const kept = keepDruidOwnedValues(submission, d, autoscaled, scaled);
  assert.equal(((kept["spec"] as JsonObject)["ioConfig"] as JsonObject)["taskCount"], 3);
  assert.equal(((submission["spec"] as JsonObject)["ioConfig"] as JsonObject)["taskCount"], 1, "the input is not modified");
  const previous = { ...autoscaled, spec: { ...(autoscaled["spec"] as JsonObject), ioConfig: { ...((autoscaled["spec"] as JsonObject)["ioConfig"] as JsonObject), taskCount: 2 } } };
  assert.equal(((keepDruidOwnedValues(submission, d, previous, scaled)["spec"] as JsonObject)["ioConfig"] as JsonObject)["taskCount"], 1, "the resource changed taskCount: its value goes");
  const plain = renderIngestion(ingestion()) as DesiredSupervisor;
  assert.deepEqual(keepDruidOwnedValues({ ...plain.body }, plain, kafkaSpec, live(false)), plain.body, "no autoscaler: untouched");
});

// --- compaction and rules -----------------------------------------------------------------

const compaction = { skipOffsetFromLatest: "PT0S" };
const rules = [{ type: "loadForever" }];
const withParts = { ingestion: { type: "kafka", nativeSpec: kafkaSpec, compaction, rules } };
const echoCompaction = { ...compaction, dataSource: "metrics", taskPriority: 25 };
const echoRules = [{ type: "loadForever", tieredReplicants: { _default_tier: 2 } }];

test("plan compaction and rules: created, in sync, drift, removal", () => {
  const d = renderIngestion(ingestion(withParts));
  const supervisor = live(false);
  const fresh = plan({ spec: withParts, status: applied, observed: { supervisor, compaction: undefined, rules: [] } });
  assert.deepEqual(kinds(fresh.actions), ["submitCompaction:Created", "submitRules:Created"]);
  const sc = fresh.actions[0];
  assert.deepEqual(sc?.kind === "submitCompaction" && sc.config, { skipOffsetFromLatest: "PT0S", dataSource: "metrics" });

  const inSync = { ...applied, compactionHash: d.compaction?.hash, druidCompactionHash: contentHash(echoCompaction), rulesHash: d.rules?.hash, druidRulesHash: contentHash(echoRules) };
  assert.deepEqual(plan({ spec: withParts, status: inSync, observed: { supervisor, compaction: echoCompaction, rules: echoRules } }).actions, []);

  const drifted = plan({ spec: withParts, status: inSync, observed: { supervisor, compaction: { ...echoCompaction, taskPriority: 1 }, rules: [] } });
  assert.deepEqual(kinds(drifted.actions), ["submitCompaction:DriftCorrected", "submitRules:Recreated"]);

  const removal = plan({ status: inSync, observed: { supervisor, compaction: echoCompaction, rules: echoRules } });
  assert.deepEqual(kinds(removal.actions), ["deleteCompaction:Unmanaged", "clearRules:Unmanaged"]);
  assert.deepEqual(plan({ status: inSync, observed: { supervisor, compaction: undefined, rules: [] } }).actions, [], "already gone");
});

test("plan compaction and rules: content this resource never applied is left alone unless it may take it over", () => {
  const supervisor = live(false);
  const foreign = { observed: { supervisor, compaction: echoCompaction, rules: echoRules } };
  const managed = plan({ spec: withParts, status: applied, ...foreign });
  assert.deepEqual(managed.actions, []);
  assert.equal(managed.compactionStandDown?.reason, "CompactionConfigExists");
  assert.equal(managed.rulesStandDown?.reason, "RulesExist");
  assert.match(managed.compactionStandDown?.message ?? "", /managementPolicy: Adopt/);

  const adopted = plan({ spec: withParts, status: applied, policy: "Adopt", ...foreign });
  assert.deepEqual(adopted.actions, [], "same content: recorded, not POSTed");
  assert.equal(adopted.compactionTakenOver?.liveHash, contentHash(echoCompaction));
  assert.equal(adopted.rulesTakenOver?.liveHash, contentHash(echoRules));

  const different = plan({ spec: withParts, status: applied, policy: "Adopt", observed: { supervisor, compaction: { dataSource: "metrics", skipOffsetFromLatest: "P1D" }, rules: [{ type: "dropForever" }] } });
  assert.deepEqual(kinds(different.actions), ["submitCompaction:Updated", "submitRules:Updated"]);

  const operator = plan({ spec: withParts, status: operatorStatus(), record: operatorRecord, ...foreign });
  assert.ok(operator.compactionTakenOver && operator.rulesTakenOver, "the druid-operator applied them from this resource");

  const ourCrash = plan({ spec: withParts, status: { ...applied, pendingCreate: { druidEndpoint: ENDPOINT, dataSource: "metrics", since: "2026-01-01T00:00:00Z" } }, ...foreign });
  assert.ok(ourCrash.compactionTakenOver && ourCrash.rulesTakenOver, "created by our own earlier attempt, whose status write was lost");
});

test("plan rules: an explicit empty list clears Druid's rules once, if they are ours", () => {
  const spec = { ingestion: { type: "kafka", nativeSpec: kafkaSpec, rules: [] } };
  const d = renderIngestion(ingestion(spec));
  const ours = { ...applied, rulesHash: contentHash([{ type: "dropForever" }]), druidRulesHash: contentHash([{ type: "dropForever" }]) };
  assert.deepEqual(kinds(plan({ spec, status: ours, observed: { supervisor: live(false), rules: [{ type: "dropForever" }] } }).actions), ["submitRules:Updated"]);
  const after = { ...applied, rulesHash: d.rules?.hash, druidRulesHash: contentHash([]) };
  assert.deepEqual(plan({ spec, status: after, observed: { supervisor: live(false), rules: [] } }).actions, []);
});

test("includes: Druid's copy may add fields, never change or drop them", () => {
  assert.ok(includes({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } }));
  assert.ok(!includes({ a: 1 }, { a: 2 }));
  assert.ok(!includes({ a: 1 }, { b: 1 }));
  assert.ok(includes([{ type: "x", extra: 1 }, { type: "y" }], [{ type: "x" }, { type: "y" }]));
  assert.ok(!includes([{ type: "y" }, { type: "x" }], [{ type: "x" }, { type: "y" }]), "rules are ordered");
  assert.ok(!includes([{ type: "x" }], [{ type: "x" }, { type: "y" }]));
});

// --- tasks -------------------------------------------------------------------------------------

const batchSpec: JsonObject = { type: "index_parallel", spec: { dataSchema: { dataSource: "wiki" }, ioConfig: { type: "index_parallel" } } };
const batchIngestion = { ingestion: { type: "native-batch", spec: JSON.stringify(batchSpec) } };
const task = (id: string, statusCode = "RUNNING"): LiveTask => ({ id, statusCode, runnerStatusCode: statusCode === "RUNNING" ? "RUNNING" : "NONE", errorMsg: undefined });
const taskRecord = (taskId: string, origin: AppliedRecord["origin"] = "Created"): AppliedRecord => ({ druidEndpoint: ENDPOINT, taskId, dataSource: "wiki", origin });

test("plan task: submit once with a generated id; a new spec or nonce runs again", () => {
  const d = renderIngestion(ingestion(batchIngestion));
  assert.equal(d.kind, "task");
  if (d.kind !== "task") return;
  assert.match(d.taskId, /^druidingestion_analytics_metrics_[0-9a-f]{16}$/);
  const submit = plan({ spec: batchIngestion }).actions;
  assert.deepEqual(kinds(submit), ["submitTask:Created"]);
  assert.equal(submit[0]?.kind === "submitTask" && submit[0].spec["id"], d.taskId);

  const done: DruidIngestionStatus = { applied: taskRecord(d.taskId), taskId: d.taskId, specHash: d.specHash };
  assert.deepEqual(plan({ spec: batchIngestion, status: done, observed: { task: task(d.taskId, "SUCCESS") } }).actions, []);

  const rerun = plan({ spec: { ...batchIngestion, resetNonce: "again" }, status: done, observed: { task: task(d.taskId) } });
  assert.deepEqual(kinds(rerun.actions), [`shutdownTask:${d.taskId}:Replaced`, "submitTask:Updated"]);
  const next = rerun.actions[1];
  assert.ok(next?.kind === "submitTask" && next.taskId !== d.taskId, "a nonce gives a new task id");
});

test("plan task: a task has no offsets to move: a resetOffsetsNonce is refused, nothing is run", () => {
  const refused = plan({ spec: { ...batchIngestion, ...offsets("o1") } });
  assert.deepEqual(refused.actions, []);
  assert.equal(refused.failure?.reason, "ResetOffsetsUnsupported");
  assert.match(refused.failure?.message ?? "", /native-batch runs a task.*Remove spec\.resetOffsetsNonce/);
});

test("plan task: generated ids differ per resource uid (a re-created resource never meets its predecessor's task)", () => {
  const a = renderIngestion(ingestion(batchIngestion));
  const b = renderIngestion({ ...ingestion(batchIngestion), metadata: { ...ingestion().metadata, uid: "u2" } });
  assert.ok(a.kind === "task" && b.kind === "task" && a.taskId !== b.taskId);
});

test("plan task: the druid-operator's task with the same spec is kept under Druid's own id", () => {
  const status: DruidIngestionStatus = { taskId: "index_parallel_wiki_abc", "currentIngestionSpec.json": JSON.stringify(batchSpec) };
  const p = plan({ spec: batchIngestion, status, record: taskRecord("index_parallel_wiki_abc", "DruidOperator"), observed: { task: task("index_parallel_wiki_abc") } });
  assert.deepEqual(p.actions, []);
  assert.equal(p.specTakenOver, true);
});

test("plan task: an explicit id that the previous run used cannot run a new spec", () => {
  const body = { ...batchSpec, id: "load-wiki-1" };
  const spec = { ingestion: { type: "native-batch", nativeSpec: body } };
  const p = plan({ spec, status: { applied: taskRecord("load-wiki-1"), specHash: "previous-spec" }, observed: { task: task("load-wiki-1", "SUCCESS") } });
  assert.equal(p.failure?.reason, "TaskIdInUse");
  assert.deepEqual(p.actions, []);
});

test("plan task: sql is named query-<sqlQueryId> by Druid; the id is chosen up front", () => {
  const spec = { ingestion: { type: "sql", nativeSpec: { query: "INSERT INTO x SELECT 1 PARTITIONED BY ALL", context: { maxNumTasks: 2 } } } };
  const d = renderIngestion(ingestion(spec));
  assert.ok(d.kind === "task" && /^query-druidingestion_analytics_metrics_[0-9a-f]{16}$/.test(d.taskId));
  const [action] = plan({ spec }).actions;
  assert.equal(action?.kind, "submitTask");
  if (action?.kind !== "submitTask") return;
  assert.equal(action.sql, true);
  assert.equal((action.spec["context"] as JsonObject)["maxNumTasks"], 2);
  assert.equal(`query-${(action.spec["context"] as JsonObject)["sqlQueryId"]}`, action.taskId);
  const own = renderIngestion(ingestion({ ingestion: { type: "sql", nativeSpec: { query: "x", context: { sqlQueryId: "mine" } } } }));
  assert.ok(own.kind === "task" && own.taskId === "query-mine" && own.explicitId);
});

// --- what must be recorded as a pending create first --------------------------------------------

test("plannedCreates: only what no record names yet", () => {
  const d = renderIngestion(ingestion(withParts));
  const creates = (c: Case) => plannedCreates(plan(c), c.status ?? {});
  assert.deepEqual(creates({ spec: withParts, observed: { rules: [] } }), { supervisorId: "metrics", dataSource: "metrics" });
  assert.equal(creates({ spec: withParts, status: { ...applied, compactionHash: d.compaction?.hash, rulesHash: d.rules?.hash }, observed: { supervisor: live(false), compaction: echoCompaction, rules: echoRules } }), undefined);
  assert.equal(creates({ status: { ...applied, specHash: "old" }, observed: { supervisor: live(false) } }), undefined, "an update of ours");
  assert.equal(creates({ status: applied }), undefined, "recreating ours");
  assert.deepEqual(creates({ spec: batchIngestion }), { taskId: (renderIngestion(ingestion(batchIngestion)) as { taskId: string }).taskId });
});

test("plan: a change to another topic, stream or type is refused naming the field, unless unsafeChangePolicy Recreate (#12)", () => {
  const moved: JsonObject = { ...kafkaSpec, spec: { ...(kafkaSpec["spec"] as JsonObject), ioConfig: { topic: "metrics-v2", consumerProperties: { "bootstrap.servers": "127.0.0.1:9092" } } } };
  const kinds = (p: Plan) => p.actions.map((a) => `${a.kind}${"cause" in a ? `:${a.cause}` : ""}`);
  const cases: Array<[string, Case, string[] | RegExp]> = [
    ["another topic, running, Druid 33", { spec: { ingestion: { type: "kafka", nativeSpec: moved } }, status: applied, observed: { supervisor: live(false) } }, /^StreamChangeRefused: the spec changes \/spec\/ioConfig\/topic from "metrics" to "metrics-v2": .*Druid 33\.0\.0 would take it, ignore the stored offsets of the old stream.*Nothing was sent.*spec\.unsafeChangePolicy: Recreate/],
    ["another topic, Druid 34 refuses", { spec: { ingestion: { type: "kafka", nativeSpec: moved } }, status: applied, observed: { druidVersion: "34.0.0", supervisor: live(false) } }, /Druid 34\.0\.0 refuses such an update/],
    ["the topic edited in Druid's console (drift)", { status: applied, observed: { supervisor: live(false, "RUNNING", druidEcho(false, {}, moved)) } }, /^StreamChangeRefused: Druid holds a spec edited there \(\/spec\/ioConfig\/topic from "metrics-v2" to "metrics"/],
    ["another type", { spec: { ingestion: { type: "kinesis", nativeSpec: { ...kafkaSpec, type: "kinesis", spec: { ...(kafkaSpec["spec"] as JsonObject), ioConfig: { stream: "metrics" } } } } }, status: applied, observed: { supervisor: live(false) } }, /^TypeChangeRefused: .*\/type from "kafka" to "kinesis"/],
    ["Recreate, running: suspended first, nothing else yet", { spec: { unsafeChangePolicy: "Recreate", ingestion: { type: "kafka", nativeSpec: moved } }, status: applied, observed: { supervisor: live(false) } }, ["suspendSupervisor"]],
    ["Recreate, suspended, tasks not counted: waits", { spec: { unsafeChangePolicy: "Recreate", ingestion: { type: "kafka", nativeSpec: moved } }, status: applied, observed: { supervisor: live(true) } }, /^Recreating: .*could not be counted/],
    ["Recreate, suspended, 2 tasks still publishing: waits", { spec: { unsafeChangePolicy: "Recreate", ingestion: { type: "kafka", nativeSpec: moved } }, status: applied, observed: { supervisor: live(true), tasksLeft: 2 } }, /^Recreating: .*suspended; 2 of its tasks are still reading or publishing/],
    ["Recreate, suspended, no task left: reset, terminate, create", { spec: { unsafeChangePolicy: "Recreate", ingestion: { type: "kafka", nativeSpec: moved } }, status: applied, observed: { supervisor: live(true), tasksLeft: 0 } }, ["resetSupervisor:Recreate", "terminateSupervisor:Recreate", "submitSupervisor:Recreated"]],
    ["Recreate with a new resetNonce: the new supervisor has nothing to reset", { spec: { unsafeChangePolicy: "Recreate", resetNonce: "n1", ingestion: { type: "kafka", nativeSpec: moved } }, status: applied, observed: { supervisor: live(true), tasksLeft: 0 } }, ["resetSupervisor:Recreate", "terminateSupervisor:Recreate", "submitSupervisor:Recreated"]],
    ["Recreate never for an adopted supervisor", { spec: { unsafeChangePolicy: "Recreate", managementPolicy: "Adopt", ingestion: { type: "kafka", nativeSpec: moved } }, observed: { supervisor: live(false) }, holding: "adopt", record: undefined, policy: "Adopt" }, /^StreamChangeRefused: .*applies only to a supervisor this resource created and applied/],
    ["Recreate never undoes an edit made in Druid", { spec: { unsafeChangePolicy: "Recreate" }, status: applied, observed: { supervisor: live(false, "RUNNING", druidEcho(false, {}, moved)) } }, /^StreamChangeRefused: Druid holds a spec edited there.*never used to undo an edit made in Druid/],
    ["Observe only reports: no refusal", { spec: { managementPolicy: "Observe", ingestion: { type: "kafka", nativeSpec: moved } }, observed: { supervisor: live(false) }, holding: "adopt", record: undefined, policy: "Observe" }, ["submitSupervisor:Updated"]],
    ["the supervisor is gone from Druid: created with the new topic, nothing to refuse", { spec: { ingestion: { type: "kafka", nativeSpec: moved } }, status: applied, observed: { supervisor: undefined } }, ["submitSupervisor:Recreated"]],
    ["the same topic, another setting: an update", { spec: { ingestion: { type: "kafka", nativeSpec: { ...kafkaSpec, spec: { ...(kafkaSpec["spec"] as JsonObject), tuningConfig: { type: "kafka", maxRowsInMemory: 5 } } } } }, status: applied, observed: { supervisor: live(false) } }, ["submitSupervisor:Updated"]],
  ];
  for (const [name, c, want] of cases) {
    const p = plan(c);
    if (want instanceof RegExp) {
      assert.deepEqual(p.actions, [], name);
      assert.match(`${p.failure?.reason}: ${p.failure?.message}`, want, name);
    } else {
      assert.equal(p.failure, undefined, `${name}: ${p.failure?.message}`);
      assert.deepEqual(kinds(p), want, name);
    }
  }
});

test("plan task: index-hadoop is refused on Druid 37+ (Hadoop ingestion removed), sent as before on older Druid (#12)", () => {
  const hadoop: Partial<DruidIngestionSpec> = { ingestion: { type: "index-hadoop", nativeSpec: { type: "index_hadoop", spec: { dataSchema: { dataSource: "h" } } } } };
  const on37 = plan({ spec: hadoop, observed: { druidVersion: "37.0.0" } });
  assert.deepEqual(on37.actions, []);
  assert.equal(on37.failure?.reason, "HadoopIngestionRemoved");
  assert.match(on37.failure?.message ?? "", /Druid 37\.0\.0 has no Hadoop-based ingestion.*nothing was sent.*native-batch/);
  assert.deepEqual(plan({ spec: hadoop, observed: { druidVersion: "33.0.0" } }).actions.map((a) => a.kind), ["submitTask"]);
  // The body's own type counts too (ingestion.type native-batch, an index_hadoop task).
  const disguised = plan({ spec: { ingestion: { type: "native-batch", nativeSpec: { type: "index_hadoop", spec: { dataSchema: { dataSource: "h" } } } } }, observed: { druidVersion: "37.0.0" } });
  assert.equal(disguised.failure?.reason, "HadoopIngestionRemoved");
});
