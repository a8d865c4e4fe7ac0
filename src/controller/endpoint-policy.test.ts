import { test } from "node:test";
import assert from "node:assert/strict";
import type { V1Service } from "@kubernetes/client-node";
import { allowEndpoint, AllowListError, matchesAllowed, parseAllowedEndpoints, routerServiceOf, type AllowedEndpoint, type EndpointPolicyInput } from "./endpoint-policy.ts";

function patterns(text: string): AllowedEndpoint[] {
  const parsed = parseAllowedEndpoints(text);
  assert.notEqual(parsed, "any");
  return parsed as AllowedEndpoint[];
}

test("allowed-endpoint patterns: host, *. labels, port, path prefix, scheme", () => {
  const table: Array<[pattern: string, url: string, allowed: boolean]> = [
    ["https://druid.example.com", "https://druid.example.com", true],
    ["https://druid.example.com", "https://DRUID.example.com:443/", true],
    ["https://druid.example.com", "http://druid.example.com", false],
    ["https://druid.example.com", "https://druid.example.com:8443", false],
    ["https://druid.example.com", "https://druid.example.com.evil.io", false],
    ["https://druid.example.com", "https://evil.io/druid.example.com", false],
    ["https://druid.example.com", "https://druid.example.com/druid", true],
    ["http://*.druid.svc:8088", "http://router.druid.svc:8088", true],
    ["http://*.druid.svc:8088", "http://router.druid.svc.cluster.local:8088", true],
    ["http://*.druid.svc:8088", "http://a.b.druid.svc:8088", true],
    ["http://*.druid.svc:8088", "http://druid.svc:8088", false],
    ["http://*.druid.svc:8088", "http://xdruid.svc:8088", false],
    ["http://*.druid.svc:8088", "http://router.druid.svc:9088", false],
    ["https://router.analytics.svc:*", "https://router.analytics.svc:9088", true],
    ["https://router.analytics.svc:*", "https://router.analytics.svc", true],
    ["https://gw.example.com/druid", "https://gw.example.com/druid", true],
    ["https://gw.example.com/druid", "https://gw.example.com/druid/", true],
    ["https://gw.example.com/druid", "https://gw.example.com/druid/x", true],
    ["https://gw.example.com/druid", "https://gw.example.com/druidx", false],
    ["https://gw.example.com/druid", "https://gw.example.com/", false],
    ["http://127.0.0.1:8888", "http://127.0.0.1:8888", true],
    ["http://127.0.0.1:8888", "http://127.0.0.1:8889", false],
    // Paths a gateway could read outside the prefix are never allowed.
    ["https://gw.example.com/druid", "https://gw.example.com/druid/..;/admin", false],
    ["https://gw.example.com/druid", "https://gw.example.com/druid/%2e%2e%2fadmin", false],
    ["https://gw.example.com/druid", "https://gw.example.com/druid/../admin", false],
    ["https://gw.example.com/druid", "https://gw.example.com/druid/./x", false],
    ["https://gw.example.com/druid", "https://gw.example.com/druid\\..\\admin", false],
    ["https://gw.example.com/druid", "https://gw.example.com/druid;x=1", false],
    ["https://druid.example.com", "https://user@druid.example.com", false],
  ];
  for (const [pattern, url, allowed] of table) {
    const [p] = patterns(pattern);
    assert.equal(matchesAllowed(url, p as AllowedEndpoint), allowed, `${pattern} vs ${url}`);
  }
});

test("allowed-endpoint patterns that cannot be meant are refused at start", () => {
  for (const bad of ["druid.example.com", "ftp://druid", "https://user:pw@druid", "https://dr*id.example.com", "https://druid?x=1", "https://*", "*, https://a"]) {
    assert.throws(() => parseAllowedEndpoints(bad), AllowListError, bad);
  }
  assert.equal(parseAllowedEndpoints("*"), "any");
  assert.deepEqual(parseAllowedEndpoints(" , "), []);
  assert.equal(patterns("https://a.example.com, http://*.b.svc:8088").length, 2);
});

