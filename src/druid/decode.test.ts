import { test } from "node:test";
import assert from "node:assert/strict";
import { asJsonObject, DecodeError, decodeCompactionConfigs, decodeNewestVersion, decodeRuleList, decodeRules, decodeSubmittedId, decodeSupervisorHealth, decodeSupervisorList, decodeSupervisorState, decodeTaskStatus, decodeVersion } from "./decode.ts";

test("supervisor list: the stored spec's suspended flag wins over the list's", () => {
  // Shape seen from Druid 33 right after POST /suspend.
  const [s] = decodeSupervisorList([{ id: "a", state: "PENDING", detailedState: "PENDING", healthy: true, suspended: false, spec: { type: "kafka", suspended: true } }]);
  assert.equal(s?.suspended, true);
  const [t] = decodeSupervisorList([{ id: "b", state: "SUSPENDED" }]);
  assert.equal(t?.suspended, true);
  assert.equal(t?.spec, undefined);
  // A state list (no specs): a SUSPENDED state counts even where the flag says false, and a true flag counts in any state.
  const [u, v, x] = decodeSupervisorList([
    { id: "u", state: "SUSPENDED", suspended: false },
    { id: "v", state: "RUNNING", suspended: true },
    { id: "x", state: "RUNNING", suspended: false },
  ]);
  assert.deepEqual([u?.suspended, v?.suspended, x?.suspended], [true, true, false]);
  assert.throws(() => decodeSupervisorList({}), DecodeError);
  assert.throws(() => decodeSupervisorList([{ state: "RUNNING" }]), /^DecodeError: supervisor list entry 0: expected an object with a string id, got an object with key state$/);
});

test("task status, submit ids, compaction list", () => {
  assert.deepEqual(decodeTaskStatus({ task: "t", status: { id: "t", statusCode: "FAILED", runnerStatusCode: "NONE", errorMsg: "boom" } }), { id: "t", statusCode: "FAILED", runnerStatusCode: "NONE", errorMsg: "boom" });
  assert.equal(decodeTaskStatus({ task: "t", status: null }), undefined);
  assert.equal(decodeSubmittedId({ id: "s" }), "s");
  assert.equal(decodeSubmittedId({ task: "t" }), "t");
  assert.equal(decodeSubmittedId({ taskId: "query-1", state: "RUNNING" }), "query-1");
  assert.throws(() => decodeSubmittedId({}), DecodeError);
  assert.deepEqual([...decodeCompactionConfigs({ compactionConfigs: [{ dataSource: "d", taskPriority: 25 }] }).keys()], ["d"]);
});

test("a body of the wrong shape is described, never quoted (it may be any server's reply)", () => {
  const secret = "hunter2-AKIA-fake";
  const wrong: Array<[string, () => unknown, RegExp]> = [
    ["supervisor list", () => decodeSupervisorList({ password: secret }), /^supervisor list: expected a JSON array, got an object with key password$/],
    ["supervisor list entry", () => decodeSupervisorList([{ id: 7, note: secret }]), /^supervisor list entry 0: expected an object with a string id, got an object with keys id, note$/],
    ["version", () => decodeVersion({ Code: "Success", SecretAccessKey: secret }), /^\/status: expected an object with a string version, got an object with keys Code, SecretAccessKey$/],
    ["compaction", () => decodeCompactionConfigs({ compactionConfigs: secret }), /^compactionConfigs: expected a JSON array, got a string$/],
    ["rules", () => decodeRules([secret]), /^rules: expected a JSON object, got an array of 1 item$/],
    ["rule list", () => decodeRuleList(secret), /^rules: expected a JSON array, got a string$/],
    ["task status", () => decodeTaskStatus({ status: secret }), /^task status.status: expected a JSON object, got a string$/],
    ["task status fields", () => decodeTaskStatus({ status: { token: secret } }), /^task status.status: expected an object with a string id and statusCode, got an object with key token$/],
    ["supervisor status", () => decodeSupervisorState({ payload: secret }), /^supervisor status: expected an object with a payload object, got an object with key payload$/],
    ["submitted id", () => decodeSubmittedId({ error: secret }), /^the response: expected an object with a string id, task or taskId, got an object with key error$/],
    ["object", () => asJsonObject([secret], "supervisor spec"), /^supervisor spec: expected a JSON object, got an array of 1 item$/],
    ["history", () => decodeNewestVersion([{ spec: secret }]), /^supervisor history entry 0: expected an object with a string version, got an object with key spec$/],
  ];
  for (const [name, decode, message] of wrong) {
    assert.throws(decode, (e: unknown) => {
      assert.ok(e instanceof DecodeError, name);
      assert.match(e.message, message, name);
      assert.ok(!e.message.includes(secret), name);
      return true;
    });
  }
});

test("supervisor health: lag and the newest errors first, at most three; what is missing stays missing (#12)", () => {
  // The shape of Druid 33's report for a Kafka supervisor that cannot reach its brokers.
  const errors = ["a", "b", "c", "d"].map((m, i) => ({ timestamp: `2026-01-01T00:0${i}:00.000Z`, exceptionClass: "org.apache.kafka.common.errors.TimeoutException", message: m, streamException: true }));
  const h = decodeSupervisorHealth({ id: "s", generationTime: "x", payload: { dataSource: "s", stream: "s", partitions: 0, state: "UNHEALTHY_SUPERVISOR", detailedState: "UNABLE_TO_CONNECT_TO_STREAM", healthy: false, suspended: false, aggregateLag: 1234, offsetsLastUpdated: "2026-01-01T00:03:30.000Z", recentErrors: errors } });
  assert.deepEqual(h.recentErrors.map((e) => e.message), ["d", "c", "b"]);
  assert.equal(h.aggregateLag, 1234);
  assert.equal(h.aggregateLagMillis, undefined);
  assert.equal(h.healthy, false);
  assert.equal(h.offsetsLastUpdated, "2026-01-01T00:03:30.000Z");
  const kinesis = decodeSupervisorHealth({ payload: { state: "RUNNING", healthy: true, aggregateLagMillis: 5000, aggregateLag: null } });
  assert.deepEqual([kinesis.aggregateLag, kinesis.aggregateLagMillis, kinesis.recentErrors], [undefined, 5000, []]);
  // Odd entries are kept as far as they go; a report without a payload is refused.
  assert.deepEqual(decodeSupervisorHealth({ payload: { recentErrors: [{}, 7, null] } }).recentErrors, [{ timestamp: undefined, exceptionClass: undefined, message: "", streamException: undefined }]);
  assert.throws(() => decodeSupervisorHealth({ id: "s" }), DecodeError);
});
