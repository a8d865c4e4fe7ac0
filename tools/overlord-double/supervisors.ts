// The supervisors of the Overlord double: stored specs in the form Druid 33 echoes them, their
// history and their state. Every list entry is serialized once per change of that supervisor, so
// a list of 10,000 is one join per call and one supervisor's read or write touches one map entry.
// No HTTP here (tools/overlord-double.ts maps these outcomes to Druid's status codes and bodies).
// Deliberately not modelled: tasks, offsets, lag and partitions; unhealthy states (every
// supervisor is healthy); the PENDING/CONNECTING_TO_STREAM phases (a supervisor is RUNNING or
// SUSPENDED as soon as it is written); Druid's defaults filled into stored specs (specs are
// stored as submitted, only rearranged as Druid 33 echoes them); supervisor types other than
// kafka and kinesis.
import type { JsonObject, JsonValue } from "../../src/api/druid-ingestion.ts";
import { BodyRejected } from "./body-rejected.ts";

export type SupervisorOutcome = { kind: "done"; json: string } | { kind: "unknown" } | { kind: "already"; state: "suspended" | "running" };

export interface SupervisorStoreOptions {
  /** The Druid version imitated: from 34 a top-level `id` names the supervisor (#18082). */
  druidVersion: string;
}

interface Supervisor {
  /** The stored spec, serialized once: it is the body of GET /supervisor/{id} and part of every list. */
  specJson: string;
  suspended: boolean;
  dataSource: string;
  stream: string | undefined;
  replicas: number;
  durationSeconds: number;
  fullEntryJson: string;
  stateEntryJson: string;
}

interface HistoryEntry {
  specJson: string;
  version: string;
}

const SPEC_CLASS = "org.apache.druid.indexing.overlord.supervisor.SupervisorSpec";
/** The supervisor types the double runs, with the Java class Druid names in its refusals. */
const STREAM_SPEC_CLASSES: Readonly<Record<string, string>> = {
  kafka: "org.apache.druid.indexing.kafka.supervisor.KafkaSupervisorSpec",
  kinesis: "org.apache.druid.indexing.kinesis.supervisor.KinesisSupervisorSpec",
};
/** As a Druid 33 with both stream extensions lists them (NoopSupervisorSpec is the tombstone). */
const KNOWN_SPEC_TYPES = ["NoopSupervisorSpec", "autocompact", "kafka", "kinesis", "scheduled_batch"];

export class SupervisorStore {
  private readonly supervisors = new Map<string, Supervisor>();
  /** Oldest first; kept after terminate, as Druid keeps it. */
  private readonly histories = new Map<string, HistoryEntry[]>();
  private readonly idFromBody: boolean;
  private lastVersionMs = 0;

  constructor(options: SupervisorStoreOptions) {
    this.idFromBody = majorVersion(options.druidVersion) >= 34;
  }

  get size(): number {
    return this.supervisors.size;
  }

  /**
   * Create or replace. Druid 33 restarts the supervisor on every POST unless
   * `skipRestartIfUnmodified` is given and the spec is unchanged, but stores a new version only
   * when the spec changed (as serialized), whatever the query says; restarts are not modelled
   * here, so only that rule is. Throws BodyRejected for a body Druid would refuse.
   */
  submit(body: unknown): string {
    const { id, spec } = this.storedForm(body);
    const specJson = JSON.stringify(spec);
    if (this.supervisors.get(id)?.specJson !== specJson) this.store(id, spec, specJson);
    return id;
  }

  idsJson(): string {
    return JSON.stringify([...this.supervisors.keys()]);
  }

  fullListJson(): string {
    return joinEntries(this.supervisors.values(), (s) => s.fullEntryJson);
  }

  stateListJson(): string {
    return joinEntries(this.supervisors.values(), (s) => s.stateEntryJson);
  }

  specJson(id: string): string | undefined {
    return this.supervisors.get(id)?.specJson;
  }

  /** `GET /supervisor/{id}/status`: the report of a stream supervisor with no tasks. */
  statusJson(id: string): string | undefined {
    const s = this.supervisors.get(id);
    if (!s) return undefined;
    const { state, detailedState } = stateOf(s.suspended);
    return JSON.stringify({
      id,
      generationTime: new Date().toISOString(),
      payload: {
        dataSource: s.dataSource,
        stream: s.stream,
        partitions: 0,
        replicas: s.replicas,
        durationSeconds: s.durationSeconds,
        activeTasks: [],
        publishingTasks: [],
        minimumLag: {},
        aggregateLag: 0,
        suspended: s.suspended,
        healthy: true,
        state,
        detailedState,
        recentErrors: [],
      },
    });
  }

