// The floor the controller is compared with: the same supervisors POSTed straight to the same
// Druid and waited for until Druid reports them all SUSPENDED (the controller's convergence ends
// there too), and the Kubernetes writes no controller can avoid (finalizer, ConfigMap, status),
// each by a minimal client at the controller's concurrency, with nothing else in between. These run in
// a namespace the controller does not watch, with their own supervisor ids.
import { Agent, request } from "undici";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION } from "../../src/api/druid-ingestion.ts";
import type { Kube } from "../../tools/kube.ts";

export async function inParallel(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

export interface BaselineInput {
  kube: Kube;
  namespace: string;
  druidUrl: string;
  auth: { username: string; password: string };
  count: number;
  concurrency: number;
  /** The supervisor spec of resource i (its own id). */
  spec: (i: number) => Record<string, unknown>;
  supervisorId: (i: number) => string;
  resource: (i: number) => Record<string, unknown>;
}

export interface BaselineTimes {
  postSeconds: number;
  /** From the first POST until Druid reports every one of them SUSPENDED (Druid's own speed). */
  settledSeconds: number;
  kubeWritesSeconds: number;
  deleteSeconds: number;
}

async function druidCall(agent: Agent, url: string, authorization: string, path: string, body?: unknown): Promise<void> {
  const r = await request(`${url}${path}`, {
    method: "POST",
    dispatcher: agent,
    headers: { authorization, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.body.text();
  if (r.statusCode >= 300) throw new Error(`POST ${path}: HTTP ${r.statusCode}: ${text.slice(0, 200)}`);
}

const SETTLE_POLL_MS = 250;
const SETTLE_LIMIT_MS = 15 * 60_000;

/** Polls Druid's state list until every id reports SUSPENDED (a suspended supervisor starts PENDING). */
async function untilAllSuspended(url: string, authorization: string, agent: Agent, ids: ReadonlySet<string>): Promise<void> {
  const deadline = performance.now() + SETTLE_LIMIT_MS;
  for (;;) {
    const r = await request(`${url}/druid/indexer/v1/supervisor?state=true`, { dispatcher: agent, headers: { authorization } });
    const list = (await r.body.json()) as Array<{ id: string; state?: string }>;
    const suspended = list.filter((s) => ids.has(s.id) && s.state === "SUSPENDED").length;
    if (suspended === ids.size) return;
    if (performance.now() > deadline) throw new Error(`baseline: ${ids.size - suspended} of ${ids.size} supervisors not SUSPENDED after ${SETTLE_LIMIT_MS / 60_000} minutes`);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
  }
}

export async function runBaseline(input: BaselineInput): Promise<BaselineTimes> {
  const { kube, namespace, count, concurrency } = input;
  const authorization = `Basic ${Buffer.from(`${input.auth.username}:${input.auth.password}`).toString("base64")}`;
  const agent = new Agent({ connections: concurrency });
  const custom = { group: GROUP, version: VERSION, plural: PLURAL, namespace };
  try {
    await inParallel(count, 16, (i) => kube.createIngestion(namespace, input.resource(i)).then(() => undefined));

    let started = performance.now();
    await inParallel(count, concurrency, (i) => druidCall(agent, input.druidUrl, authorization, "/druid/indexer/v1/supervisor?skipRestartIfUnmodified=true", input.spec(i)));
    const postSeconds = (performance.now() - started) / 1000;
    await untilAllSuspended(input.druidUrl, authorization, agent, new Set(Array.from({ length: count }, (_, i) => input.supervisorId(i))));
    const settledSeconds = (performance.now() - started) / 1000;

    started = performance.now();
    await inParallel(count, concurrency, async (i) => {
      const name = `ing-${i}`;
      await kube.custom.patchNamespacedCustomObject(
        { ...custom, name, body: [{ op: "add", path: "/metadata/finalizers", value: ["bench.druid.apache.org/baseline"] }] },
        setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
      );
      await kube.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `${name}-druid-spec` }, data: { "supervisor.json": JSON.stringify(input.spec(i)) } } });
      await kube.custom.patchNamespacedCustomObjectStatus(
        { ...custom, name, body: { status: { supervisorId: input.supervisorId(i), state: "SUSPENDED", conditions: [{ type: "Synced", status: "True", reason: "Created", message: "baseline", lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") }] } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
    });
    const kubeWritesSeconds = (performance.now() - started) / 1000;

    started = performance.now();
    await inParallel(count, concurrency, (i) => druidCall(agent, input.druidUrl, authorization, `/druid/indexer/v1/supervisor/${encodeURIComponent(input.supervisorId(i))}/terminate`));
    const deleteSeconds = (performance.now() - started) / 1000;

    // Untimed: let the resources go.
    await inParallel(count, 16, async (i) => {
      await kube.custom.patchNamespacedCustomObject({ ...custom, name: `ing-${i}`, body: { metadata: { finalizers: null } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)).catch(() => undefined);
    });
    return { postSeconds, settledSeconds, kubeWritesSeconds, deleteSeconds };
  } finally {
    await agent.close();
  }
}
