import { test } from "node:test";
import assert from "node:assert/strict";
import { CEL_RULES, celRulesIn, createValidator, loadCrd, openApiSchemaOf } from "./schema.ts";

const validator = createValidator();

function resource(spec: Record<string, unknown>): unknown {
  return {
    apiVersion: "druid.apache.org/v1alpha1",
    kind: "DruidIngestion",
    metadata: { name: "x", namespace: "ns" },
    spec,
  };
}

const kafka = { type: "kafka", spec: '{"type":"kafka"}' };

test("every CEL rule in the CRD has a runtime twin", () => {
  const rules = celRulesIn(openApiSchemaOf(loadCrd()));
  assert.ok(rules.length >= 3);
  for (const rule of rules) assert.ok(CEL_RULES[rule], `missing twin for ${rule}`);
});

const cases: Array<{ name: string; spec: Record<string, unknown>; ok: boolean; problem?: RegExp }> = [
  { name: "druid-operator kafka manifest", spec: { druidCluster: "tiny", ingestion: kafka, suspend: false }, ok: true },
  { name: "nativeSpec object", spec: { druidCluster: "tiny", ingestion: { type: "kafka", nativeSpec: { type: "kafka" } } }, ok: true },
  { name: "druid-operator written-back empty auth", spec: { druidCluster: "tiny", ingestion: kafka, auth: { type: "", secretRef: {} } }, ok: true },
  { name: "auth with custom keys", spec: { druidCluster: "t", ingestion: kafka, auth: { type: "basic-auth", secretRef: { name: "s" }, usernameKey: "u", passwordKey: "p" } }, ok: true },
  { name: "explicit endpoint without cluster", spec: { druidEndpoint: "https://druid.example:9088", ingestion: kafka }, ok: true },
  { name: "compaction and rules", spec: { druidCluster: "t", ingestion: { ...kafka, compaction: { skipOffsetFromLatest: "PT0S" }, rules: [{ type: "dropForever" }] } }, ok: true },
  { name: "neither cluster nor endpoint", spec: { ingestion: kafka }, ok: false, problem: /druidCluster .* or spec.druidEndpoint/ },
  { name: "both spec and nativeSpec", spec: { druidCluster: "t", ingestion: { type: "kafka", spec: "{}", nativeSpec: {} } }, ok: false, problem: /both are set/ },
  { name: "neither spec nor nativeSpec", spec: { druidCluster: "t", ingestion: { type: "kafka" } }, ok: false, problem: /neither is set/ },
  { name: "empty spec string counts as absent", spec: { druidCluster: "t", ingestion: { type: "kafka", spec: "" } }, ok: false, problem: /neither is set/ },
  { name: "bad deletionPolicy", spec: { druidCluster: "t", ingestion: kafka, deletionPolicy: "Keep" }, ok: false, problem: /deletionPolicy: must be equal to one of the allowed values/ },
  { name: "bad type", spec: { druidCluster: "t", ingestion: { type: "Kafka!", spec: "{}" } }, ok: false, problem: /ingestion\/type/ },
  { name: "auth without secretRef", spec: { druidCluster: "t", ingestion: kafka, auth: { type: "basic-auth" } }, ok: false, problem: /secretRef/ },
  { name: "endpoint not a URL", spec: { druidEndpoint: "druid:8088", ingestion: kafka }, ok: false, problem: /druidEndpoint/ },
  { name: "offsets reset by partition", spec: { druidCluster: "t", ingestion: kafka, resetOffsetsNonce: "n1", resetOffsets: { partitions: { "0": 1200, "3": "9007199254740993" } } }, ok: true },
  { name: "offsets reset to latest with backfill", spec: { druidCluster: "t", ingestion: kafka, resetOffsetsNonce: "n1", resetOffsets: { latestAndBackfill: { backfillTaskCount: 2 } } }, ok: true },
  { name: "resetOffsets kept after the nonce is cleared", spec: { druidCluster: "t", ingestion: kafka, resetOffsetsNonce: "", resetOffsets: { partitions: { "0": 1 } } }, ok: true },
  { name: "an offsets nonce without resetOffsets", spec: { druidCluster: "t", ingestion: kafka, resetOffsetsNonce: "n1" }, ok: false, problem: /resetOffsetsNonce needs spec.resetOffsets/ },
  { name: "resetOffsets with both ways", spec: { druidCluster: "t", ingestion: kafka, resetOffsetsNonce: "n1", resetOffsets: { partitions: { "0": 1 }, latestAndBackfill: {} } }, ok: false, problem: /exactly one of spec.resetOffsets.partitions/ },
  { name: "resetOffsets with neither way", spec: { druidCluster: "t", ingestion: kafka, resetOffsetsNonce: "n1", resetOffsets: {} }, ok: false, problem: /exactly one of spec.resetOffsets.partitions/ },
  { name: "an empty partition map (Druid would reset nothing)", spec: { druidCluster: "t", ingestion: kafka, resetOffsetsNonce: "n1", resetOffsets: { partitions: {} } }, ok: false, problem: /partitions: must NOT have fewer than 1 properties/ },
  { name: "an offset that is neither a whole number nor a string", spec: { druidCluster: "t", ingestion: kafka, resetOffsetsNonce: "n1", resetOffsets: { partitions: { "0": 1.5 } } }, ok: false, problem: /partitions\/0: must be an integer or a string/ },
  { name: "a backfill of no tasks", spec: { druidCluster: "t", ingestion: kafka, resetOffsetsNonce: "n1", resetOffsets: { latestAndBackfill: { backfillTaskCount: 0 } } }, ok: false, problem: /backfillTaskCount: must be >= 1/ },
  { name: "suspend not boolean", spec: { druidCluster: "t", ingestion: kafka, suspend: "yes" }, ok: false, problem: /suspend: must be boolean/ },
];

for (const c of cases) {
  test(`schema: ${c.name}`, () => {
    const parsed = validator.parse(resource(c.spec));
    assert.equal(parsed.ok, c.ok, parsed.ok ? "accepted" : parsed.error.message);
    if (!parsed.ok && c.problem) assert.match(parsed.error.message, c.problem);
  });
}
