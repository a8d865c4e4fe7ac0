// The README's first command, as a user runs it: `npm run quickstart` applies the example and
// keeps the controller running; Ctrl-C (SIGINT) removes the example through the controller, so
// its supervisor is terminated in Druid and the next `npm test` finds the example datasources free.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "../support/stack.ts";
import { e2eSetup } from "../support/e2e-setup.ts";
import { waitFor } from "../support/wait.ts";

const { kube, druid } = e2eSetup();
const NAMESPACE = "druid-quickstart";
const SUPERVISOR = "metrics-kafka-2";

test("npm run quickstart: the example runs in Druid; one Ctrl-C (to the terminal's process group) removes it through the controller and exits 0", { timeout: 600_000 }, async () => {
  // Its own process group, as a terminal's foreground job: Ctrl-C signals the whole group.
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "scripts/quickstart.ts")], { cwd: REPO_ROOT, env: process.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const group = -(child.pid as number);
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    await waitFor("the quickstart to say the controller keeps running", async () => output.includes("the controller keeps running"), 300_000, 500);
    assert.ok(await kube.getIngestion(NAMESPACE, "kafka-2"), output);
    assert.ok(await druid.supervisor(SUPERVISOR), `Druid runs ${SUPERVISOR}\n${output}`);

    process.kill(group, "SIGINT");
    const code = await Promise.race([exited, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 180_000))]);
    assert.equal(code, 0, output);
    assert.match(output, /example removed/);
    assert.equal(await kube.getIngestion(NAMESPACE, "kafka-2"), undefined, "the example is gone");
    assert.equal(await druid.supervisor(SUPERVISOR), undefined, "its supervisor was terminated in Druid");
  } finally {
    if (child.exitCode === null) {
      // SIGTERM: the quickstart removes the example and stops its controller (which SIGKILL would orphan).
      process.kill(group, "SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 150_000))]);
      if (child.exitCode === null) process.kill(group, "SIGKILL");
    }
  }
});
