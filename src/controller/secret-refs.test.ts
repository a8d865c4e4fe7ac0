import { test } from "node:test";
import assert from "node:assert/strict";
import type { V1Secret } from "@kubernetes/client-node";
import { CREDENTIALS_LABEL, type JsonObject, type JsonValue } from "../api/druid-ingestion.ts";
import { firstSecretRefPath, MalformedSecretRef, MAX_SECRET_REFS, MAX_SUBSTITUTED_BYTES, NO_SECRET_REFS, REFERENCEABLE_KEYS_ANNOTATION, resolveSecretRefs, secretRefsOf, withSecretValues, type ResolvedSecretRefs } from "./secret-refs.ts";

const ref = (name: string, key: string): JsonObject => ({ secretKeyRef: { name, key } });

const found: Array<[string, JsonValue, Array<[string, string, string, string]>]> = [
  ["none", { spec: { ioConfig: { consumerProperties: { "bootstrap.servers": "k:9092" } } } }, []],
  [
    "a dotted property name is bracketed; the pointer escapes nothing it need not",
    { spec: { ioConfig: { consumerProperties: { "sasl.jaas.config": ref("kafka", "jaas") } } } },
    [['spec.ioConfig.consumerProperties["sasl.jaas.config"]', "/spec/ioConfig/consumerProperties/sasl.jaas.config", "kafka", "jaas"]],
  ],
  [
    "arrays, nesting and document order",
    { a: [1, { b: ref("s1", "k1") }, ref("s2", "k2")], c: { "d/e~f": ref("s1", "k3") } },
    [
      ["a[1].b", "/a/1/b", "s1", "k1"],
      ["a[2]", "/a/2", "s2", "k2"],
      ['c["d/e~f"]', "/c/d~1e~0f", "s1", "k3"],
    ],
  ],
  ["the body itself", ref("s", "k"), [["the spec itself", "", "s", "k"]]],
];
for (const [name, body, expected] of found) {
  test(`secretRefsOf: ${name}`, () => {
    assert.deepEqual(secretRefsOf(body).map((r) => [r.path, r.pointer, r.name, r.key]), expected);
  });
}

const malformed: Array<[string, JsonValue, RegExp]> = [
  ["other keys beside the reference", { p: { secretKeyRef: { name: "s", key: "k" }, value: "x" } }, /at p: the object has other keys besides secretKeyRef \(value\)/],
  ["not an object", { p: { secretKeyRef: "s/k" } }, /at p: secretKeyRef must be an object/],
  ["another namespace", { p: { secretKeyRef: { name: "s", key: "k", namespace: "other" } } }, /own namespace/],
  ["an unknown field", { p: { secretKeyRef: { name: "s", key: "k", optional: true } } }, /unknown field optional/],
  ["an empty name", { p: { secretKeyRef: { name: "", key: "k" } } }, /name must be a non-empty string/],
  ["a key that is not a string", { p: { secretKeyRef: { name: "s", key: 1 } } }, /key must be a non-empty string/],
  ["no key", { p: { secretKeyRef: { name: "s" } } }, /key must be a non-empty string/],
  ["a supervisor id", { id: { secretKeyRef: { name: "s", key: "k" } } }, /at id: a name, a type, a column or inline data cannot come from a Secret/],
  ["a datasource", { spec: { dataSchema: { dataSource: { secretKeyRef: { name: "s", key: "k" } } } } }, /at spec\.dataSchema\.dataSource: a name, a type/],
  ["the type", { type: { secretKeyRef: { name: "s", key: "k" } } }, /at type: a name, a type/],
  ["an SQL query id", { context: { sqlQueryId: { secretKeyRef: { name: "s", key: "k" } } } }, /at context\.sqlQueryId: a name, a type/],
  ["a topic", { spec: { ioConfig: { topic: { secretKeyRef: { name: "s", key: "k" } } } } }, /at spec\.ioConfig\.topic: a name/],
  ["the top-level ioConfig twin's type", { ioConfig: { type: { secretKeyRef: { name: "s", key: "k" } } } }, /at ioConfig\.type: a name/],
  ["a dimension", { spec: { dataSchema: { dimensionsSpec: { dimensions: [{ secretKeyRef: { name: "s", key: "k" } }] } } } }, /dimensions\[0\]: a name/],
  ["inline data", { spec: { ioConfig: { inputSource: { type: "inline", data: { secretKeyRef: { name: "s", key: "k" } } } } } }, /inputSource\.data: a name/],
  ["anything in the query context", { context: { anything: { secretKeyRef: { name: "s", key: "k" } } } }, /context\.anything: a name/],
  ["too many", Object.fromEntries(Array.from({ length: MAX_SECRET_REFS + 1 }, (_, i) => [`p${i}`, { secretKeyRef: { name: "s", key: "k" } }])), /more than 64/],
  ["inside an array, with its path", { spec: { ioConfig: { consumerProperties: { "sasl.jaas.config": [{ secretKeyRef: {} }] } } } }, /at spec\.ioConfig\.consumerProperties\["sasl\.jaas\.config"\]\[0\]: name must/],
];
for (const [name, body, message] of malformed) {
  test(`secretRefsOf refuses: ${name}`, () => {
    assert.throws(() => secretRefsOf(body), (e: unknown) => e instanceof MalformedSecretRef && message.test(e.message));
  });
}

