import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonObject, ResetOffsets } from "../api/druid-ingestion.ts";
import type { LiveSupervisor } from "../druid/decode.ts";
import { describePartitionOffsets, offsetResetStep, type OffsetResetInput, type OffsetResetStep } from "./offset-reset.ts";

const kafka = (io: JsonObject = {}, extra: JsonObject = {}): JsonObject => ({ type: "kafka", spec: { dataSchema: { dataSource: "orders" }, ioConfig: { topic: "orders", ...io } }, ...extra });
const kinesis: JsonObject = { type: "kinesis", spec: { dataSchema: { dataSource: "clicks" }, ioConfig: { stream: "clicks" } } };
const running = (spec?: JsonObject, state = "RUNNING", suspended = false): LiveSupervisor => ({ id: "orders", state, detailedState: state, healthy: true, suspended, spec });
const backfillReady = kafka({ useEarliestOffset: false }, { context: { useConcurrentLocks: true } });

function step(reset: ResetOffsets, over: Partial<OffsetResetInput> = {}): OffsetResetStep {
  return offsetResetStep({ reset, nonce: "n1", supervisorId: "orders", desired: kafka(), live: running(kafka()), druidVersion: "33.0.0", wantSuspended: false, ...over });
}

/** The step as one line: "send <kind> <body or options>", "refuse <reason>", "wait <reason>". */
function summary(s: OffsetResetStep): string {
  if (s.kind === "send") {
    const { kind, supervisorId: _id, ...rest } = s.action as { kind: string; supervisorId: string };
    return `send ${kind} ${JSON.stringify("metadata" in rest ? rest.metadata : rest)}`;
  }
  return `${s.kind} ${s.failure.reason}`;
}

