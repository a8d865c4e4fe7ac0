import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonObject } from "../api/druid-ingestion.ts";
import { druidOwnedPaths, ignoredPaths, liveSupervisorSpecHash, parsePointer, sameIgnoredPaths, valueAt } from "./drift.ts";

const stored: JsonObject = {
  type: "kafka",
  spec: { dataSchema: { dataSource: "m" }, ioConfig: { topic: "m", taskCount: 2, "a/b": 1, "c~d": 2 } },
  ioConfig: { topic: "m", taskCount: 2 },
  tuningConfig: { list: [1, 2, 3] },
  suspended: true,
};

test("Druid owns taskCount only under an enabled task autoscaler", () => {
  assert.deepEqual(druidOwnedPaths({ spec: { ioConfig: { autoScalerConfig: { enableTaskAutoScaler: true } } } }), ["/spec/ioConfig/taskCount"]);
  assert.deepEqual(druidOwnedPaths({ ioConfig: { autoScalerConfig: { enableTaskAutoScaler: true } } }), ["/spec/ioConfig/taskCount"]);
  assert.deepEqual(druidOwnedPaths({ spec: { ioConfig: { autoScalerConfig: { enableTaskAutoScaler: false } } } }), []);
  assert.deepEqual(druidOwnedPaths({ spec: { ioConfig: {} } }), []);
});

test("ignored paths come with Druid's twin (ioConfig under spec and at the top level), sorted, once", () => {
  assert.deepEqual(ignoredPaths({}, ["/spec/ioConfig/taskCount", "/ioConfig/taskCount", "/context/x"]), ["/context/x", "/ioConfig/taskCount", "/spec/ioConfig/taskCount"]);
});

test("the live hash ignores suspended and the ignored paths only", () => {
  const base = liveSupervisorSpecHash(stored);
  assert.equal(liveSupervisorSpecHash({ ...stored, suspended: false }), base, "suspend/resume is not drift");
  const scaled = { ...stored, spec: { ...(stored["spec"] as JsonObject), ioConfig: { ...((stored["spec"] as JsonObject)["ioConfig"] as JsonObject), taskCount: 4 } }, ioConfig: { topic: "m", taskCount: 4 } };
  assert.notEqual(liveSupervisorSpecHash(scaled), base);
  const ignored = ["/ioConfig/taskCount", "/spec/ioConfig/taskCount"];
  assert.equal(liveSupervisorSpecHash(scaled, ignored), liveSupervisorSpecHash(stored, ignored));
  const retopic = { ...stored, ioConfig: { topic: "other", taskCount: 2 } };
  assert.notEqual(liveSupervisorSpecHash(retopic, ignored), liveSupervisorSpecHash(stored, ignored), "other fields still count");
});

test("pointers: escapes, array items, missing paths", () => {
  assert.deepEqual(parsePointer("/spec/ioConfig/a~1b"), ["spec", "ioConfig", "a/b"]);
  assert.deepEqual(parsePointer("/spec/ioConfig/c~0d"), ["spec", "ioConfig", "c~d"]);
  assert.throws(() => parsePointer("spec/x"), /JSON pointer/);
  assert.equal(valueAt(stored, "/spec/ioConfig/a~1b"), 1);
  assert.equal(valueAt(stored, "/tuningConfig/list/1"), 2);
  assert.equal(valueAt(stored, "/nope/deeper"), undefined);
  const withItem = { ...stored, tuningConfig: { list: [1, 9, 3] } };
  assert.equal(liveSupervisorSpecHash(withItem, ["/tuningConfig/list/1"]), liveSupervisorSpecHash(stored, ["/tuningConfig/list/1"]), "an ignored array item");
  assert.equal(liveSupervisorSpecHash(stored, ["/does/not/exist"]), liveSupervisorSpecHash(stored));
});

test("sameIgnoredPaths ignores order; absent is empty", () => {
  assert.ok(sameIgnoredPaths(undefined, []));
  assert.ok(sameIgnoredPaths(["/b", "/a"], ["/a", "/b"]));
  assert.ok(!sameIgnoredPaths(["/a"], undefined));
});
