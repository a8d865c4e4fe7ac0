import { strict as assert } from "node:assert";
import { test } from "node:test";
import { trimForCache } from "./trim.ts";

test("managedFields and kubectl's last-applied copy go; everything else stays", () => {
  const o = {
    metadata: {
      name: "a",
      resourceVersion: "7",
      annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{...}", "druid.apache.org/paused": "true" },
      managedFields: [{ manager: "kubectl", operation: "Apply" }],
      finalizers: ["f"],
    },
    spec: { x: 1 },
    status: { y: 2 },
  };
  trimForCache(o);
  assert.deepEqual(o, { metadata: { name: "a", resourceVersion: "7", annotations: { "druid.apache.org/paused": "true" }, finalizers: ["f"] }, spec: { x: 1 }, status: { y: 2 } });
  trimForCache({});
});
