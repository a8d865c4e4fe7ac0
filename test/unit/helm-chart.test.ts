// The Helm chart (charts/druid-ingestion-controller), rendered by the real helm (built from
// stack/helm) and compared with what kustomize renders from deploy/ (kubectl's, built from
// stack/kube): one install, two ways to apply it, no drift. Also helm lint in each mode, what
// each value turns into, and the same least-privilege and container checks as deploy/.
// Installing, upgrading and uninstalling on the API server: test/e2e/helm.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { load } from "js-yaml";
import { configWarnings, loadConfig, SETTINGS } from "../../src/config.ts";
import { createValidator } from "../../src/api/schema.ts";
import { CHART, type Doc, helm, helmOk, helmTemplate, kustomize, parseManifests } from "../support/helm.ts";
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
  const selector = { ...only(docs, "Deployment")["spec"]["selector"]["matchLabels"], "app.kubernetes.io/instance": "druid-ingestion-controller" };
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

// --- Review of the chart (helper): the findings below each have a test. ---

/** `helm template` with values files (written to a temporary folder) and --set flags. */
async function templateWithFiles(files: string[], args: string[] = [], release = "druid-ingestion-controller"): Promise<{ code: number; docs: Doc[]; stderr: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), "dic-values-"));
  try {
    const fileArgs = files.flatMap((content, i) => {
      const file = path.join(dir, `values-${i}.yaml`);
      writeFileSync(file, content);
      return ["-f", file];
    });
    const r = await helm(["template", release, CHART, "--namespace", SYSTEM_NS, ...fileArgs, ...args]);
    return { code: r.code, docs: r.code === 0 ? parseManifests(r.stdout) : [], stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the CRD: the documented step replaces an existing one (Helm skips crds/ then), in NOTES and the README; NOTES never claims Helm installed it", async () => {
  const step = "helm show crds <chart> | kubectl apply --server-side --field-manager=druid-ingestion-controller --force-conflicts -f -";
  for (const args of [[], ["--set", "mode=sidecar"]]) {
    const r = await helmOk(["install", "druid-ingestion-controller", CHART, "--namespace", SYSTEM_NS, "--dry-run=client", ...args]);
    const notes = r.stdout.slice(r.stdout.indexOf("NOTES:"));
    assert.ok(notes.includes(step), `NOTES (${args.join(" ") || "standalone"}) give the CRD step:\n${notes}`);
    assert.match(notes, /REQUIRED/);
    assert.doesNotMatch(notes, /was installed from/, "Helm may have kept another CRD of the same name");
  }
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const helmSection = readme.slice(readme.indexOf("### Install with Helm"), readme.indexOf("### Switching from"));
  assert.ok(helmSection.includes("helm show crds charts/druid-ingestion-controller | kubectl apply --server-side --field-manager=druid-ingestion-controller --force-conflicts -f -"), "README: the CRD step");
  // What `helm show crds` prints is the CRD of crds/.
  const shown = parseManifests((await helmOk(["show", "crds", CHART])).stdout);
  assert.deepEqual(shown, parseManifests(readFileSync(path.join(REPO_ROOT, "crds", CRD), "utf8")));
});

test("the CRD is kept by Helm and by Argo CD (deleting it deletes every DruidIngestion), and the controller still reads it", () => {
  const crd = load(readFileSync(path.join(REPO_ROOT, "crds", CRD), "utf8")) as Doc;
  assert.equal(crd["metadata"]["annotations"]["helm.sh/resource-policy"], "keep");
  assert.equal(crd["metadata"]["annotations"]["argocd.argoproj.io/sync-options"], "Prune=false,Delete=false,ServerSideApply=true");
  assert.doesNotThrow(() => createValidator(), "src/api/schema.ts loads it");
});

