// One benchmark size: N DruidIngestions (suspended Kafka supervisors, so Druid runs no task) on
// one Druid, reconciled by the real controller process. Measures convergence, the traffic it
// caused, the idle cost over whole resync periods, memory, the latency of one edit among N idle
// resources, and deletion; and the direct baseline for the same N.
import { randomBytes } from "node:crypto";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Watch } from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION, type DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { ControllerProcess } from "../../tools/controller.ts";
import { DruidProxy } from "../../tools/druid-proxy.ts";
import { kafkaSupervisorSpec } from "../../tools/druid-probe.ts";
import { condition, type Kube } from "../../tools/kube.ts";
import { waitFor } from "../../tools/wait.ts";
import { inParallel, runBaseline } from "./baseline.ts";
import { counterDelta, parseMetrics, total, type Sample } from "./metrics.ts";
import { ProcessSampler, readProcess } from "./process-stats.ts";
import { baselineSeconds, kubeWrites, percentile, type SizeResult } from "./results.ts";

export interface SizeInput {
  kube: Kube;
  kubeconfig: string;
  count: number;
  druid: { kind: "real" | "double"; url: string; username: string; password: string; version: string };
  kafkaBootstrap: string;
  /** Delete the run's Kafka topics at the end (the local stack's broker: Druid auto-created them). */
  removeTopics?: (pattern: string) => Promise<void>;
  concurrency: number;
  resync: string;
  resyncMs: number;
  idlePeriods: number;
  edits: number;
  /** Node/V8 flags for the controller process. */
  nodeArgs: readonly string[];
  /** The controller's LOG_LEVEL (default warn), and a file its log lines up to convergence go to. */
  controllerLogLevel?: string;
  controllerLog?: string;
  /** Write a heap snapshot of the controller here at the end of the idle period (bench/heap-summary.ts reads it). */
  heapSnapshotDir?: string | undefined;
  log: (line: string) => void;
}

const SUPERVISOR_PATH = "/druid/indexer/v1/supervisor";

function converged(i: DruidIngestion): boolean {
  return condition(i, "Synced")?.status === "True" && i.status?.state === "SUSPENDED";
}

function record(map: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries(map);
}