test("firstSecretRefPath finds any object with the key, well-formed or not", () => {
  assert.equal(firstSecretRefPath([{ type: "dropForever" }]), undefined);
  assert.equal(firstSecretRefPath([{ a: { secretKeyRef: 1 } }]), "[0].a");
});

const UID = "5d2c6a8e-uid";
function secret(name: string, data: Record<string, string>, opts: { labelled?: boolean; uid?: string; resourceVersion?: string; referenceable?: string | null } = {}): V1Secret {
  const referenceable = opts.referenceable === undefined ? Object.keys(data).join(",") : opts.referenceable;
  return {
    metadata: {
      name,
      namespace: "team",
      uid: opts.uid ?? UID,
      resourceVersion: opts.resourceVersion ?? "7",
      labels: opts.labelled === false ? {} : { [CREDENTIALS_LABEL]: "true" },
      ...(referenceable === null ? {} : { annotations: { [REFERENCEABLE_KEYS_ANNOTATION]: referenceable } }),
    },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  };
}
const lookup = (...secrets: V1Secret[]) => ({ get: (ns: string, name: string) => secrets.find((s) => s.metadata?.namespace === ns && s.metadata?.name === name) });

test("resolve: values by name/key, each once", () => {
  const refs = secretRefsOf({ b: ref("kafka", "pw"), a: ref("kafka", "user"), c: ref("kafka", "pw") });
  const r = resolveSecretRefs(refs, "team", lookup(secret("kafka", { pw: "s3cr3t", user: "druid" })));
  assert.ok(r.ok);
  assert.deepEqual([...r.value.values], [["kafka/pw", "s3cr3t"], ["kafka/user", "druid"]]);
});

test("resolve: only keys the Secret lists as referenceable; the Druid login is not one by default", () => {
  const refs = secretRefsOf({ a: ref("druid-auth", "OperatorPassword") });
  for (const referenceable of [null, "", "OperatorUserName, other"]) {
    const r = resolveSecretRefs(refs, "team", lookup(secret("druid-auth", { OperatorUserName: "admin", OperatorPassword: "pw" }, { referenceable })));
    assert.ok(!r.ok && "failure" in r && r.failure.reason === "SecretKeyNotReferenceable", String(referenceable));
    assert.match(r.failure.message, /druid\.apache\.org\/referenceable-keys/);
    assert.doesNotMatch(r.failure.message, /"pw"|admin/);
  }
  assert.ok(resolveSecretRefs(refs, "team", lookup(secret("druid-auth", { OperatorPassword: "pw" }, { referenceable: " OperatorPassword " }))).ok);
});