test("two releases in one namespace: their own Lease, and Service, PodDisruptionBudget and NetworkPolicy select only their own pods", async () => {
  const set = { "podDisruptionBudget.enabled": "true", "networkPolicy.enabled": "true" };
  const [a, b] = await Promise.all(["blue", "green"].map((release) => helmTemplate({ release, namespace: SYSTEM_NS, set })));
  const leases = [a, b].map((docs) => (only(docs as Doc[], "Role")["rules"] as Doc[])[1]?.["resourceNames"]);
  assert.deepEqual(leases, [["blue-druid-ingestion-controller"], ["green-druid-ingestion-controller"]]);
  const podLabels = (docs: Doc[]) => only(docs, "Deployment")["spec"]["template"]["metadata"]["labels"] as Record<string, string>;
  const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
  for (const [mine, theirs] of [[a, b], [b, a]] as Array<[Doc[], Doc[]]>) {
    const d = only(mine, "Deployment");
    assert.equal(envOf(d["spec"]["template"]["spec"]["containers"][0]).get("LEADER_ELECTION_ID")?.["value"], d["metadata"]["name"], "the Lease the Role grants");
    assert.deepEqual(d["spec"]["selector"]["matchLabels"], { "app.kubernetes.io/name": "druid-ingestion-controller", "app.kubernetes.io/component": "controller" }, "the Deployment's selector (immutable) as before");
    for (const selector of [only(mine, "Service")["spec"]["selector"], only(mine, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"], only(mine, "NetworkPolicy")["spec"]["podSelector"]["matchLabels"]]) {
      assert.ok(selects(selector, podLabels(mine)), "selects its own pods");
      assert.ok(!selects(selector, podLabels(theirs)), "not the other release's");
    }
  }
  // The release named as deploy/ keeps the controller's default Lease name, so no env is added.
  const plain = await helmTemplate({ namespace: SYSTEM_NS });
  assert.equal(envOf(only(plain, "Deployment")["spec"]["template"]["spec"]["containers"][0]).get("LEADER_ELECTION_ID"), undefined);
  assertLeaseRole(only(plain, "Role"), SETTINGS.leaseName.default);
});

test("numbers in a values file reach the controller as integers (no 1.6777216e+07), and it accepts them", async () => {
  const { code, docs, stderr } = await templateWithFiles(["config:\n  DRUID_MAX_RESPONSE_SIZE: 16777216\n  MAX_CONCURRENT_RECONCILES: 12\n  DRUID_RETRIES: 0\n  LAG_READ_CONCURRENCY: 1e2\n  ALLOW_CROSS_NAMESPACE_SECRETS: false\n"]);
  assert.equal(code, 0, stderr);
  const env = envOf(only(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]);
  const values = Object.fromEntries(["DRUID_MAX_RESPONSE_SIZE", "MAX_CONCURRENT_RECONCILES", "DRUID_RETRIES", "LAG_READ_CONCURRENCY", "ALLOW_CROSS_NAMESPACE_SECRETS"].map((n) => [n, env.get(n)?.["value"]]));
  assert.deepEqual(values, { DRUID_MAX_RESPONSE_SIZE: "16777216", MAX_CONCURRENT_RECONCILES: "12", DRUID_RETRIES: "0", LAG_READ_CONCURRENCY: "100", ALLOW_CROSS_NAMESPACE_SECRETS: "false" });
  const plain = Object.fromEntries([...env].filter(([, e]) => e["value"] !== undefined).map(([n, e]) => [n, e["value"]]));
  const config = loadConfig([], plain as NodeJS.ProcessEnv);
  assert.equal(config.druidMaxResponseBytes, 16777216);
  // The sidecar's defaults are numbers-as-strings; a values file's numbers there too.
  const sidecar = await templateWithFiles(["mode: sidecar\nsidecar:\n  deploymentPatch: true\n  config:\n    DRUID_RETRIES: 1\nconfig:\n  DRUID_MAX_RESPONSE_SIZE: 33554432\n"]);
  assert.equal(sidecar.code, 0, sidecar.stderr);
  const sidecarEnv = envOf((only(sidecar.docs, "Deployment")["spec"]["template"]["spec"]["containers"] as Doc[]).find((c) => c["name"] === "druid-ingestion-controller") as Doc);
  assert.equal(sidecarEnv.get("DRUID_MAX_RESPONSE_SIZE")?.["value"], "33554432");
  assert.equal(sidecarEnv.get("DRUID_RETRIES")?.["value"], "1");
});

/** Every object schema in values.schema.json, with its path. */
function objectSchemas(schema: Doc, at = ""): Array<[string, Doc]> {
  const found: Array<[string, Doc]> = schema["properties"] ? [[at || "/", schema]] : [];
  for (const [name, sub] of Object.entries((schema["properties"] ?? {}) as Record<string, Doc>)) found.push(...objectSchemas(sub, `${at}/${name}`));
  return found;
}

test("values.schema.json refuses any value it does not know, at every level (a misspelt watchNamespaces must not grant every namespace)", async () => {
  const schema = JSON.parse(readFileSync(path.join(CHART, "values.schema.json"), "utf8")) as Doc;
  const values = load(readFileSync(path.join(CHART, "values.yaml"), "utf8")) as Doc;
  assert.deepEqual(Object.keys(values).filter((k) => !(k in schema["properties"])), [], "every value of values.yaml has a schema");
  for (const [at, s] of objectSchemas(schema)) assert.equal(s["additionalProperties"], false, `${at}: additionalProperties false`);
  for (const typo of ["watchNamespace={team-a}", "networkPolicy.enable=true", "podDisruptionBudget.maxUnavailble=2", "serviceMonitor.intervall=10s", "sidecar.druidOperator.deploymnet=x", "image.tags=1"]) {
    const r = await helm(["template", "x", CHART, "--set", typo]);
    assert.notEqual(r.code, 0, typo);
    assert.match(r.stderr, /additional properties .* not allowed/, typo);
  }
  const ok = await helm(["template", "x", CHART, "--set", "podDisruptionBudget.maxUnavailable=50%", "--set", "global.imageRegistry=r"]);
  assert.equal(ok.code, 0, `a percentage and a parent chart's global are fine:\n${ok.stderr}`);
});

test("sidecar.druidOperator.managerArgs: {} (which --set turns into [\"\"]) is refused, null leaves the operator's args alone", async () => {
  const refused = await helm(["template", "x", CHART, "--set", "mode=sidecar", "--set", "sidecar.deploymentPatch=true", "--set", "sidecar.druidOperator.managerArgs={}"]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /managerArgs/);
  const { code, docs, stderr } = await templateWithFiles(["mode: sidecar\nsidecar:\n  deploymentPatch: true\n  druidOperator:\n    managerArgs: null\n"]);
  assert.equal(code, 0, stderr);
  assert.deepEqual((only(docs, "Deployment")["spec"]["template"]["spec"]["containers"] as Doc[]).map((c) => c["name"]), ["druid-ingestion-controller"]);
});

test("a long release name: every name fits (the metrics Service within 63), and the references follow", async () => {
  const release = "a-release-name-of-fifty-three-characters-exactly-abcd";
  assert.equal(release.length, 53, "Helm's longest release name");
  const docs = await helmTemplate({ release, namespace: SYSTEM_NS, set: { "podDisruptionBudget.enabled": "true", "networkPolicy.enabled": "true", "serviceMonitor.enabled": "true" } });
  for (const d of docs) assert.ok(String(d["metadata"]["name"]).length <= (d["kind"] === "Service" || d["kind"] === "Deployment" ? 63 : 253), `${key(d)}`);
  const fullname = only(docs, "Deployment")["metadata"]["name"] as string;
  assert.equal(fullname.length, 55);
  assert.ok(!fullname.endsWith("-"));
  assert.equal(only(docs, "Service")["metadata"]["name"], `${fullname}-metrics`);
  assert.equal(only(docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"], fullname);
  assertLeaseRole(only(docs, "Role"), fullname);
  const sidecar = await helmTemplate({ release, namespace: OPERATOR_NS, set: { mode: "sidecar" } });
  assert.ok(String(only(sidecar, "Service")["metadata"]["name"]).length <= 63);
});

test("sidecar mode: imagePullSecrets reach the operator's pod; pod-level values of the standalone Deployment are refused, not ignored", async () => {
  const docs = await helmTemplate({ namespace: OPERATOR_NS, set: { mode: "sidecar", "sidecar.deploymentPatch": "true", "imagePullSecrets[0].name": "registry" } });
  assert.deepEqual(only(docs, "Deployment")["spec"]["template"]["spec"]["imagePullSecrets"], [{ name: "registry" }]);
  for (const value of ["replicas=2", "nodeSelector.disk=ssd", "tolerations[0].key=k", "podAnnotations.a=b", "terminationGracePeriodSeconds=30", "podDisruptionBudget.enabled=true", "networkPolicy.enabled=true", "podLabels.a=b", "priorityClassName=high", "affinity.nodeAffinity.x=y", "serviceAccount.annotations.a=b"]) {
    const r = await helm(["template", "x", CHART, "--set", "mode=sidecar", "--set", value]);
    assert.notEqual(r.code, 0, value);
    assert.match(r.stderr, new RegExp(`mode: sidecar runs in the druid-operator's pod.*${value.split(/[.=[]/)[0]}`), value);
  }
  const noLease = await helm(["template", "x", CHART, "--set", "mode=sidecar", "--set-string", "config.LEADER_ELECT=false"]);
  assert.notEqual(noLease.code, 0);
  assert.match(noLease.stderr, /mode: sidecar needs config.LEADER_ELECT/);
});

test("leader election off (one replica): the Deployment is replaced with Recreate, never rolled with two writers, and no Lease Role is made", async () => {
  const plain = await helmTemplate({ namespace: SYSTEM_NS });
  assert.equal(only(plain, "Deployment")["spec"]["strategy"], undefined, "with a Lease: the default rolling update (as deploy/base)");
  for (const off of ["false", "0", "no"]) {
    const docs = await helmTemplate({ namespace: SYSTEM_NS, setString: { "config.LEADER_ELECT": off } });
    // rollingUpdate: null: a live Deployment's defaulted rollingUpdate is removed (Recreate refuses it).
    assert.deepEqual(only(docs, "Deployment")["spec"]["strategy"], { type: "Recreate", rollingUpdate: null }, off);
    assert.deepEqual(find(docs, "Role"), [], off);
    assert.deepEqual(find(docs, "RoleBinding"), [], off);
  }
  const yes = await helmTemplate({ namespace: SYSTEM_NS, set: { replicas: "2" }, setString: { "config.LEADER_ELECT": "yes" } });
  assert.equal(only(yes, "Deployment")["spec"]["strategy"], undefined, "yes is on, as the controller reads it");
});

test("podSecurityContext and securityContext: the restricted defaults of deploy/, overridable", async () => {
  const docs = await helmTemplate({ namespace: SYSTEM_NS, set: { "podSecurityContext.runAsUser": "1000", "podSecurityContext.fsGroup": "2000", "securityContext.runAsUser": "1000" } });
  const pod = only(docs, "Deployment")["spec"]["template"]["spec"];
  assert.equal(pod["securityContext"]["runAsUser"], 1000);
  assert.equal(pod["securityContext"]["fsGroup"], 2000);
  assert.equal(pod["containers"][0]["securityContext"]["runAsUser"], 1000);
  assert.equal(pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"], true, "the rest stays");
});

test("settings in sidecar.config drive what depends on them (Lease Role, probes, ports), as the env does; an empty LEADER_ELECTION_ID is unset (review of #13)", async () => {
  const docs = await helmTemplate({ namespace: OPERATOR_NS, set: { mode: "sidecar", "sidecar.deploymentPatch": "true" }, setString: { "sidecar.config.LEADER_ELECTION_ID": "my-lease", "sidecar.config.LEADER_ELECTION_NAMESPACE": "leases", "sidecar.config.HEALTH_PROBE_BIND_ADDRESS": ":9384", "sidecar.config.METRICS_BIND_ADDRESS": ":9383" } });
  const role = only(docs, "Role");
  assert.equal(role["metadata"]["namespace"], "leases");
  assertLeaseRole(role, "my-lease");
  const container = (only(docs, "Deployment")["spec"]["template"]["spec"]["containers"] as Doc[]).find((c) => c["name"] === "druid-ingestion-controller") as Doc;
  assert.equal(envOf(container).get("LEADER_ELECTION_ID")?.["value"], "my-lease");
  assert.deepEqual((container["ports"] as Doc[]).map((p) => p["containerPort"]).sort(), [9383, 9384]);
  assert.equal(container["livenessProbe"]["httpGet"]["port"], 9384);
  assert.equal(only(docs, "Service")["spec"]["ports"][0]["targetPort"], 9383);

  const empty = await helmTemplate({ release: "blue", namespace: SYSTEM_NS, setString: { "config.LEADER_ELECTION_ID": "" } });
  const blue = (only(empty, "Deployment")["spec"]["template"]["spec"]["containers"] as Doc[])[0] as Doc;
  assert.equal(envOf(blue).get("LEADER_ELECTION_ID")?.["value"], "blue-druid-ingestion-controller", "\"\" is unset: the release's Lease, named in the env and the Role alike");
  assertLeaseRole(only(empty, "Role"), "blue-druid-ingestion-controller");
});

test("a parent chart's condition value (enabled) is accepted", async () => {
  const r = await helm(["template", "x", CHART, "--set", "enabled=true"]);
  assert.equal(r.code, 0, r.stderr);
});
