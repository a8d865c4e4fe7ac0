import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import type { V1Secret } from "@kubernetes/client-node";
import { CREDENTIALS_LABEL, type JsonObject, type JsonValue } from "../api/druid-ingestion.ts";
import { sha256Hex } from "./canonical-json.ts";
import { firstSecretRefPath, MalformedSecretRef, NO_SECRET_REFS, redactSecretValues, resolveSecretRefs, secretRefsOf, specHashWithSecrets, withSecretValues, type ResolvedSecretRefs } from "./secret-refs.ts";

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
  ["inside an array, with its path", { spec: { ioConfig: { consumerProperties: { "sasl.jaas.config": [{ secretKeyRef: {} }] } } } }, /at spec\.ioConfig\.consumerProperties\["sasl\.jaas\.config"\]\[0\]: name must/],
];
for (const [name, body, message] of malformed) {
  test(`secretRefsOf refuses: ${name}`, () => {
    assert.throws(() => secretRefsOf(body), (e: unknown) => e instanceof MalformedSecretRef && message.test(e.message) && e.message.includes('{"secretKeyRef": {"name"'));
  });
}

test("firstSecretRefPath finds any object with the key, well-formed or not", () => {
  assert.equal(firstSecretRefPath([{ type: "dropForever" }]), undefined);
  assert.equal(firstSecretRefPath([{ a: { secretKeyRef: 1 } }]), "[0].a");
});

const UID = "5d2c6a8e-uid";
function secret(name: string, data: Record<string, string>, opts: { labelled?: boolean; uid?: string | null } = {}): V1Secret {
  return {
    metadata: { name, namespace: "team", ...(opts.uid === null ? {} : { uid: opts.uid ?? UID }), labels: opts.labelled === false ? {} : { [CREDENTIALS_LABEL]: "true" } },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  };
}
const lookup = (...secrets: V1Secret[]) => ({ get: (ns: string, name: string) => secrets.find((s) => s.metadata?.namespace === ns && s.metadata?.name === name) });
const hmac = (value: string, key = UID): string => createHmac("sha256", key).update(value).digest("hex");

test("resolve: values by name/key, one HMAC line per key keyed by the Secret's uid, sorted", () => {
  const refs = secretRefsOf({ b: ref("kafka", "pw"), a: ref("kafka", "user"), c: ref("kafka", "pw") });
  const r = resolveSecretRefs(refs, "team", lookup(secret("kafka", { pw: "s3cr3t", user: "druid" })));
  assert.ok(r.ok);
  assert.deepEqual([...r.value.values], [["kafka/pw", "s3cr3t"], ["kafka/user", "druid"]]);
  assert.deepEqual(r.value.digests, [`kafka/pw:${hmac("s3cr3t")}`, `kafka/user:${hmac("druid")}`]);
  assert.ok(!r.value.digests.some((d) => d.includes(sha256Hex("s3cr3t"))), "never a plain hash of the value");
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
  const r = resolveSecretRefs(refs, "team", lookup(secret("kafka", { other: "s3cr3t" })));
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

test("the spec hash: unchanged without references; with them, it follows the value and the Secret's uid", () => {
  assert.equal(specHashWithSecrets("abc", []), "abc");
  const refs = secretRefsOf({ a: ref("kafka", "pw") });
  const digests = (value: string, uid?: string): readonly string[] => {
    const r = resolveSecretRefs(refs, "team", lookup(secret("kafka", { pw: value }, { uid: uid ?? UID })));
    assert.ok(r.ok);
    return r.value.digests;
  };
  const one = specHashWithSecrets("abc", digests("one"));
  assert.notEqual(one, "abc");
  assert.equal(specHashWithSecrets("abc", digests("one")), one, "the same value, the same hash");
  assert.notEqual(specHashWithSecrets("abc", digests("two")), one, "a rotated value, another hash");
  assert.notEqual(specHashWithSecrets("abc", digests("one", "another-uid")), one, "a re-created Secret is keyed anew");
});

test("withSecretValues: references become their values as strings; the stored body is not touched", () => {
  const body: JsonObject = { spec: { ioConfig: { consumerProperties: { "sasl.jaas.config": ref("kafka", "jaas"), list: [ref("kafka", "pw"), 2] } } } };
  const before = structuredClone(body);
  const resolved: ResolvedSecretRefs = { values: new Map([["kafka/jaas", 'x required password="p";'], ["kafka/pw", "p"]]), digests: [] };
  assert.deepEqual(withSecretValues(body, resolved), { spec: { ioConfig: { consumerProperties: { "sasl.jaas.config": 'x required password="p";', list: ["p", 2] } } } });
  assert.deepEqual(body, before);
  const plain: JsonObject = { a: 1 };
  assert.equal(withSecretValues(plain, undefined), plain, "a body without references is sent as it is");
});

test("withSecretValues: a reference without a value is never sent", () => {
  assert.throws(() => withSecretValues({ a: ref("kafka", "pw") }, undefined), /kafka\/pw at a was not resolved/);
  assert.throws(() => withSecretValues({ a: ref("kafka", "pw") }, { values: new Map([["kafka/user", "u"]]), digests: [] }), /not resolved/);
});

test("redactSecretValues: raw and JSON-escaped forms, longest first", () => {
  const jaas = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="druid" password="s3cr3t";';
  const resolved: ResolvedSecretRefs = { values: new Map([["kafka/jaas", jaas], ["kafka/pw", "s3cr3t"]]), digests: [] };
  const echoed = `HTTP 400: Cannot construct instance from {"sasl.jaas.config":${JSON.stringify(jaas)}}; also s3cr3t, and ${jaas}`;
  const out = redactSecretValues(echoed, resolved);
  assert.doesNotMatch(out, /s3cr3t/);
  assert.equal(out, 'HTTP 400: Cannot construct instance from {"sasl.jaas.config":"<secretKeyRef kafka/jaas>"}; also <secretKeyRef kafka/pw>, and <secretKeyRef kafka/jaas>');
  assert.equal(redactSecretValues("nothing to hide", undefined), "nothing to hide");
});
