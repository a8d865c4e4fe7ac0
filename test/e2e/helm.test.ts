// The Helm chart on the real API server, with the real helm (built from stack/helm): `helm
// install`, then the real controller process run as the chart's ServiceAccount (a TokenRequest
// token; the local stack has no kubelet, so the Deployment's pods never run) through one
// DruidIngestion's lifecycle against the real Druid; `helm upgrade` to a namespace list and another
// setting, which the objects and the rights follow; `helm uninstall`, which removes what the
// release created and leaves the CRD; the druid-operator's older CRD of the same name there
// first, which `helm install` does not replace (Helm 4 stops on the conflict) and the documented
// step does. Then sidecar mode beside a stand-in of druid-operator's
// Deployment: the release's RBAC and the chart's deployment patch applied server-side.
// The kustomize install is test/e2e/install.test.ts; the chart's rendering is test/unit/helm-chart.test.ts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { ApiException, AppsV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION } from "../../src/api/druid-ingestion.ts";
import { CHART, helm, helmOk, parseManifests, type Doc } from "../support/helm.ts";
import { deploymentContainers, InstallHarness, plainEnv } from "../support/installed-controller.ts";
import { kubectl, kubectlOk } from "../support/kubectl.ts";
import { ensureStack, REPO_ROOT, stackEnv } from "../support/stack.ts";
import { kafkaIngestion, unique } from "../support/fixtures.ts";
import { waitFor } from "../support/wait.ts";

ensureStack();
const env = stackEnv();
const harness = new InstallHarness(env);
const { admin } = harness;
const apps = admin.kc.makeApiClient(AppsV1Api);
const rbac = admin.kc.makeApiClient(RbacAuthorizationV1Api);

// A release and namespace of its own, so nothing collides with install.test.ts's objects.
const RELEASE = "dic-helm-e2e";
const RELEASE_NS = "dic-helm-e2e";
const FULLNAME = `${RELEASE}-druid-ingestion-controller`;
const SIDECAR_RELEASE = "dic-helm-sidecar";
const SIDECAR_FULLNAME = `${SIDECAR_RELEASE}-druid-ingestion-controller`;
const OPERATOR_NS = "druid-operator-system";
const OPERATOR = "druid-operator-controller-manager";
const STANDIN = path.join(REPO_ROOT, "test/support/fixtures/druid-operator-standin.yaml");
const OPERATOR_CRD = path.join(REPO_ROOT, "test/support/fixtures/druid-operator-crd.yaml");
const CRD_RELEASE = "dic-helm-crd";
/** The README's and NOTES' CRD step, as a user runs it. */
const CRD_STEP = "helm show crds <chart> | kubectl apply --server-side --field-manager=druid-ingestion-controller --force-conflicts -f -";
const CRD_NAME = `${PLURAL}.${GROUP}`;

const is404 = (e: unknown) => e instanceof ApiException && e.code === 404;

/** The objects of a release as Helm recorded them (kind, namespace, name). */
async function releaseObjects(release: string, namespace: string): Promise<Doc[]> {
  return parseManifests((await helmOk(["get", "manifest", release, "--namespace", namespace], env.kubeconfig)).stdout);
}

/** Whether the object exists on the API server, asked with kubectl (any kind). */
async function exists(doc: Doc): Promise<boolean> {
  const ns = doc["metadata"]["namespace"];
  const apiVersion = String(doc["apiVersion"]);
  const type = apiVersion.includes("/") ? `${doc["kind"]}.${apiVersion.split("/")[0]}` : doc["kind"];
  const r = await kubectl(env.kubeconfig, ["get", type, doc["metadata"]["name"], ...(ns ? ["-n", ns] : []), "-o", "name"]);
  if (r.code !== 0 && !/NotFound|not found/.test(r.stderr)) throw new Error(r.stderr);
  return r.code === 0;
}

async function crdExists(): Promise<boolean> {
  return (await kubectl(env.kubeconfig, ["get", "crd", CRD_NAME, "-o", "name"])).code === 0;
}

