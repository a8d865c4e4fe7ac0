import { test } from "node:test";
import assert from "node:assert/strict";
import { describeJson, describeReply, MAX_ECHOED_CHARS, sanitizeErrorText } from "./error-text.ts";

const CREDENTIALS = ["admin", "hunter2", "admin:hunter2", Buffer.from("admin:hunter2").toString("base64")];

test("sanitizeErrorText: Druid's own messages stay as they are", () => {
  const table = [
    "Cannot change topic for supervisor [x]",
    "Datasource [wiki] already has a supervisor",
    "[wiki] is already suspended",
    "Cannot construct instance of `org.apache.druid.indexing.kafka.supervisor.KafkaSupervisorSpec`, problem: dataSchema",
    "Could not resolve type id 'nope' as a subtype of `org.apache.druid.indexing.overlord.supervisor.SupervisorSpec` known type ids = [NoopSupervisorSpec, autocompact, kafka]",
    "Task[query-3f2e1d0c-1234-4abc-9def-0123456789ab] already exists",
    "Task[index_kafka_wikipedia_0a1b2c3d4e5f6a7_hgfedcba] already exists",
    "Basic authentication failed for user",
    "Unexpected token (START_OBJECT), expected VALUE_STRING",
    "see http://router:8088/druid/indexer/v1/supervisor/WikiSupervisor2024 for details",
    "Unauthorized request",
  ];
  for (const text of table) assert.equal(sanitizeErrorText(text, CREDENTIALS), text);
});

test("sanitizeErrorText: anything that could carry a secret is redacted", () => {
  const table: Array<[string, string]> = [
    ["login of hunter2 failed", "login of [redacted] failed"],
    ["user admin refused", "user [redacted] refused"],
    ["administrators only", "administrators only"], // a short credential goes only as a whole word
    ["Authorization: Basic YWRtaW46aHVudGVyMg== was refused", "Authorization: [redacted] was refused"],
    ["header Authorization=Bearer abc.def.ghi", "header Authorization=[redacted]"],
    ["got Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc", "got Bearer [redacted]"],
    ["sent Basic dXNlcjpwYXNz", "sent Basic [redacted]"],
    ["GET http://bob:s3cr3t@druid:8088/status failed", "GET http://***@druid:8088/status failed"],
    ["jdbc:mysql://bob:s3cr3t@db/druid", "jdbc:mysql://***@db/druid"],
    ["password=pw1 token: abc secret = 's e' apiKey=zzz", "password=[redacted] token: [redacted] secret = [redacted] apiKey=[redacted]"],
    ['{"ssl.truststore.password":"tspw","topic":"t"}', '{"ssl.truststore.password":[redacted],"topic":"t"}'],
    [
      "props {bootstrap.servers=k:9092, sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"p\";}",
      "props {bootstrap.servers=k:9092, sasl.jaas.config=[redacted] required username=\"u\" password=[redacted];}",
    ],
    ['spec {\\"secretAccessKey\\":\\"abc def\\",\\"region\\":\\"eu\\"}', 'spec {\\"secretAccessKey\\":[redacted],\\"region\\":\\"eu\\"}'],
    ["bad credentials: u1:p2", "bad credentials: [redacted]"],
    ["hash 0123456789abcdef0123456789abcdef0123 end", "hash [redacted] end"],
    ["secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY here", "secret [redacted] here"],
    // Keys of credentials in Kafka and Schema Registry settings, and other separators.
    ["basic.auth.user.info=fred:pw9 next", "basic.auth.user.info=[redacted] next"],
    ["pass=x1 pw=x2 passphrase=x3 auth=x4", "pass=[redacted] pw=[redacted] passphrase=[redacted] auth=[redacted]"],
    ["password -> x5 and password\uFF1Ax6", "password - [redacted] and password\uFF1A[redacted]"], // no ">" is ever shown
    ["PASS\u200BWORD=x7", "PASSWORD=[redacted]"],
    ["password => letmein99 and token=> abcdefgh12", "password = [redacted] and token= [redacted]"], // no ">" is ever shown
    ['{"password"=>"letmein99"}', '{"password"= [redacted]}'],
    ['failed: ...password="hunter2-very-long-password-abcdefghijk...', "failed: ...password=[redacted]"],
  ];
  for (const [text, expected] of table) assert.equal(sanitizeErrorText(text, CREDENTIALS), expected, text);
});

test("sanitizeErrorText: one line, no markup, no control or invisible characters", () => {
  const table: Array<[string, string]> = [
    ["line1\nline2\r\n\tline3", "line1 line2 line3"],
    ["a\u0000b\u001bc\u007fd\u0085e", "a b c d e"],
    ["safe\u202Eevil\u200Bx\u2028y", "safeevilx y"], // format characters go, so a word they split is whole again
    ["<html><body><h2>Oops</h2><a href='http://x'>link</a></body></html>", "Oops link"],
    ["<!-- comment --><script>alert(1)</script>", "alert(1)"],
    ["a < b > c", "a b c"],
    ["  ", ""],
  ];
  for (const [text, expected] of table) assert.equal(sanitizeErrorText(text), expected, JSON.stringify(text));
});

