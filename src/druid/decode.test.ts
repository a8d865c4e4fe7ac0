import { test } from "node:test";
import assert from "node:assert/strict";
import { asJsonObject, DecodeError, decodeCompactionConfigs, decodeNewestVersion, decodeRuleList, decodeRules, decodeSubmittedId, decodeSupervisorList, decodeSupervisorState, decodeTaskStatus, decodeVersion } from "./decode.ts";

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
