// Process wiring: configuration, logging, health and metrics servers, the controller manager,
// leader election and graceful shutdown. Run with `node src/main.ts` (Node.js 24).
import { readFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { createValidator } from "./api/schema.ts";
import { ConfigError, configWarnings, loadConfig, type Config } from "./config.ts";
import { Manager } from "./controller/manager.ts";
import { createDruidDispatcher } from "./druid/client.ts";
import { RETRY_MAX_DELAY_MS } from "./druid/retry-policy.ts";
import { setClusterDomain } from "./druid/endpoint.ts";
import { KubeApi } from "./kube/api.ts";
import { EventRecorder } from "./kube/events.ts";
import { LeadershipFence } from "./kube/fence.ts";
import { LeaderElector } from "./kube/leader-election.ts";
import { PooledKubeConfig } from "./kube/pooled-kube-config.ts";
import { startHttpServer } from "./observability/http-server.ts";
import { createLogger } from "./observability/logger.ts";
import { countKubeRequests } from "./observability/kube-requests.ts";
import { ControllerMetrics } from "./observability/metrics.ts";

/** After abandoning: how long aborted reconciles get to unwind (a retry delay in progress, the status write). */
function abandonGraceMs(config: Config): number {
  return (config.druidRetries > 0 ? RETRY_MAX_DELAY_MS : 0) + 1_000;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`druid-ingestion-controller: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  for (const warning of configWarnings(config)) logger.warn(warning);
  setClusterDomain(config.clusterDomain);
  // One keep-alive connection pool for every Kubernetes call (client-node alone opens one per call).
  const kubeConfig = new PooledKubeConfig();
  kubeConfig.loadFromDefault();
  const cluster = kubeConfig.getCurrentCluster();
  logger.info("starting", {
    kubernetes: cluster?.server,
    namespaces: config.watchNamespaces ?? "all",
    resync: `${config.resyncMs / 1000}s`,
    concurrency: config.concurrency,
    defaultDruidUrl: config.defaultDruidUrl,
    leaderElection: config.leaderElect ? `${config.leaseNamespace}/${config.leaseName}` : "off",
    node: process.version,
  });

  const api = new KubeApi(kubeConfig);
  const metrics = new ControllerMetrics();
  if (cluster?.server) countKubeRequests(cluster.server, (r) => metrics.observeKube(r));
  let ca: string | undefined;
  if (config.druidCaFile) {
    try {
      ca = readFileSync(config.druidCaFile, "utf8");
    } catch (error) {
      logger.error("cannot read DRUID_CA_FILE", { path: config.druidCaFile, error: (error as Error).message });
      process.exit(2);
    }
  }
  // Druid writes need the Lease (when elected) and no shutdown under way.
  let elector: LeaderElector | undefined;
  const fence = new LeadershipFence(() => !config.leaderElect || elector?.holdsLease() === true);
  const events = new EventRecorder(api, logger, config.identity);
  const manager = new Manager({
    kubeConfig,
    api,
    namespaces: config.watchNamespaces ?? [undefined],
    settings: { resyncMs: config.resyncMs, settleMs: config.settleMs, driftCheckMs: config.driftCheckMs, lagPeriodMs: config.lagPeriodMs, allowCrossNamespaceSecrets: config.allowCrossNamespaceSecrets, defaultDruidUrl: config.defaultDruidUrl },
    concurrency: config.concurrency,
    lagConcurrency: config.lagConcurrency,
    backoff: { baseMs: config.backoffBaseMs, maxMs: config.backoffMaxMs },
    druid: {
      dispatcher: createDruidDispatcher({ connectTimeoutMs: config.druidConnectTimeoutMs, ...(ca ? { ca } : {}), beforeConnect: () => fence.check("a new Druid connection") }),
      requestTimeoutMs: config.druidRequestTimeoutMs,
      retries: config.druidRetries,
      maxResponseBytes: config.druidMaxResponseBytes,
      allowedEndpoints: config.allowedDruidEndpoints,
      routerDiscovery: config.routerDiscovery,
      ...(config.druidCaFile ? { caFile: config.druidCaFile } : {}),
    },
    fence,
    validator: createValidator(),
    events,
    metrics,
    logger,
  });

  const probes = { ready: () => (manager.synced ? { ok: true, detail: "caches synced" } : { ok: false, detail: "caches not synced yet" }) };
  const sameAddress = config.metricsAddress.host === config.healthAddress.host && config.metricsAddress.port === config.healthAddress.port;
  const servers = sameAddress
    ? [await startHttpServer(config.healthAddress, { probes, registry: metrics.registry })]
    : [await startHttpServer(config.healthAddress, { probes }), await startHttpServer(config.metricsAddress, { registry: metrics.registry })];
  logger.info("serving probes and metrics", { health: config.healthAddress, metrics: config.metricsAddress });

  // Only the replica that acts reports health: standbys' caches would repeat every series.
  metrics.setSupervisorHealthSource(() => (!config.leaderElect || elector?.isLeader === true ? manager.supervisorHealth() : []));
  // The lag poller runs with the workers, so on the replica that acts only.
  metrics.setSupervisorLagSource(() => manager.lagPoller.samples());
  const stateGauge = setInterval(() => metrics.setResourceStates(manager.stateCounts()), 15_000);
  stateGauge.unref();

  let shuttingDown = false;
  // In this order: stop taking work; let in-flight reconciles finish (SHUTDOWN_TIMEOUT); abandon
  // what is still running (the fence closes: no new Druid write, calls in flight are aborted) and
  // wait for it to unwind; only then hand the Lease over. If something still runs, the Lease is
  // not released: the standby waits for it to expire rather than act beside us.
  const shutdown = async (signal: string, code: number): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info("shutting down: no new work; waiting for in-flight reconciles", { signal, deadlineMs: config.shutdownTimeoutMs });
    let unfinished = await manager.drain(config.shutdownTimeoutMs);
    fence.close("ShuttingDown", "the controller is shutting down");
    if (unfinished.length > 0) {
      logger.warn("reconciles still running at the deadline: abandoning their Druid calls", { keys: unfinished });
      unfinished = await manager.drain(abandonGraceMs(config));
    }
    await manager.stopInformers();
    if (unfinished.length > 0) logger.error("reconciles still running after their Druid calls were aborted; the Lease is not renewed and left to expire", { keys: unfinished });
    await elector?.stop({ release: unfinished.length === 0 });
    metrics.setLeader(config.leaseName, false);
    // Events still queued get a moment; they are a courtesy, the status is already written.
    await Promise.race([events.flush(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    logger.info("stopped", { signal });
    // Let winston flush before exiting.
    setTimeout(() => process.exit(code), 100).unref();
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM", 0));
  process.on("SIGINT", () => void shutdown("SIGINT", 0));

  await manager.startInformers();
  logger.info("caches synced");

  if (!config.leaderElect) {
    metrics.setLeader(config.leaseName, true);
    manager.startWorkers();
    return;
  }
  metrics.setLeader(config.leaseName, false);
  // The Lease is renewed over a connection of its own per call (client-node's way), not the shared
  // pool: a renewal never lands on a socket that died silently under another call.
  const leaseConfig = new KubeConfig();
  leaseConfig.loadFromDefault();
  elector = new LeaderElector(leaseConfig, {
    name: config.leaseName,
    namespace: config.leaseNamespace,
    identity: config.identity,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    logger,
    onStartedLeading: () => {
      metrics.setLeader(config.leaseName, true);
      manager.startWorkers();
    },
    onStoppedLeading: () => {
      // Another replica may act from now on: stop at once, as controller-runtime does. The fence
      // closes first, so no Druid write starts and those in flight are aborted.
      fence.close("NotLeader", "this replica lost the leader Lease");
      metrics.setLeader(config.leaseName, false);
      manager.queue.pause();
      logger.error("leadership lost; exiting so a fresh process can stand by");
      setTimeout(() => process.exit(1), 100).unref();
    },
  });
  elector.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`druid-ingestion-controller: fatal: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