  /** Newest first, as Druid answers; undefined when there never was a spec for the id. */
  historyJson(id: string): string | undefined {
    const history = this.histories.get(id);
    if (!history) return undefined;
    const entries: string[] = [];
    for (let i = history.length - 1; i >= 0; i--) {
      const entry = history[i] as HistoryEntry;
      entries.push(`{"spec":${entry.specJson},"version":${JSON.stringify(entry.version)}}`);
    }
    return `[${entries.join(",")}]`;
  }

  /** Suspend or resume: a new spec version with the flag, answered with the whole spec. */
  setSuspended(id: string, suspended: boolean): SupervisorOutcome {
    const current = this.supervisors.get(id);
    if (!current) return { kind: "unknown" };
    if (current.suspended === suspended) return { kind: "already", state: suspended ? "suspended" : "running" };
    const spec = { ...(JSON.parse(current.specJson) as JsonObject), suspended };
    const specJson = JSON.stringify(spec);
    this.store(id, spec, specJson);
    return { kind: "done", json: specJson };
  }

  /** Reset clears offsets Druid keeps; the double keeps none, so only the answer is left. */
  reset(id: string): SupervisorOutcome {
    return this.supervisors.has(id) ? { kind: "done", json: JSON.stringify({ id }) } : { kind: "unknown" };
  }

  /** Stops and forgets the supervisor; its history stays, with Druid's tombstone as the newest version. */
  terminate(id: string): SupervisorOutcome {
    const current = this.supervisors.get(id);
    if (!current) return { kind: "unknown" };
    this.supervisors.delete(id);
    this.appendHistory(id, JSON.stringify({ type: "noop", id: null, dataSources: [current.dataSource], suspended: false, source: "noop" }));
    return { kind: "done", json: JSON.stringify({ id }) };
  }

  private store(id: string, spec: JsonObject, specJson: string): void {
    const suspended = spec["suspended"] === true;
    const { state, detailedState } = stateOf(suspended);
    const dataSchema = objectAt(spec, "dataSchema");
    const ioConfig = objectAt(spec, "ioConfig");
    const stateEntry = `"id":${JSON.stringify(id)},"state":"${state}","detailedState":"${detailedState}","healthy":true`;
    // Druid 33 fills the entry's own `suspended` only for `?system`: false in these two lists,
    // whatever the state (the stored spec's flag is the reliable one).
    this.supervisors.set(id, {
      specJson,
      suspended,
      dataSource: stringAt(dataSchema, "dataSource") ?? id,
      stream: stringAt(ioConfig, "topic") ?? stringAt(ioConfig, "stream"),
      replicas: typeof ioConfig?.["replicas"] === "number" ? ioConfig["replicas"] : 1,
      durationSeconds: isoSeconds(stringAt(ioConfig, "taskDuration")) ?? 3600,
      fullEntryJson: `{${stateEntry},"spec":${specJson},"suspended":false}`,
      stateEntryJson: `{${stateEntry},"suspended":false}`,
    });
    this.appendHistory(id, specJson);
  }

  private appendHistory(id: string, specJson: string): void {
    const history = this.histories.get(id) ?? [];
    history.push({ specJson, version: this.nextVersion() });
    this.histories.set(id, history);
  }

