// In-memory stand-ins for the reconciler's edges, for unit tests: a Kubernetes store that applies
// status merge patches and finalizer JSON patches with resourceVersion preconditions (as the API
// server does), and a Druid that keeps supervisors, tasks, compaction configs and rules. Both
// append to one call log, so tests can assert the order of writes across the two systems.
import { ApiException, type KubernetesObject, type V1ConfigMap, type V1Secret } from "@kubernetes/client-node";
import { Writable } from "node:stream";
import { isDeepStrictEqual } from "node:util";
import winston from "winston";
import type { DruidIngestion, JsonObject } from "../../src/api/druid-ingestion.ts";
import type { DruidTarget } from "../../src/druid/client.ts";
import type { LiveSupervisor, LiveTask, SupervisorHealth, SupervisorState } from "../../src/druid/decode.ts";
import { sanitizeErrorText } from "../../src/druid/error-text.ts";
import { DruidError } from "../../src/druid/errors.ts";
import type { JsonPatchOp } from "../../src/kube/api.ts";
import type { EventRecord } from "../../src/kube/events.ts";

export function silentLogger(): winston.Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}

/** A logger that keeps every line (JSON, debug and up) in `lines`: tests assert what is never logged. */
export function capturingLogger(lines: string[]): winston.Logger {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString("utf8"));
      callback();
    },
  });
  return winston.createLogger({ level: "debug", format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
}

export type CallLog = string[];

/** Spec versions are unique across every fake cluster, as timestamps of two real clusters are. */
let specVersions = 0;

function applyMergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (typeof value === "object" && !Array.isArray(value) && typeof out[key] === "object" && out[key] !== null && !Array.isArray(out[key])) {
      out[key] = applyMergePatch(out[key] as Record<string, unknown>, value as Record<string, unknown>);
    } else out[key] = structuredClone(value);
  }
  return out;
}

export class FakeKube {
  readonly objects = new Map<string, DruidIngestion>();
  readonly configMaps = new Map<string, V1ConfigMap>();
  readonly events: Array<EventRecord & { object: string }> = [];
  readonly log: CallLog;
  private rv = 100;
  /** Set to make the next calls of that kind fail with this HTTP status. */
  failFinalizerWith: number | undefined;
  failConfigMapWith: number | undefined;
  /** The Secrets the API server has (all of them, opted in or not), for metadata reads. */
  secrets: () => V1Secret[] = () => [];

  constructor(log: CallLog) {
    this.log = log;
  }

  async secretExists(namespace: string, name: string): Promise<boolean> {
    this.log.push(`kube:secretExists ${namespace}/${name}`);
    return this.secrets().some((s) => s.metadata?.namespace === namespace && s.metadata?.name === name);
  }


  put(object: DruidIngestion): DruidIngestion {
    const stored = structuredClone({ ...object, metadata: { ...object.metadata, resourceVersion: String(++this.rv) } });
    this.objects.set(`${object.metadata.namespace}/${object.metadata.name}`, stored);
    return stored;
  }

