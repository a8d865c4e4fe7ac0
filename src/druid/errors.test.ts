import { test } from "node:test";
import assert from "node:assert/strict";
import { druidErrorText, reasonForStatus, tlsError, transportError } from "./errors.ts";

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

test("tlsError: each kind of failed handshake says what to do; anything else is not a TLS failure", () => {
  const nodeError = (code: string, message: string): Error => Object.assign(new Error(message), { code });
  const origin = "https://router-a.druid-routers.svc:9088";
  const table: Array<[string, string, string | undefined, RegExp]> = [
    ["SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate in certificate chain", "/etc/druid/ca.pem", /not signed by a CA in DRUID_CA_FILE=\/etc\/druid\/ca\.pem: set DRUID_CA_FILE/],
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate; if the root CA is installed locally, try running Node.js with --use-system-ca", undefined, /\(UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate\); Druid's certificate is not signed by a CA in the system's root CAs \(DRUID_CA_FILE is not set\)/],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match certificate's altnames", "/ca.pem", /does not name router-a\.druid-routers\.svc/],
    ["CERT_HAS_EXPIRED", "certificate has expired", "/ca.pem", /outside its validity period: renew it/],
    ["CERT_REVOKED", "certificate revoked", "/ca.pem", /refused \(checked against DRUID_CA_FILE=\/ca\.pem\)/],
    ["ERR_SSL_WRONG_VERSION_NUMBER", "80D8:error:0A00010B:SSL routines:tls_validate_record_header:wrong version number:../deps/openssl/ssl/record.c:77:", undefined, /\(ERR_SSL_WRONG_VERSION_NUMBER: wrong version number\); the server does not answer TLS there/],
  ];
  for (const [code, message, caFile, expected] of table) {
    const error = tlsError("POST /druid/indexer/v1/supervisor", origin, new Error("fetch failed", { cause: nodeError(code, message) }), caFile);
    assert.ok(error, code);
    assert.equal(error.reason, "DruidTLSFailed", code);
    assert.equal(error.notSent, true, code);
    assert.equal(error.transient, false, code);
    assert.ok(error.message.startsWith(`POST /druid/indexer/v1/supervisor: TLS with ${origin} failed (${code}: `), error.message);
    assert.match(error.message, expected);
    assert.ok(error.message.endsWith(". Nothing was sent"), error.message);
    assert.doesNotMatch(error.message, /--use-system-ca|deps\/openssl/);
  }
  for (const code of ["ECONNREFUSED", "ECONNRESET", "UND_ERR_CONNECT_TIMEOUT"]) assert.equal(tlsError("GET /status", origin, nodeError(code, "x"), undefined), undefined, code);
  assert.equal(tlsError("GET /status", origin, new Error("no code"), undefined), undefined);
});
