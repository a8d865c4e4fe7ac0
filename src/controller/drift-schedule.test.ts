import { strict as assert } from "node:assert";
import { test } from "node:test";
import { DriftSchedule, needsStoredSpec } from "./drift-schedule.ts";

test("a new resource gets a random phase within the period; after a read it is due again one period later", () => {
  let now = 1_000_000;
  let r = 0.25;
  const schedule = new DriftSchedule(600_000, () => now, () => r);
  // Phase 0.25: last read counted as 150 s ago, so due 450 s from now.
  assert.equal(schedule.due("ns/a"), false);
  now += 449_999;
  assert.equal(schedule.due("ns/a"), false);
  now += 1;
  assert.equal(schedule.due("ns/a"), true);
  schedule.checked("ns/a");
  assert.equal(schedule.due("ns/a"), false);
  now += 600_000;
  assert.equal(schedule.due("ns/a"), true);
  // Another resource draws its own phase; a forgotten one draws again.
  r = 0.999999;
  assert.equal(schedule.due("ns/b"), false);
  now += 1;
  assert.equal(schedule.due("ns/b"), true);
  schedule.forget("ns/a");
  r = 0;
  assert.equal(schedule.due("ns/a"), false);
});

test("phases spread N resources evenly over the period", () => {
  let now = 0;
  let i = 0;
  const n = 1000;
  const schedule = new DriftSchedule(600_000, () => now, () => (i++ % n) / n);
  for (let k = 0; k < n; k++) schedule.due(`ns/${k}`);
  const dueAfter = (ms: number) => {
    now = ms;
    let count = 0;
    for (let k = 0; k < n; k++) if (schedule.due(`ns/${k}`)) count++;
    return count;
  };
  assert.equal(dueAfter(60_000), 100, "a tenth of them in the first tenth of the period");
  assert.equal(dueAfter(600_000), n);
});

test("the stored spec is read only when something needs it", () => {
  const none = { driftCheckDue: false, specChanged: false, edited: false, stateChanged: false, baselineMissing: false, referencesSecrets: false };
  assert.equal(needsStoredSpec(none), false);
  for (const key of Object.keys(none) as Array<keyof typeof none>) assert.equal(needsStoredSpec({ ...none, [key]: true }), true, key);
});
