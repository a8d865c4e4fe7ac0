import { test } from "node:test";
import assert from "node:assert/strict";
import type { DruidIngestion, DruidIngestionStatus } from "../api/druid-ingestion.ts";
import { otherLiveClaim, ownerOtherThan } from "./claims.ts";

function ing(name: string, created: string, status?: DruidIngestionStatus, deleting = false): DruidIngestion {
  return {
    apiVersion: "druid.apache.org/v1alpha1", kind: "DruidIngestion",
    metadata: { name, namespace: "ns", uid: name, generation: 1, resourceVersion: "1", creationTimestamp: created, ...(deleting ? { deletionTimestamp: "2026-01-02T00:00:00Z" } : {}) },
    spec: { druidCluster: "c", ingestion: { type: "kafka" } },
    ...(status ? { status } : {}),
  };
}
const claims = (id: string, endpoint = "http://d"): DruidIngestionStatus => ({ supervisorId: id, druidEndpoint: endpoint, specHash: "h" });

test("the older resource owns a supervisor; the newer one yields", () => {
  const a = ing("a", "2026-01-01T00:00:00Z", claims("s"));
  const b = ing("b", "2026-01-01T00:00:05Z", claims("s"));
  assert.equal(ownerOtherThan(b, "s", "http://d", [a, b])?.key, "ns/a");
  assert.equal(ownerOtherThan(a, "s", "http://d", [a, b]), undefined);
});

test("same creation time: the name breaks the tie; another id or endpoint is no conflict", () => {
  const t = "2026-01-01T00:00:00Z";
  assert.equal(ownerOtherThan(ing("b", t), "s", "http://d", [ing("a", t, claims("s"))])?.key, "ns/a");
  assert.equal(ownerOtherThan(ing("a", t), "s", "http://d", [ing("b", t, claims("s"))]), undefined);
  assert.equal(ownerOtherThan(ing("b", "2026-02-01T00:00:00Z"), "s", "http://d", [ing("a", t, claims("other"))]), undefined);
  assert.equal(ownerOtherThan(ing("b", "2026-02-01T00:00:00Z"), "s", "http://d", [ing("a", t, claims("s", "http://elsewhere"))]), undefined);
});

test("a resource that never applied anything claims nothing", () => {
  const failing: DruidIngestionStatus = { supervisorId: "s", druidEndpoint: "http://d" };
  assert.equal(ownerOtherThan(ing("b", "2026-02-01T00:00:00Z"), "s", "http://d", [ing("a", "2026-01-01T00:00:00Z", failing)]), undefined);
});

test("a resource that stood down claims nothing", () => {
  const stoodDown: DruidIngestionStatus = { ...claims("s"), conditions: [{ type: "Synced", status: "False", reason: "SupervisorConflict", message: "", lastTransitionTime: "" }] };
  assert.equal(ownerOtherThan(ing("b", "2026-02-01T00:00:00Z"), "s", "http://d", [ing("a", "2026-01-01T00:00:00Z", stoodDown)]), undefined);
});

test("deletion leaves a supervisor alone that another live resource manages", () => {
  const a = ing("a", "2026-01-01T00:00:00Z", claims("s"));
  const b = ing("b", "2026-01-01T00:00:05Z", claims("s"), true);
  assert.equal(otherLiveClaim(b, "s", "http://d", [a, b])?.key, "ns/a");
  assert.equal(otherLiveClaim(a, "s", "http://d", [a, b]), undefined, "the other one is itself being deleted");
});
