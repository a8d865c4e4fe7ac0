// The install manifests (deploy/, crds/kustomization.yaml), read as plain YAML: least-privilege
// RBAC exactly as intended, a Deployment consistent with the controller's own settings
// (ports, probes, shutdown deadline, env names), and the overlays consistent with themselves.
// Rendering and applying them is done by test/e2e/install.test.ts with the stack's kubectl.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { loadAll } from "js-yaml";
import { CREDENTIALS_LABEL, type DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { createValidator } from "../../src/api/schema.ts";
import { configWarnings, loadConfig, parseDuration, SETTINGS } from "../../src/config.ts";
import { renderIngestion } from "../../src/controller/render.ts";
import { assertLeaseRole, assertLeastPrivilegeClusterRole, checkContainerSecurity, metricsPort } from "../support/install-manifests.ts";
import { REPO_ROOT } from "../support/stack.ts";

// YAML documents are checked field by field; `any` keeps the assertions readable.
type Doc = Record<string, any>;

function docs(file: string): Doc[] {
  return (loadAll(readFileSync(path.join(REPO_ROOT, file), "utf8")) as Doc[]).filter((d) => d && typeof d === "object");
}
function one(file: string, kind: string, name?: string): Doc {
  const found = docs(file).filter((d) => d["kind"] === kind && (name === undefined || d["metadata"]?.["name"] === name));
  assert.equal(found.length, 1, `${file}: one ${kind}${name ? ` ${name}` : ""}`);
  return found[0] as Doc;
}

const shutdownSeconds = parseDuration(SETTINGS.shutdownTimeout.default) / 1000;
const leaseName = SETTINGS.leaseName.default;
const SA = { name: "druid-ingestion-controller", namespace: "druid-ingestion-system" };

test("every kustomization lists only files and directories that exist", () => {
  for (const dir of ["crds", "deploy/rbac", "deploy/base", "deploy/overlays/namespaced", "deploy/overlays/sidecar-druid-operator"]) {
    const k = one(`${dir}/kustomization.yaml`, "Kustomization");
    const paths = [...(k["resources"] ?? []), ...(k["components"] ?? []), ...(k["patches"] ?? []).map((p: Doc) => p["path"]).filter(Boolean)];
    assert.ok(paths.length > 0, dir);
    for (const p of paths) assert.ok(existsSync(path.join(REPO_ROOT, dir, p)), `${dir}: ${p} missing`);
    for (const p of k["resources"] ?? []) {
      const full = path.join(REPO_ROOT, dir, p);
      // kustomize refuses files outside a kustomization's root; directories are fine.
      if (!statSync(full).isDirectory()) assert.ok(!path.relative(path.join(REPO_ROOT, dir), full).startsWith(".."), `${dir}: file ${p} is outside the root`);
    }
  }
  assert.deepEqual(one("crds/kustomization.yaml", "Kustomization")["resources"], ["druid.apache.org_druidingestions.yaml"]);
});

test("ClusterRole: exactly the rules the code uses, nothing broader", () => {
  assertLeastPrivilegeClusterRole(one("deploy/rbac/cluster-role.yaml", "ClusterRole", "druid-ingestion-controller"));
});

function leaseRole(file: string): void {
  assertLeaseRole(one(file, "Role", "druid-ingestion-controller-leader-election"), leaseName);
}

test("base: Lease rights only in the controller's namespace, bound to its ServiceAccount", () => {
  leaseRole("deploy/base/rbac.yaml");
  const binding = one("deploy/base/rbac.yaml", "RoleBinding");
  assert.equal(binding["metadata"]["namespace"], SA.namespace);
  assert.deepEqual(binding["subjects"], [{ kind: "ServiceAccount", ...SA }]);
  const crb = one("deploy/base/rbac.yaml", "ClusterRoleBinding");
  assert.deepEqual(crb["roleRef"], { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "druid-ingestion-controller" });
  assert.deepEqual(crb["subjects"], [{ kind: "ServiceAccount", ...SA }]);
  const sa = one("deploy/base/service-account.yaml", "ServiceAccount");
  assert.deepEqual({ name: sa["metadata"]["name"], namespace: sa["metadata"]["namespace"] }, SA);
  assert.equal(one("deploy/base/kustomization.yaml", "Kustomization")["namespace"], SA.namespace);
});

test("base Deployment: hardened pod, probes and ports from the controller's defaults, grace period above SHUTDOWN_TIMEOUT", () => {
  const d = one("deploy/base/deployment.yaml", "Deployment", "druid-ingestion-controller");
  const pod = d["spec"]["template"]["spec"];
  assert.equal(pod["serviceAccountName"], SA.name);
  assert.equal(pod["securityContext"]["runAsNonRoot"], true);
  assert.deepEqual(pod["securityContext"]["seccompProfile"], { type: "RuntimeDefault" });
  assert.deepEqual(pod["dnsConfig"], { options: [{ name: "ndots", value: "1" }] }, "dotted names are not resolved through the search path first");
  assert.ok(pod["terminationGracePeriodSeconds"] > shutdownSeconds + 5, `grace ${pod["terminationGracePeriodSeconds"]}s vs SHUTDOWN_TIMEOUT ${shutdownSeconds}s`);
  assert.equal(pod["containers"].length, 1);
  checkContainerSecurity(pod["containers"][0], "base");
  assert.equal(d["spec"]["replicas"], 1);
  const labels = d["spec"]["template"]["metadata"]["labels"];
  for (const [k, v] of Object.entries(d["spec"]["selector"]["matchLabels"])) assert.equal(labels[k], v, "selector matches the pod labels");
  const svc = one("deploy/base/service.yaml", "Service");
  for (const [k, v] of Object.entries(svc["spec"]["selector"])) assert.equal(labels[k], v, "metrics Service selects the pod");
  assert.equal(svc["spec"]["ports"][0]["port"], metricsPort);
  const metricsPortName = (pod["containers"][0]["ports"] as Doc[]).find((p) => p["containerPort"] === metricsPort)?.["name"];
  assert.equal(svc["spec"]["ports"][0]["targetPort"], metricsPortName);
});

test("namespaced overlay: WATCH_NAMESPACE and the RoleBindings name the same namespaces; no ClusterRoleBinding", () => {
  const k = one("deploy/overlays/namespaced/kustomization.yaml", "Kustomization");
  assert.ok((k["patches"] as Doc[]).some((p) => /\$patch: delete[\s\S]*kind: ClusterRoleBinding[\s\S]*name: druid-ingestion-controller/.test(p["patch"] ?? "")), "the ClusterRoleBinding is deleted");
  const patch = one("deploy/overlays/namespaced/watch-namespaces.yaml", "Deployment");
  const env = patch["spec"]["template"]["spec"]["containers"][0]["env"] as Doc[];
  const watched = String(env.find((e) => e["name"] === SETTINGS.watchNamespaces.env)?.["value"]).split(",").map((s) => s.trim()).sort();
  const bindings = docs("deploy/overlays/namespaced/rolebindings.yaml");
  assert.deepEqual(bindings.map((b) => b["metadata"]["namespace"]).sort(), watched);
  assert.deepEqual(watched, ["analytics"], "the documented example");
  for (const b of bindings) {
    assert.equal(b["kind"], "RoleBinding");
    assert.deepEqual(b["roleRef"], { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "druid-ingestion-controller" });
    assert.deepEqual(b["subjects"], [{ kind: "ServiceAccount", ...SA }]);
  }
});

test("sidecar overlay: ports free in druid-operator's pod, non-root, short shutdown, flag on the manager, RBAC for the operator's account", () => {
  const dir = "deploy/overlays/sidecar-druid-operator";
  const target = one(`${dir}/operator.yaml`, "ConfigMap", "druid-operator");
  assert.equal(target["metadata"]["annotations"]["config.kubernetes.io/local-config"], "true", "build input, never applied");
  const op = target["data"];
  assert.deepEqual(op, { namespace: "druid-operator-system", deployment: "druid-operator-controller-manager", serviceAccount: "druid-operator-controller-manager" }, "druid-operator's kustomize names");

  const d = one(`${dir}/sidecar.yaml`, "Deployment");
  assert.deepEqual({ name: d["metadata"]["name"], namespace: d["metadata"]["namespace"] }, { name: op.deployment, namespace: op.namespace });
  assert.equal(d["spec"]["selector"], undefined, "a partial Deployment: only fields this overlay owns");
  const containers = d["spec"]["template"]["spec"]["containers"] as Doc[];
  assert.deepEqual(containers.map((c) => c["name"]), ["druid-ingestion-controller"]);
  const c = containers[0] as Doc;
  checkContainerSecurity(c, "sidecar");
  const taken = [8080, 8081, 8443, 9443]; // druid-operator: metrics (loopback), probes, kube-rbac-proxy, webhook
  for (const p of c["ports"] as Doc[]) assert.ok(!taken.includes(p["containerPort"]), `port ${p["containerPort"]} is used by druid-operator's pod`);
  const env = new Map((c["env"] as Doc[]).map((e) => [e["name"], e["value"]]));
  assert.ok(parseDuration(env.get("SHUTDOWN_TIMEOUT")) / 1000 + 1 < 10, "finishes (and abandons, 1 s without retries) within druid-operator's terminationGracePeriodSeconds (10)");
  assert.deepEqual(configWarnings(loadConfig([], Object.fromEntries(env) as NodeJS.ProcessEnv)), [], "one Druid call fits in SHUTDOWN_TIMEOUT");
  assert.equal(env.get("LEADER_ELECTION_ID"), undefined, "its own Lease name (the default), not druid-operator's e6946145.apache.org");

  const flag = one(`${dir}/disable-ingestion-controller.yaml`, "Deployment");
  const manager = (flag["spec"]["template"]["spec"]["containers"] as Doc[]).find((x) => x["name"] === "manager") as Doc;
  assert.deepEqual(manager["args"], ["--health-probe-bind-address=:8081", "--metrics-bind-address=127.0.0.1:8080", "--leader-elect", "--disable-ingestion-controller"]);

  leaseRole(`${dir}/rbac.yaml`);
  const subject = [{ kind: "ServiceAccount", name: op.serviceAccount, namespace: op.namespace }];
  const crb = one(`${dir}/rbac.yaml`, "ClusterRoleBinding");
  assert.equal(crb["roleRef"]["name"], "druid-ingestion-controller");
  assert.deepEqual(crb["subjects"], subject);
  assert.deepEqual(one(`${dir}/rbac.yaml`, "RoleBinding")["subjects"], subject);
  const svc = one(`${dir}/metrics-service.yaml`, "Service");
  assert.deepEqual(svc["spec"]["selector"], { "control-plane": "controller-manager" }, "druid-operator's pod label in both its kustomize and Helm installs");
  assert.equal(svc["spec"]["ports"][0]["targetPort"], metricsPort);
});

test("Secret-reference example: the Secret opts in, the resource validates and renders with the reference, not the value", () => {
  const file = "deploy/examples/kafka-ingestion-sasl-secret.yaml";
  const secret = one(file, "Secret");
  const raw = one(file, "DruidIngestion");
  assert.equal(secret["metadata"]["labels"][CREDENTIALS_LABEL], "true");
  const parsed = createValidator().parse({ ...raw, metadata: { ...raw["metadata"], namespace: "team", uid: "u", generation: 1, resourceVersion: "1" } });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error.message);
  const desired = renderIngestion(parsed.value as DruidIngestion);
  assert.deepEqual(desired.secretRefs.map((r) => [r.path, r.name, r.key]), [['spec.ioConfig.consumerProperties["sasl.jaas.config"]', secret["metadata"]["name"], "sasl.jaas.config"]]);
  assert.ok(Object.keys(secret["stringData"]).includes("sasl.jaas.config"));
  assert.ok(!desired.canonical.includes("change-me"), "the rendered spec has no value");
});

test("every DruidIngestion under deploy/examples passes the CRD schema with its CEL rules and renders (what the API server and the controller would refuse is caught here)", () => {
  const validator = createValidator();
  const dir = path.join(REPO_ROOT, "deploy/examples");
  let seen = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml"))) {
    for (const doc of docs(`deploy/examples/${file}`).filter((d) => d["kind"] === "DruidIngestion")) {
      const object = { ...doc, metadata: { namespace: "examples", uid: "u", generation: 1, resourceVersion: "1", ...doc["metadata"] } };
      const parsed = validator.parse(object);
      assert.ok(parsed.ok, `${file}: ${parsed.ok ? "" : parsed.error.message}`);
      assert.doesNotThrow(() => renderIngestion(object as DruidIngestion), file);
      seen++;
    }
  }
  assert.ok(seen >= 6, `examples checked: ${seen}`);
});
