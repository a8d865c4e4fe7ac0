// From spec.resetOffsets to the Druid call that moves a supervisor's stored offsets, or to why
// nothing is sent. Pure.
//
// `partitions` becomes Druid's DataSourceMetadata for `POST /supervisor/{id}/resetOffsets`: the
// supervisor type's metadata with "end" sequence numbers for the stream the supervisor reads.
// Druid merges them into its checkpoint (partitions not named keep theirs) and restarts the tasks
// reading the partitions named. Druid refuses a stream other than the one the supervisor reads
// (500 on Druid 33 and 37), and an empty map would change nothing: both are caught here.
//
// `latestAndBackfill` is Druid 38's `POST /supervisor/{id}/resetToLatestAndBackfill`. Druid takes
// it only from a RUNNING supervisor that does not start from the earliest offsets and runs with
// concurrent locks (the backfill writes the same intervals); what can be seen here is checked here.
import type { JsonObject, JsonValue, ResetOffsets } from "../api/druid-ingestion.ts";
import { supportsResetToLatestAndBackfill } from "../druid/capabilities.ts";
import type { LiveSupervisor } from "../druid/decode.ts";
import type { DruidAction, Failure } from "./model.ts";
import { ioConfigOf, isStreamSupervisorType, streamNameOf } from "./spec-checks.ts";

export type OffsetResetStep =
  | { kind: "send"; action: DruidAction }
  /** Nothing can be sent for this spec (a user must change it). */
  | { kind: "refuse"; failure: Failure }
  /** Not yet: Druid would refuse it in the supervisor's present state. */
  | { kind: "wait"; failure: Failure };

export interface OffsetResetInput {
  reset: ResetOffsets;
  nonce: string;
  supervisorId: string;
  /** The spec as it is being applied. */
  desired: JsonObject;
  /** The supervisor as Druid reports it before this reconcile's writes. */
  live: LiveSupervisor | undefined;
  druidVersion: string;
  wantSuspended: boolean;
  /** Other steps for the supervisor come first this reconcile (an update, a suspend, a reset): the offsets wait for the next. */
  othersFirst?: boolean;
}

const DECIMAL = /^\d+$/;
/** Druid reads Kafka partition numbers as Java ints and offsets as longs. */
const MAX_INT = 2_147_483_647n;
const MAX_LONG = 9_223_372_036_854_775_807n;
/** Bounds on what a resource can make the controller send, store and say. */
const MAX_PARTITION_CHARS = 256;
const MAX_OFFSET_CHARS = 128;

const quoted = (text: string): string => JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
const withinLong = (offset: number | string): boolean => (typeof offset === "number" ? Number.isSafeInteger(offset) && offset >= 0 : DECIMAL.test(offset) && BigInt(offset) <= MAX_LONG);

/** Why a partition's key or offset cannot be what this supervisor type reads; undefined when fine. */
function partitionProblem(type: string, multiTopic: boolean, partition: string, offset: number | string): string | undefined {
  if (partition.length > MAX_PARTITION_CHARS) return `partition ${quoted(partition)} is longer than ${MAX_PARTITION_CHARS} characters`;
  if (typeof offset === "string" && offset.length > MAX_OFFSET_CHARS) return `the offset of partition ${quoted(partition)} is longer than ${MAX_OFFSET_CHARS} characters`;
  switch (type) {
    case "kafka": {
      // Druid keys a topicPattern's partitions by topic and number, a topic's by number only.
      const number = multiTopic ? /^[^:]+:(\d+)$/.exec(partition)?.[1] : DECIMAL.test(partition) ? partition : undefined;
      if (number === undefined) return multiTopic ? `partition ${quoted(partition)} is not <topic>:<number> (the supervisor reads a topicPattern)` : `partition ${quoted(partition)} is not a Kafka partition number`;
      if (BigInt(number) > MAX_INT) return `partition ${quoted(partition)} is beyond Kafka's partition numbers`;
      if (!withinLong(offset)) return `the offset of partition ${quoted(partition)} (${quoted(String(offset))}) is not a whole number from 0 to 2^63-1${typeof offset === "number" && offset > Number.MAX_SAFE_INTEGER ? " (give offsets above 2^53 as strings)" : ""}`;
      return undefined;
    }
    case "kinesis":
      if (partition.trim() === "") return "a shard id is empty";
      if (typeof offset === "string" ? offset.trim() === "" : !withinLong(offset)) return `the sequence number of shard ${quoted(partition)} (${quoted(String(offset))}) is not a sequence number`;
      return undefined;
    default:
      if (partition.trim() === "") return "a partition name is empty";
      if (!withinLong(offset)) return `the offset of partition ${quoted(partition)} (${quoted(String(offset))}) is not a whole number from 0 to 2^63-1`;
      return undefined;
  }
}

/** Druid's rule (TaskLocks): context.useConcurrentLocks when set (a boolean or its text), else taskLockType APPEND. */
function concurrentLocks(context: JsonValue | undefined): boolean {
  if (context === null || typeof context !== "object" || Array.isArray(context)) return false;
  const use = context["useConcurrentLocks"];
  if (typeof use === "boolean") return use;
  if (typeof use === "string" && /^(true|false)$/i.test(use)) return use.toLowerCase() === "true";
  const lockType = context["taskLockType"];
  return typeof lockType === "string" && lockType.toUpperCase() === "APPEND";
}

function refuse(reason: string, message: string): OffsetResetStep {
  return { kind: "refuse", failure: { reason, message } };
}

function truthy(value: JsonValue | undefined): boolean {
  return value === true || (typeof value === "string" && value.toLowerCase() === "true");
}

