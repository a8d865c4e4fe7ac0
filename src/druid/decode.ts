// Decoders for Druid responses: the one place where Druid's JSON becomes typed values.
// A DecodeError says what was expected and the shape of what came, never a value from the body:
// its message reaches conditions and Events, and the body may be any server's (see error-text.ts).
import type { JsonObject } from "../api/druid-ingestion.ts";
import { describeJson } from "./error-text.ts";

export class DecodeError extends Error {
  constructor(what: string, expected: string, got: unknown) {
    super(`${what}: expected ${expected}, got ${describeJson(got)}`);
    this.name = "DecodeError";
  }
}

export interface LiveSupervisor {
  id: string;
  state: string | undefined;
  detailedState: string | undefined;
  healthy: boolean | undefined;
  suspended: boolean;
  /** The spec as Druid stores it (defaults filled in), when the list was asked with `?full`. */
  spec: JsonObject | undefined;
}

export interface LiveTask {
  id: string;
  /** RUNNING, SUCCESS or FAILED. */
  statusCode: string;
  /** WAITING, PENDING, RUNNING or NONE (finished). */
  runnerStatusCode: string | undefined;
  errorMsg: string | undefined;
  /** When Druid created the task (ISO 8601), if it says. */
  createdTime?: string | undefined;
}