  /**
   * The spec as Druid 33 stores and echoes it: `spec` holding dataSchema, ioConfig and
   * tuningConfig, the same three again at the top level, then `context` and `suspended`.
   * Refusals carry the words of Druid's Jackson errors for the same mistakes.
   */
  private storedForm(body: unknown): { id: string; spec: JsonObject } {
    if (!isObject(body)) throw new BodyRejected(`Unexpected token (${Array.isArray(body) ? "END_ARRAY" : "VALUE"}), expected VALUE_STRING: need JSON String that contains type id (for subtype of ${SPEC_CLASS})`);
    const type = body["type"];
    if (type === undefined || type === null) throw new BodyRejected(`Could not resolve subtype of [simple type, class ${SPEC_CLASS}]: missing type id property 'type'`);
    const specClass = typeof type === "string" && Object.hasOwn(STREAM_SPEC_CLASSES, type) ? STREAM_SPEC_CLASSES[type] : undefined;
    if (specClass === undefined) {
      throw new BodyRejected(
        `Please make sure to load all the necessary extensions and jars with type '${String(type)}' on 'druid/overlord' service. Could not resolve type id '${String(type)}' as a subtype of \`${SPEC_CLASS}\` known type ids = [${KNOWN_SPEC_TYPES.join(", ")}]`,
      );
    }
    const inner = isObject(body["spec"]) ? body["spec"] : body;
    const dataSchema = inner["dataSchema"] ?? body["dataSchema"];
    const ioConfig = inner["ioConfig"] ?? body["ioConfig"];
    const tuningConfig = inner["tuningConfig"] ?? body["tuningConfig"];
    if (isObject(dataSchema)) {
      const problem = dataSourceProblem(dataSchema["dataSource"]);
      if (problem) throw new BodyRejected(`Cannot construct instance of \`org.apache.druid.segment.indexing.DataSchema\`, problem: Invalid value for field [dataSource]: ${problem}`);
    }
    if (!isObject(dataSchema)) throw new BodyRejected(`Cannot construct instance of \`${specClass}\`, problem: dataSchema`);
    if (!isObject(ioConfig)) throw new BodyRejected(`Cannot construct instance of \`${specClass}\`, problem: ioConfig`);
    const dataSource = dataSchema["dataSource"] as string;
    const explicitId = this.idFromBody && typeof body["id"] === "string" && body["id"] !== "" ? body["id"] : undefined;
    const nested: JsonObject = { dataSchema, ioConfig };
    if (tuningConfig !== undefined) nested["tuningConfig"] = tuningConfig;
    const spec: JsonObject = { type: type as string, spec: nested, dataSchema };
    if (tuningConfig !== undefined) spec["tuningConfig"] = tuningConfig;
    spec["ioConfig"] = ioConfig;
    spec["context"] = isObject(body["context"]) ? body["context"] : null;
    spec["suspended"] = body["suspended"] === true;
    return { id: explicitId ?? dataSource, spec };
  }

  /** History versions are Druid's ISO times; strictly increasing here so that order is never a tie. */
  private nextVersion(): string {
    this.lastVersionMs = Math.max(Date.now(), this.lastVersionMs + 1);
    return new Date(this.lastVersionMs).toISOString();
  }
}

/** Druid's IdUtils.validateId for a datasource name, in its words; undefined when valid. */
function dataSourceProblem(dataSource: JsonValue | undefined): string | undefined {
  if (typeof dataSource !== "string" || dataSource === "") return "must not be null";
  if (dataSource.startsWith(".")) return `Value [${dataSource}] cannot start with '.'.`;
  if (dataSource.includes("/")) return `Value [${dataSource}] cannot contain '/'.`;
  if (/[^\S ]/.test(dataSource)) return `Value [${dataSource}] contains illegal whitespace characters.  Only space is allowed.`;
  return undefined;
}

function stateOf(suspended: boolean): { state: string; detailedState: string } {
  return suspended ? { state: "SUSPENDED", detailedState: "SUSPENDED" } : { state: "RUNNING", detailedState: "RUNNING" };
}

function joinEntries<T>(items: Iterable<T>, entry: (item: T) => string): string {
  const parts: string[] = [];
  for (const item of items) parts.push(entry(item));
  return `[${parts.join(",")}]`;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function objectAt(value: JsonObject, key: string): JsonObject | undefined {
  const v: JsonValue | undefined = value[key];
  return isObject(v) ? v : undefined;
}

function stringAt(value: JsonObject | undefined, key: string): string | undefined {
  const v = value?.[key];
  return typeof v === "string" ? v : undefined;
}

/** Seconds of a simple ISO-8601 duration (PT1H, PT30M, PT3600S); undefined for anything else. */
function isoSeconds(duration: string | undefined): number | undefined {
  const m = duration === undefined ? null : /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(duration);
  if (!m || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

function majorVersion(version: string): number {
  const major = Number.parseInt(version, 10);
  return Number.isFinite(major) ? major : 0;
}
