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
}

const DECIMAL = /^\d+$/;
/** A partition of one of the topics a Kafka topicPattern matches. */
const KAFKA_TOPIC_PARTITION = /^[^:]+:\d+$/;

/** Why a partition's key or offset cannot be what this supervisor type reads; undefined when fine. */
function partitionProblem(type: string, multiTopic: boolean, partition: string, offset: number | string): string | undefined {
  const whole = typeof offset === "number" ? Number.isSafeInteger(offset) && offset >= 0 : DECIMAL.test(offset);
  switch (type) {
    case "kafka":
      // Druid keys a topicPattern's partitions by topic and number, a topic's by number only.
      if (multiTopic && !KAFKA_TOPIC_PARTITION.test(partition)) return `partition ${JSON.stringify(partition)} is not <topic>:<number> (the supervisor reads a topicPattern)`;
      if (!multiTopic && !DECIMAL.test(partition)) return `partition ${JSON.stringify(partition)} is not a Kafka partition number`;
      if (!whole) return `the offset of partition ${partition} (${JSON.stringify(offset)}) is not a whole number of at least 0${typeof offset === "number" && offset > Number.MAX_SAFE_INTEGER ? " (give offsets above 2^53 as strings)" : ""}`;
      return undefined;
    case "kinesis":
      if (partition.trim() === "") return "a shard id is empty";
      if (typeof offset === "string" ? offset.trim() === "" : !whole) return `the sequence number of shard ${partition} (${JSON.stringify(offset)}) is not a sequence number`;
      return undefined;
    default:
      if (partition.trim() === "") return "a partition name is empty";
      if (!whole) return `the offset of partition ${partition} (${JSON.stringify(offset)}) is not a whole number of at least 0`;
      return undefined;
  }
}

function refuse(reason: string, message: string): OffsetResetStep {
  return { kind: "refuse", failure: { reason, message } };
}

function truthy(value: JsonValue | undefined): boolean {
  return value === true || value === "true";
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
    const context = desired["context"];
    const concurrent = context !== null && typeof context === "object" && !Array.isArray(context) && truthy(context["useConcurrentLocks"]);
    if (!concurrent) {
      return refuse("ResetToLatestAndBackfillRefused", `${asked}: resetToLatestAndBackfill needs context.useConcurrentLocks true in the supervisor spec (the backfill writes the same intervals as the supervisor); nothing was sent`);
    }
    if (input.wantSuspended) {
      return refuse("ResetToLatestAndBackfillRefused", `${asked}: resetToLatestAndBackfill needs a running supervisor and the resource asks it suspended; nothing was sent. Set spec.suspend false, or use spec.resetOffsets.partitions`);
    }
    if (!live || live.suspended || live.state !== "RUNNING") {
      return { kind: "wait", failure: { reason: "WaitingForRunning", message: `${asked}: resetToLatestAndBackfill is sent once Druid reports supervisor ${supervisorId} RUNNING (it is ${live ? (live.suspended ? "suspended" : (live.state ?? "in an unknown state")) : "not reported yet"})`, transient: true } };
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
