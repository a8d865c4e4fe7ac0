import { test } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson, contentHash, jsonEqual } from "./canonical-json.ts";

const cases: Array<[string, unknown, string]> = [
  ["sorts keys at every depth", { b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }, '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}'],
  ["keeps array order", [3, 1, 2], "[3,1,2]"],
  ["escapes strings like JSON.stringify", { "k\"": "a\nb<" }, '{"k\\"":"a\\nb<"}'],
  ["scalars", true, "true"],
  ["empty containers", { a: [], b: {} }, '{"a":[],"b":{}}'],
];
for (const [name, input, expected] of cases) {
  test(`canonicalJson ${name}`, () => assert.equal(canonicalJson(input as never), expected));
}

test("hash ignores key order and whitespace, changes with content", () => {
  const a = JSON.parse('{"type":"kafka", "spec": {"ioConfig": {"topic": "t"}, "dataSchema": {"dataSource": "d"}}}');
  const b = JSON.parse('{"spec":{"dataSchema":{"dataSource":"d"},"ioConfig":{"topic":"t"}},"type":"kafka"}');
  assert.equal(contentHash(a), contentHash(b));
  assert.match(contentHash(a), /^[0-9a-f]{64}$/);
  b.spec.ioConfig.topic = "u";
  assert.notEqual(contentHash(a), contentHash(b));
  assert.equal(jsonEqual(a, a), true);
  assert.equal(jsonEqual(a, b), false);
});

test("jsonEqual compares as the JSON texts would: key order ignored, undefined members absent, undefined elements null", () => {
  const cases: Array<[unknown, unknown, boolean]> = [
    [{ a: 1, b: [1, { c: "x" }] }, { b: [1, { c: "x" }], a: 1 }, true],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, true],
    [{ a: undefined }, {}, true],
    [{ a: 1, b: undefined }, { a: 1, c: 2 }, false],
    [{ a: null }, {}, false],
    [[1, undefined], [1, null], true],
    [[1, 2], [2, 1], false],
    [[1], { 0: 1 }, false],
    [{ a: [] }, { a: {} }, false],
    ["1", 1, false],
    [{ conditions: [{ type: "Synced", status: "True", message: undefined }] }, { conditions: [{ status: "True", type: "Synced" }] }, true],
  ];
  for (const [a, b, equal] of cases) {
    assert.equal(jsonEqual(a, b), equal, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.equal(jsonEqual(b, a), equal, "symmetric");
    assert.equal(jsonEqual(a, b), canonicalJson(JSON.parse(JSON.stringify(a ?? null))) === canonicalJson(JSON.parse(JSON.stringify(b ?? null))), "as the canonical texts");
  }
});
