// Benchmark: N DruidIngestions on one Druid cluster, against the real local stack (or the
// cluster/Druid in KUBECONFIG/DRUID_URL). Prints how long N resources take to sync, then, while
// they are idle for several resync periods, how many Druid list calls, Druid writes and
// Kubernetes writes the controller makes. The supervisors are created suspended so Druid runs
// no tasks for them. Figures only; nothing is asserted.
//
//   npm run bench -- --resources 200 --resync 10s --idle-periods 3
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { parseDuration } from "../src/config.ts";
import type { DruidIngestion } from "../src/api/druid-ingestion.ts";
import { ControllerProcess, metricValue } from "../tools/controller.ts";
import { DruidProbe, kafkaSupervisorSpec } from "../tools/druid-probe.ts";
import { condition, Kube } from "../tools/kube.ts";
import { ensureStack, stackEnv } from "../tools/stack.ts";
import { waitFor } from "../tools/wait.ts";

const { values } = parseArgs({
  options: {
    resources: { type: "string", default: "100" },
    resync: { type: "string", default: "10s" },
    "idle-periods": { type: "string", default: "3" },
    concurrency: { type: "string", default: "4" },
  },
});
const count = Number(values.resources);
const resyncMs = parseDuration(values.resync);
const idlePeriods = Number(values["idle-periods"]);

ensureStack();
const env = stackEnv();
const kube = Kube.admin(env);
const druid = new DruidProbe(env);
await kube.installCrd();
const ns = await kube.createNamespace("bench");
await kube.createSecret(ns, "druid-auth", { OperatorUserName: env.druidUser, OperatorPassword: env.druidPassword });
const prefix = `bench-${randomBytes(2).toString("hex")}`;
const print = (label: string, value: string | number): void => void process.stdout.write(`${label.padEnd(52)} ${value}\n`);

const controller = await ControllerProcess.start({
  KUBECONFIG: env.kubeconfig,
  DRUID_DEFAULT_URL: env.druidUrl,
  RESYNC_PERIOD: values.resync,
  MAX_CONCURRENT_RECONCILES: values.concurrency,
  LOG_LEVEL: "info",
});

async function all(): Promise<DruidIngestion[]> {
  const list = (await kube.custom.listNamespacedCustomObject({ group: "druid.apache.org", version: "v1alpha1", plural: "druidingestions", namespace: ns })) as { items: DruidIngestion[] };
  return list.items;
}

try {
  print("resources", count);
  print("resync period", values.resync);
  print("controller concurrency", values.concurrency);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await kube.createIngestion(ns, {
      apiVersion: "druid.apache.org/v1alpha1",
      kind: "DruidIngestion",
      metadata: { name: `ing-${i}` },
      spec: { druidCluster: "bench", suspend: true, auth: { type: "basic-auth", secretRef: { name: "druid-auth" } }, ingestion: { type: "kafka", nativeSpec: kafkaSupervisorSpec(`${prefix}-${i}`, env.kafkaBootstrap ?? "127.0.0.1:9") } },
    });
  }
  const created = performance.now();
  print("time to create the resources (API server)", `${((created - started) / 1000).toFixed(1)} s`);
  await waitFor("all synced", async () => (await all()).filter((i) => condition(i, "Synced")?.status === "True").length === count, 600_000, 1000);
  const syncedAt = performance.now();
  print("time from first create to all Synced", `${((syncedAt - started) / 1000).toFixed(1)} s`);
  print("  per resource", `${((syncedAt - started) / count).toFixed(0)} ms`);
  await waitFor("all report SUSPENDED", async () => (await all()).every((i) => i.status?.state === "SUSPENDED"), 600_000, 2000);
  print("time until every status shows SUSPENDED", `${((performance.now() - started) / 1000).toFixed(1)} s`);

  // Idle: measure over whole resync periods.
  const before = await controller.metrics();
  const versionsBefore = new Map((await all()).map((i) => [i.metadata.name, i.metadata.resourceVersion]));
  await new Promise((r) => setTimeout(r, resyncMs * idlePeriods));
  const after = await controller.metrics();
  const delta = (name: string, labels: Record<string, string> = {}) => metricValue(after, name, labels) - metricValue(before, name, labels);
  const changed = (await all()).filter((i) => versionsBefore.get(i.metadata.name) !== i.metadata.resourceVersion).length;
  print(`idle ${idlePeriods} resync periods: reconciles`, delta("controller_runtime_reconcile_total"));
  print("idle: Druid supervisor list calls (GET ?full)", delta("druid_ingestion_druid_requests_total", { endpoint: "/druid/indexer/v1/supervisor?full" }));
  print("idle: Druid list calls per resync period", (delta("druid_ingestion_druid_requests_total", { endpoint: "/druid/indexer/v1/supervisor?full" }) / idlePeriods).toFixed(2));
  print("idle: Druid POSTs", delta("druid_ingestion_druid_requests_total", { method: "POST" }));
  print("idle: resources whose object changed (API writes)", changed);
  const seconds = delta("controller_runtime_reconcile_time_seconds_sum");
  const n = delta("controller_runtime_reconcile_time_seconds_count");
  print("idle: mean reconcile time", n > 0 ? `${((seconds / n) * 1000).toFixed(2)} ms` : "n/a");
  const rss = metricValue(after, "process_resident_memory_bytes");
  print("controller resident memory", `${(rss / 1024 / 1024).toFixed(0)} MiB`);
} finally {
  const cleanup = performance.now();
  for (const i of await all()) await kube.deleteIngestion(ns, i.metadata.name);
  await waitFor("all deleted", async () => (await all()).length === 0, 600_000, 1000).catch((e: unknown) => print("cleanup", String(e)));
  print("time to delete all (terminated in Druid first)", `${((performance.now() - cleanup) / 1000).toFixed(1)} s`);
  const left = (await druid.call("GET", "/druid/indexer/v1/supervisor")).json as string[];
  print("supervisors of this run left in Druid", left.filter((id) => id.startsWith(prefix)).length);
  await controller.stop();
  await kube.deleteNamespace(ns);
}
