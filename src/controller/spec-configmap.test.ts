import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { configMapPatch, configMapUpToDate, digestConfigMapData } from "./spec-configmap.ts";

const desired: V1ConfigMap = {
  metadata: { name: "orders-druid-spec", namespace: "ns", labels: { "app.kubernetes.io/managed-by": "druid-ingestion-controller" }, annotations: { "druid.apache.org/spec-hash": "h1" }, ownerReferences: [{ apiVersion: "druid.apache.org/v1alpha1", kind: "DruidIngestion", name: "orders", uid: "u1", controller: true }] },
  data: { "supervisor.json": '{"type":"kafka"}', "rules.json": "[]" },
};

test("the cache holds digests of our ConfigMaps' data; a stored copy, digested or not, is compared by value", () => {
  const stored = structuredClone(desired);
  assert.equal(configMapUpToDate(stored, desired), true, "as read from the API server");
  digestConfigMapData(stored);
  assert.match(stored.data?.["supervisor.json"] ?? "", /^sha256:[0-9a-f]{64}$/);
  assert.equal(configMapUpToDate(stored, desired), true, "as cached");

  const editedByHand = structuredClone(desired);
  (editedByHand.data as Record<string, string>)["supervisor.json"] = '{"type":"kinesis"}';
  digestConfigMapData(editedByHand);
  assert.equal(configMapUpToDate(editedByHand, desired), false, "a hand edit shows");

  const extraKey = structuredClone(desired);
  (extraKey.data as Record<string, string>)["extra"] = "x";
  digestConfigMapData(extraKey);
  assert.equal(configMapUpToDate(extraKey, desired), false);
  assert.deepEqual(configMapPatch(extraKey, desired)["data"], { "supervisor.json": '{"type":"kafka"}', "rules.json": "[]", extra: null }, "the patch sends values and removes keys no longer rendered");

  const missingKey = structuredClone(desired);
  delete (missingKey.data as Record<string, string>)["rules.json"];
  assert.equal(configMapUpToDate(missingKey, desired), false);
  // A value that merely looks like a digest is compared as a value.
  const lookalike = structuredClone(desired);
  (lookalike.data as Record<string, string>)["rules.json"] = "sha256:abc";
  assert.equal(configMapUpToDate(lookalike, desired), false);
});
