import { test } from "node:test";
import assert from "node:assert/strict";
import type { DruidIngestion, DruidIngestionSpec } from "../api/druid-ingestion.ts";
import { dataSourceOf, RenderError, renderIngestion, secretRefKeysOf, supervisorSubmission, type DesiredSupervisor } from "./render.ts";

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
  const kinesis = { dataSchema: { dataSource: "ds" }, ioConfig: { stream: "t" } };
  const d = renderIngestion(ing({ ingestion: { type: "kinesis", nativeSpec: { spec: kinesis, suspended: true } } })) as DesiredSupervisor;
  assert.equal(d.body["type"], "kinesis");
  assert.equal(d.body["suspended"], undefined);
  const e = renderIngestion(ing({ ingestion: { type: "kinesis", nativeSpec: { spec: kinesis, suspended: false } } }));
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

// --- Secret references ---------------------------------------------------------------------------

const jaasRef = { secretKeyRef: { name: "kafka-sasl", key: "jaas" } };
const saslInner = { dataSchema: { dataSource: "ds" }, ioConfig: { topic: "t", consumerProperties: { "bootstrap.servers": "k:9092", "sasl.jaas.config": jaasRef } } };

test("a spec without references keeps exactly the hash it had before references existed", () => {
  // Literal, computed before this feature: a changed hash would restart every supervisor on upgrade.
  const d = renderIngestion(ing({ ingestion: { type: "kafka", nativeSpec: { spec: { dataSchema: { dataSource: "ds" }, ioConfig: { topic: "t", consumerProperties: { "bootstrap.servers": "k:9092", "sasl.mechanism": "PLAIN" } } } } } }));
  assert.equal(d.specHash, "84e028a9a4271b6e6a518105a4b7eafeabd30425b781704d4561d669850f8c94");
  assert.deepEqual(d.secretRefs, []);
});

test("references stay references in the rendered body and canonical text, from nativeSpec or the JSON string", () => {
  const native = renderIngestion(ing({ ingestion: { type: "kafka", nativeSpec: { spec: saslInner } } }));
  const text = renderIngestion(ing({ ingestion: { type: "kafka", spec: JSON.stringify({ type: "kafka", spec: saslInner }) } }));
  assert.equal(native.specHash, text.specHash);
  assert.match(native.canonical, /"sasl.jaas.config":\{"secretKeyRef":\{"key":"jaas","name":"kafka-sasl"\}\}/);
  assert.deepEqual(native.secretRefs, [{ path: 'spec.ioConfig.consumerProperties["sasl.jaas.config"]', pointer: "/spec/ioConfig/consumerProperties/sasl.jaas.config", name: "kafka-sasl", key: "jaas" }]);
});


const refErrors: Array<[string, Partial<DruidIngestionSpec>, RegExp]> = [
  ["a malformed reference names its path", { ingestion: { type: "kafka", nativeSpec: { spec: { ...inner, ioConfig: { consumerProperties: { "sasl.jaas.config": { secretKeyRef: { name: "s" } } } } } } } }, /invalid secretKeyRef at spec\.ioConfig\.consumerProperties\["sasl\.jaas\.config"\]: key must be a non-empty string/],
  ["a reference with another key", { ingestion: { type: "kafka", spec: JSON.stringify({ spec: { ...inner, x: { secretKeyRef: { name: "s", key: "k" }, default: "v" } } }) } }, /at spec\.x: the object has other keys/],
  ["the whole spec a reference", { ingestion: { type: "native-batch", nativeSpec: jaasRef } }, /must be a JSON object, not a secretKeyRef/],
  ["a reference in compaction", { ingestion: { type: "kafka", nativeSpec: { spec: inner }, compaction: { tuningConfig: { x: jaasRef } } } }, /spec\.ingestion\.compaction has a secretKeyRef \(at tuningConfig\.x\)/],
  ["a reference in rules", { ingestion: { type: "kafka", nativeSpec: { spec: inner }, rules: [{ type: "loadForever", tieredReplicants: jaasRef }] } }, /spec\.ingestion\.rules has a secretKeyRef \(at \[0\]\.tieredReplicants\)/],
];
for (const [name, spec, message] of refErrors) {
  test(`render error: ${name}`, () => {
    assert.throws(() => renderIngestion(ing(spec)), (e: unknown) => e instanceof RenderError && message.test(e.message) && e.reason === "InvalidSpec");
  });
}

