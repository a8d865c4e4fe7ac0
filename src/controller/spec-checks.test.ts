import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonObject } from "../api/druid-ingestion.ts";
import { describeUnsafeChanges, unsafeChanges } from "./spec-checks.ts";

const kafka = (io: JsonObject, type = "kafka"): JsonObject => ({ type, spec: { dataSchema: { dataSource: "ds" }, ioConfig: io } });
/** Druid's stored copy: both the nested and the flat form, nulls for fields not set, defaults added. */
const stored = (io: JsonObject, type = "kafka"): JsonObject => ({ type, id: "ds", spec: { dataSchema: { dataSource: "ds" }, ioConfig: { topicPattern: null, ...io, taskCount: 1 } }, ioConfig: { topicPattern: null, ...io } });

test("unsafeChanges: another topic, pattern, stream or type; nothing else (#12)", () => {
  const cases: Array<[string, JsonObject, JsonObject, string]> = [
    ["the same topic, other settings changed", stored({ topic: "a" }), kafka({ topic: "a", taskCount: 4 }), ""],
    ["another topic", stored({ topic: "a" }), kafka({ topic: "b" }), 'stream /spec/ioConfig/topic from "a" to "b"'],
    ["topic to topicPattern", stored({ topic: "a" }), kafka({ topicPattern: "a.*" }), 'stream /spec/ioConfig/topic from "a" to (unset), stream /spec/ioConfig/topicPattern from (unset) to "a.*"'],
    ["another Kinesis stream", stored({ stream: "s1" }, "kinesis"), kafka({ stream: "s2" }, "kinesis"), 'stream /spec/ioConfig/stream from "s1" to "s2"'],
    ["kafka to kinesis", stored({ topic: "a" }), kafka({ stream: "a" }, "kinesis"), 'type /type from "kafka" to "kinesis"'],
    ["a topic given by Secret reference is not compared", stored({ topic: "a" }), kafka({ topic: { secretKeyRef: { name: "s", key: "k" } } }), ""],
    ["the flat form desired", stored({ topic: "a" }), { type: "kafka", dataSchema: { dataSource: "ds" }, ioConfig: { topic: "b" } }, 'stream /ioConfig/topic from "a" to "b"'],
    ["a supervisor type without a stream", { type: "autocompact", spec: {} }, { type: "autocompact", spec: { x: 1 } }, ""],
  ];
  for (const [name, live, desired, want] of cases) {
    const got = unsafeChanges(live, desired).map((c) => `${c.kind} ${describeUnsafeChanges([c])}`).join(", ");
    assert.equal(got, want, name);
  }
});
