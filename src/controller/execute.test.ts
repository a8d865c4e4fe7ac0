import { test } from "node:test";
import assert from "node:assert/strict";
import type { DruidClient } from "../druid/client.ts";
import { DruidError } from "../druid/errors.ts";
import { DruidSnapshots } from "../druid/snapshot.ts";
import { FakeDruid, type CallLog } from "../../test/support/fakes.ts";
import { liveSupervisorSpecHash } from "./drift.ts";
import { executePlan } from "./execute.ts";
import { LeadershipFence } from "../kube/fence.ts";
import type { DruidAction } from "./model.ts";

const URL = "http://druid:8888";
function setup() {
  const log: CallLog = [];
  const druid = new FakeDruid(log);
  const client = druid.client({ baseUrl: URL, credentials: undefined }) as unknown as DruidClient;
  const snapshots = new DruidSnapshots({ maxAgeMs: 60_000 });
  return { log, druid, client, snapshots, context: { client, snapshots, fence: new LeadershipFence(), druidVersion: "33.0.0", ignored: [] as string[] } };
}
const kafka = { type: "kafka", spec: { dataSchema: { dataSource: "m" }, ioConfig: { topic: "m", taskCount: 1 } } };

test("actions run in order and stop at the first failure; an error Druid may have acted on is ambiguous", async () => {
  const { druid, context, log } = setup();
  druid.failNext.set("POST /supervisor/m/suspend", new DruidError("DruidTimeout", "timed out"));
  const actions: DruidAction[] = [
    { kind: "submitSupervisor", supervisorId: "m", spec: kafka, cause: "Created" },
    { kind: "suspendSupervisor", supervisorId: "m" },
    { kind: "resetSupervisor", supervisorId: "m", cause: "ResetNonce" },
  ];
  const outcome = await executePlan(actions, context);
  assert.deepEqual(outcome.executed.map((a) => a.kind), ["submitSupervisor"]);
  assert.equal(outcome.failed?.action.kind, "suspendSupervisor");
  assert.equal(outcome.failed?.ambiguous, true);
  assert.equal(outcome.failed?.failure.transient, true);
  assert.ok(!log.some((l) => l.includes("/reset")), "nothing after the failure");

  const refused = setup();
  refused.druid.failNext.set("POST /supervisor m", new DruidError("DruidRejected", "HTTP 400: bad spec", { statusCode: 400 }));
  const r = await executePlan([actions[0] as DruidAction], refused.context);
  assert.equal(r.failed?.ambiguous, false, "a 400 means Druid did nothing");
  const notSent = setup();
  notSent.druid.failNext.set("POST /supervisor m", new DruidError("DruidUnreachable", "ECONNREFUSED", { notSent: true }));
  assert.equal((await executePlan([actions[0] as DruidAction], notSent.context)).failed?.ambiguous, false, "never sent");
});

test("after supervisor writes, Druid's stored spec and state are read back (hash with the ignored paths)", async () => {
  const { context } = setup();
  const ignored = ["/spec/ioConfig/taskCount"];
  const outcome = await executePlan([{ kind: "submitSupervisor", supervisorId: "m", spec: { ...kafka, suspended: false }, cause: "Created" }], { ...context, ignored });
  assert.equal(outcome.supervisorAfter?.state, "PENDING");
  assert.equal(outcome.druidSpecHash, liveSupervisorSpecHash(outcome.supervisorAfter?.spec ?? {}, ignored));
  const suspend = await executePlan([{ kind: "suspendSupervisor", supervisorId: "m" }], context);
  assert.equal(suspend.supervisorAfter?.suspended, true);
  assert.equal(suspend.druidSpecHash, undefined, "no submit: the recorded hash stays as it was");
});

test("a failed read-back leaves the state unknown but the write done", async () => {
  const { druid, context } = setup();
  druid.failNext.set("GET /supervisor/m+status", new DruidError("DruidTimeout", "timed out"));
  const outcome = await executePlan([{ kind: "submitSupervisor", supervisorId: "m", spec: kafka, cause: "Created" }], context);
  assert.deepEqual(outcome.executed.map((a) => a.kind), ["submitSupervisor"]);
  assert.equal(outcome.failed, undefined);
  assert.equal(outcome.supervisorAfter, undefined);
});

test("writes are bracketed in the snapshot: the next reading of that supervisor is its own", async () => {
  const { context, snapshots, client, log } = setup();
  await snapshots.supervisor(client, "m");
  await executePlan([{ kind: "submitSupervisor", supervisorId: "m", spec: kafka, cause: "Created" }], context);
  log.length = 0;
  const reading = await snapshots.supervisor(client, "m");
  assert.equal(reading.supervisor?.id, "m");
  assert.ok(log.includes("druid:GET /supervisor/m+status @http://druid:8888"), log.join(" | "));
  assert.ok(!log.includes("druid:GET /supervisor?state=true @http://druid:8888"), "not the whole list again");
});

