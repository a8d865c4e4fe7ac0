// Router Services that resolve on the local stack: stack/hosts.sh maps the two fixed names
// router-a.druid-routers.svc and router-b.druid-routers.svc to 127.0.0.1 (there is no cluster
// DNS), so Services of those names in namespace druid-routers, on Druid's port, make the
// controller's router-Service discovery reach the real Druid (and, on a port named https, its
// Router's TLS port: the certificate names them too). One test file at a time uses the
// namespace (e2e files run one after another).
import { lookup } from "node:dns/promises";
import type { TestContext } from "node:test";
import { cleanUpNamespaces, ignore404, type Kube } from "./kube.ts";
import type { StackEnv } from "./stack.ts";
import { unmet } from "./needs.ts";
import { waitFor } from "./wait.ts";

export const ROUTER_NS = "druid-routers";
export const ROUTERS = { a: { name: "router-a", cluster: "cluster-a" }, b: { name: "router-b", cluster: "cluster-b" } } as const;
export type Router = (typeof ROUTERS)[keyof typeof ROUTERS];

function druidPort(env: StackEnv): number {
  return Number(new URL(env.druidUrl).port || 80);
}

/** The URL the controller builds from the router Service. */
export function routerUrl(env: StackEnv, router: Router): string {
  return `http://${router.name}.${ROUTER_NS}.svc:${druidPort(env)}`;
}

/** The URL the controller builds from a router Service whose port named `https` is `port`. */
export function routerHttpsUrl(router: Router, port: number): string {
  return `https://${router.name}.${ROUTER_NS}.svc:${port}`;
}

/** Why the router names do not lead to loopback, or undefined when they all do. */
export async function routerNamesUnresolved(): Promise<string | undefined> {
  // The short name is what status records, the full one what the controller dials.
  for (const host of Object.values(ROUTERS).flatMap((r) => [`${r.name}.${ROUTER_NS}.svc`, `${r.name}.${ROUTER_NS}.svc.cluster.local`])) {
    try {
      const { address } = await lookup(host);
      if (address !== "127.0.0.1") return `${host} resolves to ${address}, not 127.0.0.1; run stack/hosts.sh as root`;
    } catch (error) {
      return `${host} does not resolve (${(error as Error).message}); run stack/up.sh (or stack/hosts.sh) as root to add it to /etc/hosts`;
    }
  }
  return undefined;
}

/** False unless both router names resolve to loopback: the test then fails, or is skipped when E2E_SKIP has router-hosts (needs.ts). */
export async function routerNamesResolve(t: TestContext): Promise<boolean> {
  const problem = await routerNamesUnresolved();
  if (problem !== undefined) unmet(t, "router-hosts", problem);
  return problem === undefined;
}

/**
 * Removes what is left in the router namespace (a running controller finalizes its resources;
 * one that cannot be finalized is let go without touching Druid), then the namespace. Returns
 * the resources that had to be let go.
 */
export async function removeRouterNamespace(kube: Kube): Promise<string[]> {
  if (!(await kube.namespaceExists(ROUTER_NS))) return [];
  const left = await cleanUpNamespaces(kube, [ROUTER_NS], 90_000);
  for (const key of left) await kube.patchIngestion(ROUTER_NS, key.split("/")[1] as string, { metadata: { finalizers: null } }).catch(ignore404);
  await waitFor(`namespace ${ROUTER_NS} deleted`, async () => !(await kube.namespaceExists(ROUTER_NS)), 120_000);
  return left;
}

/**
 * A fresh router namespace with the auth Secret `druid-auth` and both router Services on Druid's
 * port; with `httpsPort`, as a druid-operator TLS cluster has them: a port named `http` on Druid's
 * port, then one named `https` on that port (which discovery must pick).
 */
export async function freshRouterNamespace(kube: Kube, env: StackEnv, { httpsPort }: { httpsPort?: number } = {}): Promise<void> {
  await removeRouterNamespace(kube);
  await kube.core.createNamespace({ body: { metadata: { name: ROUTER_NS, labels: { "e2e.druid-ingestion-controller": "true" } } } });
  await kube.createSecret(ROUTER_NS, "druid-auth", { OperatorUserName: env.druidUser, OperatorPassword: env.druidPassword });
  const port = druidPort(env);
  const ports = httpsPort === undefined
    ? [{ port, targetPort: port, protocol: "TCP" }]
    : [{ name: "http", port, targetPort: port, protocol: "TCP" }, { name: "https", port: httpsPort, targetPort: httpsPort, protocol: "TCP" }];
  for (const router of Object.values(ROUTERS)) {
    await kube.core.createNamespacedService({
      namespace: ROUTER_NS,
      body: { metadata: { name: router.name, labels: { druid_cr: router.cluster, component: "router" } }, spec: { ports } },
    });
  }
}
