import { test } from "node:test";
import assert from "node:assert/strict";
import { checkIngestion } from "./check.ts";

const manifest = {
  apiVersion: "druid.apache.org/v1alpha1",
  kind: "DruidIngestion",
  metadata: { name: "k" },
  spec: { druidCluster: "c", ingestion: { type: "kafka", nativeSpec: { type: "kafka", spec: { dataSchema: { dataSource: "d" }, ioConfig: { topic: "t", consumerProperties: { "bootstrap.servers": "k:9092" } } } } } },
};

test("a status in a file is dropped: only the API server's status says where a resource applied (review of #13: it would skip the endpoint check)", () => {
  const checked = checkIngestion({ ...manifest, status: { applied: { druidEndpoint: "http://attacker.example:80", supervisorId: "d", origin: "Created" } } }, "team");
  assert.ok(checked.ok);
  assert.equal(checked.ingestion.status, undefined);
  assert.equal(checked.ingestion.metadata.namespace, "team");
});

test("names the API server would refuse are refused", () => {
  for (const name of ["Upper", "a_b", "", "-a"]) {
    const checked = checkIngestion({ ...manifest, metadata: { name } }, "team");
    assert.equal(checked.ok, false, name);
    if (!checked.ok) assert.equal(checked.reason, "InvalidMetadata");
  }
});