  get(namespace: string, name: string): DruidIngestion | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }

  async patchIngestion(namespace: string, name: string, ops: JsonPatchOp[]): Promise<unknown> {
    this.log.push(`kube:patch ${ops.map((o) => `${o.op} ${o.path}`).join(", ")}`);
    if (this.failFinalizerWith) throw new ApiException(this.failFinalizerWith, "refused", JSON.stringify({ message: "finalizers are not allowed here" }), {});
    const current = this.get(namespace, name);
    if (!current) throw new ApiException(404, "not found", "{}", {});
    let finalizers = [...(current.metadata.finalizers ?? [])];
    for (const op of ops) {
      if (op.op === "test" && op.path === "/metadata/resourceVersion" && op.value !== current.metadata.resourceVersion) throw new ApiException(422, "test failed", JSON.stringify({ message: "the server rejected our request: test operation failed" }), {});
      if (op.op === "test" && op.path.startsWith("/metadata/finalizers/") && finalizers[Number(op.path.split("/").pop())] !== op.value) throw new ApiException(422, "test failed", "{}", {});
      if (op.op === "add" && op.path === "/metadata/finalizers") finalizers = op.value as string[];
      if (op.op === "add" && op.path === "/metadata/finalizers/-") finalizers.push(op.value as string);
      if (op.op === "remove") finalizers.splice(Number(op.path.split("/").pop()), 1);
    }
    const next: DruidIngestion = { ...current, metadata: { ...current.metadata, finalizers, resourceVersion: String(++this.rv) } };
    if (next.metadata.deletionTimestamp && finalizers.length === 0) this.objects.delete(`${namespace}/${name}`);
    else this.objects.set(`${namespace}/${name}`, next);
    return next;
  }

  /** Runs before each status patch (e.g. to let another writer change the object first). */
  beforeStatusPatch: ((namespace: string, name: string, patch: Record<string, unknown>) => void) | undefined;
  /** Status fields an older CRD's schema does not have: the API server drops them (a patch that then changes nothing keeps the resourceVersion). */
  prunedStatusFields: string[] = [];

  async patchIngestionStatus(namespace: string, name: string, status: Record<string, unknown>, resourceVersion?: string): Promise<KubernetesObject> {
    this.beforeStatusPatch?.(namespace, name, status);
    this.log.push(`kube:status ${Object.keys(status).sort().join(",")}${resourceVersion ? ` @${resourceVersion}` : ""}`);
    const current = this.get(namespace, name);
    if (!current) throw new ApiException(404, "not found", "{}", {});
    if (resourceVersion && resourceVersion !== current.metadata.resourceVersion) throw new ApiException(409, "conflict", JSON.stringify({ message: "the object has been modified" }), {});
    const merged = applyMergePatch((current.status ?? {}) as Record<string, unknown>, status);
    for (const field of this.prunedStatusFields) delete merged[field];
    if (isDeepStrictEqual(merged, current.status ?? {})) return current as unknown as KubernetesObject;
    const next = { ...current, status: merged, metadata: { ...current.metadata, resourceVersion: String(++this.rv) } } as DruidIngestion;
    this.objects.set(`${namespace}/${name}`, next);
    return next as unknown as KubernetesObject;
  }

  async patchConfigMap(namespace: string, name: string, patch: Record<string, unknown>): Promise<V1ConfigMap> {
    this.log.push(`kube:configmap patch ${name}`);
    if (this.failConfigMapWith) throw new ApiException(this.failConfigMapWith, "forbidden", JSON.stringify({ message: 'configmaps "x" is forbidden: exceeded quota' }), {});
    const key = `${namespace}/${name}`;
    const current = this.configMaps.get(key);
    if (!current) throw new ApiException(404, "not found", "{}", {});
    const wanted = (patch["metadata"] as { resourceVersion?: string } | undefined)?.resourceVersion;
    if (wanted !== undefined && wanted !== (current.metadata?.resourceVersion ?? "")) throw new ApiException(409, "conflict", "{}", {});
    const next = applyMergePatch(current as Record<string, unknown>, patch) as V1ConfigMap;
    next.metadata = { ...next.metadata, resourceVersion: String(++this.rv) };
    this.configMaps.set(key, next);
    return next;
  }

  async createConfigMap(configMap: V1ConfigMap): Promise<V1ConfigMap> {
    this.log.push(`kube:configmap create ${configMap.metadata?.name}`);
    const key = `${configMap.metadata?.namespace}/${configMap.metadata?.name}`;
    if (this.failConfigMapWith) throw new ApiException(this.failConfigMapWith, "forbidden", JSON.stringify({ message: 'configmaps "x" is forbidden: exceeded quota' }), {});
    if (this.configMaps.has(key)) throw new ApiException(409, "exists", JSON.stringify({ message: `configmaps "${configMap.metadata?.name}" already exists` }), {});
    const stored = { ...configMap, metadata: { ...configMap.metadata, resourceVersion: String(++this.rv) } };
    this.configMaps.set(key, stored);
    return stored;
  }

  async readConfigMap(namespace: string, name: string): Promise<V1ConfigMap> {
    const found = this.configMaps.get(`${namespace}/${name}`);
    if (!found) throw new ApiException(404, "not found", "{}", {});
    return found;
  }

  async getIngestion(namespace: string, name: string): Promise<KubernetesObject> {
    this.log.push(`kube:get ${namespace}/${name}`);
    const found = this.get(namespace, name);
    if (!found) throw new ApiException(404, "not found", "{}", {});
    return found as unknown as KubernetesObject;
  }

  async record(ingestion: DruidIngestion, event: EventRecord): Promise<void> {
    this.events.push({ ...event, object: `${ingestion.metadata.namespace}/${ingestion.metadata.name}` });
  }
}

interface FakeSupervisor {
  spec: JsonObject;
  state: string;
  /** What Druid reports whatever the spec says: a supervisor created suspended is PENDING until its first run. */
  reportedState?: string;
  /** Set to report it unhealthy: its detailed state, and the errors its status report lists (oldest first, as Druid). */
  unhealthy?: { detailedState: string; errors: Array<{ timestamp: string; exceptionClass: string; message: string }> };
  /** What its status report gives as aggregateLag (records behind). */
  lag?: number;
  /** Tasks its status report lists as reading (activeTasks); 0 when not set. */
  tasks?: number;
}

