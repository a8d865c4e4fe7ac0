import { test } from "node:test";
import assert from "node:assert/strict";
import type { DruidIngestion, DruidIngestionSpec, DruidIngestionStatus } from "../api/druid-ingestion.ts";
import type { DruidAction } from "./model.ts";
import { actionableNonce, dropStaleIntents, intentsFor, NONCE_REQUESTS, RESET, RESET_OFFSETS, settleNonces, withConfirmed } from "./nonces.ts";

const pending = (nonce: string) => ({ nonce, supervisorId: "orders", druidEndpoint: "http://druid:8088", since: "2026-01-01T00:00:00Z" });
const ingestion = (spec: Partial<DruidIngestionSpec>, status: DruidIngestionStatus = {}): DruidIngestion => ({
  apiVersion: "druid.apache.org/v1alpha1",
  kind: "DruidIngestion",
  metadata: { name: "orders", namespace: "ns", uid: "u", generation: 1, resourceVersion: "1" },
  spec: { druidCluster: "t", ingestion: { type: "kafka", nativeSpec: {} }, ...spec },
  status,
});

test("nonces: which nonce a plan may act on", () => {
  const rows: Array<[string, Partial<DruidIngestionSpec>, DruidIngestionStatus, string | undefined, string | undefined]> = [
    // name, spec, status → reset, offsets reset
    ["none asked", {}, {}, undefined, undefined],
    ["empty strings ask nothing", { resetNonce: "", resetOffsetsNonce: "" }, {}, undefined, undefined],
    ["both new", { resetNonce: "a", resetOffsetsNonce: "b" }, {}, "a", "b"],
    ["each judged by its own record", { resetNonce: "a", resetOffsetsNonce: "a" }, { lastResetNonce: "a" }, undefined, "a"],
    ["an unknown outcome holds that nonce only", { resetNonce: "a", resetOffsetsNonce: "b" }, { pendingResetOffsets: pending("b") }, "a", undefined],
    ["an intent for an older nonce holds nothing", { resetOffsetsNonce: "c" }, { pendingResetOffsets: pending("b") }, undefined, "c"],
  ];
  for (const [name, spec, status, reset, offsets] of rows) {
    const i = ingestion(spec, status);
    assert.deepEqual([actionableNonce(RESET, i), actionableNonce(RESET_OFFSETS, i)], [reset, offsets], name);
  }
});

test("nonces: intents name the action's supervisor; settled by what Druid confirmed", () => {
  const reset: DruidAction = { kind: "resetSupervisor", supervisorId: "orders", cause: "ResetNonce" };
  const offsets: DruidAction = { kind: "resetOffsets", supervisorId: "orders", metadata: {} };
  const spec = { resetNonce: "a", resetOffsetsNonce: "b" };
  const intents = intentsFor([reset, offsets], ingestion(spec), "http://druid:8088", "2026-01-01T00:00:00Z");
  assert.deepEqual(intents, { pendingReset: pending("a"), pendingResetOffsets: pending("b") });

  // The reset went through, the offsets reset's answer was lost: only that intent stays.
  const next: DruidIngestionStatus = { ...intents };
  settleNonces(next, ingestion(spec).spec, [reset, offsets], [reset], { action: offsets, ambiguous: true });
  assert.deepEqual(next, { lastResetNonce: "a", pendingResetOffsets: pending("b") });
  // Refused outright: nothing happened, no intent, tried again.
  const refused: DruidIngestionStatus = { ...intents };
  settleNonces(refused, ingestion(spec).spec, [reset, offsets], [reset], { action: offsets, ambiguous: false });
  assert.deepEqual(refused, { lastResetNonce: "a" });
  // A new supervisor consumes both.
  const fresh: DruidIngestionStatus = {};
  settleNonces(fresh, ingestion(spec).spec, [], [{ kind: "submitSupervisor", supervisorId: "orders", spec: {}, cause: "Created" }], undefined);
  assert.deepEqual(fresh, { lastResetNonce: "a", lastResetOffsetsNonce: "b" });
});

test("nonces: stale intents go; a confirmed call is recorded on the current status only while its intent is there", () => {
  const status: DruidIngestionStatus = { pendingReset: pending("old"), pendingResetOffsets: pending("b") };
  dropStaleIntents(status, { ...ingestion({}).spec, resetNonce: "new", resetOffsetsNonce: "b" });
  assert.deepEqual(status, { pendingResetOffsets: pending("b") });
  assert.deepEqual(withConfirmed(status, RESET_OFFSETS, "b"), { lastResetOffsetsNonce: "b" });
  assert.equal(withConfirmed({ lastResetOffsetsNonce: "b" }, RESET_OFFSETS, "b"), undefined);
  assert.equal(NONCE_REQUESTS.length, 2);
});
