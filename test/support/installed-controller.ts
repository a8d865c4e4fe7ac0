// What the install e2e tests (kustomize: install.test.ts, Helm: helm.test.ts) do with an installed
// controller: run the real controller process as the install's ServiceAccount (a TokenRequest
// token; the local stack has no kubelet, so the install's pods never run) and drive one resource
// through its whole lifecycle against the real Druid. Also cleans up what a test left: controllers
// stopped, its namespaces' resources released (finalizers dropped, supervisors terminated) and
// deleted, and the token kubeconfigs removed.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { ApiException, CoordinationV1Api, type V1Container, type V1Deployment } from "@kubernetes/client-node";
import { FINALIZER, type DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { ControllerProcess } from "./controller.ts";
import { DruidProbe } from "./druid.ts";
import { isSynced, kafkaIngestion, namespaceWithAuthSecret, unique } from "./fixtures.ts";
import { condition, ignore404, Kube } from "./kube.ts";
import { writeKubeconfig } from "./kubectl.ts";
import type { StackEnv } from "./stack.ts";
import { waitFor } from "./wait.ts";

export const LEASE = "druid-ingestion-controller";
// Short leader-election timings: a Lease left by an earlier, killed run is taken over quickly.
export const LEASE_TIMINGS = { LEASE_DURATION: "4s", RENEW_DEADLINE: "3s", RETRY_PERIOD: "1s" };

export function deploymentContainers(d: V1Deployment): Map<string, V1Container> {
  return new Map((d.spec?.template.spec?.containers ?? []).map((c) => [c.name, c]));
}

/** The plain env values of an installed container (valueFrom entries are the pod's, set by the caller). */
export function plainEnv(container: V1Container | undefined): Record<string, string> {
  return Object.fromEntries((container?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]));
}

export function assertNoForbidden(controller: ControllerProcess): void {
  const bad = controller.logs.filter((l) => /forbidden|\b403\b/i.test(l));
  assert.deepEqual(bad, [], "the ServiceAccount's rights sufficed for every call");
}

export class InstallHarness {
  readonly admin: Kube;
  readonly druid: DruidProbe;
  private readonly leases: CoordinationV1Api;
  private readonly namespaces: string[] = [];
  private readonly controllers: ControllerProcess[] = [];
  private readonly kubeconfigs: string[] = [];

  readonly env: StackEnv;

  constructor(env: StackEnv) {
    this.env = env;
    this.admin = Kube.admin(env);
    this.druid = new DruidProbe(env);
    this.leases = this.admin.kc.makeApiClient(CoordinationV1Api);
  }

  /** A fresh namespace with the Druid basic-auth Secret, deleted by cleanUp(). */
  async namespaceWithSecret(prefix: string): Promise<string> {
    const ns = await namespaceWithAuthSecret(this.admin, this.env, prefix);
    this.namespaces.push(ns);
    return ns;
  }

  /** A client and a kubeconfig file that authenticate as the ServiceAccount, nothing more. */
  async identity(namespace: string, name: string): Promise<{ kube: Kube; kubeconfig: string }> {
    const { kube } = await this.admin.asServiceAccount(namespace, name);
    const kubeconfig = writeKubeconfig(kube);
    this.kubeconfigs.push(kubeconfig);
    return { kube, kubeconfig };
  }

  async startController(kubeconfig: string, extra: Record<string, string>): Promise<ControllerProcess> {
    const controller = await ControllerProcess.start({ KUBECONFIG: kubeconfig, DRUID_DEFAULT_URL: this.env.druidUrl, LEADER_ELECT: "true", ...LEASE_TIMINGS, ...extra });
    this.controllers.push(controller);
    return controller;
  }

  async stopController(controller: ControllerProcess): Promise<void> {
    const code = await controller.stop();
    this.controllers.splice(this.controllers.indexOf(controller), 1);
    assert.equal(code, 0, `controller exit code; last logs:\n${controller.tail()}`);
  }