test("secretRefKeysOf: the Secrets the spec references, in the resource's namespace, once each; none when it does not render", () => {
  const twice = { spec: { ...saslInner, tuningConfig: { x: [jaasRef, { secretKeyRef: { name: "other", key: "k" } }] } } };
  assert.deepEqual(secretRefKeysOf(ing({ ingestion: { type: "kafka", nativeSpec: twice } })), ["ns/kafka-sasl", "ns/other"]);
  assert.deepEqual(secretRefKeysOf(ing({ ingestion: { type: "kafka", spec: "{broken" } })), []);
  assert.deepEqual(secretRefKeysOf(ing({ ingestion: { type: "kafka", nativeSpec: { spec: inner } } })), []);
});

test("a supervisor spec Druid would refuse is refused before any call, naming the field (#12)", () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["kafka without a topic", { type: "kafka", spec: { dataSchema: { dataSource: "ds" }, ioConfig: {} } }, /\/spec\/ioConfig: a kafka supervisor needs ioConfig.topic or ioConfig.topicPattern/],
    ["kafka with topic and topicPattern", { type: "kafka", spec: { dataSchema: { dataSource: "ds" }, ioConfig: { topic: "t", topicPattern: "t.*" } } }, /set only one of ioConfig.topic, ioConfig.topicPattern/],
    ["a blank topic", { type: "kafka", spec: { dataSchema: { dataSource: "ds" }, ioConfig: { topic: " " } } }, /\/spec\/ioConfig\/topic: must be a non-empty string/],
    ["a duration that is not ISO-8601", { type: "kafka", spec: { dataSchema: { dataSource: "ds" }, ioConfig: { topic: "t", taskDuration: "1h" } } }, /\/spec\/ioConfig\/taskDuration: "1h" is not an ISO-8601 period/],
    ["taskCount 0", { type: "kafka", spec: { dataSchema: { dataSource: "ds" }, ioConfig: { topic: "t", taskCount: 0 } } }, /\/spec\/ioConfig\/taskCount: 0 must be a whole number of at least 1/],
    ["a datasource with a slash", { type: "kafka", spec: { dataSchema: { dataSource: "a/b" }, ioConfig: { topic: "t" } } }, /\/spec\/dataSchema\/dataSource: "a\/b" must not contain "\/"/],
    ["an id starting with a dot", { type: "kafka", id: ".x", spec: { dataSchema: { dataSource: "ds" }, ioConfig: { topic: "t" } } }, /\/id: ".x" must not start with "."/],
    ["flat form: kinesis without a stream", { type: "kinesis", dataSchema: { dataSource: "ds" }, ioConfig: { topic: "t" } }, /\/ioConfig: a kinesis supervisor needs ioConfig.stream/],
  ];
  for (const [name, nativeSpec, message] of cases) {
    assert.throws(() => renderIngestion(ing({ ingestion: { type: String(nativeSpec["type"]), nativeSpec: nativeSpec as never } })), (e: unknown) => e instanceof RenderError && message.test(e.message) && /nothing was sent to Druid/.test(e.message), name);
  }
  // What is fine stays fine: periods of every shape, a topic pattern, other supervisor types untouched.
  for (const ok of [
    { type: "kafka", spec: { dataSchema: { dataSource: "ds" }, ioConfig: { topic: "t", taskDuration: "PT1H", period: "PT30S", completionTimeout: "PT0.5S", lateMessageRejectionPeriod: "P1DT2H", taskCount: 2, replicas: 1 } } },
    { type: "kafka", spec: { dataSchema: { dataSource: "ds" }, ioConfig: { topicPattern: "metrics-.*" } } },
    { type: "autocompact", spec: { dataSchema: { dataSource: "ds" } } },
  ]) {
    assert.doesNotThrow(() => renderIngestion(ing({ ingestion: { type: ok.type, nativeSpec: ok as never } })), JSON.stringify(ok));
  }
});
