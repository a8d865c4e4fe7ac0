import { test } from "node:test";
import assert from "node:assert/strict";
import { dialUrl, EndpointError, normalizeEndpoint, sameEndpoint } from "./endpoint.ts";

test("one router, many spellings, one endpoint", () => {
  const rows: Array<[string, string]> = [
    ["http://druid-router.analytics.svc:8088", "http://druid-router.analytics.svc:8088"],
    ["http://druid-router.analytics.svc.cluster.local:8088", "http://druid-router.analytics.svc:8088"],
    ["http://druid-router.analytics.svc.cluster.local.:8088/", "http://druid-router.analytics.svc:8088"],
    ["HTTP://Druid-Router.Analytics.SVC:8088//", "http://druid-router.analytics.svc:8088"],
    ["http://router.ns.svc:80", "http://router.ns.svc"],
    ["https://router.ns.svc:443", "https://router.ns.svc"],
    ["https://router.ns.svc:80", "https://router.ns.svc:80"],
    ["http://druid.example.com/proxy/", "http://druid.example.com/proxy"],
    ["http://127.0.0.1:38081", "http://127.0.0.1:38081"],
    ["http://[::1]:38081/", "http://[::1]:38081"],
  ];
  for (const [input, expected] of rows) assert.equal(normalizeEndpoint(input), expected, input);
});

test("a bare name.namespace is not taken for a Service (it may be a public domain)", () => {
  assert.equal(normalizeEndpoint("http://router.dev:8088"), "http://router.dev:8088");
  assert.ok(!sameEndpoint("http://router.dev:8088", "http://router.dev.svc:8088"));
});

test("another cluster domain can be named", () => {
  assert.equal(normalizeEndpoint("http://r.ns.svc.corp.example:8088", "corp.example"), "http://r.ns.svc:8088");
  assert.equal(normalizeEndpoint("http://r.ns.svc.corp.example:8088"), "http://r.ns.svc.corp.example:8088");
});

test("credentials, queries, fragments and other schemes are refused, without echoing the password", () => {
  for (const bad of ["http://admin:hunter2@router:8088", "http://router:8088/?a=1", "http://router:8088/#x", "ftp://router", "not a url"]) {
    assert.throws(() => normalizeEndpoint(bad), (e: unknown) => e instanceof EndpointError && !e.message.includes("hunter2"), bad);
  }
});

test("sameEndpoint compares normalized forms", () => {
  assert.ok(sameEndpoint("http://r.ns.svc.cluster.local:8088/", "http://R.ns.svc:8088"));
  assert.ok(!sameEndpoint("http://r.ns.svc:8088", "https://r.ns.svc:8088"));
});

test("requests go to a Service's full name, never the short form the DNS search path could capture", () => {
  assert.equal(dialUrl("http://router.team.svc:8088", "cluster.local"), "http://router.team.svc.cluster.local:8088");
  assert.equal(dialUrl("https://router.team.svc/druid", "corp.example."), "https://router.team.svc.corp.example/druid");
  assert.equal(dialUrl("http://druid.example.com:8888", "cluster.local"), "http://druid.example.com:8888");
  assert.equal(dialUrl("http://127.0.0.1:8888", "cluster.local"), "http://127.0.0.1:8888");
  assert.equal(dialUrl("http://router.team.svc.cluster.local:8088", "cluster.local"), "http://router.team.svc.cluster.local:8088");
});
