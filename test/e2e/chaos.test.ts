// A short chaos round inside `npm test`: `npm run chaos` for about three minutes with a fixed
// seed against the real stack (two replicas under kills, freezes, black-holes and Druid faults),
// expecting no invariant violated, and the faults that matter most to have happened.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Summary } from "../../tools/chaos/report.ts";
import { ensureStack, REPO_ROOT } from "../support/stack.ts";

ensureStack();

test("chaos: 3 minutes, seed 1: no invariant violated", { timeout: 900_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "dic-chaos-"));
  const report = path.join(dir, "report.json");
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, "tools/chaos/run.ts"), "--minutes", "3", "--seed", "1", "--report", report, "--run-dir", path.join(dir, "run")], {
      cwd: REPO_ROOT,
      env: process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (c: Buffer) => output.push(c.toString()));
    child.stderr.on("data", (c: Buffer) => output.push(c.toString()));
    child.once("exit", resolve);
  });
  const text = output.join("");
  const summary = JSON.parse(readFileSync(report, "utf8")) as Summary;
  assert.equal(summary.aborted, undefined, text.slice(-4000));
  assert.ok(summary.rounds >= 1, text.slice(-4000));
  assert.ok(summary.kills >= 1, "at least one leader was SIGKILLed");
  assert.ok(summary.druidFaultWindows.outage >= 1, "at least one Druid outage");
  assert.deepEqual(
    summary.violations.list.map((v) => `${v.kind} ${v.subject}: ${v.message}`),
    [],
    `violations (details in ${summary.runDir}/summary.txt):\n${summary.violations.list.map((v) => v.details).join("\n\n").slice(0, 20_000)}`,
  );
  assert.equal(code, 0, text.slice(-4000));
});
