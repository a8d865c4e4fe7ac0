// The Helm chart (charts/druid-ingestion-controller), rendered by the real helm (built from
// stack/helm) and compared with what kustomize renders from deploy/ (kubectl's, built from
// stack/kube): one install, two ways to apply it, no drift. Also helm lint in each mode, what
// each value turns into, and the same least-privilege and container checks as deploy/.
// Installing, upgrading and uninstalling on the API server: test/e2e/helm.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { load } from "js-yaml";
import { configWarnings, loadConfig, SETTINGS } from "../../src/config.ts";
import { CHART, type Doc, helm, helmOk, helmTemplate, kustomize } from "../support/helm.ts";
import { assertLeaseRole, assertLeastPrivilegeClusterRole, checkContainerSecurity, packageVersion } from "../support/install-manifests.ts";
import { REPO_ROOT } from "../support/stack.ts";

const SYSTEM_NS = "druid-ingestion-system";
const OPERATOR_NS = "druid-operator-system";
const CRD = "druid.apache.org_druidingestions.yaml";
// Settings that do not come from `config`: WATCH_NAMESPACE from watchNamespaces, POD_NAME from the pod.
const NOT_IN_CONFIG = new Set([SETTINGS.watchNamespaces.env, SETTINGS.identity.env]);

/** The kustomize variants of deploy/ and the chart values that must render the same objects. */
const VARIANTS: Array<{ dir: string; namespace: string; set: Record<string, string> }> = [
  { dir: "deploy/base", namespace: SYSTEM_NS, set: {} },
  { dir: "deploy/overlays/namespaced", namespace: SYSTEM_NS, set: { watchNamespaces: "{analytics}" } },
  { dir: "deploy/overlays/sidecar-druid-operator", namespace: OPERATOR_NS, set: { mode: "sidecar", "sidecar.deploymentPatch": "true" } },
];

// Helm's own labels, which a kustomize install cannot carry (managed-by: Helm) or does not need.
const HELM_LABELS = ["helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "app.kubernetes.io/version"];

const key = (d: Doc) => `${d["kind"]}/${d["metadata"]["namespace"] ?? ""}/${d["metadata"]["name"]}`;

/** For the comparison: Helm's labels dropped, env sorted by name (its order carries no meaning here). */
function normalized(doc: Doc, fromHelm: boolean): Doc {
  const copy = structuredClone(doc);
  const labels = copy["metadata"]["labels"];
  if (fromHelm && labels) {
    for (const l of HELM_LABELS) delete labels[l];
    if (Object.keys(labels).length === 0) delete copy["metadata"]["labels"];
  }
  for (const c of copy["spec"]?.["template"]?.["spec"]?.["containers"] ?? []) {
    if (c["env"]) c["env"] = [...c["env"]].sort((a: Doc, b: Doc) => String(a["name"]).localeCompare(String(b["name"])));
  }
  return copy;
}

function byKey(docs: Doc[], fromHelm: boolean): Map<string, Doc> {
  return new Map(docs.map((d) => [key(d), normalized(d, fromHelm)]));
}

const find = (docs: Doc[], kind: string, name?: string): Doc[] => docs.filter((d) => d["kind"] === kind && (name === undefined || d["metadata"]["name"] === name));
function only(docs: Doc[], kind: string, name?: string): Doc {
  const found = find(docs, kind, name);
  assert.equal(found.length, 1, `one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0] as Doc;
}
const envOf = (container: Doc): Map<string, Doc> => new Map((container["env"] as Doc[]).map((e) => [e["name"], e]));

for (const variant of VARIANTS) {
  test(`parity: the chart renders what kustomize renders from ${variant.dir}`, async () => {
    const [fromKustomize, fromHelm] = await Promise.all([kustomize(variant.dir), helmTemplate({ namespace: variant.namespace, set: variant.set })]);
    const k = byKey(fromKustomize, false);
    const h = byKey(fromHelm, true);
    // The one object Helm does not create: the release's namespace (`--create-namespace`). Helm
    // stores the release there before it creates any object, so it cannot come from the chart.
    const onlyKustomize = [...k.keys()].filter((name) => !h.has(name));
    assert.deepEqual(onlyKustomize, variant.dir === "deploy/overlays/sidecar-druid-operator" ? [] : [`Namespace//${SYSTEM_NS}`], "objects only kustomize renders");
    assert.deepEqual([...h.keys()].filter((name) => !k.has(name)), [], "objects only the chart renders");
    for (const [name, doc] of h) assert.deepEqual(doc, k.get(name), `${name} differs between ${variant.dir} and the chart`);
  });
}