/** Follows the resources of a namespace; notes when each first converged. */
async function followConvergence(kube: Kube, namespace: string, onConverged: (name: string) => void): Promise<() => void> {
  const path = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`;
  let stopped = false;
  let controller: AbortController | undefined;
  let resourceVersion = ((await kube.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, limit: 1 })) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const open = async (): Promise<void> => {
    if (stopped) return;
    controller = await new Watch(kube.kc).watch(
      path,
      { resourceVersion, allowWatchBookmarks: true },
      (_type, object: DruidIngestion) => {
        resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
        if (object.metadata?.name && converged(object)) onConverged(object.metadata.name);
      },
      () => void setTimeout(() => void open(), 100),
    );
  };
  await open();
  return () => {
    stopped = true;
    controller?.abort();
  };
}

export async function runSize(input: SizeInput): Promise<SizeResult> {
  const { kube, count, druid, concurrency, log } = input;
  // Names this run's supervisors, resources and Kafka topics (deleted by this prefix at the end).
  const run = randomBytes(4).toString("hex");
  const prefix = `bench-${run}`;
  const supervisorId = (i: number) => `${prefix}-${i}`;
  const resource = (i: number, id = supervisorId(i)) => ({
    apiVersion: `${GROUP}/${VERSION}`,
    kind: "DruidIngestion",
    metadata: { name: `ing-${i}` },
    spec: { druidCluster: "bench", suspend: true, auth: { type: "basic-auth", secretRef: { name: "druid-auth" } }, ingestion: { type: "kafka", nativeSpec: kafkaSupervisorSpec(id, input.kafkaBootstrap) } },
  });
  const ns = await kube.createNamespace(`bench-${count}`);
  const baselineNs = await kube.createNamespace(`bench-base-${count}`);
  const namespaces = [ns, baselineNs];

  // POST /supervisor arrivals by supervisor id, seen by a pass-through in front of Druid.
  const posts = new Map<string, number[]>();
  const proxy = await DruidProxy.start(druid.url, {
    maxEntries: 1000,
    describeBody: (method, path, body) => {
      if (method !== "POST" || !path.startsWith(SUPERVISOR_PATH) || path.slice(SUPERVISOR_PATH.length).startsWith("/")) return undefined;
      const parsed = JSON.parse(body) as { id?: string; spec?: { dataSchema?: { dataSource?: string } } };
      return parsed.id ?? parsed.spec?.dataSchema?.dataSource;
    },
    onDone: (entry) => {
      if (entry.subject) {
        const list = posts.get(entry.subject) ?? [];
        list.push(entry.at);
        posts.set(entry.subject, list);
      }
    },
  });
  let controller: ControllerProcess | undefined;
  let sampler: ProcessSampler | undefined;
  try {
    log(`  baseline: ${count} direct POSTs and Kubernetes writes at concurrency ${concurrency}`);
    const baseline = await runBaseline({
      kube,
      namespace: baselineNs,
      druidUrl: proxy.url,
      auth: { username: druid.username, password: druid.password },
      count,
      concurrency,
      // Suspended, as the controller submits the resources (spec.suspend: true).
      spec: (i) => ({ ...kafkaSupervisorSpec(`${prefix}-base-${i}`, input.kafkaBootstrap), suspended: true }),
      supervisorId: (i) => `${prefix}-base-${i}`,
      resource: (i) => resource(i, `${prefix}-base-${i}`),
    });
    log(`  baseline: POSTs ${baseline.postSeconds.toFixed(1)} s, all SUSPENDED in Druid after ${baseline.settledSeconds.toFixed(1)} s, Kubernetes writes ${baseline.kubeWritesSeconds.toFixed(1)} s, terminations ${baseline.deleteSeconds.toFixed(1)} s`);

    await kube.createSecret(ns, "druid-auth", { OperatorUserName: druid.username, OperatorPassword: druid.password });
    controller = await ControllerProcess.start({
      KUBECONFIG: input.kubeconfig,
      WATCH_NAMESPACE: ns,
      DRUID_DEFAULT_URL: proxy.url,
      RESYNC_PERIOD: input.resync,
      SETTLE_DELAY: "3s",
      RETRY_BACKOFF_BASE: "1s",
      RETRY_BACKOFF_MAX: "5m",
      DRUID_RETRIES: "2",
      MAX_CONCURRENT_RECONCILES: String(concurrency),
      LOG_LEVEL: input.controllerLogLevel ?? "warn",
    }, { nodeArgs: [...input.nodeArgs, ...(input.heapSnapshotDir ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${input.heapSnapshotDir}`] : [])] });
    sampler = new ProcessSampler(controller.pid as number);
    const scrape = async (): Promise<Sample[]> => parseMetrics(await (controller as ControllerProcess).metrics());

    // --- convergence
    const createdAt = new Map<string, number>();
    const convergedAt = new Map<string, number>();
    const stopFollowing = await followConvergence(kube, ns, (name) => {
      if (!convergedAt.has(name)) convergedAt.set(name, performance.now());
    });
    const m0 = await scrape();
    const started = performance.now();
    await inParallel(count, 16, async (i) => {
      const t = performance.now();
      await kube.createIngestion(ns, resource(i));
      createdAt.set(`ing-${i}`, t);
    });
    const createSeconds = (performance.now() - started) / 1000;
    log(`  created ${count} resources in ${createSeconds.toFixed(1)} s`);
    await waitFor(`${count} resources converged`, async () => convergedAt.size >= count, 3_600_000, 250);
    const convergeSeconds = (Math.max(...convergedAt.values()) - started) / 1000;
    const perResource = [...convergedAt].map(([name, at]) => at - (createdAt.get(name) ?? started));
    stopFollowing();
    const m1 = await scrape();
    log(`  converged in ${convergeSeconds.toFixed(1)} s (baseline ${baselineSeconds({ baseline }).toFixed(1)} s)`);
    logWarnings(log, controller.entries().filter((e) => e["level"] === "warn" || e["level"] === "error"));
    if (input.controllerLog) writeFileSync(input.controllerLog, `${controller.tail(20_000)}\n`);

    // --- idle: whole resync periods, starting once the first resync after creation has passed
    await new Promise((r) => setTimeout(r, Math.min(input.resyncMs * 1.2, 120_000)));
    const idleBefore = await scrape();
    const cpuBefore = sampler.last.cpuSeconds;
    sampler.mark();
    const idleStarted = performance.now();
    log(`  idle for ${input.idlePeriods} resync periods (${((input.resyncMs * input.idlePeriods) / 1000).toFixed(0)} s)`);
    await new Promise((r) => setTimeout(r, input.resyncMs * input.idlePeriods));
    const idleAfter = await scrape();
    const idleSeconds = (performance.now() - idleStarted) / 1000;
    const cpuIdle = sampler.last.cpuSeconds - cpuBefore;
    const steadyRss = sampler.medianRss();
    const idleKube = counterDelta(idleBefore, idleAfter, "druid_ingestion_kube_requests_total", ["verb", "resource"]);
    const watches = 4; // DruidIngestions, ConfigMaps, Secrets, Services in the one watched namespace
    const watchRequests = total(idleKube, (k) => k.startsWith("watch ") || k.startsWith("list "));
    const idleDruidBytes = counterDelta(idleBefore, idleAfter, "druid_ingestion_druid_response_bytes_total", ["method", "endpoint"]);
    // Taken before a heap snapshot, which needs memory of its own.
    const peakRss = readProcess(controller.pid as number).peakRss;
    const gauge = (name: string): number => idleAfter.find((m) => m.name === name)?.value ?? Number.NaN;
    log(`  V8 heap at the end of idle: ${(gauge("nodejs_heap_size_used_bytes") / 1024 ** 2).toFixed(0)} MiB used of ${(gauge("nodejs_heap_size_total_bytes") / 1024 ** 2).toFixed(0)} MiB; external ${(gauge("nodejs_external_memory_bytes") / 1024 ** 2).toFixed(0)} MiB`);
    if (input.heapSnapshotDir) {
      const dir = input.heapSnapshotDir;
      const before = new Set(readdirSync(dir));
      process.kill(controller.pid as number, "SIGUSR2");
      const file = await waitFor("heap snapshot written", async () => readdirSync(dir).find((f) => !before.has(f) && f.endsWith(".heapsnapshot")), 300_000, 1000);
      // Written once its size stops changing.
      let size = -1;
      await waitFor("heap snapshot complete", async () => {
        const now = statSync(path.join(dir, file)).size;
        const done = now === size && now > 0;
        size = now;
        return done;
      }, 300_000, 2000);
      log(`  heap snapshot: ${path.join(dir, file)} (node bench/heap-summary.ts <file>)`);
    }

    // --- one edit among N idle resources: apply → the POST reaching Druid
    const latencies: number[] = [];
    for (let e = 0; e < input.edits; e++) {
      const i = Math.floor(Math.random() * count);
      const id = supervisorId(i);
      const seenBefore = posts.get(id)?.length ?? 0;
      const edited = kafkaSupervisorSpec(id, input.kafkaBootstrap) as { spec: { tuningConfig: Record<string, unknown> } };
      edited.spec.tuningConfig["maxRowsInMemory"] = 20_000 + e;
      const t0 = Date.now();
      await kube.patchIngestion(ns, `ing-${i}`, { spec: { ingestion: { nativeSpec: edited } } });
      const at = await waitFor(`edit ${e} POSTed`, async () => ((posts.get(id)?.length ?? 0) > seenBefore ? posts.get(id)?.at(-1) : undefined), 120_000, 2);
      latencies.push(at - t0);
      await new Promise((r) => setTimeout(r, 300));
    }
    log(`  apply→POST over ${latencies.length} edits: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms`);

    // --- deletion
    const deleteStarted = performance.now();
    await inParallel(count, 16, (i) => kube.deleteIngestion(ns, `ing-${i}`));
    await waitFor("all deleted", async () => ((await kube.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, limit: 1 })) as { items: unknown[] }).items.length === 0, 3_600_000, 500);
    const deleteSeconds = (performance.now() - deleteStarted) / 1000;
    const listed = await fetch(`${druid.url}${SUPERVISOR_PATH}`, { headers: { authorization: `Basic ${Buffer.from(`${druid.username}:${druid.password}`).toString("base64")}` } }).then((r) => r.json() as Promise<string[]>);
    const leftInDruid = listed.filter((id) => id.startsWith(prefix)).length;
    log(`  deleted in ${deleteSeconds.toFixed(1)} s; supervisors of this run left in Druid: ${leftInDruid}`);

    const resyncs = idleSeconds / (input.resyncMs / 1000);
    return {
      resources: count,
      druid: druid.kind,
      druidVersion: druid.version,
      concurrency,
      resyncSeconds: input.resyncMs / 1000,
      createSeconds,
      convergeSeconds,
      perResourceP50Ms: percentile(perResource, 50),
      perResourceP99Ms: percentile(perResource, 99),
      baseline,
      converge: {
        kube: record(counterDelta(m0, m1, "druid_ingestion_kube_requests_total", ["verb", "resource"])),
        druidRequests: record(counterDelta(m0, m1, "druid_ingestion_druid_requests_total", ["method", "endpoint"])),
        druidBytes: record(counterDelta(m0, m1, "druid_ingestion_druid_response_bytes_total", ["method", "endpoint"])),
      },
      idle: {
        seconds: idleSeconds,
        resyncs,
        cpuSecondsPerResync: cpuIdle / resyncs,
        cpuPercentOfCore: (100 * cpuIdle) / idleSeconds,
        reconciles: total(counterDelta(idleBefore, idleAfter, "controller_runtime_reconcile_total", [])),
        idleShortcuts: total(counterDelta(idleBefore, idleAfter, "druid_ingestion_idle_shortcuts_total", [])),
        kube: record(idleKube),
        kubeWrites: kubeWrites(record(idleKube)),
        watchRequestsPer5MinPerWatch: watchRequests / watches / (idleSeconds / 300),
        watches,
        druidRequests: record(counterDelta(idleBefore, idleAfter, "druid_ingestion_druid_requests_total", ["method", "endpoint"])),
        druidBytes: record(idleDruidBytes),
        druidBytesPerResync: total(idleDruidBytes) / resyncs,
      },
      rss: { peakMiB: peakRss / 1024 ** 2, steadyMiB: steadyRss / 1024 ** 2 },
      applyToPostMs: { samples: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      deleteSeconds,
      leftInDruid,
    };
  } finally {
    sampler?.stop();
    await controller?.stop();
    await proxy.stop();
    for (const n of namespaces) await kube.deleteNamespace(n);
    // Druid's supervisors auto-created one topic each (the baseline's too): left behind, a few
    // runs make the local broker run out of heap at its next start.
    if (druid.kind === "real" && input.removeTopics) {
      await input.removeTopics(`${prefix}-.*`).then(
        () => log(`  deleted the run's Kafka topics (${prefix}-*)`),
        (error: unknown) => log(`  could not delete the run's Kafka topics ${prefix}-*: ${(error as Error).message}`),
      );
    }
  }
}

/** What the controller warned about during convergence (it runs at LOG_LEVEL=warn): a slow run says why. */
function logWarnings(log: (line: string) => void, entries: ReadonlyArray<Record<string, unknown>>): void {
  const counts = new Map<string, number>();
  for (const e of entries) {
    const what = `${String(e["level"])}: ${[e["message"], e["reason"], e["action"]].filter((v) => typeof v === "string").join(" · ")}`;
    counts.set(what, (counts.get(what) ?? 0) + 1);
  }
  if (counts.size === 0) return log("  controller warnings during convergence: none");
  log("  controller warnings during convergence:");
  for (const [what, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 8)) log(`    ${String(n).padStart(6)} × ${what}`);
}
