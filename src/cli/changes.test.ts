import { test } from "node:test";
import assert from "node:assert/strict";
import type { DruidAction } from "../controller/model.ts";
import { changesAgainstStored, effectOf, exactChanges } from "./changes.ts";

test("exactChanges: added, removed and changed leaves by JSON pointer; suspended and ignored paths left out", () => {
  const before = { type: "kafka", suspended: false, spec: { ioConfig: { topic: "a", taskCount: 1, "x/y": 1 }, tuningConfig: { maxRowsInMemory: 1000 } } };
  const after = { type: "kafka", suspended: true, spec: { ioConfig: { topic: "a", taskCount: 4, replicas: 2 }, tuningConfig: {} } };
  assert.deepEqual(exactChanges(before, after), [
    { path: "/spec/ioConfig/replicas", op: "add", to: 2 },
    { path: "/spec/ioConfig/taskCount", op: "change", from: 1, to: 4 },
    { path: "/spec/ioConfig/x~1y", op: "remove", from: 1 },
    { path: "/spec/tuningConfig/maxRowsInMemory", op: "remove", from: 1000 },
  ]);
  assert.deepEqual(exactChanges(before, after, ["/spec/ioConfig/taskCount", "/spec/tuningConfig"]).map((c) => c.path), ["/spec/ioConfig/replicas", "/spec/ioConfig/x~1y"]);
  assert.deepEqual(exactChanges(before, before), []);
});

test("changesAgainstStored: Druid's defaults and its long form of a dimension are not differences; a value the manifest sets differently is", () => {
  const stored = { type: "kafka", suspended: false, spec: { dataSchema: { dimensionsSpec: { dimensions: [{ type: "string", name: "host", multiValueHandling: "SORTED_ARRAY" }] } }, ioConfig: { topic: "a", taskCount: 1, replicas: 1, useEarliestOffset: false } } };
  assert.deepEqual(changesAgainstStored(stored, { type: "kafka", spec: { dataSchema: { dimensionsSpec: { dimensions: ["host"] } }, ioConfig: { topic: "a", taskCount: 1 } } }), []);
  assert.deepEqual(changesAgainstStored(stored, { type: "kafka", spec: { dataSchema: { dimensionsSpec: { dimensions: ["host", "dc"] } }, ioConfig: { topic: "b", taskCount: 1, period: "PT30S" } } }), [
    { path: "/spec/dataSchema/dimensionsSpec/dimensions", op: "change", from: stored.spec.dataSchema.dimensionsSpec.dimensions, to: ["host", "dc"] },
    { path: "/spec/ioConfig/period", op: "add", to: "PT30S" },
    { path: "/spec/ioConfig/topic", op: "change", from: "a", to: "b" },
  ]);
  assert.deepEqual(changesAgainstStored(stored, { type: "kafka", spec: { ioConfig: { topic: "b" } } }, ["/spec/ioConfig/topic"]), []);
  // Druid 33's stored forms of a granularity and a duration (read from the real Druid).
  const granular = { spec: { dataSchema: { granularitySpec: { queryGranularity: { type: "none" }, segmentGranularity: "HOUR" } }, ioConfig: { taskDuration: "PT3600S", period: "PT30S" } } };
  assert.deepEqual(changesAgainstStored(granular, { spec: { dataSchema: { granularitySpec: { queryGranularity: "NONE", segmentGranularity: "HOUR" } }, ioConfig: { taskDuration: "PT1H", period: "PT30S" } } }), []);
  assert.deepEqual(changesAgainstStored(granular, { spec: { dataSchema: { granularitySpec: { queryGranularity: "MINUTE" } }, ioConfig: { taskDuration: "PT2H" } } }).map((c) => c.path), ["/spec/dataSchema/granularitySpec/queryGranularity", "/spec/ioConfig/taskDuration"]);
});

test("effectOf: which calls restart running tasks", () => {
  const table: Array<[DruidAction, boolean]> = [
    [{ kind: "submitSupervisor", supervisorId: "s", spec: {}, cause: "Created" }, false],
    [{ kind: "submitSupervisor", supervisorId: "s", spec: {}, cause: "Updated" }, true],
    [{ kind: "submitSupervisor", supervisorId: "s", spec: {}, cause: "DriftCorrected" }, true],
    [{ kind: "submitSupervisor", supervisorId: "s", spec: {}, cause: "Recreated", anew: true }, true],
    [{ kind: "suspendSupervisor", supervisorId: "s" }, true],
    [{ kind: "resumeSupervisor", supervisorId: "s" }, false],
    [{ kind: "resetSupervisor", supervisorId: "s", cause: "ResetNonce" }, true],
    [{ kind: "resetOffsets", supervisorId: "s", metadata: {} }, true],
    [{ kind: "terminateSupervisor", supervisorId: "s", cause: "Deleted" }, true],
    [{ kind: "submitTask", taskId: "t", spec: {}, sql: false, cause: "Created" }, false],
    [{ kind: "submitCompaction", dataSource: "d", config: {}, cause: "Updated" }, false],
    [{ kind: "submitRules", dataSource: "d", rules: [], cause: "Created" }, false],
    [{ kind: "clearRules", dataSource: "d", cause: "Unmanaged" }, false],
  ];
  for (const [action, restarts] of table) assert.equal(effectOf(action).restartsTasks, restarts, JSON.stringify(action));
  assert.match(effectOf({ kind: "submitSupervisor", supervisorId: "s", spec: {}, cause: "Updated" }).call, /POST supervisor s \(Updated\)/);
});
