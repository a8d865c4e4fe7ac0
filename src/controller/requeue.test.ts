import { test } from "node:test";
import assert from "node:assert/strict";
import type { LiveSupervisor } from "../druid/decode.ts";
import { requeueAfter, TASK_POLL_MAX_MS, type Ending } from "./requeue.ts";

const settings = { resyncMs: 60_000, settleMs: 3_000 };
const sup = (state: string, detailedState = state): LiveSupervisor => ({ id: "s", state, detailedState, healthy: true, suspended: false, spec: undefined });
const mid = () => 0.5; // no jitter

test("requeue decision table", () => {
  const rows: Array<[string, Ending, string]> = [
    ["invalid spec: wait for an edit", { kind: "waitForEdit" }, "none"],
    ["transient failure: back off", { kind: "failed", failure: { reason: "DruidUnreachable", message: "down", transient: true } }, "error"],
    ["permanent failure: look again at resync", { kind: "failed", failure: { reason: "SecretNotFound", message: "x" } }, "60000"],
    ["lost a write race: back off", { kind: "conflict" }, "error"],
    ["changed Druid: settle", { kind: "changed" }, "3000"],
    ["idle and running: resync", { kind: "idle", supervisor: sup("RUNNING") }, "60000"],
    ["just started pending: settle", { kind: "idle", supervisor: sup("PENDING"), sinceTransitionMs: 1_000 }, "3000"],
    ["pending for 20 s: half of it", { kind: "idle", supervisor: sup("PENDING"), sinceTransitionMs: 20_000 }, "10000"],
    ["pending for long: at most resync", { kind: "idle", supervisor: sup("PENDING"), sinceTransitionMs: 600_000 }, "60000"],
    ["pending, watched by the state poller: resync as safety net", { kind: "idle", supervisor: sup("PENDING"), sinceTransitionMs: 1_000, watched: true }, "60000"],
    ["pending, poller failing (not watched): settle", { kind: "idle", supervisor: sup("PENDING"), sinceTransitionMs: 1_000, watched: false }, "3000"],
    ["creating tasks: transitional", { kind: "idle", supervisor: sup("RUNNING", "CREATING_TASKS"), sinceTransitionMs: 0 }, "3000"],
    ["running task: polled", { kind: "idle", task: { id: "t", statusCode: "RUNNING", runnerStatusCode: "RUNNING", errorMsg: undefined } }, String(TASK_POLL_MAX_MS)],
    ["finished task: resync", { kind: "idle", task: { id: "t", statusCode: "SUCCESS", runnerStatusCode: "NONE", errorMsg: undefined } }, "60000"],
    ["no supervisor in Druid (observe): resync", { kind: "idle" }, "60000"],
  ];
  for (const [name, ending, expected] of rows) {
    const r = requeueAfter(ending, settings, mid);
    const got = "error" in r ? "error" : r.requeueAfterMs === undefined ? "none" : String(r.requeueAfterMs);
    assert.equal(got, expected, name);
  }
});

test("the resync is jittered by ±10 %", () => {
  const low = requeueAfter({ kind: "idle" }, settings, () => 0);
  const high = requeueAfter({ kind: "idle" }, settings, () => 0.999999);
  assert.deepEqual([low, high].map((r) => ("requeueAfterMs" in r ? r.requeueAfterMs : -1)), [54_000, 66_000]);
});