/** The chart's values for the controller, as installed: the Deployment's env (the pod's own fields aside). */
async function installedEnv(namespace: string, name: string, container: string): Promise<Record<string, string>> {
  return plainEnv(deploymentContainers(await apps.readNamespacedDeployment({ namespace, name })).get(container));
}

// Helm creates the CRD only when it is missing, so the install test starts without it. Deleting
// the CRD deletes every DruidIngestion, so that is done only once none exists (earlier test files'
// namespaces may still be going); a cluster that keeps some must opt out with
// DIC_E2E_HELM_CRD_CREATE=0, and the install then meets the CRD already there.
const CRD_OPT_OUT = "DIC_E2E_HELM_CRD_CREATE";
let crdRemoved = false;

before(async () => {
  if (process.env[CRD_OPT_OUT] !== "0" && (await crdExists())) {
    const remaining = async () => ((await admin.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as { items: Array<{ metadata: { namespace: string; name: string } }> }).items;
    await waitFor("no DruidIngestion left in the cluster", async () => (await remaining()).length === 0, 120_000, 1000).catch(async () => {
      const names = (await remaining()).map((i) => `${i.metadata.namespace}/${i.metadata.name}`);
      throw new Error(`the Helm install test deletes the CRD first, but DruidIngestions exist: ${names.join(", ")}; set ${CRD_OPT_OUT}=0 to keep it`);
    });
    await kubectlOk(env.kubeconfig, ["delete", "crd", CRD_NAME, "--wait=true", "--timeout=120s"]);
    crdRemoved = true;
  }
  // A druid-operator namespace left terminating by install.test.ts would refuse the stand-in.
  await waitFor(`namespace ${OPERATOR_NS} not terminating`, async () => (await admin.core.readNamespace({ name: OPERATOR_NS }).catch(() => undefined))?.status?.phase !== "Terminating", 120_000, 1000);
});

after(async () => {
  await harness.cleanUp();
  for (const [release, ns] of [[RELEASE, RELEASE_NS], [CRD_RELEASE, RELEASE_NS], [SIDECAR_RELEASE, OPERATOR_NS]] as const) await helm(["uninstall", release, "--namespace", ns, "--wait"], env.kubeconfig);
  await kubectl(env.kubeconfig, ["delete", "namespace", RELEASE_NS, OPERATOR_NS, "--ignore-not-found", "--wait=true", "--timeout=120s"]);
  // What a later test file needs: the CRD as crds/ has it (Helm's copy is the same file).
  await admin.installCrd();
});

describe("Helm chart on the API server (install, upgrade, uninstall; sidecar)", { timeout: 900_000 }, () => {
  test("helm install: the CRD and every object; the controller runs a whole lifecycle as the chart's ServiceAccount", async (t) => {
    const installed = await helmOk(["install", RELEASE, CHART, "--namespace", RELEASE_NS, "--create-namespace", "--set-string", `config.DRUID_DEFAULT_URL=${env.druidUrl}`], env.kubeconfig);
    assert.match(installed.stdout, /STATUS: deployed/);
    assert.ok(installed.stdout.includes(CRD_STEP), "NOTES: the CRD step");
    if (crdRemoved) {
      const crd = parseManifests((await kubectlOk(env.kubeconfig, ["get", "crd", CRD_NAME, "-o", "yaml", "--show-managed-fields"])).stdout)[0] as Doc;
      assert.ok((crd["metadata"]["managedFields"] as Doc[]).some((f) => f["manager"] === "helm"), "Helm created the CRD from the chart's crds/");
    } else {
      t.diagnostic(`${CRD_OPT_OUT}=0: the CRD was there before the install; Helm's creating it is not checked`);
    }
    // The documented CRD upgrade step (Helm never upgrades crds/) applies over Helm's own CRD.
    const crdUpgrade = await kubectlOk(env.kubeconfig, ["apply", "--server-side", "--field-manager=druid-ingestion-controller", "--force-conflicts", "-f", path.join(CHART, "crds/druid.apache.org_druidingestions.yaml")]);
    assert.match(crdUpgrade.stdout, /serverside-applied/);

    const objects = await releaseObjects(RELEASE, RELEASE_NS);
    assert.deepEqual(objects.map((d) => `${d["kind"]}/${d["metadata"]["name"]}`).sort(), [
      `ClusterRole/${FULLNAME}`,
      `ClusterRoleBinding/${FULLNAME}`,
      `Deployment/${FULLNAME}`,
      `Role/${FULLNAME}-leader-election`,
      `RoleBinding/${FULLNAME}-leader-election`,
      `Service/${FULLNAME}-metrics`,
      `ServiceAccount/${FULLNAME}`,
    ]);
    for (const doc of objects) assert.ok(await exists(doc), `${doc["kind"]}/${doc["metadata"]["name"]} exists`);
    const deployment = await apps.readNamespacedDeployment({ namespace: RELEASE_NS, name: FULLNAME });
    assert.equal(deployment.metadata?.labels?.["app.kubernetes.io/managed-by"], "Helm");
    assert.equal(deployment.metadata?.annotations?.["meta.helm.sh/release-name"], RELEASE);
    assert.ok(deployment.metadata?.managedFields?.some((f) => f.manager === "helm" && f.operation === "Apply"), "Helm 4 applies server-side");

    // The controller with the chart's identity and the chart's settings (WATCH_NAMESPACE narrowed
    // to this test's namespace: the ClusterRoleBinding grants every namespace, checked here).
    const sa = await harness.identity(RELEASE_NS, FULLNAME);
    for (const [verb, resource] of [["watch", "secrets"], ["watch", "druidingestions.druid.apache.org"], ["create", "configmaps"], ["patch", "events"]] as const) {
      assert.equal((await kubectl(sa.kubeconfig, ["auth", "can-i", verb, resource, "--all-namespaces"])).stdout.trim(), "yes", `can ${verb} ${resource} cluster-wide`);
    }
    for (const [verb, resource] of [["delete", "druidingestions.druid.apache.org"], ["create", "secrets"], ["list", "pods"]] as const) {
      assert.equal((await kubectl(sa.kubeconfig, ["auth", "can-i", verb, resource, "--all-namespaces"])).stdout.trim(), "no", `cannot ${verb} ${resource}`);
    }
    const settings = await installedEnv(RELEASE_NS, FULLNAME, "controller");
    // The Lease is the release's own (the Role's resourceNames follow): the lifecycle below holds it.
    assert.deepEqual(settings, { LEADER_ELECT: "true", LEADER_ELECTION_ID: FULLNAME, LOG_LEVEL: "info", DRUID_DEFAULT_URL: env.druidUrl });
    const ns = await harness.namespaceWithSecret("helm");
    t.diagnostic(`lifecycle: ${await harness.lifecycleAs(sa.kubeconfig, RELEASE_NS, { ...settings, WATCH_NAMESPACE: ns }, ns)}`);
  });

  test("helm upgrade to a namespace list and another setting: the RBAC and the Deployment follow, other namespaces are refused", async (t) => {
    const watched = await harness.namespaceWithSecret("helm-watched");
    const other = await harness.namespaceWithSecret("helm-other");
    const upgraded = await helmOk(["upgrade", RELEASE, CHART, "--namespace", RELEASE_NS, "--reset-then-reuse-values", "--set", `watchNamespaces={${watched}}`, "--set-string", "config.RESYNC_PERIOD=5s"], env.kubeconfig);
    assert.match(upgraded.stdout, /STATUS: deployed/);
    assert.match(upgraded.stdout, /REVISION: 2/);

    await assert.rejects(rbac.readClusterRoleBinding({ name: FULLNAME }), is404, "the ClusterRoleBinding is gone");
    const binding = await rbac.readNamespacedRoleBinding({ namespace: watched, name: FULLNAME });
    assert.deepEqual({ ...binding.roleRef }, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: FULLNAME });
    const settings = await installedEnv(RELEASE_NS, FULLNAME, "controller");
    assert.deepEqual(settings, { LEADER_ELECT: "true", LEADER_ELECTION_ID: FULLNAME, LOG_LEVEL: "info", DRUID_DEFAULT_URL: env.druidUrl, WATCH_NAMESPACE: watched, RESYNC_PERIOD: "5s" });

    const sa = await harness.identity(RELEASE_NS, FULLNAME);
    await waitFor("RBAC: Secrets readable in the watched namespace", async () => (await kubectl(sa.kubeconfig, ["auth", "can-i", "list", "secrets", "-n", watched])).stdout.trim() === "yes", 10_000);
    await assert.rejects(sa.kube.core.listNamespacedSecret({ namespace: other }), (e: unknown) => e instanceof ApiException && e.code === 403, "403 in another namespace");
    await assert.rejects(sa.kube.core.listSecretForAllNamespaces({ limit: 1 }), (e: unknown) => e instanceof ApiException && e.code === 403, "403 cluster-wide");

    // The controller exactly as the upgraded Deployment configures it (WATCH_NAMESPACE included).
    t.diagnostic(`lifecycle: ${await harness.lifecycleAs(sa.kubeconfig, RELEASE_NS, settings, watched)}`);
  });

  test("helm uninstall removes every object of the release; the CRD and the DruidIngestions stay", async () => {
    const objects = await releaseObjects(RELEASE, RELEASE_NS);
    assert.ok(objects.some((d) => d["kind"] === "RoleBinding" && d["metadata"]["namespace"] !== RELEASE_NS), "the upgraded release holds the watched namespace's RoleBinding");
    const ns = await harness.namespaceWithSecret("helm-kept");
    await admin.createIngestion(ns, kafkaIngestion("kept", unique("kept"), "127.0.0.1:9"));
    const r = await helmOk(["uninstall", RELEASE, "--namespace", RELEASE_NS, "--wait"], env.kubeconfig);
    assert.match(r.stdout, /uninstalled/);
    for (const doc of objects) {
      await waitFor(`${doc["kind"]}/${doc["metadata"]["name"]} deleted`, async () => !(await exists(doc)), 60_000, 500);
    }
    assert.ok(await crdExists(), "the CRD stays (Helm never deletes crds/)");
    assert.ok(await admin.getIngestion(ns, "kept"), "DruidIngestions stay");
    assert.notEqual((await helm(["status", RELEASE, "--namespace", RELEASE_NS], env.kubeconfig)).code, 0, "no release left");
  });

  test("the druid-operator's older CRD there first: helm install does not put ours in place (Helm 4 stops on the conflict), the documented step does, then helm install succeeds", async (t) => {
    // The operator's CRD in place of ours, as where the druid-operator was installed first (by
    // its own field manager; versions is an atomic list, so a forced apply replaces the schema).
    await kubectlOk(env.kubeconfig, ["apply", "--server-side", "--force-conflicts", "--field-manager=druid-operator", "-f", OPERATOR_CRD]);
    const hasEndpoint = async () => JSON.stringify(await admin.apiext.readCustomResourceDefinition({ name: CRD_NAME })).includes('"druidEndpoint"');
    await waitFor("the operator's CRD in place", async () => !(await hasEndpoint()), 30_000, 200);
    const ns = await harness.namespaceWithSecret("helm-crd");
    const endpoint = "http://druid-router.druid.svc:8088";
    const withEndpoint = (name: string) => kafkaIngestion(name, unique(name), "127.0.0.1:9", { druidEndpoint: endpoint });

    // Helm 4 applies crds/ server-side without forcing: another owner's CRD stops the install
    // (Helm 3 skips an existing CRD instead). Either way ours is not in place.
    const refused = await helm(["install", CRD_RELEASE, CHART, "--namespace", RELEASE_NS, "--create-namespace"], env.kubeconfig);
    assert.notEqual(refused.code, 0, "helm install over the operator's CRD");
    assert.match(refused.stderr, /failed to install CRD[\s\S]*conflict with "druid-operator"/);
    assert.ok(!(await hasEndpoint()), "the operator's CRD is still there");
    // What that costs: the API server prunes the fields it does not know, silently.
    const pruned = await admin.createIngestion(ns, withEndpoint("before"));
    assert.equal(pruned.spec.druidEndpoint, undefined, "druidEndpoint dropped by the operator's schema");

    // The documented step (README, NOTES): the chart's CRD, applied server-side over the operator's.
    const chartCrd = await helmOk(["show", "crds", CHART]);
    const applied = await kubectlOk(env.kubeconfig, ["apply", "--server-side", "--field-manager=druid-ingestion-controller", "--force-conflicts", "-f", "-"], { input: chartCrd.stdout });
    assert.match(applied.stdout, /serverside-applied/);
    await waitFor("our CRD served", async () => await hasEndpoint(), 30_000, 200);
    const live = await admin.apiext.readCustomResourceDefinition({ name: CRD_NAME });
    const schema = live.spec.versions[0]?.schema?.openAPIV3Schema;
    assert.deepEqual(schema?.properties?.["spec"]?.required, ["ingestion"], "the operator's required druidCluster is gone");
    assert.equal(schema?.properties?.["status"]?.required, undefined, "the operator's required status fields are gone");
    assert.equal(live.metadata?.annotations?.["helm.sh/resource-policy"], "keep");
    await waitFor("druidEndpoint preserved", async () => {
      const created = await admin.createIngestion(ns, withEndpoint(unique("after")));
      return created.spec.druidEndpoint === endpoint;
    }, 30_000, 500);
    assert.ok(await admin.getIngestion(ns, "before"), "the resource made under the operator's CRD is kept");

    // Now the install goes through (the CRD already holds what crds/ holds) and says the step again.
    const installed = await helmOk(["install", CRD_RELEASE, CHART, "--namespace", RELEASE_NS, "--create-namespace"], env.kubeconfig);
    assert.ok(installed.stdout.includes(CRD_STEP), "NOTES: the CRD step");
    assert.doesNotMatch(installed.stdout, /was installed from/, "NOTES do not claim Helm installed the CRD");
    t.diagnostic("the operator's CRD replaced by the chart's with the documented step; helm install then succeeded");
    await helmOk(["uninstall", CRD_RELEASE, "--namespace", RELEASE_NS, "--wait"], env.kubeconfig);
  });

  test("sidecar mode beside druid-operator's Deployment: the release's RBAC, the patch applied server-side, a lifecycle as the operator's account, then removed", async (t) => {
    await kubectlOk(env.kubeconfig, ["apply", "--server-side", "-f", STANDIN]);
    const original = await apps.readNamespacedDeployment({ namespace: OPERATOR_NS, name: OPERATOR });
    const values = ["--set", "mode=sidecar", "--set-string", `config.DRUID_DEFAULT_URL=${env.druidUrl}`];
    const installed = await helmOk(["install", SIDECAR_RELEASE, CHART, "--namespace", OPERATOR_NS, ...values], env.kubeconfig);
    assert.match(installed.stdout, /--show-only templates\/sidecar-deployment-patch\.yaml/, "NOTES: how to add the container");
    const objects = await releaseObjects(SIDECAR_RELEASE, OPERATOR_NS);
    assert.deepEqual(objects.map((d) => `${d["kind"]}/${d["metadata"]["name"]}`).sort(), [
      `ClusterRole/${SIDECAR_FULLNAME}`,
      `ClusterRoleBinding/${SIDECAR_FULLNAME}-druid-operator`,
      `Role/${SIDECAR_FULLNAME}-leader-election`,
      `RoleBinding/${SIDECAR_FULLNAME}-leader-election`,
      `Service/${SIDECAR_FULLNAME}-metrics`,
    ]);

    // Helm itself refuses the patch: the Deployment is the operator's, not the release's.
    const refused = await helm(["upgrade", SIDECAR_RELEASE, CHART, "--namespace", OPERATOR_NS, ...values, "--set", "sidecar.deploymentPatch=true"], env.kubeconfig);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /exists and cannot be imported into the current release/);
    assert.deepEqual(deploymentContainers(await apps.readNamespacedDeployment({ namespace: OPERATOR_NS, name: OPERATOR })), deploymentContainers(original), "the refused upgrade changed nothing");

    // The documented way: the chart's patch, applied with a field manager of its own.
    const patch = await helmOk(["template", SIDECAR_RELEASE, CHART, "--namespace", OPERATOR_NS, ...values, "--set", "sidecar.deploymentPatch=true", "--show-only", "templates/sidecar-deployment-patch.yaml"]);
    for (let i = 0; i < 2; i++) {
      const r = await kubectlOk(env.kubeconfig, ["apply", "--server-side", "--field-manager=druid-ingestion-controller", "--force-conflicts", "-f", "-"], { input: patch.stdout });
      assert.doesNotMatch(r.stderr, /warning|error/i, `apply #${i + 1} is clean and idempotent`);
    }
    const patched = await apps.readNamespacedDeployment({ namespace: OPERATOR_NS, name: OPERATOR });
    const containers = deploymentContainers(patched);
    assert.deepEqual([...containers.keys()].sort(), ["druid-ingestion-controller", "kube-rbac-proxy", "manager"]);
    assert.deepEqual(containers.get("manager")?.args, ["--health-probe-bind-address=:8081", "--metrics-bind-address=127.0.0.1:8080", "--leader-elect", "--disable-ingestion-controller"]);
    assert.deepEqual(containers.get("kube-rbac-proxy"), deploymentContainers(original).get("kube-rbac-proxy"), "kube-rbac-proxy untouched");
    assert.equal(patched.metadata?.annotations?.["meta.helm.sh/release-name"], undefined, "the operator's Deployment is not the release's");
    const svc = await admin.core.readNamespacedService({ namespace: OPERATOR_NS, name: `${SIDECAR_FULLNAME}-metrics` });
    for (const [k, v] of Object.entries(svc.spec?.selector ?? {})) assert.equal(patched.spec?.template.metadata?.labels?.[k], v, "the metrics Service selects the operator's pod");

    // The sidecar's identity is the operator's ServiceAccount, with the sidecar's settings.
    const settings = plainEnv(containers.get("druid-ingestion-controller"));
    assert.deepEqual(settings, { LEADER_ELECT: "true", LEADER_ELECTION_ID: SIDECAR_FULLNAME, LOG_LEVEL: "info", DRUID_DEFAULT_URL: env.druidUrl, SHUTDOWN_TIMEOUT: "6s", DRUID_REQUEST_TIMEOUT: "5s", DRUID_RETRIES: "0" });
    const sa = await harness.identity(OPERATOR_NS, OPERATOR);
    const ns = await harness.namespaceWithSecret("helm-sidecar");
    t.diagnostic(`lifecycle: ${await harness.lifecycleAs(sa.kubeconfig, OPERATOR_NS, { ...settings, WATCH_NAMESPACE: ns }, ns)}`);

    // Removal as NOTES.txt says: the operator takes its args back, an empty apply drops the
    // container, then helm uninstall removes the RBAC and the Service; the operator stays whole.
    await kubectlOk(env.kubeconfig, ["apply", "--server-side", "--force-conflicts", "-f", STANDIN]);
    await kubectlOk(env.kubeconfig, ["apply", "--server-side", "--field-manager=druid-ingestion-controller", "-f", "-"], {
      input: JSON.stringify({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: OPERATOR, namespace: OPERATOR_NS } }),
    });
    await helmOk(["uninstall", SIDECAR_RELEASE, "--namespace", OPERATOR_NS, "--wait"], env.kubeconfig);
    for (const doc of objects) await waitFor(`${doc["kind"]}/${doc["metadata"]["name"]} deleted`, async () => !(await exists(doc)), 60_000, 500);
    const restored = deploymentContainers(await apps.readNamespacedDeployment({ namespace: OPERATOR_NS, name: OPERATOR }));
    assert.deepEqual([...restored.keys()].sort(), ["kube-rbac-proxy", "manager"]);
    assert.deepEqual(restored.get("manager")?.args, ["--health-probe-bind-address=:8081", "--metrics-bind-address=127.0.0.1:8080", "--leader-elect"]);
  });
});
