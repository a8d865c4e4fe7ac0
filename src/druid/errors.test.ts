import { test } from "node:test";
import assert from "node:assert/strict";
import { druidErrorText, reasonForStatus, transportError } from "./errors.ts";

test("druidErrorText: the shapes Druid sends are echoed (sanitized)", () => {
  const table: Array<[string, string]> = [
    ['{"error":"[x] does not exist"}', "[x] does not exist"],
    ['{"error":"druidException","errorCode":"invalidInput","persona":"USER","category":"INVALID_INPUT","errorMessage":"bad spec"}', "bad spec"],
    // QueryException as Druid 33 answers a request without credentials.
    ['{"error":"Unauthorized request","errorMessage":null,"errorClass":null,"host":"localhost"}', "Unauthorized request"],
    ['{"Access-Check-Result":"Allowed:false, Message:"}', "Access-Check-Result: Allowed:false, Message:"],
    ['{"error":"login as admin with hunter2 failed\\n<b>at</b> Foo"}', "login as [redacted] with [redacted] failed at Foo"],
  ];
  for (const [body, expected] of table) assert.equal(druidErrorText(body, ["admin", "hunter2"]), expected, body);
});

test("druidErrorText: anything else is not a Druid error reply (the caller describes it)", () => {
  const table = [
    "",
    "<html><body><h2>HTTP ERROR 401 User authentication failed.</h2></body></html>",
    "Cannot find any supervisor with id: [wiki]", // Druid's text/plain 404: described, too
    '{"message":"hunter2"}',
    '{"error":{"password":"hunter2"}}',
    '{"error":"   "}',
    '["error"]',
    "null",
    '{"error":"<br>"}',
  ];
  for (const body of table) assert.equal(druidErrorText(body), undefined, body);
});

test("reasonForStatus", () => {
  assert.deepEqual([401, 403, 404, 400, 415, 502, 503, 504, 500].map(reasonForStatus), ["DruidUnauthorized", "DruidForbidden", "DruidNotFound", "DruidRejected", "DruidRejected", "DruidUnavailable", "DruidUnavailable", "DruidUnavailable", "DruidServerError"]);
});

test("transportError: Node's message, bounded to one line", () => {
  const error = Object.assign(new Error(`Hostname/IP does not match certificate's altnames: ${"DNS:x.example, ".repeat(100)}\nend`), { code: "ERR_TLS_CERT_ALTNAME_INVALID" });
  const mapped = transportError("GET /status", error);
  assert.equal(mapped.reason, "DruidUnreachable");
  assert.ok(mapped.message.length < 400);
  assert.doesNotMatch(mapped.message, /\n/);
});
