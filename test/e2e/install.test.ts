// The production install, end to end on the real stack: deploy/ applied with kubectl (kustomize
// built in), then the real controller process run with the ServiceAccount's own identity (a
// TokenRequest token, no admin rights), so the RBAC in deploy/ is proven sufficient for the
// whole lifecycle, and the namespaced overlay is proven unable to touch other namespaces. The
// sidecar overlay is applied over a stand-in of druid-operator's Deployment. Also replays the
// Dockerfile's build stage on the host and runs the image's start command from the result
// (production dependencies only, files read-only, no HOME) to show that layout is complete.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ApiException, AppsV1Api } from "@kubernetes/client-node";
import { loadAll } from "js-yaml";
import { freePort } from "../support/controller.ts";
import { replayBuildStage } from "../support/dockerfile.ts";
import { kubectl, kubectlOk } from "../support/kubectl.ts";
import { assertNoForbidden, deploymentContainers, InstallHarness, LEASE, LEASE_TIMINGS } from "../support/installed-controller.ts";
import { ensureStack, REPO_ROOT, stackEnv } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";
import { kafkaIngestion, unique } from "../support/fixtures.ts";

ensureStack();
const env = stackEnv();
const harness = new InstallHarness(env);
const { admin, druid } = harness;
const apps = admin.kc.makeApiClient(AppsV1Api);
const bootstrap = env.kafkaBootstrap ?? "127.0.0.1:9";

const SYSTEM_NS = "druid-ingestion-system";
const SA = "druid-ingestion-controller";
const OPERATOR_NS = "druid-operator-system";
const OPERATOR = "druid-operator-controller-manager";
// Cluster-scoped objects and fixed namespaces this file creates. On the local stack they are
// removed at the end; on another cluster only those that did not exist before.
const CLUSTER_OBJECTS: Array<[kind: "clusterrole" | "clusterrolebinding" | "namespace", name: string]> = [
  ["clusterrolebinding", "druid-ingestion-controller"],
  ["clusterrolebinding", "druid-ingestion-controller-druid-operator"],
  ["clusterrole", "druid-ingestion-controller"],
  ["namespace", SYSTEM_NS],
  ["namespace", OPERATOR_NS],
];
const preexisting = new Set<string>();
function manifest(name: string, dataSource: string): Record<string, unknown> {
  return kafkaIngestion(name, dataSource, bootstrap);
}

function render(dir: string): Promise<Array<Record<string, any>>> {
  return kubectlOk(env.kubeconfig, ["kustomize", dir]).then((r) => (loadAll(r.stdout) as Array<Record<string, any>>).filter(Boolean));
}

before(async () => {
  await admin.installCrd();
  for (const [kind, name] of CLUSTER_OBJECTS) {
    const r = await kubectl(env.kubeconfig, ["get", kind, name, "-o", "name"]);
    if (r.code === 0) preexisting.add(`${kind}/${name}`);
  }
});

after(async () => {
  await harness.cleanUp();
  for (const [kind, name] of CLUSTER_OBJECTS) {
    if (env.local || !preexisting.has(`${kind}/${name}`)) await kubectl(env.kubeconfig, ["delete", kind, name, "--ignore-not-found", "--wait=false"]);
  }
});