test("the chart's CRD is byte for byte crds/, in the chart and in its package (Helm installs it from the chart's crds/)", async () => {
  const source = readFileSync(path.join(REPO_ROOT, "crds", CRD), "utf8");
  assert.equal(readFileSync(path.join(CHART, "crds", CRD), "utf8"), source, `copy it: cp crds/${CRD} charts/druid-ingestion-controller/crds/`);
  const out = mkdtempSync(path.join(tmpdir(), "dic-chart-"));
  try {
    await helmOk(["package", CHART, "--destination", out]);
    const archive = path.join(out, `druid-ingestion-controller-${packageVersion}.tgz`);
    assert.equal(execFileSync("tar", ["-xOzf", archive, `druid-ingestion-controller/crds/${CRD}`], { encoding: "utf8" }), source);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("chart version, appVersion and image tag follow package.json", async () => {
  const chart = load(readFileSync(path.join(CHART, "Chart.yaml"), "utf8")) as Doc;
  assert.equal(chart["version"], packageVersion);
  assert.equal(chart["appVersion"], packageVersion);
  const docs = await helmTemplate({ namespace: SYSTEM_NS });
  checkContainerSecurity(only(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0], "chart");
});

test("helm lint --strict passes in every mode (as installed), with every optional object on", async () => {
  const modes: Array<[string, string[]]> = [
    ["standalone, all namespaces", []],
    ["standalone, a namespace list, everything optional on", ["--set", "watchNamespaces={a,b}", "--set", "replicas=2", "--set", "serviceMonitor.enabled=true", "--set", "podDisruptionBudget.enabled=true", "--set", "networkPolicy.enabled=true"]],
    // Without the deployment patch: a partial Deployment is not a whole object, and lint says so.
    ["sidecar", ["--set", "mode=sidecar", "--set", "serviceMonitor.enabled=true"]],
  ];
  for (const [what, args] of modes) {
    const r = await helm(["lint", "--strict", CHART, "--namespace", SYSTEM_NS, ...args]);
    assert.equal(r.code, 0, `${what}:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/, what);
  }
});

test("every setting of the controller is a value: values.yaml and values.schema.json list exactly src/config.ts's settings", () => {
  const expected = Object.values(SETTINGS).map((s) => s.env).filter((e) => !NOT_IN_CONFIG.has(e)).sort();
  const values = load(readFileSync(path.join(CHART, "values.yaml"), "utf8")) as Doc;
  assert.deepEqual(Object.keys(values["config"]).sort(), expected, "values.yaml config");
  const schema = JSON.parse(readFileSync(path.join(CHART, "values.schema.json"), "utf8")) as Doc;
  assert.deepEqual(Object.keys(schema["properties"]["config"]["properties"]).sort(), expected, "values.schema.json config");
  assert.deepEqual(Object.keys(schema["properties"]["sidecar"]["properties"]["config"]["properties"]).sort(), expected, "values.schema.json sidecar.config");
  assert.equal(schema["properties"]["config"]["additionalProperties"], false, "a misspelt setting is refused");
});

test("config: each setting reaches the container as its env var, and the controller accepts the result", async () => {
  // Every setting at its documented default (those without one: a value the controller accepts).
  const given: Record<string, string> = {};
  for (const s of Object.values(SETTINGS)) if (!NOT_IN_CONFIG.has(s.env)) given[s.env] = s.default || "";
  Object.assign(given, { DRUID_DEFAULT_URL: "http://druid-router.druid.svc:8088", DRUID_CA_FILE: "/etc/druid-ca/ca.pem", LEADER_ELECTION_NAMESPACE: "leases", ALLOWED_DRUID_ENDPOINTS: "https://*.druid.svc:9088", LEADER_ELECT: "true" });
  const docs = await helmTemplate({ namespace: SYSTEM_NS, setString: Object.fromEntries(Object.entries(given).map(([k, v]) => [`config.${k}`, v.replace(/,/g, "\\,")])) });
  const container = only(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0] as Doc;
  const env = envOf(container);
  for (const [name, value] of Object.entries(given)) assert.equal(env.get(name)?.["value"], value, name);
  const plain = Object.fromEntries([...env].filter(([, e]) => e["value"] !== undefined).map(([n, e]) => [n, e["value"]]));
  assert.deepEqual(configWarnings(loadConfig([], plain as NodeJS.ProcessEnv)), []);
  // The Lease Role follows the Lease's namespace.
  assert.equal(only(docs, "Role")["metadata"]["namespace"], "leases");
  assert.deepEqual(only(docs, "RoleBinding")["subjects"], [{ kind: "ServiceAccount", name: "druid-ingestion-controller", namespace: SYSTEM_NS }]);
});

test("config: unset settings are left out; a misspelt one is refused by the schema", async () => {
  const docs = await helmTemplate({ namespace: SYSTEM_NS });
  const env = envOf(only(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]);
  assert.deepEqual([...env.keys()].sort(), ["LEADER_ELECT", "LOG_LEVEL", "POD_NAME", "POD_NAMESPACE"]);
  const r = await helm(["template", "x", CHART, "--set", "config.RESYNC_PERIODE=30s"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /RESYNC_PERIODE/);
});

test("watchNamespaces: WATCH_NAMESPACE and one RoleBinding per namespace, no ClusterRoleBinding", async () => {
  const docs = await helmTemplate({ namespace: SYSTEM_NS, set: { watchNamespaces: "{team-a,team-b}" } });
  assert.deepEqual(find(docs, "ClusterRoleBinding"), []);
  const env = envOf(only(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]);
  assert.equal(env.get("WATCH_NAMESPACE")?.["value"], "team-a,team-b");
  const bindings = find(docs, "RoleBinding", "druid-ingestion-controller");
  assert.deepEqual(bindings.map((b) => b["metadata"]["namespace"]).sort(), ["team-a", "team-b"]);
  for (const b of bindings) {
    assert.deepEqual(b["roleRef"], { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "druid-ingestion-controller" });
    assert.deepEqual(b["subjects"], [{ kind: "ServiceAccount", name: "druid-ingestion-controller", namespace: SYSTEM_NS }]);
  }
  assertLeastPrivilegeClusterRole(only(docs, "ClusterRole"));
  assertLeaseRole(only(docs, "Role"), SETTINGS.leaseName.default);
});

test("replicas above 1 keep leader election on; the chart refuses to turn it off then", async () => {
  const docs = await helmTemplate({ namespace: SYSTEM_NS, set: { replicas: "3" } });
  const d = only(docs, "Deployment");
  assert.equal(d["spec"]["replicas"], 3);
  assert.equal(envOf(d["spec"]["template"]["spec"]["containers"][0]).get("LEADER_ELECT")?.["value"], "true");
  const refused = await helm(["template", "x", CHART, "--set", "replicas=2", "--set-string", "config.LEADER_ELECT=false"]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /replicas > 1 needs config.LEADER_ELECT/);
  const single = await helmTemplate({ namespace: SYSTEM_NS, setString: { "config.LEADER_ELECT": "false" } });
  assert.equal(envOf(only(single, "Deployment")["spec"]["template"]["spec"]["containers"][0]).get("LEADER_ELECT")?.["value"], "false", "one replica may run without a Lease");
});

test("another release name, Lease name and bind addresses: every reference follows", async () => {
  const docs = await helmTemplate({ release: "ingest", namespace: "ops", setString: { "config.LEADER_ELECTION_ID": "ingest-lease", "config.METRICS_BIND_ADDRESS": ":9100", "config.HEALTH_PROBE_BIND_ADDRESS": "0.0.0.0:9101" } });
  const fullname = "ingest-druid-ingestion-controller";
  const d = only(docs, "Deployment", fullname);
  const pod = d["spec"]["template"]["spec"];
  assert.equal(pod["serviceAccountName"], fullname);
  only(docs, "ServiceAccount", fullname);
  assert.equal(only(docs, "ClusterRoleBinding", fullname)["roleRef"]["name"], only(docs, "ClusterRole", fullname)["metadata"]["name"]);
  assertLeaseRole(only(docs, "Role", `${fullname}-leader-election`), "ingest-lease");
  const ports = new Map((pod["containers"][0]["ports"] as Doc[]).map((p) => [p["name"], p["containerPort"]]));
  assert.deepEqual(Object.fromEntries(ports), { metrics: 9100, health: 9101 });
  const svc = only(docs, "Service", `${fullname}-metrics`);
  assert.equal(svc["spec"]["ports"][0]["targetPort"], "metrics");
  for (const [k, v] of Object.entries(d["spec"]["selector"]["matchLabels"])) assert.equal(svc["spec"]["selector"][k], v);
});

test("optional objects: none by default; ServiceMonitor, PodDisruptionBudget and NetworkPolicy when enabled", async () => {
  const kinds = (docs: Doc[]) => docs.map((d) => d["kind"] as string).sort();
  const plain = await helmTemplate({ namespace: SYSTEM_NS });
  for (const kind of ["ServiceMonitor", "PodDisruptionBudget", "NetworkPolicy"]) assert.ok(!kinds(plain).includes(kind), kind);
  const docs = await helmTemplate({ namespace: SYSTEM_NS, set: { "serviceMonitor.enabled": "true", "podDisruptionBudget.enabled": "true", "networkPolicy.enabled": "true" } });
  const selector = only(docs, "Deployment")["spec"]["selector"]["matchLabels"];
  const sm = only(docs, "ServiceMonitor");
  const svc = only(docs, "Service");
  for (const [k, v] of Object.entries(sm["spec"]["selector"]["matchLabels"])) assert.equal(svc["metadata"]["labels"][k], v, "the ServiceMonitor selects the metrics Service");
  assert.deepEqual(sm["spec"]["endpoints"], [{ port: "metrics", path: "/metrics", interval: "30s", honorLabels: true }]);
  assert.deepEqual(only(docs, "PodDisruptionBudget")["spec"], { maxUnavailable: 1, selector: { matchLabels: selector } });
  const np = only(docs, "NetworkPolicy");
  assert.deepEqual(np["spec"]["podSelector"], { matchLabels: selector });
  assert.deepEqual(np["spec"]["policyTypes"], ["Ingress"], "egress stays open unless rules are listed");
  assert.deepEqual(np["spec"]["ingress"], [{ ports: [{ port: "metrics", protocol: "TCP" }] }]);
});

test("sidecar: RBAC for the operator's ServiceAccount, its own Lease, no Deployment or ServiceAccount of its own unless the patch is asked for", async () => {
  const docs = await helmTemplate({ namespace: OPERATOR_NS, set: { mode: "sidecar" } });
  assert.deepEqual(docs.map(key).sort(), [
    "ClusterRole//druid-ingestion-controller",
    "ClusterRoleBinding//druid-ingestion-controller-druid-operator",
    "CustomResourceDefinition//druidingestions.druid.apache.org",
    `Role/${OPERATOR_NS}/druid-ingestion-controller-leader-election`,
    `RoleBinding/${OPERATOR_NS}/druid-ingestion-controller-leader-election`,
    `Service/${OPERATOR_NS}/druid-ingestion-controller-metrics`,
  ]);
  const subject = [{ kind: "ServiceAccount", name: "druid-operator-controller-manager", namespace: OPERATOR_NS }];
  assert.deepEqual(only(docs, "ClusterRoleBinding")["subjects"], subject);
  assert.deepEqual(only(docs, "RoleBinding")["subjects"], subject);
  assertLeaseRole(only(docs, "Role"), SETTINGS.leaseName.default);

  // A Helm-installed operator (release "analytics": fullname analytics-druid-operator) whose args
  // come from its own disableIngestionController value: no manager entry in the patch.
  const helmOperator = await helmTemplate({ namespace: "analytics", set: { mode: "sidecar", "sidecar.deploymentPatch": "true", "sidecar.druidOperator.deployment": "analytics-druid-operator", "sidecar.druidOperator.serviceAccount": "analytics-druid-operator", "sidecar.druidOperator.managerArgs": "null", "config.LOG_LEVEL": "debug" } });
  const patch = only(helmOperator, "Deployment", "analytics-druid-operator");
  const containers = patch["spec"]["template"]["spec"]["containers"] as Doc[];
  assert.deepEqual(containers.map((c) => c["name"]), ["druid-ingestion-controller"]);
  const env = envOf(containers[0] as Doc);
  assert.equal(env.get("LOG_LEVEL")?.["value"], "debug");
  assert.equal(env.get("SHUTDOWN_TIMEOUT")?.["value"], "6s", "the sidecar's shorter shutdown stays");
  assert.deepEqual(only(helmOperator, "ClusterRoleBinding")["subjects"], [{ kind: "ServiceAccount", name: "analytics-druid-operator", namespace: "analytics" }]);
});

test("values the chart refuses: an unknown mode", async () => {
  const r = await helm(["template", "x", CHART, "--set", "mode=daemonset"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /mode/);
});