const rows: Array<[string, ResetOffsets, Partial<OffsetResetInput>, string]> = [
  ["Kafka partitions → Druid's kafka metadata with end offsets on the topic", { partitions: { "0": 20, "3": "9007199254740993" } }, {}, `send resetOffsets {"type":"kafka","partitions":{"type":"end","stream":"orders","partitionSequenceNumberMap":{"0":20,"3":"9007199254740993"}}}`],
  ["the stream is the one Druid's copy reads (a Secret reference in the spec)", { partitions: { "0": 1 } }, { desired: kafka({ topic: { secretKeyRef: { name: "s", key: "topic" } } }) }, `send resetOffsets {"type":"kafka","partitions":{"type":"end","stream":"orders","partitionSequenceNumberMap":{"0":1}}}`],
  ["a topicPattern supervisor: partitions named <topic>:<n>", { partitions: { "orders-eu:0": 5 } }, { desired: kafka({ topic: null, topicPattern: "orders-.*" }), live: running(kafka({ topic: null, topicPattern: "orders-.*" })) }, `send resetOffsets {"type":"kafka","partitions":{"type":"end","stream":"orders-.*","partitionSequenceNumberMap":{"orders-eu:0":5}}}`],
  ["Kinesis sequence numbers are sent as strings", { partitions: { "shardId-000000000000": 4960 } }, { desired: kinesis, live: running(kinesis) }, `send resetOffsets {"type":"kinesis","partitions":{"type":"end","stream":"clicks","partitionSequenceNumberMap":{"shardId-000000000000":"4960"}}}`],
  ["a suspended supervisor's offsets can be moved", { partitions: { "0": 1 } }, { live: running(kafka(), "SUSPENDED", true), wantSuspended: true }, `send resetOffsets {"type":"kafka","partitions":{"type":"end","stream":"orders","partitionSequenceNumberMap":{"0":1}}}`],
  ["a Kafka partition that is not a number", { partitions: { zero: 1 } }, {}, "refuse ResetOffsetsInvalid"],
  ["<topic>:<n> for a supervisor of one topic (Druid would store it for no partition it reads)", { partitions: { "orders:0": 1 } }, {}, "refuse ResetOffsetsInvalid"],
  ["a bare number for a topicPattern supervisor", { partitions: { "0": 1 } }, { desired: kafka({ topic: null, topicPattern: "orders-.*" }), live: running(kafka({ topic: null, topicPattern: "orders-.*" })) }, "refuse ResetOffsetsInvalid"],
  ["a negative offset", { partitions: { "0": -1 } }, {}, "refuse ResetOffsetsInvalid"],
  ["an offset beyond 2^53 given as a number (already rounded)", { partitions: { "0": 2 ** 60 } }, {}, "refuse ResetOffsetsInvalid"],
  ["an offset string that is not a number", { partitions: { "0": "latest" } }, {}, "refuse ResetOffsetsInvalid"],
  ["an empty map", { partitions: {} }, {}, "refuse ResetOffsetsInvalid"],
  ["a supervisor type without stream offsets", { partitions: { "0": 1 } }, { desired: { type: "autocompact", spec: {} } }, "refuse ResetOffsetsUnsupported"],
  ["latestAndBackfill on Druid 37 → refused, nothing sent", { latestAndBackfill: {} }, { desired: backfillReady, druidVersion: "37.0.0" }, "refuse ResetToLatestAndBackfillUnsupported"],
  ["latestAndBackfill on Druid 38 → sent with the task count", { latestAndBackfill: { backfillTaskCount: 2 } }, { desired: backfillReady, druidVersion: "38.0.0" }, `send resetToLatestAndBackfill {"backfillTaskCount":2}`],
  ["latestAndBackfill on 38 without a task count", { latestAndBackfill: {} }, { desired: backfillReady, druidVersion: "38.0.0" }, "send resetToLatestAndBackfill {}"],
  ["latestAndBackfill with useEarliestOffset (Druid refuses)", { latestAndBackfill: {} }, { desired: kafka({ useEarliestOffset: true }, { context: { useConcurrentLocks: true } }), druidVersion: "38.0.0" }, "refuse ResetToLatestAndBackfillRefused"],
  ["latestAndBackfill without concurrent locks (Druid refuses)", { latestAndBackfill: {} }, { desired: kafka(), druidVersion: "38.0.0" }, "refuse ResetToLatestAndBackfillRefused"],
  ["latestAndBackfill with useConcurrentLocks as a string", { latestAndBackfill: {} }, { desired: kafka({}, { context: { useConcurrentLocks: "true" } }), druidVersion: "38.0.0" }, "send resetToLatestAndBackfill {}"],
  ["latestAndBackfill while the resource asks suspended", { latestAndBackfill: {} }, { desired: backfillReady, druidVersion: "38.0.0", wantSuspended: true }, "refuse ResetToLatestAndBackfillRefused"],
  ["latestAndBackfill while Druid reports PENDING → waits", { latestAndBackfill: {} }, { desired: backfillReady, druidVersion: "38.0.0", live: running(backfillReady, "PENDING") }, "wait WaitingForRunning"],
  ["latestAndBackfill while still suspended in Druid (a resume comes first) → waits", { latestAndBackfill: {} }, { desired: backfillReady, druidVersion: "38.0.0", live: running(backfillReady, "SUSPENDED", true) }, "wait WaitingForRunning"],
];

for (const [name, reset, over, expected] of rows) {
  test(`offset reset: ${name}`, () => {
    const s = step(reset, over);
    assert.equal(summary(s), expected);
    if (s.kind !== "send") assert.match(s.failure.message, /^spec\.resetOffsetsNonce "n1": /, "the message names the nonce");
    if (s.kind === "refuse") assert.match(s.failure.message, /nothing was sent/);
  });
}

test("a refusal says what is wrong with each partition (at most three) and how to give big offsets", () => {
  const s = step({ partitions: { a: 1, b: 2, c: 3, d: 4, "0": 2 ** 60 } });
  assert.equal(s.kind, "refuse");
  assert.match(s.kind === "refuse" ? s.failure.message : "", /partition "a" is not a Kafka partition number.*\(and 2 more\)/);
  const big = step({ partitions: { "0": 2 ** 60 } });
  assert.match(big.kind === "refuse" ? big.failure.message : "", /give offsets above 2\^53 as strings/);
});

test("the partitions moved, as Events and conditions say them", () => {
  const many: JsonObject = {};
  for (let i = 0; i < 12; i++) many[String(i)] = i * 10;
  assert.equal(describePartitionOffsets({ partitions: { partitionSequenceNumberMap: { "0": 20, "3": 0 } } }), "0 → 20, 3 → 0");
  assert.match(describePartitionOffsets({ partitions: { partitionSequenceNumberMap: many } }), /^0 → 0, .*9 → 90 and 2 more$/);
});
