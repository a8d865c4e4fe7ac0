// One observation of a Druid cluster, shared by every resource on it: the supervisor list
// (one `GET /supervisor?full`), and, only when some resource manages them, the compaction
// configs and the retention rules (one call each). Readings are reused until they are older
// than `maxAgeMs`; concurrent readers share one request; and after the controller changed
// something in Druid, the next reading for that one supervisor/datasource waits for a request
// that started after the change, so a resource never judges its own write by an older list.
import type { JsonObject } from "../api/druid-ingestion.ts";
import type { DruidClient } from "./client.ts";
import type { LiveSupervisor } from "./decode.ts";

export interface SupervisorReading {
  version: string;
  supervisors: Map<string, LiveSupervisor>;
}

type Part = "supervisors" | "compaction" | "rules";

interface Entry<T> {
  startedAt: number;
  promise: Promise<T>;
}

export interface SnapshotOptions {
  maxAgeMs: number;
  now?: () => number;
  onFetch?: (part: Part) => void;
}

/** Identifies a cluster as seen by one Druid user (Druid filters lists by permission). */
export function clusterKey(client: DruidClient): string {
  return `${client.target.baseUrl}\u0000${client.target.credentials?.username ?? ""}`;
}

export class DruidSnapshots {
  private readonly options: SnapshotOptions;
  private readonly entries = new Map<string, Entry<unknown>>();
  /** clusterKey/part → (item id → time of our last write to it). */
  private readonly writes = new Map<string, Map<string, number>>();

  constructor(options: SnapshotOptions) {
    this.options = options;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  supervisors(client: DruidClient, supervisorId: string | undefined): Promise<SupervisorReading> {
    return this.read(client, "supervisors", supervisorId, async () => {
      const [version, list] = await Promise.all([client.version(), client.listSupervisors()]);
      return { version, supervisors: new Map(list.map((s) => [s.id, s])) };
    });
  }

  compaction(client: DruidClient, dataSource: string): Promise<Map<string, JsonObject>> {
    return this.read(client, "compaction", dataSource, () => client.listCompactionConfigs());
  }

  rules(client: DruidClient, dataSource: string): Promise<Map<string, JsonObject[]>> {
    return this.read(client, "rules", dataSource, () => client.listRules());
  }

  /** Call after changing `item` in Druid: its next reading must start after now. */
  noteWrite(client: DruidClient, part: Part, item: string): void {
    const key = `${clusterKey(client)}\u0000${part}`;
    let items = this.writes.get(key);
    if (!items) this.writes.set(key, (items = new Map()));
    items.set(item, this.now());
  }

  /** Forget everything about a cluster (e.g. after an error, so the next reader asks again). */
  invalidate(client: DruidClient): void {
    const prefix = clusterKey(client);
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  private async read<T>(client: DruidClient, part: Part, item: string | undefined, fetch: () => Promise<T>): Promise<T> {
    const key = `${clusterKey(client)}\u0000${part}`;
    const now = this.now();
    const wroteAt = item === undefined ? undefined : this.writes.get(key)?.get(item);
    const entry = this.entries.get(key) as Entry<T> | undefined;
    const fresh = entry && now - entry.startedAt <= this.options.maxAgeMs && (wroteAt === undefined || entry.startedAt > wroteAt);
    if (entry && fresh) return entry.promise;
    const started: Entry<T> = { startedAt: now, promise: fetch() };
    this.options.onFetch?.(part);
    this.entries.set(key, started);
    started.promise.then(
      () => {
        const items = this.writes.get(key);
        if (item !== undefined && wroteAt !== undefined && items?.get(item) === wroteAt) items.delete(item);
      },
      () => {
        // A failed reading is not cached: the next reader asks Druid again.
        if (this.entries.get(key) === started) this.entries.delete(key);
      },
    );
    return started.promise;
  }
}
