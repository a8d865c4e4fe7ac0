// The e2e opt-out (test/support/needs.ts): only named needs, a typo refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { optedOut } from "../support/needs.ts";

test("E2E_SKIP names the needs a run opts out of; empty opts out of nothing; an unknown name is refused", () => {
  assert.deepEqual([...optedOut({})], []);
  assert.deepEqual([...optedOut({ E2E_SKIP: "" })], []);
  assert.deepEqual([...optedOut({ E2E_SKIP: " kafka , router-hosts" })].sort(), ["kafka", "router-hosts"]);
  assert.throws(() => optedOut({ E2E_SKIP: "kafak" }), /unknown need "kafak"; known: kafka, router-hosts, local-stack, examples, tls/);
});
