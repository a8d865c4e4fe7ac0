// Kubernetes helpers for e2e tests and tools against a real API server.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { load as loadYaml } from "js-yaml";
import { PooledKubeConfig } from "../src/kube/pooled-kube-config.ts";
import { CREDENTIALS_LABEL, GROUP, PLURAL, VERSION, type DruidIngestion } from "../src/api/druid-ingestion.ts";
import { REPO_ROOT, type StackEnv } from "./stack.ts";
import { waitFor } from "./wait.ts";

export class Kube {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly apiext: ApiextensionsV1Api;
  readonly rbac: RbacAuthorizationV1Api;

  constructor(kc: KubeConfig) {
    this.kc = kc;
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.apiext = kc.makeApiClient(ApiextensionsV1Api);
    this.rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  }

  /** `pooled`: calls share keep-alive connections as the controller's do (client-node alone opens one per call). */
  static admin(env: StackEnv, options: { pooled?: boolean } = {}): Kube {
    const kc = options.pooled ? new PooledKubeConfig() : new KubeConfig();
    kc.loadFromFile(env.kubeconfig);
    return new Kube(kc);
  }

  /** A client that authenticates as a ServiceAccount with a token minted by the TokenRequest API. */
  async asServiceAccount(namespace: string, name: string): Promise<{ kube: Kube; token: string }> {
    const response = await this.core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { expirationSeconds: 3600, audiences: [] } } });
    const token = response.status?.token as string;
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error("no current cluster");
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ ...cluster, name: "c" }],
      users: [{ name: `${namespace}-${name}`, token }],
      contexts: [{ name: "ctx", cluster: "c", user: `${namespace}-${name}` }],
      currentContext: "ctx",
    });
    return { kube: new Kube(kc), token };
  }

  /** Installs (or updates) the project's CRD and waits until it is Established. */
  async installCrd(): Promise<void> {
    const crd = loadYaml(readFileSync(path.join(REPO_ROOT, "crds/druid.apache.org_druidingestions.yaml"), "utf8")) as V1CustomResourceDefinition;
    const name = crd.metadata?.name as string;
    await this.apiext.patchCustomResourceDefinition(
      { name, body: crd, fieldManager: "e2e", force: true },
      setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
    );
    await waitFor(`CRD ${name} established`, async () => {
      const current = await this.apiext.readCustomResourceDefinition({ name });
      return current.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
    });
  }

  async createNamespace(prefix: string): Promise<string> {
    const name = `${prefix}-${randomBytes(3).toString("hex")}`;
    await this.core.createNamespace({ body: { metadata: { name, labels: { "e2e.druid-ingestion-controller": "true" } } } });
    return name;
  }

  async namespaceExists(name: string): Promise<boolean> {
    try {
      await this.core.readNamespace({ name });
      return true;
    } catch (error) {
      ignore404(error);
      return false;
    }
  }

  async deleteNamespace(name: string): Promise<void> {
    await this.core.deleteNamespace({ name }).catch(ignore404);
  }

  /** A Secret, labelled for the controller to read (druid.apache.org/credentials=true) unless `optIn` is false. */
  async createSecret(namespace: string, name: string, data: Record<string, string>, { optIn = true }: { optIn?: boolean } = {}): Promise<void> {
    const labels = optIn ? { [CREDENTIALS_LABEL]: "true" } : undefined;
    await this.core.createNamespacedSecret({ namespace, body: { metadata: { name, ...(labels ? { labels } : {}) }, stringData: data } });
  }

  async getIngestion(namespace: string, name: string): Promise<DruidIngestion | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name })) as DruidIngestion;
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  /** The resource as `kubectl get` prints it: column name → cell, as text (the API server's Table rendering of the CRD's printer columns). */
  async printerColumns(namespace: string, name: string): Promise<Record<string, string>> {
    const table = (await this.custom.getNamespacedCustomObject(
      { group: GROUP, version: VERSION, plural: PLURAL, namespace, name },
      setHeaderOptions("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io"),
    )) as { columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[] }> };
    const cells = table.rows[0]?.cells ?? [];
    return Object.fromEntries(table.columnDefinitions.map((c, i) => [c.name, cells[i] === undefined || cells[i] === null ? "" : String(cells[i])]));
  }

  async createIngestion(namespace: string, body: unknown): Promise<DruidIngestion> {
    return (await this.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, body })) as DruidIngestion;
  }

  /** JSON merge patch of the main resource (spec, metadata). */
  async patchIngestion(namespace: string, name: string, patch: unknown): Promise<DruidIngestion> {
    return (await this.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body: patch },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    )) as DruidIngestion;
  }

  async deleteIngestion(namespace: string, name: string): Promise<void> {
    await this.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name }).catch(ignore404);
  }

  async events(namespace: string, name: string): Promise<Array<{ reason: string; message: string; type: string; count: number }>> {
    const list = await this.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
    return list.items.map((e) => ({ reason: e.reason ?? "", message: e.message ?? "", type: e.type ?? "", count: e.count ?? 1 }));
  }
}

export function ignore404(error: unknown): void {
  if (error instanceof ApiException && error.code === 404) return;
  throw error;
}

export function condition(ingestion: DruidIngestion | undefined, type: string): { status: string; reason: string; message: string } | undefined {
  return ingestion?.status?.conditions?.find((c) => c.type === type);
}

/**
 * Deletes every DruidIngestion in the namespaces and waits until they are gone (their
 * supervisors terminated by a running controller), then deletes the namespaces. A controller
 * must be running. Returns the resources still there at the deadline.
 */
export async function cleanUpNamespaces(kube: Kube, namespaces: readonly string[], timeoutMs = 120_000): Promise<string[]> {
  const left: string[] = [];
  for (const namespace of namespaces) {
    const list = (await kube.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace })) as { items: DruidIngestion[] };
    for (const item of list.items) await kube.deleteIngestion(namespace, item.metadata.name);
  }
  const deadline = Date.now() + timeoutMs;
  for (const namespace of namespaces) {
    for (;;) {
      const list = (await kube.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace })) as { items: DruidIngestion[] };
      if (list.items.length === 0) break;
      if (Date.now() > deadline) {
        left.push(...list.items.map((i) => `${namespace}/${i.metadata.name}`));
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await kube.deleteNamespace(namespace);
  }
  return left;
}
