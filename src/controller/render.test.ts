import { test } from "node:test";
import assert from "node:assert/strict";
import type { DruidIngestion, DruidIngestionSpec } from "../api/druid-ingestion.ts";
import { dataSourceOf, RenderError, renderIngestion, supervisorSubmission, type DesiredSupervisor } from "./render.ts";

function ing(spec: Partial<DruidIngestionSpec>): DruidIngestion {
  return {
    apiVersion: "druid.apache.org/v1alpha1", kind: "DruidIngestion",
    metadata: { name: "n", namespace: "ns", uid: "u", generation: 1, resourceVersion: "1" },
    spec: { druidCluster: "c", ingestion: { type: "kafka" }, ...spec },
  };
}

const inner = { dataSchema: { dataSource: "ds" }, ioConfig: { topic: "t" } };

test("the JSON string and the nativeSpec object render to the same hash", () => {
  const a = renderIngestion(ing({ ingestion: { type: "kafka", spec: `{ "type": "kafka", "spec": ${JSON.stringify(inner)} }` } }));
  const b = renderIngestion(ing({ ingestion: { type: "kafka", nativeSpec: { spec: { ioConfig: { topic: "t" }, dataSchema: { dataSource: "ds" } }, type: "kafka" } } }));
  assert.equal(a.specHash, b.specHash);
  assert.equal(a.canonical, '{"spec":{"dataSchema":{"dataSource":"ds"},"ioConfig":{"topic":"t"}},"type":"kafka"}');
});

test("a non-empty nativeSpec wins over spec (druid-operator rule)", () => {
  const d = renderIngestion(ing({ ingestion: { type: "kafka", spec: "{ broken", nativeSpec: { type: "kafka", spec: inner } } }));
  assert.equal(d.kind === "supervisor" && d.supervisorId, "ds");
});

test("the supervisor type defaults to ingestion.type; suspended is never hashed", () => {
  const d = renderIngestion(ing({ ingestion: { type: "kinesis", nativeSpec: { spec: inner, suspended: true } } })) as DesiredSupervisor;
  assert.equal(d.body["type"], "kinesis");
  assert.equal(d.body["suspended"], undefined);
  const e = renderIngestion(ing({ ingestion: { type: "kinesis", nativeSpec: { spec: inner, suspended: false } } }));
  assert.equal(d.specHash, e.specHash);
  assert.deepEqual(supervisorSubmission(d, true)["suspended"], true);
});

test("dataSource is found under spec.dataSchema or a top-level dataSchema", () => {
  assert.equal(dataSourceOf({ spec: { dataSchema: { dataSource: "a" } } }), "a");
  assert.equal(dataSourceOf({ dataSchema: { dataSource: "b" } }), "b");
  assert.equal(dataSourceOf({ spec: {} }), undefined);
});

const errors: Array<[string, Partial<DruidIngestionSpec>, RegExp]> = [
  ["invalid JSON names the problem", { ingestion: { type: "kafka", spec: '{"type": kafka}' } }, /not valid JSON/],
  ["JSON that is not an object", { ingestion: { type: "kafka", spec: "[1]" } }, /must be a JSON object/],
  ["no spec at all", { ingestion: { type: "kafka" } }, /no ingestion spec/],
  ["a supervisor without dataSource", { ingestion: { type: "kafka", nativeSpec: { type: "kafka", spec: {} } } }, /no dataSchema.dataSource/],
  ["compaction without dataSource", { ingestion: { type: "native-batch", nativeSpec: { type: "index" }, compaction: {} } }, /compaction is set/],
];
for (const [name, spec, message] of errors) {
  test(`render error: ${name}`, () => {
    assert.throws(() => renderIngestion(ing(spec)), (e: unknown) => e instanceof RenderError && message.test(e.message) && e.reason === "InvalidSpec");
  });
}

test("compaction gets the dataSource added; rules pass through", () => {
  const d = renderIngestion(ing({ ingestion: { type: "kafka", nativeSpec: { spec: inner }, compaction: { skipOffsetFromLatest: "PT1H" }, rules: [{ type: "dropForever" }] } }));
  assert.deepEqual(d.compaction?.config, { skipOffsetFromLatest: "PT1H", dataSource: "ds" });
  assert.deepEqual(d.rules?.rules, [{ type: "dropForever" }]);
});
