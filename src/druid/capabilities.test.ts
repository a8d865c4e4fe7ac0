import { test } from "node:test";
import assert from "node:assert/strict";
import { druidMajorVersion, supportsExplicitSupervisorId, supportsHadoopIngestion, supportsResetToLatestAndBackfill, supportsSkipRestart } from "./capabilities.ts";

test("capabilities by Druid version: one table for every feature that depends on it (#12)", () => {
  const rows: Array<[string, number, boolean, boolean, boolean, boolean]> = [
    // version, major, skipRestartIfUnmodified, explicit id, index_hadoop, resetToLatestAndBackfill
    ["30.0.1", 30, false, false, true, false],
    ["33.0.0", 33, true, false, true, false],
    ["34.0.0", 34, true, true, true, false],
    ["36.0.0", 36, true, true, true, false],
    ["37.0.0", 37, true, true, false, false],
    ["38.0.0-SNAPSHOT", 38, true, true, false, true],
    ["", 0, false, false, true, false],
  ];
  for (const [v, major, skip, id, hadoop, backfill] of rows) {
    assert.deepEqual([druidMajorVersion(v), supportsSkipRestart(v), supportsExplicitSupervisorId(v), supportsHadoopIngestion(v), supportsResetToLatestAndBackfill(v)], [major, skip, id, hadoop, backfill], v);
  }
});