test("resolve: a value that is not text, or too much of them in all, is refused before anything is built", () => {
  const binary: V1Secret = { ...secret("store", {}, { referenceable: "jks" }), data: { jks: Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0xff, 0x00]).toString("base64") } };
  const r = resolveSecretRefs(secretRefsOf({ a: ref("store", "jks") }), "team", lookup(binary));
  assert.ok(!r.ok && "failure" in r && r.failure.reason === "InvalidSpec" && /not UTF-8 text/.test(r.failure.message));
  const big = "x".repeat(MAX_SUBSTITUTED_BYTES / 4 + 1);
  const many = secretRefsOf(Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`p${i}`, ref("big", "v")])));
  const tooMuch = resolveSecretRefs(many, "team", lookup(secret("big", { v: big })));
  assert.ok(!tooMuch.ok && "failure" in tooMuch && tooMuch.failure.reason === "InvalidSpec" && /more than 1048576 bytes/.test(tooMuch.failure.message));
});

test("resolve: no references resolve to nothing, without looking", () => {
  assert.deepEqual(resolveSecretRefs([], "team", { get: () => assert.fail("no lookup") }), { ok: true, value: NO_SECRET_REFS });
});

test("resolve: a Secret missing from the cache or not opted in is left to the caller to explain, with the keys it needs", () => {
  const refs = secretRefsOf({ a: ref("kafka", "pw"), b: ref("kafka", "user") });
  assert.deepEqual(resolveSecretRefs(refs, "team", lookup()), { ok: false, unusable: { namespace: "team", name: "kafka" }, keys: ["pw", "user"] });
  assert.deepEqual(resolveSecretRefs(refs, "team", lookup(secret("kafka", { pw: "x", user: "y" }, { labelled: false }))), { ok: false, unusable: { namespace: "team", name: "kafka" }, keys: ["pw", "user"] });
});

test("resolve: a missing key names the Secret, the key and where it is referenced, never a value", () => {
  const refs = secretRefsOf({ spec: { ioConfig: { consumerProperties: { "sasl.jaas.config": ref("kafka", "jaas") } } } });
  const r = resolveSecretRefs(refs, "team", lookup(secret("kafka", { other: "s3cr3t" }, { referenceable: "jaas,other" })));
  assert.ok(!r.ok && "failure" in r);
  assert.equal(r.failure.reason, "SecretKeyMissing");
  assert.match(r.failure.message, /Secret team\/kafka has no key jaas \(referenced by the secretKeyRef at spec\.ioConfig\.consumerProperties\["sasl\.jaas\.config"\]\)/);
  assert.doesNotMatch(r.failure.message, /s3cr3t/);
});

test("resolve: only the resource's namespace is looked in", () => {
  const elsewhere = { ...secret("kafka", { pw: "x" }), metadata: { ...secret("kafka", { pw: "x" }).metadata, namespace: "other" } };
  const r = resolveSecretRefs(secretRefsOf({ a: ref("kafka", "pw") }), "team", lookup(elsewhere));
  assert.ok(!r.ok && "unusable" in r && r.unusable.namespace === "team");
});

test("withSecretValues: references become their values as strings; the stored body is not touched", () => {
  const body: JsonObject = { spec: { ioConfig: { consumerProperties: { "sasl.jaas.config": ref("kafka", "jaas"), list: [ref("kafka", "pw"), 2] } } } };
  const before = structuredClone(body);
  const resolved: ResolvedSecretRefs = { values: new Map([["kafka/jaas", 'x required password="p";'], ["kafka/pw", "p"]]) };
  assert.deepEqual(withSecretValues(body, resolved), { spec: { ioConfig: { consumerProperties: { "sasl.jaas.config": 'x required password="p";', list: ["p", 2] } } } });
  assert.deepEqual(body, before);
  const plain: JsonObject = { a: 1 };
  assert.equal(withSecretValues(plain, undefined), plain, "a body without references is sent as it is");
});

test("withSecretValues: a reference without a value is never sent", () => {
  assert.throws(() => withSecretValues({ a: ref("kafka", "pw") }, undefined), /kafka\/pw at a was not resolved/);
  assert.throws(() => withSecretValues({ a: ref("kafka", "pw") }, { values: new Map([["kafka/user", "u"]]) }), /not resolved/);
});

