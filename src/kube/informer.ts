// A list+watch cache that never stops silently. client-node's informer re-watches on a clean
// end, relists on 410 and reconnects after a timeout, but on any other error it emits `error` and
// stops for good. This wrapper restarts it with capped backoff, reports every transition, and
// restarts it when nothing (not even a bookmark or a reconnect) was seen for too long. Its watch
// requests are long ones (LongWatch): an idle informer costs one request per 5 to 10 minutes.
import { ListWatch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "winston";
import { continueTokenOf, type ListPage } from "./api.ts";
import { LongWatch, longestWatchMs } from "./long-watch.ts";

export type InformerEvent = "add" | "update" | "delete";

export interface InformerOptions<T extends KubernetesObject> {
  name: string;
  kubeConfig: KubeConfig;
  path: string;
  /** One page of the list (the informer asks for pages of LIST_PAGE_SIZE and joins them). */
  list: (page: ListPage) => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  logger: Logger;
  onEvent: (event: InformerEvent, object: T) => void;
  /** Restart when no event, bookmark or reconnect was seen for this long (default: a minute past the longest watch). */
  watchdogMs?: number;
  /**
   * Applied to every object before the cache keeps it (listed or watched), to drop what the
   * controller never reads; it mutates the object it is given.
   */
  trim?: (object: T) => void;
  /** The server-side watch timeout is drawn from [this, 2·this) seconds. */
  minWatchTimeoutSeconds?: number;
  restartBackoffMs?: { base: number; max: number };
  onRestart?: (name: string, cause: string) => void;
}

export class ResilientInformer<T extends KubernetesObject> {
  private readonly options: InformerOptions<T>;
  private listWatch: ListWatch<T> | undefined;
  /** Reads go to the last synced cache, so a restart never shows an empty cache. */
  private readFrom: ListWatch<T> | undefined;
  private stopped = false;
  private hasSynced = false;
  private lastSeen = Date.now();
  private failures = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly syncWaiters: Array<() => void> = [];

  constructor(options: InformerOptions<T>) {
    this.options = options;
  }

  get synced(): boolean {
    return this.hasSynced;
  }

  /** Starts, and resolves once the first list has filled the cache (retrying until it does). */
  start(): Promise<void> {
    this.stopped = false;
    this.launch();
    const period = this.options.watchdogMs ?? longestWatchMs(this.options.minWatchTimeoutSeconds) + 60_000;
    this.watchdog = setInterval(() => {
      if (!this.stopped && Date.now() - this.lastSeen > period) {
        this.restart(`no watch activity for ${Math.round(period / 1000)} s`);
      }
    }, Math.min(period, 30_000));
    this.watchdog.unref();
    return this.hasSynced ? Promise.resolve() : new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.watchdog);
    clearTimeout(this.restartTimer);
    await this.listWatch?.stop();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.readFrom?.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.readFrom?.list(namespace) ?? [];
  }

  get size(): number {
    return this.list().length;
  }

  /** `previous`: the cache of the informer being replaced, to report what vanished meanwhile. */
  private launch(previous: readonly T[] = []): void {
    const { kubeConfig, path, labelSelector, onEvent, logger, name, trim } = this.options;
    const list = () => listInPages(this.options.list, trim);
    const seen = (): void => {
      this.lastSeen = Date.now();
    };
    const onLine = (phase: string, object: unknown): void => {
      seen();
      if (trim && object && (phase === "ADDED" || phase === "MODIFIED" || phase === "DELETED")) trim(object as T);
    };
    const watch = new LongWatch(kubeConfig, { onLine, ...(this.options.minWatchTimeoutSeconds ? { minTimeoutSeconds: this.options.minWatchTimeoutSeconds } : {}) });
    const listWatch = new ListWatch<T>(path, watch, list, false, labelSelector);
    this.listWatch = listWatch;
    // Events of a relist arrive before the new cache is the one reads go to; hold them until
    // it is, so a handler that looks the object up finds it.
    const held: Array<[InformerEvent, T]> = [];
    const deliver = (event: InformerEvent, o: T): void => {
      seen();
      if (this.readFrom === listWatch) onEvent(event, o);
      else held.push([event, o]);
    };
    listWatch.on("add", (o) => deliver("add", o));
    listWatch.on("update", (o) => deliver("update", o));
    listWatch.on("delete", (o) => deliver("delete", o));
    listWatch.on("connect", () => {
      seen();
      logger.debug("watch connected", { informer: name });
    });
    listWatch.on("error", (err) => {
      if (this.listWatch !== listWatch || this.stopped) return;
      this.failures++;
      const { base, max } = this.options.restartBackoffMs ?? { base: 1000, max: 30_000 };
      const delay = Math.min(max, base * 2 ** Math.min(this.failures - 1, 10));
      logger.warn("watch failed; restarting", { informer: name, error: describe(err), retryInMs: delay });
      this.restartTimer = setTimeout(() => this.restart("error"), delay);
      this.restartTimer.unref();
    });
    listWatch.start().then(
      () => {
        if (this.listWatch !== listWatch || this.stopped) return;
        // start() resolves after the list when it succeeded; a failed list emitted `error`
        // and left no resourceVersion.
        if (listWatch.latestResourceVersion() === "") return;
        this.readFrom = listWatch;
        for (const object of previous) {
          if (!listWatch.get(object.metadata?.name ?? "", object.metadata?.namespace)) onEvent("delete", object);
        }
        for (const [event, object] of held.splice(0)) onEvent(event, object);
        this.markSynced();
      },
      (err: unknown) => logger.warn("watch start failed", { informer: name, error: describe(err) }),
    );
  }

  private markSynced(): void {
    this.failures = 0;
    this.lastSeen = Date.now();
    if (!this.hasSynced) {
      this.hasSynced = true;
      this.options.logger.info("cache synced", { informer: this.options.name, objects: this.list().length });
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  private restart(cause: string): void {
    if (this.stopped) return;
    this.options.logger.info("restarting watch", { informer: this.options.name, cause });
    this.options.onRestart?.(this.options.name, cause);
    const old = this.listWatch;
    const previous = old?.list() ?? [];
    void old?.stop();
    this.lastSeen = Date.now();
    this.launch(previous);
  }
}

/** Items per list request, as client-go's pager: thousands of objects never arrive as one response. */
export const LIST_PAGE_SIZE = 500;

/**
 * The whole list, one page at a time, each page trimmed before the next is asked for. The API
 * server serves every page from the first page's snapshot, so the result has one resourceVersion
 * (the last page's) to watch from; an expired continue token fails the list (410), and the
 * informer lists again.
 */
export async function listInPages<T extends KubernetesObject>(list: (page: ListPage) => Promise<KubernetesListObject<T>>, trim?: (object: T) => void, limit = LIST_PAGE_SIZE): Promise<KubernetesListObject<T>> {
  const items: T[] = [];
  let continueToken: string | undefined;
  for (;;) {
    const page = await list({ limit, ...(continueToken ? { continueToken } : {}) });
    for (const item of page.items) {
      trim?.(item);
      items.push(item);
    }
    continueToken = continueTokenOf(page as KubernetesListObject<KubernetesObject>);
    if (!continueToken) return { ...page, items };
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}${(err as { statusCode?: number }).statusCode ? ` (HTTP ${(err as { statusCode?: number }).statusCode})` : ""}`;
  return String(err);
}
