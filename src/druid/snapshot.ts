// One observation of a Druid cluster, shared by every resource on it: the supervisors' states (one
// `GET /supervisor?state=true`, a few hundred bytes per supervisor), and, only when some resource
// manages them, the compaction configs and the retention rules (one call each). Stored specs are
// not listed: a cluster's `?full` list is several KB per supervisor (tens of MB at 10,000), read
// and parsed whole. A resource that needs its supervisor's stored spec (a drift check, an update,
// a baseline) reads that one supervisor (`GET /supervisor/<id>` and its `/status`). Invariants:
// - a list is reused until it is older than `maxAgeMs`; concurrent readers share one request;
// - a reading that started before the controller's own write to an item *finished* is never
//   taken as fresh for that item (writes are bracketed by `write`, not noted up front);
// - an item that is stale while the list is not (written since, or asked fresher) is read on
//   its own, so one resource's write never makes the whole cluster's list be fetched again.
import { createHash } from "node:crypto";
import type { JsonObject } from "../api/druid-ingestion.ts";
import type { DruidClient } from "./client.ts";
import type { LiveSupervisor } from "./decode.ts";

export interface SupervisorReading {
  version: string;
  /** Undefined when Druid has no supervisor with that id. */
  supervisor: LiveSupervisor | undefined;
}

export type SnapshotPart = "supervisors" | "specs" | "compaction" | "rules";

interface ListReading<T> {
  startedAt: number;
  promise: Promise<T>;
}

interface SupervisorList {
  version: string;
  supervisors: Map<string, LiveSupervisor>;
}

interface ItemWrites {
  inProgress: number;
  /** When the last write to the item ended (successfully or not: a failed call may have acted). */
  endedAt: number;
}

export interface SnapshotOptions {
  maxAgeMs: number;
  now?: () => number;
  onFetch?: (part: SnapshotPart, scope: "list" | "item") => void;
}

/**
 * Identifies a cluster as seen by one Druid login (Druid filters lists by permission). The
 * password is part of it: a resource with a wrong one must not read what another's right one got.
 */
export function clusterKey(client: DruidClient): string {
  const credentials = client.target.credentials;
  const login = credentials ? `${credentials.username}\u0000${createHash("sha256").update(credentials.password).digest("hex")}` : "";
  return `${client.target.baseUrl}\u0000${login}`;
}

export class DruidSnapshots {
  private readonly options: SnapshotOptions;
  private readonly lists = new Map<string, ListReading<unknown>>();
  private readonly writes = new Map<string, ItemWrites>();
  private readonly versions = new Map<string, { at: number; version: string }>();
  /** cluster as one login sees it + supervisor id → the stored spec's `suspended`, as last read. */
  private readonly suspendedFlags = new Map<string, boolean>();

  constructor(options: SnapshotOptions) {
    this.options = options;
  }

  /** Monotonic: write brackets and ages must not jump with the wall clock. */
  private now(): number {
    return (this.options.now ?? performance.now.bind(performance))();
  }

  /**
   * Druid's view of one supervisor. `maxAgeMs` asks for a reading at most that old (a resource
   * waiting for a state change); it defaults to the shared list's own age limit. When
   * `wantSpec` says so for what the list shows, the supervisor is read on its own instead (its
   * stored spec and its status report: two small calls, consistent with each other), and so is
   * one whose stored suspended flag has not been read yet; otherwise the reading has no spec,
   * and its suspension is the stored spec's flag as last read here.
   */
  async supervisor(client: DruidClient, id: string, maxAgeMs?: number, wantSpec: (listed: LiveSupervisor) => boolean = () => false): Promise<SupervisorReading> {
    const fromList = await this.fromList(client, "supervisors", id, maxAgeMs, () => this.fetchSupervisorList(client));
    if (fromList) {
      // Unknown suspension (first reading since start, or since the supervisor reappeared) is a
      // reason to read: the list would say "not suspended", and a suspend would be sent again.
      const reading = this.withStoredFlag(client, id, fromList);
      if (reading && (reading.supervisor === undefined || !wantSpec(reading.supervisor))) return reading;
      this.options.onFetch?.("specs", "item");
      const startedAt = this.now();
      return { version: fromList.version, supervisor: this.noteSpec(client, id, await client.supervisorWithState(id), startedAt) };
    }
    this.options.onFetch?.("supervisors", "item");
    const startedAt = this.now();
    const [version, supervisor] = await Promise.all([this.version(client), client.supervisorWithState(id)]);
    return { version, supervisor: this.noteSpec(client, id, supervisor, startedAt) };
  }

  /**
   * The supervisor as the shared list shows it, with its stored suspended flag as last read; or
   * undefined when that takes a read of its own (the flag is not known, or the supervisor was
   * written since the list was read). Never reads a single supervisor.
   */
  async listedSupervisor(client: DruidClient, id: string): Promise<SupervisorReading | undefined> {
    const fromList = await this.fromList(client, "supervisors", id, undefined, () => this.fetchSupervisorList(client));
    return fromList && this.withStoredFlag(client, id, fromList);
  }