test("sanitizeErrorText: bounded, cut in the middle so the end survives", () => {
  const long = `${"x".repeat(1000)} Task[t] already exists`;
  const out = sanitizeErrorText(long);
  assert.equal(Array.from(out).length, MAX_ECHOED_CHARS);
  assert.match(out, /^x+…x+ Task\[t\] already exists$/);
  const emoji = "😀".repeat(400);
  const cut = sanitizeErrorText(emoji);
  assert.equal(Array.from(cut).length, MAX_ECHOED_CHARS);
  assert.doesNotThrow(() => encodeURIComponent(cut), "no half surrogate pair");
  assert.equal(sanitizeErrorText("y".repeat(MAX_ECHOED_CHARS)), "y".repeat(MAX_ECHOED_CHARS), "exactly the cap is not cut");
});

test("describeReply: size and a plain media type, never the peer's header as sent", () => {
  const table: Array<[number, string | undefined, string]> = [
    [1234, "text/html; charset=utf-8", "a 1234-byte text/html reply"],
    [10, "Application/JSON", "a 10-byte application/json reply"],
    [10, undefined, "a 10-byte reply without a usable content type"],
    [10, "text/html\r\nX-Secret: hunter2", "a 10-byte reply without a usable content type"],
    [10, "hunter2 is the password", "a 10-byte reply without a usable content type"],
  ];
  for (const [bytes, contentType, expected] of table) assert.equal(describeReply({ bytes, contentType }), expected);
});

test("describeJson: the shape, never a value; keys only when they read like field names", () => {
  const table: Array<[unknown, string]> = [
    [undefined, "an empty body"],
    [null, "null"],
    ["hunter2", "a string"],
    [42, "a number"],
    [true, "a boolean"],
    [[], "an empty array"],
    [["hunter2"], "an array of 1 item"],
    [{}, "an empty object"],
    [{ version: "hunter2" }, "an object with key version"],
    [{ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8 }, "an object with keys a, b, c, d, e, f and 2 others"],
    [{ AccessKeyId: "AKIA", SecretAccessKey: "hunter2", "hunter2 is here": 1 }, "an object with keys AccessKeyId, SecretAccessKey and 1 other"],
    [{ "<b>": 1, wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMP1: 2 }, "an object with 2 keys"],
  ];
  for (const [value, expected] of table) assert.equal(describeJson(value), expected, JSON.stringify(value));
});

test("sanitizeErrorText: a secret survives no reshaping (split by invisible characters or markup, its spaces collapsed, cut at the ellipsis)", () => {
  const value = 'org.apache.kafka.common.security.plain.PlainLoginModule required\n  username="fred" password="Tr0ub4dor  &3xyz";';
  const secrets = ["hunter2", value];
  const shown = (text: string): string => sanitizeErrorText(text, secrets);
  assert.doesNotMatch(shown("login h\u200bunter2 failed"), /hunter2|h unter2/);
  assert.doesNotMatch(shown(`Cannot parse consumerProperties ${JSON.stringify({ "sasl.jaas.config": value })}`), /Tr0ub4dor|fred/);
  assert.doesNotMatch(shown(`bad value: ${value.replace(/\s+/g, " ")}`), /Tr0ub4dor|fred/);
  assert.doesNotMatch(shown(`bad value: ${value}`), /Tr0ub4dor|fred/);
  // Where the middle cut would fall inside the value.
  const long = `${"x".repeat(150)} ${value} ${"y".repeat(150)}`;
  const cut = shown(long);
  assert.doesNotMatch(cut, /Tr0ub|4dor|fred|PlainLogin/);
  assert.ok(Array.from(cut).length <= MAX_ECHOED_CHARS);
});

test("sanitizeErrorText: a secret cut off by whoever echoed it (Druid at 100 characters, Jackson at 256) is still redacted", () => {
  const value = "a-long-secret-value-0123456789-abcdefghijklmnopqrstuvwxyz";
  assert.equal(sanitizeErrorText(`bad value ${value.slice(0, 30)}...`, [value]), "bad value [redacted]...");
  assert.equal(sanitizeErrorText(`bad value ${value.slice(0, 9)}`, [value]), `bad value ${value.slice(0, 9)}`, "nine characters say nothing");
});

test("sanitizeErrorText: a cut-off short value is redacted at the end; a shared start in a class name is not", () => {
  assert.equal(sanitizeErrorText("login failed for pw hunter2xyz", ["hunter2xyz!"]), "login failed for pw [redacted]");
  const jaas = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p-0123456789";';
  assert.equal(sanitizeErrorText("org.apache.kafka.common.KafkaException: Failed to construct kafka consumer", [jaas]), "org.apache.kafka.common.KafkaException: Failed to construct kafka consumer");
});

test("sanitizeErrorText: a megabyte of a secret's repeated start is cleaned (the quadratic version blocked the event loop for minutes)", () => {
  const reply = "aaaaaaaaaa ".repeat(100_000) + "aaaaaaaaa";
  const out = sanitizeErrorText(reply, ["aaaaaaaaaab"]);
  assert.ok(Array.from(out).length <= MAX_ECHOED_CHARS);
  assert.doesNotMatch(out, /a{10}/);
});
