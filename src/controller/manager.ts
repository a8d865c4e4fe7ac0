// The DruidIngestion controller's wiring: which objects are watched, how each maps back to the
// DruidIngestion keys it affects, and the queue that feeds the reconciler. Events only
// enqueue keys; all logic is in the reconciler.
import type { KubeConfig, KubernetesObject, V1ConfigMap, V1Secret, V1Service } from "@kubernetes/client-node";
import type { Logger } from "winston";
import { CREDENTIALS_SELECTOR, GROUP, PLURAL, VERSION, type DruidIngestion } from "../api/druid-ingestion.ts";
import { findCondition, HEALTHY } from "./conditions.ts";
import type { DruidIngestionValidator } from "../api/schema.ts";
import { DruidClient, type DruidTarget } from "../druid/client.ts";
import { DruidSnapshots } from "../druid/snapshot.ts";
import type { Dispatcher } from "undici";
import type { KubeApi, ListPage } from "../kube/api.ts";
import type { EventSink } from "../kube/events.ts";
import type { WriteFence } from "../kube/fence.ts";
import { ResilientInformer, type InformerEvent } from "../kube/informer.ts";
import { trimForCache } from "../kube/trim.ts";
import type { ControllerMetrics, SupervisorHealthSample } from "../observability/metrics.ts";
import { ROUTER_SELECTOR } from "./druid-target.ts";
import { allowEndpoint, type AllowedEndpoint, type Allowance } from "./endpoint-policy.ts";
import { EventRouter } from "./event-router.ts";
import { WorkQueue } from "./queue.ts";
import { SupervisorStateWatch } from "./state-watch.ts";
import { SupervisorLagPoller } from "./lag-poller.ts";
import { Reconciler, type ReconcilerSettings } from "./reconcile.ts";
import { CONFIGMAP_SELECTOR, digestConfigMapData } from "./spec-configmap.ts";

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  api: KubeApi;
  /** Namespaces to watch; [undefined] means all. */
  namespaces: Array<string | undefined>;
  settings: ReconcilerSettings;
  concurrency: number;
  /** Lag reads in flight at once (default 2). */
  lagConcurrency?: number;
  backoff: { baseMs: number; maxMs: number };
  druid: { dispatcher: Dispatcher; requestTimeoutMs: number; retries: number; maxResponseBytes: number; allowedEndpoints: AllowedEndpoint[] | "any"; routerDiscovery: boolean; caFile?: string };
  /** Closed when this replica must stop writing to Druid (leadership lost, shutdown). */
  fence: WriteFence;
  validator: DruidIngestionValidator;
  events: EventSink;
  metrics: ControllerMetrics;
  logger: Logger;
}

/** A namespace-indexed set of informers for one kind (one per watched namespace). */
class InformerSet<T extends KubernetesObject> {
  readonly informers: Array<ResilientInformer<T>>;
  private readonly byNamespace: Map<string | undefined, ResilientInformer<T>>;
  constructor(informers: Array<[string | undefined, ResilientInformer<T>]>) {
    this.informers = informers.map(([, i]) => i);
    this.byNamespace = new Map(informers);
  }
  private forNamespace(namespace: string): ResilientInformer<T> | undefined {
    return this.byNamespace.get(namespace) ?? this.byNamespace.get(undefined);
  }
  get(name: string, namespace: string): T | undefined {
    return this.forNamespace(namespace)?.get(name, namespace);
  }
  list(namespace: string): readonly T[] {
    return this.forNamespace(namespace)?.list(namespace) ?? [];
  }
  get synced(): boolean {
    return this.informers.every((i) => i.synced);
  }
  /** How many objects are cached, across the watched namespaces. */
  count(): number {
    return this.informers.reduce((n, i) => n + i.size, 0);
  }
  /** Every cached object, across the watched namespaces. */
  all(): T[] {
    return this.informers.flatMap((i) => [...i.list()]);
  }
}

/** Room per watched resource in a cluster-wide Druid list (a supervisor with its spec is ~5 KB). */
const LIST_BYTES_PER_RESOURCE = 64 * 1024;

export class Manager {
  readonly queue: WorkQueue;
  readonly reconciler: Reconciler;
  private readonly options: ManagerOptions;
  private readonly ingestions: InformerSet<KubernetesObject>;
  private readonly configMaps: InformerSet<V1ConfigMap>;
  private readonly secrets: InformerSet<V1Secret>;
  private readonly services: InformerSet<V1Service>;
  private readonly clients = new Map<string, DruidClient>();
  private readonly router: EventRouter;
  private readonly stateWatch: SupervisorStateWatch;
  readonly lagPoller: SupervisorLagPoller;