test("router Service URLs are recognised from their discovered form only", () => {
  assert.deepEqual(routerServiceOf("http://druid-tiny-routers.druid.svc:8088"), { name: "druid-tiny-routers", namespace: "druid", port: 8088, scheme: "http:" });
  assert.deepEqual(routerServiceOf("https://r.ns.svc.cluster.local"), { name: "r", namespace: "ns", port: 443, scheme: "https:" });
  assert.equal(routerServiceOf("http://r.ns.svc:8088/prefix"), undefined);
  assert.equal(routerServiceOf("http://evil.io:8088"), undefined);
  assert.equal(routerServiceOf("http://a.b.c.svc:8088"), undefined);
});

const router = (type = "ClusterIP", port = 8088, labels: Record<string, string> = { component: "router", druid_cr: "tiny" }): V1Service => ({
  metadata: { name: "tiny-routers", namespace: "team", labels },
  spec: { type, ports: [{ port }], ...(type === "ExternalName" ? { externalName: "evil.io" } : {}) },
});

test("an endpoint is allowed as the default, by the list, or as a router Service of the resource's own namespace; nothing else", () => {
  const input = (over: Partial<EndpointPolicyInput> = {}): EndpointPolicyInput => ({
    allowed: patterns("https://*.example.com"),
    defaultUrl: "http://druid-default:8888/",
    discovery: true,
    namespace: "team",
    routerService: () => undefined,
    ...over,
  });
  const verdict = (url: string, over: Partial<EndpointPolicyInput> = {}): string => {
    const a = allowEndpoint(url, input(over));
    return a.ok ? a.via : "refused";
  };
  assert.equal(verdict("http://druid-default:8888"), "Default");
  assert.equal(verdict("http://druid-default:8888/druid/indexer/v1"), "Default", "below the default URL");
  assert.equal(verdict("http://druid-default:8889"), "refused");
  assert.equal(verdict("https://druid.example.com"), "AllowList");
  assert.equal(verdict("http://169.254.169.254/latest/meta-data"), "refused");
  assert.equal(verdict("https://capture.attacker.io"), "refused");
  const routerUrl = "http://tiny-routers.team.svc:8088";
  assert.equal(verdict(routerUrl), "refused");
  assert.equal(verdict(routerUrl, { routerService: () => router() }), "RouterService");
  assert.equal(verdict("http://tiny-routers.team.svc.cluster.local:8088", { routerService: () => router() }), "RouterService");
  assert.equal(verdict(routerUrl, { routerService: () => router(), discovery: false }), "refused", "ROUTER_DISCOVERY=false: only the list");
  assert.equal(verdict(routerUrl, { routerService: () => router(), namespace: "other-team" }), "refused", "another namespace's router Service");
  assert.equal(verdict(routerUrl, { routerService: () => router("ExternalName") }), "refused", "an ExternalName Service points anywhere");
  assert.equal(verdict(routerUrl, { routerService: () => router("ClusterIP", 9999) }), "refused", "not the Service's port");
  assert.equal(verdict(routerUrl, { routerService: () => router("ClusterIP", 8088, { component: "router" }) }), "refused", "no druid_cr label");
  assert.equal(verdict("https://capture.attacker.io", { allowed: "any" }), "AllowList");
  const refused = allowEndpoint("https://capture.attacker.io/x", input());
  assert.ok(!refused.ok && /ALLOWED_DRUID_ENDPOINTS/.test(refused.message) && /no request/.test(refused.message), JSON.stringify(refused));
  const elsewhere = allowEndpoint(routerUrl, input({ namespace: "other-team", routerService: () => router() }));
  assert.ok(!elsewhere.ok && /used only by the resources of its own namespace \(this one is in other-team\)/.test(elsewhere.message), JSON.stringify(elsewhere));
});
