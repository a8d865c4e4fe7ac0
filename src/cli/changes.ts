// How a diff reads: the fields that change, and what each planned Druid call does to running
// tasks. Pure and table-tested (changes.test.ts).
import type { JsonObject, JsonValue } from "../api/druid-ingestion.ts";
import { jsonEqual } from "../controller/canonical-json.ts";
import type { DruidAction } from "../controller/model.ts";

export interface FieldChange {
  /** JSON pointer into the spec body. */
  path: string;
  op: "add" | "remove" | "change";
  from?: JsonValue;
  to?: JsonValue;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const escape = (key: string): string => key.replace(/~/g, "~0").replace(/\//g, "~1");

/** `path` or one of its ancestors is ignored (Druid's own paths, the resource's driftIgnorePaths, Secret values). */
function ignoredAt(path: string, ignored: readonly string[]): boolean {
  return ignored.some((p) => path === p || path.startsWith(`${p}/`));
}

/**
 * Every difference between two specs in the same form (the spec last applied, as status records
 * it, and the one the resource asks for now): added, removed and changed leaves. Arrays are
 * compared as a whole. `suspended` and ignored paths are left out.
 */
export function exactChanges(before: JsonObject, after: JsonObject, ignored: readonly string[] = []): FieldChange[] {
  const changes: FieldChange[] = [];
  const walk = (a: JsonValue | undefined, b: JsonValue | undefined, path: string): void => {
    if (ignoredAt(path, ignored)) return;
    if (isObject(a) && isObject(b)) {
      for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) walk(a[key], b[key], `${path}/${escape(key)}`);
      return;
    }
    if (a === undefined && b !== undefined) changes.push({ path, op: "add", to: b });
    else if (a !== undefined && b === undefined) changes.push({ path, op: "remove", from: a });
    else if (!jsonEqual(a, b)) changes.push({ path, op: "change", from: a, to: b });
  };
  const { suspended: _a, ...a } = before;
  const { suspended: _b, ...b } = after;
  walk(a, b, "");
  return changes;
}

/** Milliseconds of an ISO-8601 duration without years or months (PT1H, P1D, PT3600S), else undefined. */
function durationMs(text: string): number | undefined {
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!m || text === "P" || text.endsWith("T")) return undefined;
  const [, w = "0", d = "0", h = "0", min = "0", sec = "0"] = m;
  return (((Number(w) * 7 + Number(d)) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(sec) * 1000;
}

/**
 * Druid stores a spec with its defaults filled in and some values in another form, so its copy
 * is never equal to a manifest. A value the manifest gives stands for the stored one when it is
 * the same, or is Druid's form of it (as the real Druid 33 and 37 store them):
 * - a dimension named by a string is stored as {"type": "string", "name": ...};
 * - a granularity named by a string ("NONE", "hour") as {"type": "none"} / {"type": "hour"};
 * - a duration (taskDuration "PT1H") in seconds ("PT3600S").
 */
function sameAsStored(wanted: JsonValue, stored: JsonValue | undefined): boolean {
  if (typeof wanted === "string" && isObject(stored)) {
    if (stored["name"] === wanted && (stored["type"] === undefined || stored["type"] === "string")) return true;
    return Object.keys(stored).length === 1 && typeof stored["type"] === "string" && stored["type"] === wanted.toLowerCase();
  }
  if (typeof wanted === "string" && typeof stored === "string" && wanted !== stored) {
    const a = durationMs(wanted);
    return a !== undefined && a === durationMs(stored);
  }
  if (Array.isArray(wanted)) return Array.isArray(stored) && stored.length === wanted.length && wanted.every((w, i) => sameAsStored(w, stored[i]));
  if (isObject(wanted)) return isObject(stored) && Object.entries(wanted).every(([k, v]) => sameAsStored(v, stored[k]));
  return jsonEqual(wanted, stored);
}

/**
 * The fields the manifest sets whose value Druid's stored copy does not hold (Druid's copy has
 * defaults the manifest does not name: those are not differences). A field the manifest no
 * longer sets cannot be told from a default: only exactChanges against the spec last applied
 * shows removals.
 */
export function changesAgainstStored(stored: JsonObject, wanted: JsonObject, ignored: readonly string[] = []): FieldChange[] {
  const changes: FieldChange[] = [];
  const walk = (w: JsonValue, s: JsonValue | undefined, path: string): void => {
    if (ignoredAt(path, ignored) || sameAsStored(w, s)) return;
    if (isObject(w) && isObject(s)) {
      for (const key of Object.keys(w).sort()) walk(w[key] as JsonValue, s[key], `${path}/${escape(key)}`);
      return;
    }
    changes.push(s === undefined ? { path, op: "add", to: w } : { path, op: "change", from: s, to: w });
  };
  const { suspended: _s, ...s } = stored;
  const { suspended: _w, ...w } = wanted;
  walk(w, s, "");
  return changes;
}

export interface ActionEffect {
  /** What the call is, for a reader: "POST supervisor metrics (Updated)". */
  call: string;
  /** What Druid then does to ingestion. */
  effect: string;
  /** Running tasks are stopped or replaced (a restart a reviewer wants to know about). */
  restartsTasks: boolean;
}

export function effectOf(action: DruidAction): ActionEffect {
  switch (action.kind) {
    case "submitSupervisor":
      if (action.anew) return { call: `POST supervisor ${action.supervisorId} (${action.cause}, after terminating the old one)`, effect: "a new supervisor for the new stream or type; it starts reading where its offsets settings say, not where the old one stopped", restartsTasks: true };
      if (action.cause === "Created" || action.cause === "Recreated") return { call: `POST supervisor ${action.supervisorId} (${action.cause})`, effect: "Druid starts the supervisor and its tasks", restartsTasks: false };
      return { call: `POST supervisor ${action.supervisorId} (${action.cause})`, effect: "Druid replaces the running supervisor: its tasks stop reading and publish what they hold, and new tasks start with this spec from the stored offsets", restartsTasks: true };
    case "suspendSupervisor":
      return { call: `suspend supervisor ${action.supervisorId}`, effect: "its tasks stop reading and publish; no new tasks until resumed", restartsTasks: true };
    case "resumeSupervisor":
      return { call: `resume supervisor ${action.supervisorId}`, effect: "new tasks start from the stored offsets", restartsTasks: false };
    case "resetSupervisor":
      return { call: `reset supervisor ${action.supervisorId} (${action.cause})`, effect: "Druid kills its running tasks and forgets the stored offsets: reading restarts where useEarliestOffset says", restartsTasks: true };
    case "resetOffsets":
      return { call: `reset offsets of supervisor ${action.supervisorId}`, effect: "the stored offsets of the named partitions move; their tasks restart there", restartsTasks: true };
    case "resetToLatestAndBackfill":
      return { call: `reset supervisor ${action.supervisorId} to latest with backfill`, effect: "tasks restart at the latest offsets; a backfill supervisor reads the skipped range", restartsTasks: true };
    case "terminateSupervisor":
      return { call: `terminate supervisor ${action.supervisorId} (${action.cause})`, effect: "its tasks stop reading and publish; the supervisor is gone", restartsTasks: true };
    case "submitTask":
      return { call: `POST ${action.sql ? "SQL task" : "task"} ${action.taskId} (${action.cause})`, effect: "Druid runs the task once", restartsTasks: false };
    case "shutdownTask":
      return { call: `shut down task ${action.taskId} (${action.cause})`, effect: "the task stops", restartsTasks: true };
    case "submitCompaction":
      return { call: `POST compaction config of ${action.dataSource} (${action.cause})`, effect: "compaction follows the new config; ingestion tasks are not touched", restartsTasks: false };
    case "deleteCompaction":
      return { call: `delete compaction config of ${action.dataSource} (${action.cause})`, effect: "no more auto-compaction of the datasource; ingestion tasks are not touched", restartsTasks: false };
    case "submitRules":
      return { call: `POST retention rules of ${action.dataSource} (${action.cause})`, effect: "the Coordinator loads and drops segments by the new rules; ingestion tasks are not touched", restartsTasks: false };
    case "clearRules":
      return { call: `clear retention rules of ${action.dataSource} (${action.cause})`, effect: "the cluster's default rules apply to the datasource; ingestion tasks are not touched", restartsTasks: false };
  }
}

/** A value for one line of a terminal or a CI log. */
export function brief(value: JsonValue | undefined): string {
  if (value === undefined) return "(unset)";
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
