// The README is part of the product: its configuration table and quick start must stay true.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { SETTINGS } from "../../src/config.ts";
import { REPO_ROOT } from "../support/stack.ts";

const readme = readFileSync(`${REPO_ROOT}/README.md`, "utf8");

test("every setting is in the README's configuration table with its flag and default", () => {
  for (const s of Object.values(SETTINGS)) {
    const row = readme.split("\n").find((l) => l.startsWith(`| \`${s.env}\` |`));
    assert.ok(row, `README lacks a row for ${s.env}`);
    assert.ok(row.includes(`\`--${s.flag}\``), `${s.env}: flag --${s.flag} missing`);
    if (s.default !== undefined && s.default !== "") assert.ok(row.includes(`\`${s.default}\``), `${s.env}: default ${s.default} missing`);
  }
});

test(".ci/run runs the README's install and test commands", () => {
  const ci = readFileSync(`${REPO_ROOT}/.ci/run`, "utf8");
  assert.match(readme, /npm ci && npm run quickstart/);
  assert.match(readme, /^npm test /m);
  const install = ci.indexOf("\nnpm ci\n");
  const tests = ci.indexOf("\nnpm test\n");
  assert.ok(install > 0 && tests > install, ".ci/run: npm ci, then npm test");
});
