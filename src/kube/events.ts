// Kubernetes Events for DruidIngestion transitions (core/v1, shown by `kubectl describe`).
// The same reason+message for the same object within the window bumps `count` on the existing
// Event instead of creating another, as client-go's recorder does. As there, recording does not
// wait for the API server: events are sent in order by one sender in the background, off the
// reconcile's path, and dropped (counted in a warning) when more than QUEUE_LIMIT wait. Failures
// to record are logged, never fatal: an Event is a courtesy, the status is the contract.
import { randomBytes } from "node:crypto";
import type { CoreV1Event } from "@kubernetes/client-node";
import type { Logger } from "winston";
import { API_VERSION, KIND, type DruidIngestion } from "../api/druid-ingestion.ts";
import { describeApiError, type KubeApi } from "./api.ts";

export const EVENT_SOURCE = "druid-ingestion-controller";
const AGGREGATION_WINDOW_MS = 10 * 60_000;
/** Events waiting to be sent beyond this are dropped (client-go's broadcaster buffers 1,000). */
export const QUEUE_LIMIT = 1000;
/** Per object, as client-go's spam filter: a burst of 25 Events, then one per 5 minutes. */
export const PER_OBJECT_BURST = 25;
export const PER_OBJECT_REFILL_MS = 5 * 60_000;

/** One Event to record on a DruidIngestion. */
export interface EventRecord {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface EventSink {
  record(ingestion: DruidIngestion, event: EventRecord): Promise<void>;
}

type Send = () => Promise<void>;

export class EventRecorder implements EventSink {
  private readonly api: Pick<KubeApi, "createEvent" | "patchEvent">;
  private readonly logger: Logger;
  private readonly instance: string;
  /** Aggregation keys, oldest use first (a bump moves a key to the end), so pruning stops at the first young one. */
  private readonly recent = new Map<string, { name: string; count: number; at: number }>();
  /** Per object uid, its Event tokens; least recently used first (an idle entry refills to full and goes). */
  private readonly budgets = new Map<string, { tokens: number; at: number }>();
  private readonly queue: Send[] = [];
  private sending: Promise<void> | undefined;
  private dropped = 0;

  constructor(api: Pick<KubeApi, "createEvent" | "patchEvent">, logger: Logger, instance: string) {
    this.api = api;
    this.logger = logger;
    this.instance = instance;
  }

  /** Queues the Event and returns at once; `flush` waits until everything queued was sent. */
  async record(ingestion: DruidIngestion, event: EventRecord): Promise<void> {
    const { namespace, name, uid } = ingestion.metadata;
    const message = event.message.length > 1024 ? `${event.message.slice(0, 1021)}...` : event.message;
    const key = `${uid}\u0000${event.type}\u0000${event.reason}\u0000${message}`;
    const now = new Date();
    this.prune(now.getTime());
    if (!this.spend(uid ?? `${namespace}/${name}`, now.getTime())) {
      if (this.dropped++ % 100 === 0) this.logger.warn("too many Events for one resource; dropping (a burst of 25, then one per 5 minutes)", { namespace, name, reason: event.reason, dropped: this.dropped });
      return;
    }
    if (this.queue.length >= QUEUE_LIMIT) {
      if (this.dropped++ % 100 === 0) this.logger.warn("too many Events waiting to be sent; dropping", { namespace, name, reason: event.reason, dropped: this.dropped });
      return;
    }
    let sentAs: string | undefined;
    const failed = (error: unknown): void => {
      // Only the entry this call was about: a newer create of the same Event keeps its own.
      if (this.recent.get(key)?.name === sentAs) this.recent.delete(key);
      this.logger.warn("could not record event", { namespace, name, reason: event.reason, error: describeApiError(error) });
    };
    const seen = this.recent.get(key);
    if (seen) {
      seen.count++;
      seen.at = now.getTime();
      this.recent.delete(key);
      this.recent.set(key, seen);
      const count = seen.count;
      sentAs = seen.name;
      this.enqueue(() => this.api.patchEvent(namespace, seen.name, { count, lastTimestamp: now.toISOString() }).then(() => undefined, failed));
      return;
    }
    const eventName = `${name}.${Date.now().toString(16)}${randomBytes(2).toString("hex")}`;
    const body: CoreV1Event = {
      metadata: { name: eventName, namespace },
      involvedObject: { apiVersion: API_VERSION, kind: KIND, name, namespace, uid, resourceVersion: ingestion.metadata.resourceVersion },
      reason: event.reason,
      message,
      type: event.type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: EVENT_SOURCE },
      reportingComponent: EVENT_SOURCE,
      reportingInstance: this.instance,
    };
    // Known at once, so a repeat queued behind this create bumps its count.
    sentAs = eventName;
    this.recent.set(key, { name: eventName, count: 1, at: now.getTime() });
    this.enqueue(() => this.api.createEvent(namespace, body).then(() => undefined, failed));
  }

  /** Resolves once every Event queued so far was sent (or failed). */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
  }

  private enqueue(send: Send): void {
    this.queue.push(send);
    if (this.sending) return;
    this.sending = (async () => {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) await next();
      this.sending = undefined;
    })();
  }

  /** Takes one of the object's tokens, if it has one. */
  private spend(object: string, now: number): boolean {
    const budget = this.budgets.get(object) ?? { tokens: PER_OBJECT_BURST, at: now };
    this.budgets.delete(object);
    budget.tokens = Math.min(PER_OBJECT_BURST, budget.tokens + (now - budget.at) / PER_OBJECT_REFILL_MS);
    budget.at = now;
    const allowed = budget.tokens >= 1;
    if (allowed) budget.tokens -= 1;
    this.budgets.set(object, budget);
    return allowed;
  }

  private prune(now: number): void {
    for (const [object, budget] of this.budgets) {
      if (now - budget.at < PER_OBJECT_BURST * PER_OBJECT_REFILL_MS) break;
      this.budgets.delete(object);
    }
    for (const [key, entry] of this.recent) {
      if (now - entry.at <= AGGREGATION_WINDOW_MS) return;
      this.recent.delete(key);
    }
  }
}