  constructor(options: ManagerOptions) {
    this.options = options;
    const { api, kubeConfig, logger, metrics, namespaces } = options;
    this.router = new EventRouter({
      add: (key) => this.queue.add(key),
      forget: (key) => {
        this.queue.forget(key);
        this.reconciler.forget(key);
      },
    });
    const router = this.router;
    const informer = <T extends KubernetesObject>(kind: string, ns: string | undefined, path: string, list: (page: ListPage) => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>, onEvent: (e: InformerEvent, o: T) => void, labelSelector?: string): [string | undefined, ResilientInformer<T>] => [
      ns,
      new ResilientInformer<T>({
        name: `${kind}${ns ? `/${ns}` : ""}`,
        kubeConfig,
        path,
        list: list as never,
        ...(labelSelector ? { labelSelector } : {}),
        logger,
        onEvent,
        trim: (object: T) => {
          trimForCache(object);
          if (kind === "configmaps") digestConfigMapData(object as V1ConfigMap);
        },
        onRestart: (name, cause) => metrics.informerRestarted(name, cause),
      }),
    ];
    const nsPath = (ns: string | undefined) => (ns ? `/namespaces/${ns}` : "");
    this.ingestions = new InformerSet(namespaces.map((ns) => informer<KubernetesObject>("druidingestions", ns, `/apis/${GROUP}/${VERSION}${nsPath(ns)}/${PLURAL}`, (page) => api.listIngestions(ns, page), (e, o) => router.onIngestion(e, o))));
    this.configMaps = new InformerSet(namespaces.map((ns) => informer<V1ConfigMap>("configmaps", ns, `/api/v1${nsPath(ns)}/configmaps`, (page) => api.listConfigMaps(ns, CONFIGMAP_SELECTOR, page), (_e, o) => router.onOwned(o), CONFIGMAP_SELECTOR)));
    this.secrets = new InformerSet(namespaces.map((ns) => informer<V1Secret>("secrets", ns, `/api/v1${nsPath(ns)}/secrets`, (page) => api.listSecrets(ns, CREDENTIALS_SELECTOR, page), (e, o) => router.onSecret(e, o), CREDENTIALS_SELECTOR)));
    this.services = new InformerSet(namespaces.map((ns) => informer<V1Service>("services", ns, `/api/v1${nsPath(ns)}/services`, (page) => api.listServices(ns, ROUTER_SELECTOR, page), (_e, o) => router.onService(o), ROUTER_SELECTOR)));

    const snapshots = new DruidSnapshots({ maxAgeMs: options.settings.resyncMs, onFetch: (part, scope) => metrics.snapshotFetched(part, scope) });
    this.stateWatch = new SupervisorStateWatch({
      snapshots,
      intervalMs: options.settings.settleMs,
      maxIntervalMs: options.settings.resyncMs,
      wake: (key) => this.queue.add(key),
      onPoll: (result, woken, waiting) => metrics.statePolled(result, woken, waiting),
      onWake: (key, seen, listed) => logger.debug("supervisor state changed in Druid's list", { key, seen, listed }),
    });
    this.lagPoller = new SupervisorLagPoller({
      periodMs: options.settings.lagPeriodMs ?? 0,
      concurrency: options.lagConcurrency ?? 2,
      statusLag: (key) => {
        if (this.reconciler.lagStatusDropped) return undefined; // nothing to write it to: wake nobody
        const slash = key.indexOf("/");
        const cached = this.ingestions.get(key.slice(slash + 1), key.slice(0, slash)) as DruidIngestion | undefined;
        return cached ? { lag: cached.status?.lag } : undefined;
      },
      wake: (key) => this.queue.add(key),
      onRead: (result) => metrics.lagRead(result),
    });
    this.reconciler = new Reconciler({
      ingestions: this.ingestions,
      claimsOn: (endpoint, supervisorId) => this.router.claimsOn(endpoint, supervisorId),
      configMaps: this.configMaps,
      secrets: { get: (namespace, name) => this.secrets.get(name, namespace) },
      deletedSecrets: { get: (namespace, name) => this.router.deletedSecret(namespace, name) },
      routerServices: this.services,
      kube: api,
      events: options.events,
      druidClient: (target) => this.clientFor(target),
      allowEndpoint: (url, namespace) => this.allowEndpoint(url, namespace),
      snapshots,
      stateWatch: this.stateWatch,
      lagPoller: this.lagPoller,
      validator: options.validator,
      settings: options.settings,
      logger,
      observeResult: (result, seconds) => metrics.observeReconcile(result, seconds),
      onIdleShortcut: () => metrics.idleShortcut(),
      noteWritten: (ingestion, replaced) => router.indexWritten(ingestion, replaced),
      fence: options.fence,
    });
    metrics.setMaxConcurrent(options.concurrency);
    this.queue = new WorkQueue({
      concurrency: options.concurrency,
      backoff: options.backoff,
      handler: (key) => this.reconciler.reconcile(key),
      metrics: metrics.queueMetrics(),
      onHandlerCrash: (key, error) => logger.error("reconcile crashed", { key, error: (error as Error).stack ?? String(error) }),
    });
  }

