// Kubernetes Events for DruidIngestion transitions (core/v1, shown by `kubectl describe`).
// The same reason+message for the same object within the window bumps `count` on the existing
// Event instead of creating another, as client-go's recorder does. Failures to record are
// logged, never fatal: an Event is a courtesy, the status is the contract.
import { randomBytes } from "node:crypto";
import type { CoreV1Event } from "@kubernetes/client-node";
import type { Logger } from "winston";
import { API_VERSION, KIND, type DruidIngestion } from "../api/druid-ingestion.ts";
import { describeApiError, type KubeApi } from "./api.ts";

export const EVENT_SOURCE = "druid-ingestion-controller";
const AGGREGATION_WINDOW_MS = 10 * 60_000;

/** One Event to record on a DruidIngestion. */
export interface EventRecord {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface EventSink {
  record(ingestion: DruidIngestion, event: EventRecord): Promise<void>;
}

export class EventRecorder implements EventSink {
  private readonly api: Pick<KubeApi, "createEvent" | "patchEvent">;
  private readonly logger: Logger;
  private readonly instance: string;
  private readonly recent = new Map<string, { name: string; count: number; at: number }>();

  constructor(api: Pick<KubeApi, "createEvent" | "patchEvent">, logger: Logger, instance: string) {
    this.api = api;
    this.logger = logger;
    this.instance = instance;
  }

  async record(ingestion: DruidIngestion, event: EventRecord): Promise<void> {
    const { namespace, name, uid } = ingestion.metadata;
    const message = event.message.length > 1024 ? `${event.message.slice(0, 1021)}...` : event.message;
    const key = `${uid}\u0000${event.type}\u0000${event.reason}\u0000${message}`;
    const now = new Date();
    this.prune(now.getTime());
    const seen = this.recent.get(key);
    try {
      if (seen) {
        seen.count++;
        seen.at = now.getTime();
        await this.api.patchEvent(namespace, seen.name, { count: seen.count, lastTimestamp: now.toISOString() });
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
      await this.api.createEvent(namespace, body);
      this.recent.set(key, { name: eventName, count: 1, at: now.getTime() });
    } catch (error) {
      this.recent.delete(key);
      this.logger.warn("could not record event", { namespace, name, reason: event.reason, error: describeApiError(error) });
    }
  }

  private prune(now: number): void {
    for (const [key, entry] of this.recent) if (now - entry.at > AGGREGATION_WINDOW_MS) this.recent.delete(key);
  }
}
