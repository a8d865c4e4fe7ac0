// Prometheus metrics with controller-runtime's names where one exists, so existing dashboards
// and alerts for Go operators work unchanged; plus Druid request metrics and resource states.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { QueueMetrics } from "../controller/queue.ts";
import type { DruidRequestObservation } from "../druid/client.ts";
import { EVENT_LOOP_LAG_SERIES, registerEventLoopLag } from "./event-loop-lag.ts";
import type { KubeRequest } from "./kube-requests.ts";

export const CONTROLLER = "druidingestion";

const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60];
const QUEUE_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000];

/** One resource's supervisor health as its status reports it. */
export interface SupervisorHealthSample {
  namespace: string;
  name: string;
  supervisor: string;
  healthy: boolean;
}

/** One supervisor's lag as the lag poller last read it. */
export interface SupervisorLagSample {
  namespace: string;
  name: string;
  supervisor: string;
  records?: number;
  millis?: number;
}

export type ReconcileResult = "success" | "error" | "requeue" | "requeue_after";

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly reconcileTotal: Counter<"controller" | "result">;
  private readonly reconcileErrors: Counter<"controller">;
  private readonly reconcileTime: Histogram<"controller">;
  private readonly maxConcurrent: Gauge<"controller">;
  private readonly activeWorkers: Gauge<"controller">;
  private readonly depth: Gauge<"name" | "controller">;
  private readonly adds: Counter<"name" | "controller">;
  private readonly retries: Counter<"name" | "controller">;
  private readonly queueDuration: Histogram<"name" | "controller">;
  private readonly workDuration: Histogram<"name" | "controller">;
  private readonly leader: Gauge<"name">;
  private readonly druidRequests: Counter<"method" | "endpoint" | "code">;
  private readonly druidDuration: Histogram<"method" | "endpoint">;
  private readonly druidSnapshotFetches: Counter<"part">;
  private readonly druidItemReads: Counter<"part">;
  private readonly resourcesByState: Gauge<"state">;
  private supervisorHealthSource: () => Iterable<SupervisorHealthSample> = () => [];
  private supervisorLagSource: () => Iterable<SupervisorLagSample> = () => [];
  private readonly lagReads: Counter<"result">;
  private readonly informerRestarts: Counter<"informer" | "cause">;
  private readonly druidResponseBytes: Counter<"method" | "endpoint">;
  private readonly kubeRequests: Counter<"verb" | "resource" | "code">;
  private readonly statePolls: Counter<"result">;
  private readonly stateWakes: Counter;
  private readonly stateWaiting: Gauge;
  private readonly idleShortcuts: Counter;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) {
      // prom-client's event-loop series sample every 10 ms: theirs sample once an hour and are
      // dropped, ours (event-loop-lag.ts) take their names.
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 3_600_000 });
      for (const name of EVENT_LOOP_LAG_SERIES) this.registry.removeSingleMetric(name);
      registerEventLoopLag(this.registry);
    }
    this.reconcileTotal = new Counter({ name: "controller_runtime_reconcile_total", help: "Total number of reconciliations per controller", labelNames: ["controller", "result"], registers });
    this.reconcileErrors = new Counter({ name: "controller_runtime_reconcile_errors_total", help: "Total number of reconciliation errors per controller", labelNames: ["controller"], registers });
    this.reconcileTime = new Histogram({ name: "controller_runtime_reconcile_time_seconds", help: "Length of time per reconciliation per controller", labelNames: ["controller"], buckets: RECONCILE_BUCKETS, registers });
    this.maxConcurrent = new Gauge({ name: "controller_runtime_max_concurrent_reconciles", help: "Maximum number of concurrent reconciles per controller", labelNames: ["controller"], registers });
    this.activeWorkers = new Gauge({ name: "controller_runtime_active_workers", help: "Number of currently used workers per controller", labelNames: ["controller"], registers });
    this.depth = new Gauge({ name: "workqueue_depth", help: "Current depth of workqueue", labelNames: ["name", "controller"], registers });
    this.adds = new Counter({ name: "workqueue_adds_total", help: "Total number of adds handled by workqueue", labelNames: ["name", "controller"], registers });
    this.retries = new Counter({ name: "workqueue_retries_total", help: "Total number of retries handled by workqueue", labelNames: ["name", "controller"], registers });
    this.queueDuration = new Histogram({ name: "workqueue_queue_duration_seconds", help: "How long in seconds an item stays in workqueue before being requested", labelNames: ["name", "controller"], buckets: QUEUE_BUCKETS, registers });
    this.workDuration = new Histogram({ name: "workqueue_work_duration_seconds", help: "How long in seconds processing an item from workqueue takes", labelNames: ["name", "controller"], buckets: QUEUE_BUCKETS, registers });
    this.leader = new Gauge({ name: "leader_election_master_status", help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease", labelNames: ["name"], registers });
    this.druidRequests = new Counter({ name: "druid_ingestion_druid_requests_total", help: "Requests to Druid by method, endpoint template and HTTP status (or error/timeout)", labelNames: ["method", "endpoint", "code"], registers });
    this.druidDuration = new Histogram({ name: "druid_ingestion_druid_request_duration_seconds", help: "Duration of requests to Druid", labelNames: ["method", "endpoint"], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers });
    this.druidSnapshotFetches = new Counter({ name: "druid_ingestion_druid_snapshot_fetches_total", help: "Cluster-wide Druid observations (one list call each), by part", labelNames: ["part"], registers });
    this.druidItemReads = new Counter({ name: "druid_ingestion_druid_item_reads_total", help: "Single-item Druid reads instead of the shared list (an item written since the list was read, or a state awaited), by part", labelNames: ["part"], registers });
    this.resourcesByState = new Gauge({ name: "druid_ingestion_resources", help: "DruidIngestion resources by the Druid state reported in their status", labelNames: ["state"], registers });
    const metrics = this;
    new Gauge({
      name: "druid_ingestion_supervisor_healthy",
      help: "1 when the resource's Healthy condition is True (Druid reports its supervisor healthy, or it is suspended), 0 when False; absent while unknown. Reported by the replica that acts only",
      labelNames: ["namespace", "name", "supervisor"],
      registers,
      collect() {
        this.reset();
        for (const s of metrics.supervisorHealthSource()) this.set({ namespace: s.namespace, name: s.name, supervisor: s.supervisor }, s.healthy ? 1 : 0);
      },
    });
    const lagGauge = (name: string, help: string, value: (s: SupervisorLagSample) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ["namespace", "name", "supervisor"],
        registers,
        collect() {
          this.reset();
          for (const s of metrics.supervisorLagSource()) {
            const v = value(s);
            if (v !== undefined) this.set({ namespace: s.namespace, name: s.name, supervisor: s.supervisor }, v);
          }
        },
      });
    lagGauge("druid_ingestion_supervisor_lag", "Records the running supervisor is behind, summed over partitions (Druid's aggregateLag; Kafka), as last read (LAG_PERIOD); absent while suspended, not reported, or the last read failed", (s) => s.records);
    lagGauge("druid_ingestion_supervisor_lag_seconds", "Time the running supervisor is behind (Druid's aggregateLagMillis; Kinesis, and Kafka where Druid computes it), as last read (LAG_PERIOD)", (s) => (s.millis === undefined ? undefined : s.millis / 1000));
    this.lagReads = new Counter({ name: "druid_ingestion_lag_reads_total", help: "Lag reads (GET /supervisor/<id>/status) by result: ok, none (Druid reported no lag), error", labelNames: ["result"], registers });
    this.informerRestarts = new Counter({ name: "druid_ingestion_informer_restarts_total", help: "Watch restarts by informer and cause", labelNames: ["informer", "cause"], registers });
    this.druidResponseBytes = new Counter({ name: "druid_ingestion_druid_response_bytes_total", help: "Bytes of Druid response bodies read, by method and endpoint template", labelNames: ["method", "endpoint"], registers });
    this.kubeRequests = new Counter({ name: "druid_ingestion_kube_requests_total", help: "Requests to the Kubernetes API by verb, resource and HTTP status (or error), watches included", labelNames: ["verb", "resource", "code"], registers });
    this.statePolls = new Counter({ name: "druid_ingestion_state_polls_total", help: "State lists read because resources wait for their supervisor to change state (PENDING, STOPPING, creating tasks, suspending, resuming), by result", labelNames: ["result"], registers });
    this.stateWakes = new Counter({ name: "druid_ingestion_state_poll_wakes_total", help: "Reconciles started by the state poller (a listed state changed, or a failed list handed waiters back)", registers });
    this.idleShortcuts = new Counter({ name: "druid_ingestion_idle_shortcuts_total", help: "Reconciles that found the resource, its Secret, ConfigMap, router Services, claims and Druid's listing as at its last idle reconcile, and ended there (the rest skipped)", registers });
    this.stateWaiting = new Gauge({ name: "druid_ingestion_state_poll_waiting", help: "Resources waiting on the state poller after its last list", registers });
    // Series exist from the start (at 0), as controller-runtime's do, so rate() and alerts work
    // before the first event.
    const queue = { name: CONTROLLER, controller: CONTROLLER };
    for (const result of ["success", "error", "requeue", "requeue_after"] as const) this.reconcileTotal.inc({ controller: CONTROLLER, result }, 0);
    this.reconcileErrors.inc({ controller: CONTROLLER }, 0);
    for (const result of ["ok", "error"] as const) this.statePolls.inc({ result }, 0);
    for (const result of ["ok", "none", "error"] as const) this.lagReads.inc({ result }, 0);
    this.adds.inc(queue, 0);
    this.retries.inc(queue, 0);
    this.depth.set(queue, 0);
    this.activeWorkers.set({ controller: CONTROLLER }, 0);
  }

  setMaxConcurrent(n: number): void {
    this.maxConcurrent.set({ controller: CONTROLLER }, n);
  }

  observeReconcile(result: ReconcileResult, seconds: number): void {
    this.reconcileTotal.inc({ controller: CONTROLLER, result });
    if (result === "error") this.reconcileErrors.inc({ controller: CONTROLLER });
    this.reconcileTime.observe({ controller: CONTROLLER }, seconds);
  }

  queueMetrics(): QueueMetrics {
    const labels = { name: CONTROLLER, controller: CONTROLLER };
    return {
      depth: (n) => this.depth.set(labels, n),
      added: () => this.adds.inc(labels),
      retried: () => this.retries.inc(labels),
      queued: (s) => this.queueDuration.observe(labels, s),
      worked: (s) => this.workDuration.observe(labels, s),
      activeWorkers: (n) => this.activeWorkers.set({ controller: CONTROLLER }, n),
    };
  }

  setLeader(lease: string, isLeader: boolean): void {
    this.leader.set({ name: lease }, isLeader ? 1 : 0);
  }

  observeDruid(o: DruidRequestObservation): void {
    this.druidRequests.inc({ method: o.method, endpoint: o.route, code: o.code });
    this.druidDuration.observe({ method: o.method, endpoint: o.route }, o.seconds);
    if (o.bytes !== undefined) this.druidResponseBytes.inc({ method: o.method, endpoint: o.route }, o.bytes);
  }

  statePolled(result: "ok" | "error", woken: number, waiting: number): void {
    this.statePolls.inc({ result });
    this.stateWakes.inc(woken);
    this.stateWaiting.set(waiting);
  }

  idleShortcut(): void {
    this.idleShortcuts.inc();
  }

  snapshotFetched(part: string, scope: "list" | "item" = "list"): void {
    if (scope === "list") this.druidSnapshotFetches.inc({ part });
    else this.druidItemReads.inc({ part });
  }

  observeKube(r: KubeRequest): void {
    this.kubeRequests.inc(r);
  }

  informerRestarted(informer: string, cause: string): void {
    this.informerRestarts.inc({ informer, cause });
  }

  /** Where the per-resource health gauge reads from at each scrape (the cached statuses). */
  setSupervisorHealthSource(source: () => Iterable<SupervisorHealthSample>): void {
    this.supervisorHealthSource = source;
  }

  /** Where the lag gauges read from at each scrape (the lag poller's last readings). */
  setSupervisorLagSource(source: () => Iterable<SupervisorLagSample>): void {
    this.supervisorLagSource = source;
  }

  lagRead(result: "ok" | "none" | "error"): void {
    this.lagReads.inc({ result });
  }

  setResourceStates(counts: Map<string, number>): void {
    this.resourcesByState.reset();
    for (const [state, n] of counts) this.resourcesByState.set({ state }, n);
  }
}