  async leaseHolder(namespace: string, name = LEASE): Promise<string | undefined> {
    try {
      return (await this.leases.readNamespacedLease({ namespace, name })).spec?.holderIdentity ?? "";
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  async waitForIngestion(ns: string, name: string, what: string, ok: (i: DruidIngestion) => boolean, timeoutMs = 90_000): Promise<DruidIngestion> {
    return waitFor(`${ns}/${name}: ${what}`, async () => {
      const current = await this.admin.getIngestion(ns, name);
      return current && ok(current) ? current : false;
    }, timeoutMs);
  }

  /** The whole lifecycle of one resource against Druid, driven by the running controller; returns how long each phase took. */
  async lifecycle(ns: string, options: { suspend: boolean }): Promise<string> {
    const { admin, druid } = this;
    const started = Date.now();
    const phases: string[] = [];
    const lap = (what: string) => phases.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)}s`);
    const ds = unique("install");
    await admin.createIngestion(ns, kafkaIngestion("ing", ds, this.env.kafkaBootstrap ?? "127.0.0.1:9"));
    const ready = await this.waitForIngestion(ns, "ing", "synced with a Druid state", (i) => isSynced(i) && i.status?.state !== undefined);
    assert.ok(ready.metadata.finalizers?.includes(FINALIZER), "finalizer (patch)");
    assert.equal(ready.status?.supervisorId, ds, "status (status subresource)");
    assert.ok(await druid.supervisor(ds), "supervisor running in Druid (Secret read)");
    const cm = await admin.core.readNamespacedConfigMap({ namespace: ns, name: "ing-druid-spec" });
    assert.equal(cm.metadata?.ownerReferences?.[0]?.uid, ready.metadata.uid, "owned ConfigMap (created by the controller)");
    assert.ok((await admin.events(ns, "ing")).some((e) => e.reason === "Created"), "Event (create)");
    lap("synced");

    if (options.suspend) {
      await admin.patchIngestion(ns, "ing", { spec: { suspend: true } });
      await waitFor("Druid holds the suspended spec", async () => (await druid.supervisor(ds))?.spec?.["suspended"] === true);
      lap("suspended spec in Druid");
      // Druid reports SUSPENDED once its task has stopped, which takes a while on a busy stack.
      await waitFor("Druid reports SUSPENDED", async () => (await druid.supervisor(ds))?.state === "SUSPENDED", 240_000, 1000);
      lap("SUSPENDED in Druid");
      await this.waitForIngestion(ns, "ing", "Suspended", (i) => condition(i, "Suspended")?.status === "True" && i.status?.state === "SUSPENDED");
      lap("status says suspended");
    }

    await admin.deleteIngestion(ns, "ing");
    await waitFor("resource gone (finalizer removed)", async () => !(await admin.getIngestion(ns, "ing")));
    assert.equal(await druid.supervisor(ds), undefined, "terminated in Druid");
    lap("deleted");
    return phases.join(", ");
  }

  /**
   * The controller as `kubeconfig` with the install's `settings`, its pod in `podNamespace` (where
   * its Lease is), through one lifecycle in `ns`, with no 403 on the way; returns the phases.
   */
  async lifecycleAs(kubeconfig: string, podNamespace: string, settings: Record<string, string>, ns: string): Promise<string> {
    const pod = unique("pod");
    const controller = await this.startController(kubeconfig, { ...settings, POD_NAMESPACE: podNamespace, POD_NAME: pod });
    // The Lease the install names (the Helm chart: the release's fullname), else the controller's default.
    const lease = settings["LEADER_ELECTION_ID"] ?? LEASE;
    await waitFor(`the Lease ${lease} in ${podNamespace} names this replica`, async () => (await this.leaseHolder(podNamespace, lease)) === pod, 30_000);
    const phases = await this.lifecycle(ns, { suspend: false });
    assertNoForbidden(controller);
    await this.stopController(controller);
    return phases;
  }

  async cleanUp(): Promise<void> {
    for (const c of [...this.controllers]) await c.stop();
    for (const ns of this.namespaces) {
      const list = (await this.admin.custom.listNamespacedCustomObject({ group: "druid.apache.org", version: "v1alpha1", plural: "druidingestions", namespace: ns }).catch(() => ({ items: [] }))) as { items: DruidIngestion[] };
      for (const item of list.items) {
        // No controller runs any more: drop the finalizer, then terminate what Druid may still run.
        await this.admin.patchIngestion(ns, item.metadata.name, { metadata: { finalizers: null } }).catch(ignore404);
        const id = item.status?.supervisorId;
        if (id) await this.druid.terminate(id).catch(() => undefined);
      }
      await this.admin.deleteNamespace(ns);
    }
    for (const file of this.kubeconfigs) rmSync(path.dirname(file), { recursive: true, force: true }); // they hold tokens
  }
}
