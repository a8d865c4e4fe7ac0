import { test } from "node:test";
import assert from "node:assert/strict";
import type { V1Secret, V1Service } from "@kubernetes/client-node";
import { CREDENTIALS_LABEL, type DruidIngestion, type DruidIngestionSpec } from "../api/druid-ingestion.ts";
import type { AppliedRecord } from "../api/druid-ingestion.ts";
import { keepRecordedEndpoint, resolveCredentials, resolveEndpoint, secretKeyOf, unusableSecretFailure } from "./druid-target.ts";

function ing(spec: Partial<DruidIngestionSpec>): DruidIngestion {
  return {
    apiVersion: "druid.apache.org/v1alpha1", kind: "DruidIngestion",
    metadata: { name: "n", namespace: "team", uid: "u", generation: 1, resourceVersion: "1" },
    spec: { ingestion: { type: "kafka" }, ...spec },
  };
}

function svc(name: string, cluster: string, ports: Array<{ port: number; name?: string }>, namespace = "team"): V1Service {
  return { metadata: { name, namespace, labels: { druid_cr: cluster, component: "router" } }, spec: { ports } };
}

test("endpoint: explicit URL wins, then the router Service's real port, then the default", () => {
  const services = [svc("druid-tiny-routers", "tiny", [{ port: 8888, name: "service-port" }]), svc("druid-other-routers", "other", [{ port: 1 }])];
  assert.deepEqual(resolveEndpoint(ing({ druidEndpoint: "https://x:9088/", druidCluster: "tiny" }), services, "http://default"), { ok: true, value: { url: "https://x:9088", source: "DruidEndpoint" } });
  assert.deepEqual(resolveEndpoint(ing({ druidCluster: "tiny" }), services, "http://default"), { ok: true, value: { url: "http://druid-tiny-routers.team.svc:8888", source: "RouterService" } });
  assert.deepEqual(resolveEndpoint(ing({ druidCluster: "absent" }), services, "http://default:8081"), { ok: true, value: { url: "http://default:8081", source: "ControllerDefault" } });
});

test("endpoint: an https port is preferred; the choice among several Services is stable", () => {
  const services = [svc("b-router", "c", [{ port: 8088, name: "http" }]), svc("a-router", "c", [{ port: 8088, name: "http" }, { port: 9088, name: "https" }])];
  const r = resolveEndpoint(ing({ druidCluster: "c" }), services, undefined);
  assert.ok(r.ok && r.value.url === "https://a-router.team.svc:9088");
});

test("endpoint: a router Service in another namespace is not used", () => {
  const r = resolveEndpoint(ing({ druidCluster: "tiny" }), [svc("druid-tiny-routers", "tiny", [{ port: 8088 }], "elsewhere")], undefined);
  assert.ok(!r.ok && r.failure.reason === "EndpointNotFound" && /druid_cr=tiny,component=router/.test(r.failure.message));
});

const secret = (data: Record<string, string>, name = "druid-auth", namespace = "team", labels: Record<string, string> = { [CREDENTIALS_LABEL]: "true" }): V1Secret => ({
  metadata: { name, namespace, labels },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
});
const lookup = (...secrets: V1Secret[]) => ({ get: (ns: string, name: string) => secrets.find((s) => s.metadata?.namespace === ns && s.metadata?.name === name) });

test("credentials table", () => {
  const basic = { type: "basic-auth" as const, secretRef: { name: "druid-auth" } };
  const rows: Array<[string, Partial<DruidIngestionSpec>, ReturnType<typeof lookup>, boolean, string]> = [
    ["no auth", {}, lookup(), false, "none"],
    ["druid-operator's empty written-back auth", { auth: { type: "", secretRef: {} } }, lookup(), false, "none"],
    ["default keys", { auth: basic }, lookup(secret({ OperatorUserName: "admin", OperatorPassword: "pw" })), false, "admin:pw"],
    ["custom keys", { auth: { ...basic, usernameKey: "u", passwordKey: "p" } }, lookup(secret({ u: "svc", p: "x" })), false, "svc:x"],
    ["same namespace spelled out", { auth: { ...basic, secretRef: { name: "druid-auth", namespace: "team" } } }, lookup(secret({ OperatorUserName: "a", OperatorPassword: "b" })), false, "a:b"],
    ["missing Secret: the caller asks why", { auth: basic }, lookup(), false, "unusable team/druid-auth"],
    ["a Secret that did not opt in is not read", { auth: basic }, lookup(secret({ OperatorUserName: "admin", OperatorPassword: "pw" }, "druid-auth", "team", {})), false, "unusable team/druid-auth"],
    ["opting in takes the value true", { auth: basic }, lookup(secret({ OperatorUserName: "admin", OperatorPassword: "pw" }, "druid-auth", "team", { [CREDENTIALS_LABEL]: "yes" })), false, "unusable team/druid-auth"],
    ["missing key", { auth: basic }, lookup(secret({ OperatorUserName: "a" })), false, "SecretKeyMissing"],
    ["cross-namespace refused", { auth: { ...basic, secretRef: { name: "s", namespace: "druid" } } }, lookup(secret({ OperatorUserName: "a", OperatorPassword: "b" }, "s", "druid")), false, "CrossNamespaceSecretRefused"],
    ["cross-namespace allowed by flag", { auth: { ...basic, secretRef: { name: "s", namespace: "druid" } } }, lookup(secret({ OperatorUserName: "a", OperatorPassword: "b" }, "s", "druid")), true, "a:b"],
  ];
  for (const [name, spec, secrets, allow, expected] of rows) {
    const r = resolveCredentials(ing(spec), secrets, allow);
    const got = r.ok ? (r.value ? `${r.value.username}:${r.value.password}` : "none") : "failure" in r ? r.failure.reason : `unusable ${r.unusable.namespace}/${r.unusable.name}`;
    assert.equal(got, expected, name);
    if (!r.ok && "failure" in r) assert.doesNotMatch(r.failure.message, /pw|"b"/, "no secret values in messages");
  }
});