  /** The list's entry with the stored suspended flag as last read; undefined while that flag is not known. */
  private withStoredFlag(client: DruidClient, id: string, list: SupervisorList): SupervisorReading | undefined {
    const listed = list.supervisors.get(id);
    if (!listed) return { version: list.version, supervisor: undefined };
    const flag = this.suspendedFlags.get(flagKey(client, id));
    return flag === undefined ? undefined : { version: list.version, supervisor: { ...listed, suspended: flag } };
  }

  /**
   * Remembers the stored spec's suspended flag: the state list cannot tell (Druid 33 fills its
   * `suspended` only for `?system`, and a supervisor that never ran reports an unhealthy state,
   * not SUSPENDED, while suspended).
   */
  private noteSpec(client: DruidClient, id: string, supervisor: LiveSupervisor | undefined, readStartedAt?: number): LiveSupervisor | undefined {
    const key = flagKey(client, id);
    // A reading that a write to this supervisor overlapped may show the spec from before it.
    if (readStartedAt !== undefined && this.writtenSince(client, "supervisors", id, readStartedAt)) return supervisor;
    if (supervisor?.spec) this.suspendedFlags.set(key, supervisor.suspended);
    else if (!supervisor) this.suspendedFlags.delete(key);
    return supervisor;
  }

  /** The read-back after our own write is the trusted reading of the flag. */
  remember(client: DruidClient, id: string, supervisor: LiveSupervisor | undefined): void {
    this.noteSpec(client, id, supervisor);
  }

  private forgetFlags(client: DruidClient, id: string): void {
    const prefix = `${client.target.baseUrl}\u0000`;
    const suffix = `\u0000${id}`;
    for (const key of this.suspendedFlags.keys()) if (key.startsWith(prefix) && key.endsWith(suffix)) this.suspendedFlags.delete(key);
  }

  /**
   * The cluster's supervisor states (no specs, no stored suspended flag) from a list that started
   * at or after `notBefore`: a shared one (in flight or done) when there is one, else a list of
   * its own, which becomes the shared one only once it succeeded. For the state poller: a failed
   * or slow poll never takes away the list other readers use, nor fails them.
   */
  async supervisorStates(client: DruidClient, notBefore: number): Promise<{ startedAt: number; supervisors: ReadonlyMap<string, LiveSupervisor> }> {
    const key = listKey(client, "supervisors");
    const shared = this.lists.get(key) as ListReading<SupervisorList> | undefined;
    if (shared && shared.startedAt >= notBefore) {
      const list = await shared.promise;
      return { startedAt: shared.startedAt, supervisors: list.supervisors };
    }
    const startedAt = this.now();
    this.options.onFetch?.("supervisors", "list");
    const list = await this.fetchSupervisorList(client);
    const current = this.lists.get(key);
    if (!current || current.startedAt < startedAt) {
      this.lists.set(key, { startedAt, promise: Promise.resolve(list) });
      this.pruneWrites(client, "supervisors");
    }
    return { startedAt, supervisors: list.supervisors };
  }

  /** The clock of every `startedAt` and `notBefore` here. */
  clock(): number {
    return this.now();
  }

  /** The datasource's compaction config, undefined when it has none (`maxAgeMs` as for supervisors). */
  async compaction(client: DruidClient, dataSource: string, maxAgeMs?: number): Promise<JsonObject | undefined> {
    const list = await this.fromList(client, "compaction", dataSource, maxAgeMs, () => client.listCompactionConfigs());
    if (list) return list.get(dataSource);
    this.options.onFetch?.("compaction", "item");
    return client.getCompactionConfig(dataSource);
  }

  /** The datasource's own retention rules ([] when none). */
  async rules(client: DruidClient, dataSource: string, maxAgeMs?: number): Promise<JsonObject[]> {
    const list = await this.fromList(client, "rules", dataSource, maxAgeMs, () => client.listRules());
    if (list) return list.get(dataSource) ?? [];
    this.options.onFetch?.("rules", "item");
    return client.getRules(dataSource);
  }

  /** Druid's version, as last read for this cluster (at most `maxAgeMs` old). */
  async version(client: DruidClient): Promise<string> {
    const key = clusterKey(client);
    const known = this.versions.get(key);
    if (known && this.now() - known.at <= this.options.maxAgeMs) return known.version;
    const version = await client.version();
    this.versions.set(key, { at: this.now(), version });
    return version;
  }

  /** Runs a write to `item`; readings that started before it ended are not fresh for `item`. */
  async write<T>(client: DruidClient, part: SnapshotPart, item: string, call: () => Promise<T>): Promise<T> {
    const key = itemKey(client, part, item);
    const writes = this.writes.get(key) ?? { inProgress: 0, endedAt: 0 };
    this.writes.set(key, writes);
    writes.inProgress++;
    // What the supervisor's stored spec said is not known any more, for any login: the next
    // reading reads it alone (or the read-back after this write says it). Readings this write
    // overlaps do not record it (noteSpec).
    if (part === "supervisors") this.forgetFlags(client, item);
    try {
      return await call();
    } finally {
      writes.inProgress--;
      writes.endedAt = this.now();
    }
  }