/** One Druid cluster; `client(target)` gives a DruidClient-shaped view that logs as that endpoint. */
export class FakeDruid {
  readonly supervisors = new Map<string, FakeSupervisor>();
  readonly tasks = new Map<string, LiveTask & { payload: JsonObject }>();
  readonly compaction = new Map<string, JsonObject>();
  readonly rules = new Map<string, JsonObject[]>();
  readonly log: CallLog;
  version = "33.0.0";
  /** Endpoints that answer with a connection error (shared by the clusters of one test). */
  readonly down: Set<string>;
  /** When each supervisor's spec was last stored (its history's newest version). */
  private readonly versions = new Map<string, string>();
  /** Make one call (by "METHOD route") fail once with this error, before Druid acts. */
  readonly failNext = new Map<string, DruidError>();
  /** Make one write fail once with this error after Druid acted (a lost response). */
  readonly failAfterActing = new Map<string, DruidError>();
  /** Offset resets Druid took, in order. */
  readonly offsetResets: Array<{ id: string; metadata: JsonObject }> = [];
  /** The secret values the last supervisor submission was given (for cleaning Druid's error text). */
  submittedSecrets: string[] = [];
  /** Druid's task clock, for createdTime. */
  now = (): string => new Date().toISOString();

  constructor(log: CallLog, down: Set<string> = new Set()) {
    this.log = log;
    this.down = down;
  }

  /** `secrets`: as the real client, Druid's text in a failure is cleaned of them (error-text.ts). */
  private call(endpoint: string, what: string, secrets: readonly string[] = []): void {
    this.log.push(`druid:${what} @${endpoint}`);
    if (this.down.has(endpoint)) throw new DruidError("DruidUnreachable", `${what}: cannot reach Druid (ECONNREFUSED)`, { notSent: true });
    const failure = this.failNext.get(what);
    if (failure) {
      this.failNext.delete(what);
      if (secrets.length === 0) throw failure;
      throw new DruidError(failure.reason, sanitizeErrorText(failure.message, secrets), {
        notSent: failure.notSent,
        ...(failure.statusCode === undefined ? {} : { statusCode: failure.statusCode }),
        ...(failure.druidMessage === undefined ? {} : { druidMessage: sanitizeErrorText(failure.druidMessage, secrets) }),
      });
    }
  }

  afterActing(what: string): void {
    const failure = this.failAfterActing.get(what);
    if (failure) {
      this.failAfterActing.delete(what);
      throw failure;
    }
  }

  private live(id: string): LiveSupervisor | undefined {
    const s = this.supervisors.get(id);
    if (!s) return undefined;
    const suspended = s.spec["suspended"] === true;
    const state = s.reportedState ?? (suspended ? "SUSPENDED" : s.state);
    if (s.unhealthy) return { id, state, detailedState: s.unhealthy.detailedState, healthy: false, suspended, spec: structuredClone(s.spec) };
    return { id, state, detailedState: state, healthy: true, suspended, spec: structuredClone(s.spec) };
  }

