// What can be told about a supervisor spec without asking Druid, and which changes to a running
// supervisor Druid cannot make in place. Pure.
//
// A stream supervisor keeps its read position (offsets per partition) in Druid's metadata store,
// per datasource. Moving it to another topic or stream, or to another supervisor type, leaves
// that position pointing into the old one: Druid 34+ refuses such an update with 400; older Druid
// takes it and then starts from positions that mean nothing for the new stream (records skipped
// or read twice). So such a change is refused here, before any call, unless the resource accepts
// a recreate (suspend, reset the offsets, terminate, create anew).
import type { JsonObject, JsonValue } from "../api/druid-ingestion.ts";
import { valueAt } from "./drift.ts";

/** Supervisor types that read a stream, and the ioConfig fields that name what they read. */
const STREAM_FIELDS: Readonly<Record<string, readonly string[]>> = {
  kafka: ["topic", "topicPattern"],
  kinesis: ["stream"],
  rabbit: ["stream"],
};

/**
 * ioConfig fields that are periods. Druid reads them with Jackson's Joda module: a whole number
 * (milliseconds) or an ISO-8601 period, which Joda parses case-insensitively with signs and a
 * "." or "," before the fraction of a second.
 */
const PERIOD_FIELDS = ["taskDuration", "startDelay", "period", "completionTimeout", "lateMessageRejectionPeriod", "earlyMessageRejectionPeriod"];
const ISO_PERIOD = /^P(?=[-+]?\d|T[-+]?\d)([-+]?\d+Y)?([-+]?\d+M)?([-+]?\d+W)?([-+]?\d+D)?(T(?=[-+]?\d)([-+]?\d+H)?([-+]?\d+M)?([-+]?\d+([.,]\d+)?S)?)?$/i;

/** ioConfig fields that are counts of at least 1. */
const COUNT_FIELDS = ["taskCount", "replicas"];

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Where a supervisor spec keeps `part` (dataSchema, ioConfig, tuningConfig): under `spec`, or at the top (both are accepted by Druid). */
function partPointer(body: JsonObject, part: string): string {
  return isObject(body["spec"]) && isObject(body["spec"][part]) ? `/spec/${part}` : `/${part}`;
}

/** The spec's ioConfig (under spec, or at the top) and where it is. */
export function ioConfigOf(body: JsonObject): { pointer: string; ioConfig: JsonObject | undefined } {
  const pointer = partPointer(body, "ioConfig");
  const ioConfig = valueAt(body, pointer);
  return { pointer, ioConfig: isObject(ioConfig) ? ioConfig : undefined };
}

/** A value the spec gives by Secret reference: its content is not known here. */
function isReference(value: JsonValue | undefined): boolean {
  return isObject(value);
}

/** Whether Druid's supervisor of this type reads partitions of a stream (and keeps offsets for them). */
export function isStreamSupervisorType(type: JsonValue | undefined): type is string {
  return typeof type === "string" && STREAM_FIELDS[type] !== undefined;
}

/** What a stream supervisor spec reads (Druid's ioConfig "stream": the topic, the topicPattern or the stream), when given as a value. */
export function streamNameOf(body: JsonObject): string | undefined {
  const fields = isStreamSupervisorType(body["type"]) ? STREAM_FIELDS[body["type"]] : undefined;
  const ioConfig = ioConfigOf(body).ioConfig;
  for (const f of fields ?? []) {
    const v = ioConfig?.[f];
    if (typeof v === "string" && v !== "") return v;
  }
  return undefined;
}

/**
 * Why this supervisor spec cannot work, as far as it can be told without Druid: the problems, each
 * naming the field (JSON pointer into the spec) and what is expected. Empty when none is found.
 */
