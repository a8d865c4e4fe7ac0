// Drift: has someone changed Druid's stored copy of a supervisor spec since this controller
// applied it? Druid stores the spec with its defaults filled in (`PT1H` becomes `PT3600S`, a
// dimension name becomes an object), so Druid's copy is never compared with the manifest, only
// with itself: its hash right after our apply is recorded, and a different hash later is drift.
// Paths that Druid itself rewrites (the task autoscaler's `ioConfig.taskCount`) and paths the
// resource lists in `spec.driftIgnorePaths` are left out of that hash. Pure.
import type { JsonObject, JsonValue } from "../api/druid-ingestion.ts";
import { contentHash } from "./canonical-json.ts";

/** Druid serializes a stream supervisor's parts both under `spec` and at the top level. */
const TWIN_ROOTS = new Set(["dataSchema", "ioConfig", "tuningConfig"]);

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function ioConfigOf(body: JsonObject): JsonObject | undefined {
  const inner = isObject(body["spec"]) ? body["spec"]["ioConfig"] : undefined;
  if (isObject(inner)) return inner;
  return isObject(body["ioConfig"]) ? body["ioConfig"] : undefined;
}

/** Paths Druid rewrites in the stored spec on its own, given the spec the resource asks for. */
export function druidOwnedPaths(body: JsonObject): string[] {
  const autoScaler = ioConfigOf(body)?.["autoScalerConfig"];
  // The lag-based autoscaler persists each scaling decision as a new ioConfig.taskCount.
  return isObject(autoScaler) && autoScaler["enableTaskAutoScaler"] === true ? ["/spec/ioConfig/taskCount"] : [];
}

export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new Error(`"${pointer}" is not a JSON pointer (it must start with /)`);
  return pointer.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function formatPointer(segments: readonly string[]): string {
  return segments.map((s) => `/${s.replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

/** A pointer and its twin (`/spec/ioConfig/x` ⇄ `/ioConfig/x`), since Druid stores both. */
function withTwin(pointer: string): string[] {
  const segments = parsePointer(pointer);
  if (segments[0] === "spec" && segments[1] !== undefined && TWIN_ROOTS.has(segments[1])) return [pointer, formatPointer(segments.slice(1))];
  if (segments[0] !== undefined && TWIN_ROOTS.has(segments[0])) return [pointer, formatPointer(["spec", ...segments])];
  return [pointer];
}

/** Every path left out of drift detection for this spec: Druid's own and the resource's, with twins, sorted. */
export function ignoredPaths(body: JsonObject, resourcePaths: readonly string[] | undefined): string[] {
  const all = new Set<string>();
  for (const p of [...druidOwnedPaths(body), ...(resourcePaths ?? [])]) for (const twin of withTwin(p)) all.add(twin);
  return [...all].sort();
}

/** A copy of `value` without what the pointer names (array items become null: indexes stay put). */
function without(value: JsonValue, segments: readonly string[]): JsonValue {
  const [head, ...rest] = segments;
  if (head === undefined) return value;
  if (Array.isArray(value)) {
    const index = /^\d+$/.test(head) ? Number(head) : -1;
    if (index < 0 || index >= value.length) return value;
    return value.map((item, i) => (i !== index ? item : rest.length === 0 ? null : without(item, rest)));
  }
  if (!isObject(value) || !(head in value)) return value;
  if (rest.length === 0) {
    const { [head]: _removed, ...kept } = value;
    return kept;
  }
  return { ...value, [head]: without(value[head] as JsonValue, rest) };
}

/** Druid's stored copy of a supervisor spec as compared for drift: without `suspended` (suspend/resume flip it) and the ignored paths. */
export function liveSupervisorSpecHash(spec: JsonObject, ignored: readonly string[] = []): string {
  const { suspended: _flag, ...rest } = spec;
  let value: JsonValue = rest;
  for (const pointer of ignored) value = without(value, parsePointer(pointer));
  return contentHash(value);
}

/** The value at a pointer, if any (to carry Druid-owned values over into a resubmission). */
export function valueAt(value: JsonValue | undefined, pointer: string): JsonValue | undefined {
  let current: JsonValue | undefined = value;
  for (const segment of parsePointer(pointer)) {
    if (Array.isArray(current)) current = /^\d+$/.test(segment) ? current[Number(segment)] : undefined;
    else if (isObject(current)) current = current[segment];
    else return undefined;
  }
  return current;
}

export function sameIgnoredPaths(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...(b ?? [])].sort());
}