  client(target: DruidTarget) {
    const e = target.baseUrl;
    const druid = this;
    return {
      target,
      async version() { druid.call(e, "GET /status"); return druid.version; },
      // As Druid 33's ?state=true: no spec, and `suspended` always false (only ?system fills it in).
      async listSupervisorStates() { druid.call(e, "GET /supervisor?state=true"); return [...druid.supervisors.keys()].map((id) => ({ ...(druid.live(id) as LiveSupervisor), spec: undefined, suspended: false })); },
      async supervisorWithState(id: string) { druid.call(e, `GET /supervisor/${id}+status`); return druid.live(id); },
      async getSupervisor(id: string) { druid.call(e, `GET /supervisor/${id}`); return druid.live(id)?.spec; },
      async supervisorState(id: string): Promise<SupervisorState | undefined> { druid.call(e, `GET /supervisor/${id}/status`); const l = druid.live(id); return l && { state: l.state, detailedState: l.detailedState, healthy: l.healthy, suspended: l.suspended }; },
      async supervisorHealth(id: string, secrets: readonly string[] = []): Promise<SupervisorHealth | undefined> {
        druid.call(e, `GET /supervisor/${id}/status (health)`);
        const l = druid.live(id);
        if (!l) return undefined;
        const errors = (druid.supervisors.get(id)?.unhealthy?.errors ?? []).map((x) => ({ ...x, message: sanitizeErrorText(x.message, secrets), streamException: true }));
        return { state: l.state, detailedState: l.detailedState, healthy: l.healthy, suspended: l.suspended, aggregateLag: druid.supervisors.get(id)?.lag, aggregateLagMillis: undefined, offsetsLastUpdated: undefined, activeTasks: druid.supervisors.get(id)?.tasks ?? 0, publishingTasks: 0, recentErrors: errors.reverse().slice(0, 3) };
      },
      async submitSupervisor(spec: JsonObject, _skip?: boolean, secrets: readonly string[] = []) {
        druid.submittedSecrets = [...secrets];
        const id = (typeof spec["id"] === "string" ? spec["id"] : ((spec["spec"] as JsonObject)["dataSchema"] as JsonObject)["dataSource"]) as string;
        druid.call(e, `POST /supervisor ${id}`, secrets);
        druid.supervisors.set(id, { spec: structuredClone({ ...spec, filledInByDruid: true }), state: "PENDING" });
        // History versions are Druid's store times: unique, and on Druid's clock.
        druid.versions.set(id, new Date(Date.parse(druid.now()) + ++specVersions).toISOString());
        druid.afterActing(`POST /supervisor ${id}`);
        return id;
      },
      async supervisorSpecVersion(id: string) { druid.call(e, `GET /supervisor/${id}/history`); return druid.versions.get(id); },
      async suspendSupervisor(id: string) { druid.call(e, `POST /supervisor/${id}/suspend`); const s = druid.supervisors.get(id); if (s) s.spec = { ...s.spec, suspended: true }; },
      async resumeSupervisor(id: string) { druid.call(e, `POST /supervisor/${id}/resume`); const s = druid.supervisors.get(id); if (s) s.spec = { ...s.spec, suspended: false }; },
      async resetSupervisor(id: string) { druid.call(e, `POST /supervisor/${id}/reset`); druid.afterActing(`POST /supervisor/${id}/reset`); },
      async resetOffsets(id: string, metadata: JsonObject) { druid.call(e, `POST /supervisor/${id}/resetOffsets`); druid.offsetResets.push({ id, metadata }); druid.afterActing(`POST /supervisor/${id}/resetOffsets`); },
      async resetToLatestAndBackfill(id: string, backfillTaskCount: number | undefined) {
        druid.call(e, `POST /supervisor/${id}/resetToLatestAndBackfill`);
        druid.offsetResets.push({ id, metadata: { latestAndBackfill: backfillTaskCount ?? null } });
        druid.afterActing(`POST /supervisor/${id}/resetToLatestAndBackfill`);
        return `${id}_backfill_${druid.offsetResets.length}`;
      },
      async terminateSupervisor(id: string) { druid.call(e, `POST /supervisor/${id}/terminate`); return druid.supervisors.delete(id); },
      async submitTask(spec: JsonObject, secrets: readonly string[] = []) {
        const id = spec["id"] as string;
        druid.call(e, `POST /task ${id}`, secrets);
        if (druid.tasks.has(id)) throw new DruidError("DruidRejected", `POST /task: HTTP 400: Task[${id}] already exists`, { statusCode: 400, druidMessage: `Task[${id}] already exists` });
        druid.tasks.set(id, { id, statusCode: "RUNNING", runnerStatusCode: "RUNNING", errorMsg: undefined, createdTime: druid.now(), payload: spec });
        return id;
      },
      async submitSqlTask(body: JsonObject) {
        const id = `query-${(body["context"] as JsonObject)["sqlQueryId"]}`;
        druid.call(e, `POST /sql/task ${id}`);
        druid.tasks.set(id, { id, statusCode: "RUNNING", runnerStatusCode: "RUNNING", errorMsg: undefined, createdTime: druid.now(), payload: body });
        return id;
      },
      async taskStatus(id: string, secrets: readonly string[] = []) {
        druid.call(e, `GET /task/${id}/status`);
        const t = druid.tasks.get(id);
        if (!t) return undefined;
        const { payload: _p, ...status } = t;
        return status.errorMsg === undefined ? status : { ...status, errorMsg: sanitizeErrorText(status.errorMsg, secrets) };
      },
      async shutdownTask(id: string) { druid.call(e, `POST /task/${id}/shutdown`); const t = druid.tasks.get(id); if (t) t.statusCode = "FAILED"; },
      async listCompactionConfigs() { druid.call(e, "GET /compaction"); return new Map(druid.compaction); },
      async getCompactionConfig(ds: string) { druid.call(e, `GET /compaction/${ds}`); return druid.compaction.get(ds); },
      async submitCompactionConfig(config: JsonObject) { druid.call(e, `POST /compaction ${config["dataSource"]}`); druid.compaction.set(config["dataSource"] as string, { ...config, taskPriority: 25 }); },
      async deleteCompactionConfig(ds: string) { druid.call(e, `DELETE /compaction/${ds}`); return druid.compaction.delete(ds); },
      async listRules() { druid.call(e, "GET /rules"); return new Map(druid.rules); },
      async getRules(ds: string) { druid.call(e, `GET /rules/${ds}`); return druid.rules.get(ds) ?? []; },
      async submitRules(ds: string, rules: JsonObject[]) { druid.call(e, `POST /rules/${ds}`); if (rules.length === 0) druid.rules.delete(ds); else druid.rules.set(ds, rules); },
    };
  }
}