test("a task id Druid already has: this run's earlier attempt is fine, an older task is not", async () => {
  const earlier = setup();
  earlier.druid.now = () => "2026-01-01T00:00:10Z";
  const action: DruidAction = { kind: "submitTask", taskId: "load-1", spec: { type: "index_parallel", id: "load-1" }, sql: false, cause: "Created" };
  await executePlan([action], { ...earlier.context, pendingSince: "2026-01-01T00:00:05Z" });
  const again = await executePlan([action], { ...earlier.context, pendingSince: "2026-01-01T00:00:05Z" });
  assert.equal(again.failed, undefined, "created after our intent: our own attempt");
  assert.equal(again.submittedTaskId, "load-1");

  const foreign = setup();
  foreign.druid.now = () => "2025-06-01T00:00:00Z";
  await executePlan([action], foreign.context);
  const refused = await executePlan([action], { ...foreign.context, pendingSince: "2026-01-01T00:00:05Z" });
  assert.equal(refused.failed?.failure.reason, "TaskIdInUse");
  assert.match(refused.failed?.failure.message ?? "", /created 2025-06-01.*can be used once/);
  assert.equal(refused.failed?.ambiguous, false);
});

test("SQL: the id Druid returns is recorded; a duplicate answered with 500 'already exists' is recognised", async () => {
  const { context, druid } = setup();
  const action: DruidAction = { kind: "submitTask", taskId: "query-abc", spec: { query: "INSERT ...", context: { sqlQueryId: "abc" } }, sql: true, cause: "Created" };
  const first = await executePlan([action], context);
  assert.equal(first.submittedTaskId, "query-abc");
  druid.failNext.set("POST /sql/task query-abc", new DruidError("DruidServerError", "HTTP 500: ... Task[query-abc] already exists", { statusCode: 500, druidMessage: "Server error [400 Bad Request]; body: Task[query-abc] already exists" }));
  const dup = await executePlan([action], { ...context, pendingSince: "2000-01-01T00:00:00Z" });
  assert.equal(dup.failed, undefined);
  assert.equal(dup.submittedTaskId, "query-abc");
});

test("removals and parts: terminate, shutdown, compaction and rules", async () => {
  const { context, druid } = setup();
  await executePlan([
    { kind: "submitSupervisor", supervisorId: "m", spec: kafka, cause: "Created" },
    { kind: "submitCompaction", dataSource: "m", config: { dataSource: "m" }, cause: "Created" },
    { kind: "submitRules", dataSource: "m", rules: [{ type: "loadForever" }], cause: "Created" },
  ], context);
  assert.ok(druid.compaction.has("m") && druid.rules.has("m"));
  const removed = await executePlan([
    { kind: "terminateSupervisor", supervisorId: "m", cause: "Deleted" },
    { kind: "deleteCompaction", dataSource: "m", cause: "Deleted" },
    { kind: "clearRules", dataSource: "m", cause: "Deleted" },
  ], context);
  assert.equal(removed.failed, undefined);
  assert.equal(druid.supervisors.size + druid.compaction.size + druid.rules.size, 0);
});

test("no Druid write starts once the fence is closed (lease lost, shutdown): refused, not ambiguous", async () => {
  const { context, log } = setup();
  let leading = true;
  const fence = new LeadershipFence(() => leading);
  const first = await executePlan([{ kind: "submitSupervisor", supervisorId: "m", spec: kafka, cause: "Created" }], { ...context, fence });
  assert.equal(first.failed, undefined);
  const sent = log.length;
  leading = false; // the renew deadline passed
  const second = await executePlan([{ kind: "suspendSupervisor", supervisorId: "m" }, { kind: "resetSupervisor", supervisorId: "m", cause: "ResetNonce" }], { ...context, fence });
  assert.equal(second.failed?.failure.reason, "NotLeader");
  assert.equal(second.failed?.ambiguous, false, "refused before sending");
  assert.deepEqual(second.executed, []);
  assert.deepEqual(log.slice(sent).filter((c) => c.includes("POST")), [], "nothing was sent");
  leading = true;
  fence.close("ShuttingDown", "the controller is shutting down");
  const third = await executePlan([{ kind: "suspendSupervisor", supervisorId: "m" }], { ...context, fence });
  assert.equal(third.failed?.failure.reason, "ShuttingDown", "a closed fence stays closed");
  assert.equal(fence.signal.aborted, true, "calls in flight are aborted");
});

test("Secret references: the values go into the body handed to Druid only; a reference without one is not sent; the client gets the values to clean Druid's text of them", async () => {
  const jaas = { secretKeyRef: { name: "kafka-sasl", key: "jaas" } };
  const spec = { ...kafka, spec: { ...kafka.spec, ioConfig: { ...kafka.spec.ioConfig, consumerProperties: { "sasl.jaas.config": jaas } } } };
  const action: DruidAction = { kind: "submitSupervisor", supervisorId: "m", spec, cause: "Created" };
  const specSecrets = { values: new Map([["kafka-sasl/jaas", 'password="s3cr3t";']]), versions: [] };

  const sent = setup();
  const outcome = await executePlan([action], { ...sent.context, specSecrets });
  assert.equal(outcome.failed, undefined);
  const stored = sent.druid.supervisors.get("m")?.spec as { spec: { ioConfig: { consumerProperties: Record<string, unknown> } } };
  assert.equal(stored.spec.ioConfig.consumerProperties["sasl.jaas.config"], 'password="s3cr3t";');
  assert.deepEqual(action.spec, spec, "the planned action keeps the reference");

  const unresolved = setup();
  const refused = await executePlan([action], unresolved.context);
  assert.equal(refused.failed?.failure.reason, "InternalError");
  assert.equal(refused.failed?.ambiguous, false, "certainly not sent");
  assert.ok(!unresolved.log.some((l) => l.startsWith("druid:POST")), "nothing sent");
  assert.equal(unresolved.druid.supervisors.size, 0);

  assert.deepEqual(sent.druid.submittedSecrets, ['password="s3cr3t";'], "the client cleans Druid's error text of them (client.test.ts)");
});
