import { test } from "node:test";
import assert from "node:assert/strict";
import { DecodeError, decodeSupervisorList, decodeTaskStatus, decodeSubmittedId, decodeCompactionConfigs } from "./decode.ts";
import { druidErrorText, reasonForStatus } from "./errors.ts";

test("supervisor list: the stored spec's suspended flag wins over the list's", () => {
  // Shape seen from Druid 33 right after POST /suspend.
  const [s] = decodeSupervisorList([{ id: "a", state: "PENDING", detailedState: "PENDING", healthy: true, suspended: false, spec: { type: "kafka", suspended: true } }]);
  assert.equal(s?.suspended, true);
  const [t] = decodeSupervisorList([{ id: "b", state: "SUSPENDED" }]);
  assert.equal(t?.suspended, true);
  assert.equal(t?.spec, undefined);
  assert.throws(() => decodeSupervisorList({}), DecodeError);
  assert.throws(() => decodeSupervisorList([{ state: "RUNNING" }]), /no string id/);
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

test("both Druid error body shapes and plain text", () => {
  assert.equal(druidErrorText('{"error":"[x] does not exist"}'), "[x] does not exist");
  assert.equal(druidErrorText('{"error":"druidException","errorCode":"invalidInput","persona":"USER","category":"INVALID_INPUT","errorMessage":"bad spec"}'), "bad spec");
  assert.equal(druidErrorText("<html><body><h2>HTTP ERROR 401 Unauthorized</h2></body></html>"), "HTTP ERROR 401 Unauthorized");
  assert.equal(druidErrorText(""), undefined);
  assert.deepEqual([401, 403, 404, 400, 415, 502, 503, 504, 500].map(reasonForStatus), ["DruidUnauthorized", "DruidForbidden", "DruidNotFound", "DruidRejected", "DruidRejected", "DruidUnavailable", "DruidUnavailable", "DruidUnavailable", "DruidServerError"]);
});