/** The state part of `GET /druid/indexer/v1/supervisor/{id}/status`. */
export interface SupervisorState {
  state: string | undefined;
  detailedState: string | undefined;
  healthy: boolean | undefined;
  suspended: boolean | undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const optString = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const optBool = (v: unknown): boolean | undefined => (typeof v === "boolean" ? v : undefined);

/** `GET /druid/indexer/v1/supervisor?full` (and `?state=true`, which lacks `spec`). */
export function decodeSupervisorList(body: unknown): LiveSupervisor[] {
  if (!Array.isArray(body)) throw new DecodeError("supervisor list", "a JSON array", body);
  return body.map((entry: unknown, i) => {
    if (!isObject(entry) || typeof entry["id"] !== "string") throw new DecodeError(`supervisor list entry ${i}`, "an object with a string id", entry);
    const spec = isObject(entry["spec"]) ? (entry["spec"] as JsonObject) : undefined;
    const state = optString(entry["state"]);
    // The list's own `suspended` is not reliable (Druid 33 reports false right after a suspend,
    // and only `?system` fills it in); the stored spec's flag is, so it wins when the list
    // carries specs. Without one, either sign of suspension counts.
    const suspended = spec ? spec["suspended"] === true : optBool(entry["suspended"]) === true || state === "SUSPENDED";
    return { id: entry["id"], state, detailedState: optString(entry["detailedState"]), healthy: optBool(entry["healthy"]), suspended, spec };
  });
}

/** `GET /status`. */
export function decodeVersion(body: unknown): string {
  if (isObject(body) && typeof body["version"] === "string") return body["version"];
  throw new DecodeError("/status", "an object with a string version", body);
}

/** `GET /druid/coordinator/v1/config/compaction`: per-datasource configs keyed by datasource. */
export function decodeCompactionConfigs(body: unknown): Map<string, JsonObject> {
  if (!isObject(body)) throw new DecodeError("compaction config", "a JSON object", body);
  const configs = body["compactionConfigs"] ?? [];
  if (!Array.isArray(configs)) throw new DecodeError("compactionConfigs", "a JSON array", configs);
  const byDataSource = new Map<string, JsonObject>();
  for (const c of configs) {
    if (isObject(c) && typeof c["dataSource"] === "string") byDataSource.set(c["dataSource"], c as JsonObject);
  }
  return byDataSource;
}

/** `GET /druid/coordinator/v1/rules`: rules keyed by datasource (plus `_default`). */
export function decodeRules(body: unknown): Map<string, JsonObject[]> {
  if (!isObject(body)) throw new DecodeError("rules", "a JSON object", body);
  const rules = new Map<string, JsonObject[]>();
  for (const [ds, list] of Object.entries(body)) {
    if (Array.isArray(list)) rules.set(ds, list.filter(isObject) as JsonObject[]);
  }
  return rules;
}

/** `GET /druid/coordinator/v1/rules/{dataSource}`: the datasource's own rules ([] when none). */
export function decodeRuleList(body: unknown): JsonObject[] {
  if (body === undefined) return [];
  if (!Array.isArray(body)) throw new DecodeError("rules", "a JSON array", body);
  return body.filter(isObject) as JsonObject[];
}

/** `GET /druid/indexer/v1/task/{id}/status`; 200 with `status: null` means unknown. */
export function decodeTaskStatus(body: unknown): LiveTask | undefined {
  if (!isObject(body)) throw new DecodeError("task status", "a JSON object", body);
  const status = body["status"];
  if (status === null || status === undefined) return undefined;
  if (!isObject(status)) throw new DecodeError("task status.status", "a JSON object", status);
  const id = optString(status["id"]) ?? optString(body["task"]);
  const statusCode = optString(status["statusCode"]) ?? optString(status["status"]);
  if (!id || !statusCode) throw new DecodeError("task status.status", "an object with a string id and statusCode", status);
  const task: LiveTask = { id, statusCode, runnerStatusCode: optString(status["runnerStatusCode"]), errorMsg: optString(status["errorMsg"]) };
  const createdTime = optString(status["createdTime"]);
  if (createdTime) task.createdTime = createdTime;
  return task;
}

/** `GET /druid/indexer/v1/supervisor/{id}/status`: `{"id", "generationTime", "payload": {state, ...}}`. */
export function decodeSupervisorState(body: unknown): SupervisorState {
  if (!isObject(body) || !isObject(body["payload"])) throw new DecodeError("supervisor status", "an object with a payload object", body);
  const p = body["payload"];
  return { state: optString(p["state"]), detailedState: optString(p["detailedState"]), healthy: optBool(p["healthy"]), suspended: optBool(p["suspended"]) };
}

/** One of a supervisor's recent errors, as its status report lists them. */
export interface SupervisorError {
  timestamp: string | undefined;
  exceptionClass: string | undefined;
  message: string;
  /** Raised while talking to the stream (Kafka, Kinesis) rather than by the supervisor itself. */
  streamException: boolean | undefined;
}

/** The health part of a supervisor's status report: its state, lag and recent errors. */
export interface SupervisorHealth extends SupervisorState {
  /** Kafka: records behind, summed over partitions (absent while no task reported offsets). */
  aggregateLag: number | undefined;
  /** Kinesis (and Kafka where Druid computes it): milliseconds behind. */
  aggregateLagMillis: number | undefined;
  /** When Druid last fetched the stream's latest offsets (ISO 8601). */
  offsetsLastUpdated: string | undefined;
  /** Tasks reading, and tasks publishing what they read (absent when Druid's report has no such list). */
  activeTasks: number | undefined;
  publishingTasks: number | undefined;
  /** The newest first, at most MAX_RECENT_ERRORS. */
  recentErrors: SupervisorError[];
}

/** Recent errors kept from a report (Druid keeps up to druid.supervisor.maxStoredExceptionEvents). */
export const MAX_RECENT_ERRORS = 3;

const optNumber = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** `GET /druid/indexer/v1/supervisor/{id}/status`, with lag and recent errors. */
export function decodeSupervisorHealth(body: unknown): SupervisorHealth {
  const state = decodeSupervisorState(body);
  const p = (body as { payload: Record<string, unknown> }).payload;
  const errors = Array.isArray(p["recentErrors"]) ? p["recentErrors"] : [];
  const recentErrors = errors
    .filter(isObject)
    .map((e): SupervisorError => ({ timestamp: optString(e["timestamp"]), exceptionClass: optString(e["exceptionClass"]), message: optString(e["message"]) ?? "", streamException: optBool(e["streamException"]) }))
    // Druid appends: the newest is last. Timestamps are ISO 8601 in UTC, so they sort as text.
    .sort((a, b) => (b.timestamp ?? "").localeCompare(a.timestamp ?? ""))
    .slice(0, MAX_RECENT_ERRORS);
  const count = (v: unknown): number | undefined => (Array.isArray(v) ? v.length : undefined);
  return { ...state, aggregateLag: optNumber(p["aggregateLag"]), aggregateLagMillis: optNumber(p["aggregateLagMillis"]), offsetsLastUpdated: optString(p["offsetsLastUpdated"]), activeTasks: count(p["activeTasks"]), publishingTasks: count(p["publishingTasks"]), recentErrors };
}

/** POST responses: `{"id": ...}` for supervisors, `{"task": ...}` for tasks, `{"taskId": ...}` for SQL. */
export function decodeSubmittedId(body: unknown): string {
  if (isObject(body)) {
    for (const key of ["id", "task", "taskId"]) {
      const v = body[key];
      if (typeof v === "string" && v !== "") return v;
    }
  }
  throw new DecodeError("the response", "an object with a string id, task or taskId", body);
}

/**
 * `POST /supervisor/{id}/resetToLatestAndBackfill` (Druid 38+): `{"id", "backfillSupervisorId"}`.
 * Druid answered 2xx, so it acted: an answer without the id is no reason to send it again.
 */
export function decodeBackfillSupervisorId(body: unknown): string | undefined {
  const v = isObject(body) ? body["backfillSupervisorId"] : undefined;
  return typeof v === "string" && v !== "" ? v : undefined;
}

export function asJsonObject(body: unknown, what: string): JsonObject {
  if (!isObject(body)) throw new DecodeError(what, "a JSON object", body);
  return body as JsonObject;
}


/** `GET /druid/indexer/v1/supervisor/{id}/history`: newest first, `[{"spec": ..., "version": "<time>"}]`. */
export function decodeNewestVersion(body: unknown): string | undefined {
  if (!Array.isArray(body)) throw new DecodeError("supervisor history", "a JSON array", body);
  const newest: unknown = body[0];
  if (newest === undefined) return undefined;
  if (!isObject(newest) || typeof newest["version"] !== "string") throw new DecodeError("supervisor history entry 0", "an object with a string version", newest);
  return newest["version"];
}