function wait(reason: string, message: string): OffsetResetStep {
  return { kind: "wait", failure: { reason, message, transient: true } };
}

export function offsetResetStep(input: OffsetResetInput): OffsetResetStep {
  const { reset, nonce, supervisorId, desired, live } = input;
  const type = desired["type"];
  const asked = `spec.resetOffsetsNonce "${nonce}"`;
  if (!isStreamSupervisorType(type)) {
    return refuse("ResetOffsetsUnsupported", `${asked}: supervisor type ${JSON.stringify(type)} keeps no stream offsets Druid can reset (kafka, kinesis and rabbit do); nothing was sent. Remove spec.resetOffsetsNonce`);
  }

  if (reset.latestAndBackfill !== undefined) {
    if (!supportsResetToLatestAndBackfill(input.druidVersion)) {
      return refuse("ResetToLatestAndBackfillUnsupported", `${asked}: Druid ${input.druidVersion} has no resetToLatestAndBackfill (added in Druid 38); nothing was sent. Use spec.resetOffsets.partitions with the offsets to read from, or upgrade Druid`);
    }
    const earliest = type === "kafka" ? "useEarliestOffset" : "useEarliestSequenceNumber";
    if (truthy(ioConfigOf(desired).ioConfig?.[earliest])) {
      return refuse("ResetToLatestAndBackfillRefused", `${asked}: resetToLatestAndBackfill needs ioConfig.${earliest} false (Druid refuses it otherwise); nothing was sent`);
    }
    if (!concurrentLocks(desired["context"])) {
      return refuse("ResetToLatestAndBackfillRefused", `${asked}: resetToLatestAndBackfill needs concurrent locks in the supervisor spec (context.useConcurrentLocks true, or context.taskLockType APPEND): the backfill writes the same intervals as the supervisor; nothing was sent`);
    }
    if (input.wantSuspended) {
      return refuse("ResetToLatestAndBackfillRefused", `${asked}: resetToLatestAndBackfill needs a running supervisor and the resource asks it suspended; nothing was sent. Set spec.suspend false, or use spec.resetOffsets.partitions`);
    }
    if (input.othersFirst) return wait("WaitingForSupervisor", `${asked}: resetToLatestAndBackfill is sent at the next reconcile, once Druid has taken this one's other steps for supervisor ${supervisorId}`);
    if (!live || live.suspended || live.state !== "RUNNING") {
      return wait("WaitingForRunning", `${asked}: Druid does resetToLatestAndBackfill only for a RUNNING supervisor, and reports supervisor ${supervisorId} ${live ? (live.suspended ? "suspended" : (live.state ?? "in an unknown state")) : "not at all yet"}: it is sent once Druid reports it RUNNING (an unhealthy or idle supervisor waits until it is); to move the offsets now, use spec.resetOffsets.partitions with a new nonce`);
    }
    const count = reset.latestAndBackfill.backfillTaskCount;
    return { kind: "send", action: { kind: "resetToLatestAndBackfill", supervisorId, ...(count === undefined ? {} : { backfillTaskCount: count }) } };
  }

  const partitions = reset.partitions ?? {};
  const entries = Object.entries(partitions);
  if (entries.length === 0) return refuse("ResetOffsetsInvalid", `${asked}: spec.resetOffsets.partitions names no partition (Druid would change nothing); nothing was sent`);
  // The stream Druid's supervisor reads: Druid refuses any other. Its own copy says it, also
  // when the spec gives it by Secret reference.
  const reads = live?.spec && streamNameOf(live.spec) !== undefined ? live.spec : desired;
  const stream = streamNameOf(reads);
  const multiTopic = type === "kafka" && typeof ioConfigOf(reads).ioConfig?.["topicPattern"] === "string";
  const problems = entries.map(([p, o]) => partitionProblem(type, multiTopic, p, o)).filter((p): p is string => p !== undefined);
  if (problems.length > 0) return refuse("ResetOffsetsInvalid", `${asked}: ${problems.slice(0, 3).join("; ")}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ""}; nothing was sent`);
  if (stream === undefined) return refuse("ResetOffsetsInvalid", `${asked}: the stream supervisor ${supervisorId} reads is not known (not in Druid's copy nor as a value in the spec); nothing was sent`);
  if (input.othersFirst) return wait("WaitingForSupervisor", `${asked}: the offsets are sent at the next reconcile, once Druid has taken this one's other steps for supervisor ${supervisorId} (an update, a suspend or resume, a reset)`);
  if (live?.state === "PENDING") return wait("WaitingForSupervisor", `${asked}: the offsets are sent once Druid reports supervisor ${supervisorId} past PENDING (its tasks would start from where they began otherwise)`);
  const map: JsonObject = {};
  for (const [p, o] of entries) map[p] = type === "kinesis" ? String(o) : o;
  return { kind: "send", action: { kind: "resetOffsets", supervisorId, metadata: { type, partitions: { type: "end", stream, partitionSequenceNumberMap: map } } } };
}

/** "0 → 1200, 3 → 0" (the first ten), for Events and conditions. */
export function describePartitionOffsets(metadata: JsonObject): string {
  const partitions = metadata["partitions"];
  const map = partitions !== null && typeof partitions === "object" && !Array.isArray(partitions) ? partitions["partitionSequenceNumberMap"] : undefined;
  if (map === null || typeof map !== "object" || Array.isArray(map) || map === undefined) return "";
  const entries = Object.entries(map);
  const shown = entries.slice(0, 10).map(([p, o]) => `${p} → ${String(o)}`).join(", ");
  return entries.length > 10 ? `${shown} and ${entries.length - 10} more` : shown;
}