  /** Forget everything about a cluster (e.g. after an error, so the next reader asks again). */
  invalidate(client: DruidClient): void {
    // The lists are keyed `${clusterKey}\0${part}`: this login's only (an anonymous client's key is
    // a prefix of every login's).
    const prefix = `${clusterKey(client)}\u0000`;
    for (const key of this.lists.keys()) if (key.startsWith(prefix)) this.lists.delete(key);
  }

  private fetchSupervisorList(client: DruidClient): Promise<SupervisorList> {
    const startedAt = this.now();
    return Promise.all([client.version(), client.listSupervisorStates()]).then(([version, list]) => {
      this.versions.set(clusterKey(client), { at: this.now(), version });
      const supervisors = new Map(list.map((s) => [s.id, s]));
      // What the cluster no longer has is forgotten (not what was written since the list started:
      // a create's read-back noted its flag, and the list may predate the create).
      const prefix = flagKey(client, "");
      for (const key of this.suspendedFlags.keys()) {
        const id = key.slice(prefix.length);
        if (key.startsWith(prefix) && !supervisors.has(id) && !this.writtenSince(client, "supervisors", id, startedAt)) this.suspendedFlags.delete(key);
      }
      return { version, supervisors };
    });
  }

  /**
   * The shared list when it is fresh for `item`; undefined when only the item is stale (the
   * caller reads the item alone). A stale list is fetched again, shared by concurrent readers.
   */
  private async fromList<T>(client: DruidClient, part: SnapshotPart, item: string, itemMaxAgeMs: number | undefined, fetch: () => Promise<T>): Promise<T | undefined> {
    const reading = this.listReading(client, part, fetch);
    const list = await reading.promise;
    const writtenSince = this.writtenSince(client, part, item, reading.startedAt);
    // Checked after the wait too: a slow reading may have outlived its age (and the write marks).
    const age = this.now() - reading.startedAt;
    const tooOld = age > this.options.maxAgeMs || (itemMaxAgeMs !== undefined && age > itemMaxAgeMs);
    return writtenSince || tooOld ? undefined : list;
  }

  /** The shared reading of a list, started again when older than `maxAgeMs`. */
  private listReading<T>(client: DruidClient, part: SnapshotPart, fetch: () => Promise<T>): ListReading<T> {
    const key = listKey(client, part);
    const now = this.now();
    let reading = this.lists.get(key) as ListReading<T> | undefined;
    if (!reading || now - reading.startedAt > this.options.maxAgeMs) {
      this.pruneLists(now);
      reading = { startedAt: now, promise: fetch() };
      this.lists.set(key, reading);
      this.options.onFetch?.(part, "list");
      const started = reading;
      started.promise.then(
        () => this.pruneWrites(client, part),
        () => {
          // A failed reading is not cached: the next reader asks Druid again.
          if (this.lists.get(key) === started) this.lists.delete(key);
        },
      );
    }
    return reading;
  }

  /**
   * Lists no reader would use any more go (a login whose password changed, a Druid no resource
   * names now): the map must not grow with every password a namespace's Secret ever held.
   */
  private pruneLists(now: number): void {
    for (const [key, reading] of this.lists) if (now - reading.startedAt > 2 * this.options.maxAgeMs) this.lists.delete(key);
    for (const [key, known] of this.versions) if (now - known.at > 2 * this.options.maxAgeMs) this.versions.delete(key);
  }

  /** A write to `item` is under way, or ended at or after `since`: what was read since may predate it. */
  private writtenSince(client: DruidClient, part: SnapshotPart, item: string, since: number): boolean {
    const writes = this.writes.get(itemKey(client, part, item));
    return writes !== undefined && (writes.inProgress > 0 || writes.endedAt >= since);
  }

  /** A write mark can go once every reading that started before it is too old to be used anyway. */
  private pruneWrites(client: DruidClient, part: SnapshotPart): void {
    const prefix = `${client.target.baseUrl}\u0000${part}\u0000`;
    const now = this.now();
    for (const [key, writes] of this.writes) {
      if (key.startsWith(prefix) && writes.inProgress === 0 && now - writes.endedAt > this.options.maxAgeMs) this.writes.delete(key);
    }
  }
}

/**
 * Per login, as the lists: a fresh list forgets the flags of what it does not show, and a login
 * whose list Druid filters must not make every other login's supervisors unknown again.
 */
function flagKey(client: DruidClient, id: string): string {
  return `${clusterKey(client)}\u0000${id}`;
}

function listKey(client: DruidClient, part: SnapshotPart): string {
  return `${clusterKey(client)}\u0000${part}`;
}

/** Writes are keyed by cluster only: a write by one Druid user changes what every user reads. */
function itemKey(client: DruidClient, part: SnapshotPart, item: string): string {
  return `${client.target.baseUrl}\u0000${part}\u0000${item}`;
}