describe("production install (deploy/, Dockerfile layout)", { timeout: 900_000 }, () => {
  test("the three kustomizations render; deploy/base applies cleanly with kubectl apply -k", async () => {
    const base = await render("deploy/base");
    const kinds = base.map((d) => `${d["kind"]}/${d["metadata"]["name"]}`).sort();
    assert.deepEqual(kinds, [
      "ClusterRole/druid-ingestion-controller",
      "ClusterRoleBinding/druid-ingestion-controller",
      "CustomResourceDefinition/druidingestions.druid.apache.org",
      "Deployment/druid-ingestion-controller",
      "Namespace/druid-ingestion-system",
      "Role/druid-ingestion-controller-leader-election",
      "RoleBinding/druid-ingestion-controller-leader-election",
      "Service/druid-ingestion-controller-metrics",
      "ServiceAccount/druid-ingestion-controller",
    ]);
    const namespaced = await render("deploy/overlays/namespaced");
    assert.ok(!namespaced.some((d) => d["kind"] === "ClusterRoleBinding"), "namespaced: no ClusterRoleBinding");
    assert.ok(namespaced.some((d) => d["kind"] === "RoleBinding" && d["metadata"]["namespace"] === "analytics" && d["roleRef"]["kind"] === "ClusterRole"));
    const sidecar = await render("deploy/overlays/sidecar-druid-operator");
    assert.ok(!sidecar.some((d) => d["kind"] === "ConfigMap"), "the local-config ConfigMap is build input only");
    assert.ok(!sidecar.some((d) => d["kind"] === "Namespace" || d["kind"] === "ServiceAccount"), "the sidecar overlay creates no Namespace or ServiceAccount of its own");
    const patch = sidecar.find((d) => d["kind"] === "Deployment") as Record<string, any>;
    assert.deepEqual(patch["metadata"], { name: OPERATOR, namespace: OPERATOR_NS });
    assert.deepEqual(patch["spec"]["template"]["spec"]["containers"].map((c: { name: string }) => c.name).sort(), ["druid-ingestion-controller", "manager"]);

    // A plain (client-side) `kubectl apply -k` is accepted; then the documented server-side
    // apply, which takes the objects over from the client-side manager.
    const plain = await kubectlOk(env.kubeconfig, ["apply", "-k", "deploy/base"]);
    assert.doesNotMatch(plain.stderr, /PodSecurity|violate/i, "the pod template passes the restricted Pod Security Standard enforced on the namespace");
    const applied = await kubectlOk(env.kubeconfig, ["apply", "--server-side", "-k", "deploy/base"]);
    assert.doesNotMatch(applied.stderr, /warning/i);
    const deployment = await apps.readNamespacedDeployment({ namespace: SYSTEM_NS, name: "druid-ingestion-controller" });
    const container = deploymentContainers(deployment).get("controller");
    assert.equal(container?.image, "ghcr.io/druid-ingestion-controller/druid-ingestion-controller:0.1.0");
    assert.equal(container?.securityContext?.readOnlyRootFilesystem, true);
    await admin.core.readNamespacedServiceAccount({ namespace: SYSTEM_NS, name: SA });
    // Applying again changes nothing.
    const again = await kubectlOk(env.kubeconfig, ["apply", "--server-side", "-k", "deploy/base"]);
    assert.doesNotMatch(again.stderr, /warning|error/i);
  });

  test("deploy/base RBAC: the controller runs the whole lifecycle as its ServiceAccount", async (t) => {
    const sa = await harness.identity(SYSTEM_NS, SA);
    // Cluster-wide rights (what the all-namespaces informers use), asked as the ServiceAccount.
    await sa.kube.custom.listClusterCustomObject({ group: "druid.apache.org", version: "v1alpha1", plural: "druidingestions" });
    await sa.kube.core.listSecretForAllNamespaces({ limit: 1 });
    await sa.kube.core.listConfigMapForAllNamespaces({ labelSelector: "app.kubernetes.io/managed-by=druid-ingestion-controller", limit: 1 });
    await sa.kube.core.listServiceForAllNamespaces({ labelSelector: "druid_cr", limit: 1 });
    for (const [verb, resource] of [["watch", "secrets"], ["watch", "druidingestions.druid.apache.org"], ["create", "configmaps"], ["patch", "events"]] as const) {
      const r = await kubectl(sa.kubeconfig, ["auth", "can-i", verb, resource, "--all-namespaces"]);
      assert.equal(r.stdout.trim(), "yes", `can ${verb} ${resource} cluster-wide`);
    }
    for (const [verb, resource] of [["delete", "druidingestions.druid.apache.org"], ["create", "secrets"], ["list", "pods"], ["get", "druids.druid.apache.org"], ["list", "leases.coordination.k8s.io"]] as const) {
      const r = await kubectl(sa.kubeconfig, ["auth", "can-i", verb, resource, "--all-namespaces"]);
      assert.equal(r.stdout.trim(), "no", `cannot ${verb} ${resource}`);
    }
    assert.equal((await kubectl(sa.kubeconfig, ["auth", "can-i", "update", `leases/${LEASE}`, "-n", SYSTEM_NS])).stdout.trim(), "yes");
    assert.equal((await kubectl(sa.kubeconfig, ["auth", "can-i", "update", "leases/another-lease", "-n", SYSTEM_NS])).stdout.trim(), "no");

    // The process itself watches only this test's namespace, so it never acts on resources of
    // other tests sharing the cluster; the cluster-wide list/watch rights are checked above.
    const ns = await harness.namespaceWithSecret("install");
    const pod = unique("druid-ingestion-controller-pod");
    const controller = await harness.startController(sa.kubeconfig, { POD_NAMESPACE: SYSTEM_NS, POD_NAME: pod, WATCH_NAMESPACE: ns });
    await waitFor("the Lease names this replica", async () => (await harness.leaseHolder(SYSTEM_NS)) === pod, 30_000);
    t.diagnostic(`lifecycle: ${await harness.lifecycle(ns, { suspend: true })}`);
    const rss = /VmRSS:\s+(\d+) kB/.exec(execFileSync("cat", [`/proc/${controller.pid}/status`]).toString())?.[1];
    t.diagnostic(`controller RSS after a lifecycle: ${Math.round(Number(rss) / 1024)} MiB`);
    assertNoForbidden(controller);
    await harness.stopController(controller);
    assert.equal(await harness.leaseHolder(SYSTEM_NS), "", "the Lease is released on SIGTERM");
  });

  test("the image's layout runs: production dependencies only, read-only files, no HOME", async () => {
    // The Dockerfile's build stage replayed here (its COPY and RUN steps, .dockerignore applied):
    // package files, crds/, src/ without tests, `npm ci --omit=dev`, pruned type declarations.
    const app = mkdtempSync(path.join(tmpdir(), "dic-image-"));
    const npmCache = mkdtempSync(path.join(tmpdir(), "dic-npm-cache-"));
    try {
      replayBuildStage(REPO_ROOT, app, { npm_config_cache: npmCache, npm_config_loglevel: "error" });
      for (const dev of ["typescript", "node", "@types"]) assert.ok(!existsSync(path.join(app, "node_modules", dev)), `${dev} is not in the image`);
      assert.deepEqual(readdirSync(app).sort(), ["crds", "node_modules", "package-lock.json", "package.json", "src"]);
      assert.deepEqual(readdirSync(path.join(app, "crds")), ["druid.apache.org_druidingestions.yaml"]);
      assert.equal((readdirSync(path.join(app, "src"), { recursive: true }) as string[]).filter((f) => f.endsWith(".test.ts")).length, 0);
      // Read-only: as with readOnlyRootFilesystem, any write would fail.
      const snapshot = () => (readdirSync(app, { recursive: true }) as string[]).sort().map((f) => `${f}:${statSync(path.join(app, f)).mtimeMs}`).join("\n");
      const before = snapshot();
      execFileSync("chmod", ["-R", "a-w", app]);

      const sa = await harness.identity(SYSTEM_NS, SA);
      const ns = await harness.namespaceWithSecret("image");
      const port = await freePort();
      const metrics = await freePort();
      const child = spawn(process.execPath, ["src/main.ts"], {
        cwd: app,
        env: {
          PATH: "/usr/bin:/bin",
          HOME: path.join(app, "no-such-home"),
          TMPDIR: path.join(app, "no-such-tmp"),
          NODE_ENV: "production",
          KUBECONFIG: sa.kubeconfig,
          POD_NAMESPACE: SYSTEM_NS,
          POD_NAME: unique("image-pod"),
          WATCH_NAMESPACE: ns,
          LEADER_ELECT: "true",
          ...LEASE_TIMINGS,
          DRUID_DEFAULT_URL: env.druidUrl,
          HEALTH_PROBE_BIND_ADDRESS: `127.0.0.1:${port}`,
          METRICS_BIND_ADDRESS: `127.0.0.1:${metrics}`,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const logs: string[] = [];
      child.stdout.on("data", (b: Buffer) => logs.push(b.toString()));
      child.stderr.on("data", (b: Buffer) => logs.push(b.toString()));
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      try {
        for (const probe of ["/healthz", "/readyz"]) {
          await waitFor(`${probe} answers 200`, async () => {
            if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${logs.join("").slice(-2000)}`);
            return (await fetch(`http://127.0.0.1:${port}${probe}`).catch(() => undefined))?.status === 200;
          }, 60_000, 200);
        }
        const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
        assert.match(text, /^controller_runtime_max_concurrent_reconciles\{/m, "metrics served");
      } finally {
        child.kill("SIGTERM");
      }
      assert.equal(await exited, 0, logs.join("").slice(-2000));
      assert.doesNotMatch(logs.join(""), /EACCES|EROFS|ExperimentalWarning/, "no write attempted, no warning on stderr");
      execFileSync("chmod", ["-R", "u+w", app]);
      assert.equal(snapshot(), before, "nothing written into the application directory");
    } finally {
      execFileSync("chmod", ["-R", "u+w", app]);
      rmSync(app, { recursive: true, force: true });
      rmSync(npmCache, { recursive: true, force: true });
    }
  });

  test("namespaced overlay: syncs in the watched namespace; cannot read or touch another", async (t) => {
    const nsA = await harness.namespaceWithSecret("watched");
    const nsB = await harness.namespaceWithSecret("unwatched");
    // A kustomization of the user's own, using the overlay as its base and watching nsA
    // instead of the example `analytics` (kustomize bases must be relative paths).
    const dir = mkdtempSync(path.join(tmpdir(), "dic-namespaced-"));
    const overlay = path.relative(dir, path.join(REPO_ROOT, "deploy/overlays/namespaced"));
    writeFileSync(path.join(dir, "kustomization.yaml"), [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      "resources:",
      `  - ${overlay}`,
      "patches:",
      "  - target: {kind: RoleBinding, name: druid-ingestion-controller, namespace: analytics}",
      "    patch: |-",
      "      - op: replace",
      "        path: /metadata/namespace",
      `        value: ${nsA}`,
      "  - patch: |-",
      "      apiVersion: apps/v1",
      "      kind: Deployment",
      "      metadata: {name: druid-ingestion-controller, namespace: druid-ingestion-system}",
      "      spec:",
      "        template:",
      "          spec:",
      "            containers:",
      "              - name: controller",
      `                env: [{name: WATCH_NAMESPACE, value: ${nsA}}]`,
      "",
    ].join("\n"));
    const rendered = (loadAll((await kubectlOk(env.kubeconfig, ["kustomize", dir])).stdout) as Array<Record<string, any>>).filter(Boolean);
    const deployment = rendered.find((d) => d["kind"] === "Deployment") as Record<string, any>;
    const watch = deployment["spec"]["template"]["spec"]["containers"][0]["env"].find((e: { name: string }) => e.name === "WATCH_NAMESPACE");
    assert.equal(watch?.value, nsA, "the env patch hit WATCH_NAMESPACE");
    assert.deepEqual(rendered.filter((d) => d["kind"] === "RoleBinding").map((d) => d["metadata"]["namespace"]).sort(), [nsA, SYSTEM_NS].sort());

    // Switching from deploy/base: apply does not prune, so the ClusterRoleBinding goes by hand.
    await kubectl(env.kubeconfig, ["delete", "clusterrolebinding", "druid-ingestion-controller", "--ignore-not-found"]);
    try {
      await kubectlOk(env.kubeconfig, ["apply", "--server-side", "-k", dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const sa = await harness.identity(SYSTEM_NS, SA);
    await waitFor("RBAC: secrets readable in the watched namespace", async () => (await kubectl(sa.kubeconfig, ["auth", "can-i", "list", "secrets", "-n", nsA])).stdout.trim() === "yes", 10_000);
    await assert.rejects(sa.kube.core.listNamespacedSecret({ namespace: nsB }), (e: unknown) => e instanceof ApiException && e.code === 403, "403 listing Secrets in another namespace");
    await assert.rejects(sa.kube.core.listSecretForAllNamespaces({ limit: 1 }), (e: unknown) => e instanceof ApiException && e.code === 403, "403 listing Secrets cluster-wide");
    await assert.rejects(sa.kube.custom.listNamespacedCustomObject({ group: "druid.apache.org", version: "v1alpha1", plural: "druidingestions", namespace: nsB }), (e: unknown) => e instanceof ApiException && e.code === 403);
    await assert.rejects(sa.kube.core.createNamespacedEvent({ namespace: nsB, body: { metadata: { name: "x" }, involvedObject: { name: "x", namespace: nsB } } }), (e: unknown) => e instanceof ApiException && e.code === 403);

    const pod = unique("namespaced-pod");
    const controller = await harness.startController(sa.kubeconfig, { POD_NAMESPACE: SYSTEM_NS, POD_NAME: pod, WATCH_NAMESPACE: nsA });
    const dsB = unique("unwatched");
    await admin.createIngestion(nsB, manifest("ing", dsB));
    t.diagnostic(`lifecycle: ${await harness.lifecycle(nsA, { suspend: false })}`);
    await new Promise((r) => setTimeout(r, 7000)); // more than a resync period (5 s) after the lifecycle
    assert.deepEqual(controller.logs.filter((l) => l.includes(nsB)), [], "the controller never saw the unwatched namespace");
    const eventsB = (await admin.core.listNamespacedEvent({ namespace: nsB })).items;
    assert.ok(!eventsB.some((e) => e.reportingInstance === pod), "no Event from this controller in the unwatched namespace");
    // Another druid-ingestion-controller watching all namespaces (an e2e run of another test file
    // on a shared cluster) would legitimately act there; it says so in its Events.
    const others = [...new Set(eventsB.filter((e) => e.reportingComponent === "druid-ingestion-controller").map((e) => e.reportingInstance))];
    if (others.length > 0) {
      t.diagnostic(`another controller (${others.join(", ")}) acted in ${nsB}; the untouched-resource check is skipped`);
    } else {
      const untouched = await admin.getIngestion(nsB, "ing");
      assert.deepEqual(untouched?.metadata.finalizers ?? [], [], "no finalizer in the unwatched namespace");
      assert.equal(untouched?.status, undefined, "no status in the unwatched namespace");
      assert.equal(await druid.supervisor(dsB), undefined, "nothing in Druid for it");
      await assert.rejects(admin.core.readNamespacedConfigMap({ namespace: nsB, name: "ing-druid-spec" }), (e: unknown) => e instanceof ApiException && e.code === 404);
    }
    assert.equal(await harness.leaseHolder(SYSTEM_NS), pod);
    assertNoForbidden(controller);
    await harness.stopController(controller);
  });

  test("sidecar overlay over druid-operator's Deployment: container added, flag set, RBAC sufficient, cleanly removable", async (t) => {
    // The stand-in for druid-operator's kustomize install, applied server-side as the overlay requires.
    const standin = path.join(REPO_ROOT, "test/support/fixtures/druid-operator-standin.yaml");
    await kubectlOk(env.kubeconfig, ["apply", "--server-side", "-f", standin]);
    const original = await apps.readNamespacedDeployment({ namespace: OPERATOR_NS, name: OPERATOR });
    const sidecarArgs = ["apply", "-k", "deploy/overlays/sidecar-druid-operator", "--server-side", "--field-manager=druid-ingestion-controller", "--force-conflicts"];
    for (let i = 0; i < 2; i++) {
      const r = await kubectlOk(env.kubeconfig, sidecarArgs);
      assert.doesNotMatch(r.stderr, /warning|error/i, `apply #${i + 1} is clean and idempotent`);
    }

    const patched = await apps.readNamespacedDeployment({ namespace: OPERATOR_NS, name: OPERATOR });
    const containers = deploymentContainers(patched);
    assert.deepEqual([...containers.keys()].sort(), ["druid-ingestion-controller", "kube-rbac-proxy", "manager"]);
    const manager = containers.get("manager");
    assert.deepEqual(manager?.args, ["--health-probe-bind-address=:8081", "--metrics-bind-address=127.0.0.1:8080", "--leader-elect", "--disable-ingestion-controller"]);
    assert.equal(manager?.image, "datainfrahq/druid-operator:v1.3.0", "the operator's image is untouched");
    assert.deepEqual(manager?.command, ["/manager"]);
    assert.deepEqual(containers.get("kube-rbac-proxy"), deploymentContainers(original).get("kube-rbac-proxy"), "kube-rbac-proxy untouched");
    assert.deepEqual(patched.spec?.selector, original.spec?.selector);
    assert.equal(patched.spec?.template.spec?.serviceAccountName, OPERATOR);
    assert.equal(patched.spec?.template.spec?.securityContext?.runAsNonRoot, true, "the operator's pod-level runAsNonRoot stays");
    const ours = containers.get("druid-ingestion-controller");
    assert.equal(ours?.image, "ghcr.io/druid-ingestion-controller/druid-ingestion-controller:0.1.0");
    const ports = (ours?.ports ?? []).map((p) => p.containerPort).sort();
    assert.deepEqual(ports, [8383, 8384]);
    const taken = [...containers.values()].filter((c) => c.name !== ours?.name).flatMap((c) => (c.ports ?? []).map((p) => p.containerPort));
    for (const p of [8080, 8081, 8443, 9443, ...taken]) assert.ok(!ports.includes(p), `port ${p} is druid-operator's`);
    assert.deepEqual(JSON.parse(JSON.stringify(ours?.securityContext)), {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    const ourEnv = new Map((ours?.env ?? []).map((e) => [e.name, e]));
    assert.equal(ourEnv.get("POD_NAME")?.valueFrom?.fieldRef?.fieldPath, "metadata.name");
    assert.equal(ourEnv.get("POD_NAMESPACE")?.valueFrom?.fieldRef?.fieldPath, "metadata.namespace");
    assert.equal(ourEnv.get("LEADER_ELECT")?.value, "true");
    assert.equal(ours?.readinessProbe?.httpGet?.path, "/readyz");
    assert.equal(ours?.livenessProbe?.httpGet?.port, 8384);
    const svc = await admin.core.readNamespacedService({ namespace: OPERATOR_NS, name: "druid-ingestion-controller-metrics" });
    for (const [k, v] of Object.entries(svc.spec?.selector ?? {})) assert.equal(patched.spec?.template.metadata?.labels?.[k], v, "metrics Service selects the operator's pod");

    // The sidecar's identity is druid-operator's ServiceAccount: run the real controller as that
    // account (its own Lease in the operator's namespace) through a whole lifecycle.
    const sa = await harness.identity(OPERATOR_NS, OPERATOR);
    const ns = await harness.namespaceWithSecret("sidecar");
    const pod = unique("druid-operator-pod");
    const controller = await harness.startController(sa.kubeconfig, { POD_NAMESPACE: OPERATOR_NS, POD_NAME: pod, WATCH_NAMESPACE: ns });
    await waitFor("the sidecar's Lease in the operator's namespace", async () => (await harness.leaseHolder(OPERATOR_NS)) === pod, 30_000);
    t.diagnostic(`lifecycle: ${await harness.lifecycle(ns, { suspend: false })}`);
    assertNoForbidden(controller);
    await harness.stopController(controller);

    // Re-applying druid-operator's own manifests reports the args this overlay owns...
    const reapply = await kubectl(env.kubeconfig, ["apply", "--server-side", "-f", standin]);
    assert.notEqual(reapply.code, 0);
    assert.match(reapply.stderr, /conflict with "druid-ingestion-controller": \.spec\.template\.spec\.containers\[name="manager"\]\.args/);
    // ...and the documented removal: the operator takes its args back, then an empty apply by
    // this field manager drops the container it no longer lists.
    await kubectlOk(env.kubeconfig, ["apply", "--server-side", "--force-conflicts", "-f", standin]);
    await kubectlOk(env.kubeconfig, ["apply", "--server-side", "--field-manager=druid-ingestion-controller", "-f", "-"], {
      input: JSON.stringify({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: OPERATOR, namespace: OPERATOR_NS } }),
    });
    const restored = deploymentContainers(await apps.readNamespacedDeployment({ namespace: OPERATOR_NS, name: OPERATOR }));
    assert.deepEqual([...restored.keys()].sort(), ["kube-rbac-proxy", "manager"]);
    assert.deepEqual(restored.get("manager")?.args, ["--health-probe-bind-address=:8081", "--metrics-bind-address=127.0.0.1:8080", "--leader-elect"]);
  });
});