test("why a named Secret is not used, from whether it exists: absent, or not opted in (with the command)", () => {
  const ref = { namespace: "team", name: "druid-auth" };
  const keys = ["OperatorUserName", "OperatorPassword"];
  const absent = unusableSecretFailure(ref, false, keys);
  assert.equal(absent.reason, "SecretNotFound");
  assert.match(absent.message, /OperatorUserName and OperatorPassword, labelled druid\.apache\.org\/credentials=true/);
  const notOptedIn = unusableSecretFailure(ref, true, keys);
  assert.equal(notOptedIn.reason, "SecretNotOptedIn");
  assert.ok(!notOptedIn.transient);
  assert.match(notOptedIn.message, /kubectl label secret -n team druid-auth druid\.apache\.org\/credentials=true/);
  assert.match(notOptedIn.message, /druid-operator/);
});

test("secretKeyOf names the Secret a resource depends on", () => {
  assert.equal(secretKeyOf(ing({ auth: { type: "basic-auth", secretRef: { name: "s" } } })), "team/s");
  assert.equal(secretKeyOf(ing({})), undefined);
});

test("endpoint: URLs are normalized, so two spellings of one router are one endpoint", () => {
  const r = resolveEndpoint(ing({ druidEndpoint: "HTTP://Router.Team.svc.cluster.local:80/" }), [], undefined);
  assert.deepEqual(r, { ok: true, value: { url: "http://router.team.svc", source: "DruidEndpoint" } });
  const bad = resolveEndpoint(ing({ druidEndpoint: "http://user:secret@router:8888" }), [], undefined);
  assert.ok(!bad.ok && bad.failure.reason === "InvalidEndpoint" && !bad.failure.message.includes("secret"));
});

test("a fallback never moves what was applied: only an explicit endpoint or a router Service does", () => {
  const applied = (endpoint: string, source: AppliedRecord["endpointSource"] = "RouterService"): AppliedRecord => ({ druidEndpoint: endpoint, endpointSource: source, supervisorId: "s", origin: "Created" });
  const rows: Array<[string, { url: string; source: "DruidEndpoint" | "RouterService" | "ControllerDefault" }, AppliedRecord | undefined, string]> = [
    ["nothing applied: the default is fine", { url: "http://default", source: "ControllerDefault" }, undefined, "ok"],
    ["applied on the default: still the default", { url: "http://default", source: "ControllerDefault" }, applied("http://default", "ControllerDefault"), "ok"],
    ["router Service gone, default left", { url: "http://default", source: "ControllerDefault" }, applied("http://r.ns.svc:8088"), "EndpointFallbackRefused"],
    ["spelled differently, same endpoint", { url: "http://r.ns.svc:8088", source: "ControllerDefault" }, applied("http://R.ns.svc.cluster.local:8088/"), "ok"],
    ["explicit new endpoint: a move", { url: "http://other", source: "DruidEndpoint" }, applied("http://r.ns.svc:8088"), "ok"],
    ["another router Service: a move", { url: "http://r2.ns.svc:8088", source: "RouterService" }, applied("http://r.ns.svc:8088"), "ok"],
  ];
  for (const [name, resolved, record, expected] of rows) {
    const r = keepRecordedEndpoint(resolved, record);
    assert.equal(r.ok ? "ok" : r.failure.reason, expected, name);
  }
});