  /** Starts every informer; resolves when all caches are filled. Reconciling starts with `startWorkers`. */
  async startInformers(): Promise<void> {
    await Promise.all(this.allInformers().map((i) => i.start()));
  }

  get synced(): boolean {
    return this.ingestions.synced && this.configMaps.synced && this.secrets.synced && this.services.synced;
  }

  startWorkers(): void {
    this.queue.start();
    this.lagPoller.start();
  }

  /** Stops taking work and waits for in-flight reconciles, at most `deadlineMs`; returns keys still running. */
  drain(deadlineMs: number): Promise<string[]> {
    this.stateWatch.stop();
    this.lagPoller.stop();
    return this.queue.shutDown(deadlineMs);
  }

  async stopInformers(): Promise<void> {
    await Promise.all(this.allInformers().map((i) => i.stop()));
  }

  /** Secrets, Services and ConfigMaps first: DruidIngestion events should find them cached. */
  private allInformers(): Array<ResilientInformer<KubernetesObject>> {
    return [...this.secrets.informers, ...this.services.informers, ...this.configMaps.informers, ...this.ingestions.informers] as Array<ResilientInformer<KubernetesObject>>;
  }

  /** Resources per Druid state, for the state gauge. */
  stateCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const o of this.ingestions.all()) {
      const state = (o as DruidIngestion).status?.state ?? "UNKNOWN";
      counts.set(state, (counts.get(state) ?? 0) + 1);
    }
    return counts;
  }

  /** Each supervisor's health as its resource's Healthy condition says (True or False only), for the health gauge. */
  *supervisorHealth(): Iterable<SupervisorHealthSample> {
    for (const o of this.ingestions.all()) {
      const { metadata, status } = o as DruidIngestion;
      const healthy = findCondition(status?.conditions, HEALTHY)?.status;
      if (status?.supervisorId && (healthy === "True" || healthy === "False")) yield { namespace: metadata.namespace, name: metadata.name, supervisor: status.supervisorId, healthy: healthy === "True" };
    }
  }

  /** The administrator's allow-list, the default URL, and the router Services of the resource's namespace. */
  private allowEndpoint(url: string, namespace: string | undefined): Allowance {
    return allowEndpoint(url, {
      allowed: this.options.druid.allowedEndpoints,
      defaultUrl: this.options.settings.defaultDruidUrl,
      discovery: this.options.druid.routerDiscovery,
      namespace,
      routerService: (ns, name) => this.services.get(name, ns),
    });
  }

  private clientFor(target: DruidTarget): DruidClient {
    const key = JSON.stringify([target.baseUrl, target.credentials?.username ?? "", target.credentials?.password ?? "", target.namespace ?? ""]);
    let client = this.clients.get(key);
    if (!client) {
      const { dispatcher, requestTimeoutMs, retries, maxResponseBytes, caFile } = this.options.druid;
      client = new DruidClient(target, {
        dispatcher,
        requestTimeoutMs,
        retries,
        maxResponseBytes,
        ...(caFile ? { caFile } : {}),
        // Druid lists every supervisor: the cap grows with the resources this controller watches.
        maxListResponseBytes: () => LIST_BYTES_PER_RESOURCE * this.ingestions.count(),
        refuseEndpoint: (url = target.baseUrl) => {
          const allowance = this.allowEndpoint(url, target.namespace);
          return allowance.ok ? undefined : allowance.message;
        },
        signal: this.options.fence.signal,
        beforeWrite: (what) => this.options.fence.check(what),
        observe: (o) => this.options.metrics.observeDruid(o),
      });
      // Credentials rotate: drop clients for the same URL and user with an older password.
      for (const [k, c] of this.clients) {
        if (c.target.baseUrl === target.baseUrl && c.target.credentials?.username === target.credentials?.username) this.clients.delete(k);
      }
      this.clients.set(key, client);
    }
    return client;
  }
}