export function supervisorSpecProblems(body: JsonObject): string[] {
  const problems: string[] = [];
  const type = body["type"];
  if (typeof type !== "string" || type === "") problems.push('/type: the supervisor type must be a non-empty string (e.g. "kafka")');
  const id = body["id"];
  if (typeof id === "string") problems.push(...idProblems("/id", id));
  const dsPointer = `${partPointer(body, "dataSchema")}/dataSource`;
  const dataSource = valueAt(body, dsPointer);
  if (typeof dataSource === "string") problems.push(...idProblems(dsPointer, dataSource));
  const { pointer, ioConfig } = ioConfigOf(body);
  const streamFields = typeof type === "string" ? STREAM_FIELDS[type] : undefined;
  if (streamFields) {
    if (!ioConfig) problems.push(`${pointer}: a ${type} supervisor needs an ioConfig naming its ${streamFields.join(" or ")}`);
    else {
      const named = streamFields.filter((f) => ioConfig[f] !== undefined && ioConfig[f] !== null);
      if (named.length === 0) problems.push(`${pointer}: a ${type} supervisor needs ${streamFields.map((f) => `ioConfig.${f}`).join(" or ")}`);
      if (named.length > 1) problems.push(`${pointer}: set only one of ${named.map((f) => `ioConfig.${f}`).join(", ")}`);
      for (const f of named) {
        const v = ioConfig[f];
        if (!isReference(v) && (typeof v !== "string" || v.trim() === "")) problems.push(`${pointer}/${f}: must be a non-empty string`);
      }
    }
  }
  if (ioConfig) {
    for (const f of PERIOD_FIELDS) {
      const v = ioConfig[f];
      if (v === undefined || v === null || isReference(v)) continue;
      if (typeof v === "number" && Number.isInteger(v)) continue;
      if (typeof v !== "string" || !ISO_PERIOD.test(v)) problems.push(`${pointer}/${f}: ${JSON.stringify(v)} is not an ISO-8601 period (e.g. "PT1H", "PT30S", "P1D")`);
    }
    // Under the task autoscaler Druid decides taskCount itself.
    const autoscaled = isObject(ioConfig["autoScalerConfig"]) && ioConfig["autoScalerConfig"]["enableTaskAutoScaler"] === true;
    for (const f of COUNT_FIELDS) {
      const v = ioConfig[f];
      if (v === undefined || v === null || isReference(v) || (f === "taskCount" && autoscaled)) continue;
      // Jackson takes "2" for 2 (Helm's quote gives that).
      const n = typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
      if (typeof n !== "number" || !Number.isInteger(n) || n < 1) problems.push(`${pointer}/${f}: ${JSON.stringify(v)} must be a whole number of at least 1`);
    }
  }
  return problems;
}

/**
 * What Druid's id rules (IdUtils.validateId) certainly refuse: empty, a "/", a leading ".", and
 * tab, line breaks, vertical tab or form feed. (Whitespace beyond ASCII is judged by Java
 * differently from JavaScript: left to Druid.)
 */
function idProblems(pointer: string, value: string): string[] {
  if (value === "") return [`${pointer}: must not be empty`];
  if (value.includes("/")) return [`${pointer}: ${JSON.stringify(value)} must not contain "/"`];
  if (value.startsWith(".")) return [`${pointer}: ${JSON.stringify(value)} must not start with "."`];
  if (/[\t\n\v\f\r]/.test(value)) return [`${pointer}: ${JSON.stringify(value)} must not contain tabs or line breaks`];
  return [];
}

/** A change to a running supervisor Druid cannot make in place without losing its read position. */
export interface UnsafeChange {
  kind: "type" | "stream";
  /** The field, as a JSON pointer into the desired spec. */
  field: string;
  from: JsonValue | undefined;
  to: JsonValue | undefined;
}

/**
 * The changes from Druid's stored spec (`live`) to the desired one that move the supervisor to
 * another type or another stream. Values given by Secret reference in the desired spec are not
 * compared (Druid holds their value, which is not known here).
 */
export function unsafeChanges(live: JsonObject, desired: JsonObject): UnsafeChange[] {
  const liveType = live["type"];
  const wantedType = desired["type"];
  if (typeof liveType === "string" && typeof wantedType === "string" && liveType !== wantedType) {
    return [{ kind: "type", field: "/type", from: liveType, to: wantedType }];
  }
  const fields = typeof wantedType === "string" ? STREAM_FIELDS[wantedType] : undefined;
  if (!fields) return [];
  const liveIo = ioConfigOf(live).ioConfig;
  const { pointer, ioConfig: wantedIo } = ioConfigOf(desired);
  if (!liveIo || !wantedIo) return [];
  const changes: UnsafeChange[] = [];
  for (const f of fields) {
    const from = liveIo[f] ?? undefined;
    const to = wantedIo[f] ?? undefined;
    if (isReference(to) || from === to) continue;
    if ((from === undefined || from === null) && (to === undefined || to === null)) continue;
    changes.push({ kind: "stream", field: `${pointer}/${f}`, from, to });
  }
  return changes;
}

/** Each change as "<field> from <old> to <new>", for conditions and events. */
export function describeUnsafeChanges(changes: readonly UnsafeChange[]): string {
  return changes.map((c) => `${c.field} from ${c.from === undefined ? "(unset)" : JSON.stringify(c.from)} to ${c.to === undefined ? "(unset)" : JSON.stringify(c.to)}`).join(", ");
}
