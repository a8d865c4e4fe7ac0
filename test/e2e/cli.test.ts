// The CLI against the real API server and the real Druid, run as users run it: the bin launcher
// (bin/druid-ingestion.js) and the kubectl plugin (kubectl druid-ingestion, through the stack's
// own kubectl). diff judges a manifest with the resource's live status and Druid's real state and
// writes nothing; status shows status and Druid side by side and marks where they disagree.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { dump } from "js-yaml";
import { ControllerProcess } from "../support/controller.ts";
import { kubectlBinary } from "../support/kubectl.ts";
import { REPO_ROOT } from "../support/stack.ts";
import { e2eSetup } from "../support/e2e-setup.ts";
import { waitFor } from "../support/wait.ts";
import { isSynced, kafkaIngestion, namespaceWithAuthSecret, unique } from "../support/fixtures.ts";

const { env, kube, druid, bootstrap } = e2eSetup();
const LAUNCHER = path.join(REPO_ROOT, "bin/druid-ingestion.js");
const dir = mkdtempSync(path.join(tmpdir(), "cli-e2e-"));

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: string[], extraEnv: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: dir, env: { PATH: process.env["PATH"] ?? "", HOME: dir, ...extraEnv }, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(error);
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

/** The CLI as the bin entry runs it, with the stack's kubeconfig and the controller's default URL. */
const cli = (args: string[], extraEnv: Record<string, string> = {}): Promise<Ran> => exec(LAUNCHER, args, { KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl, ...extraEnv });

function write(name: string, doc: Record<string, unknown>): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, dump(doc));
  return file;
}

describe("the CLI against the real API server and Druid", { timeout: 600_000 }, () => {
  let controller: ControllerProcess;
  let ns: string;
  const ds = unique("cli");
  const manifest = kafkaIngestion("cli", ds, bootstrap) as { spec: { ingestion: Record<string, unknown> } };
  // Druid adds defaults to both (a rule's useDefaultTierForNull): not differences.
  manifest.spec.ingestion["compaction"] = { skipOffsetFromLatest: "PT1H" };
  manifest.spec.ingestion["rules"] = [{ type: "loadByPeriod", period: "P1M", includeFuture: true, tieredReplicants: { _default_tier: 1 } }, { type: "dropForever" }];
  before(async () => {
    await kube.installCrd();
    controller = await ControllerProcess.start({ KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl, RESYNC_PERIOD: "5s" });
    ns = await namespaceWithAuthSecret(kube, env, "cli");
    await kube.createIngestion(ns, manifest);
    await waitFor("the resource synced", async () => isSynced(await kube.getIngestion(ns, "cli")), 120_000);
  });
  after(async () => {
    // Deleted while the controller runs (its finalizer needs it and the namespace's Secret).
    if (ns) {
      await kube.deleteIngestion(ns, "cli").catch(() => undefined);
      await waitFor(`${ns}/cli gone`, async () => !(await kube.getIngestion(ns, "cli")), 120_000).catch(() => undefined);
    }
    await controller?.stop();
    if (ns) {
      await druid.terminate(ds).catch(() => undefined);
      await kube.deleteNamespace(ns).catch(() => undefined);
    }
  });

  test("diff of the applied manifest: managed by this resource, nothing to change, exit 0", async () => {
    const r = await cli(["diff", "-n", ns, write("same", manifest)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`DruidIngestion ${ns}/cli → supervisor ${ds} on ${env.druidUrl.replace(/[.]/g, "\\.")} \\(Druid \\d+\\.`));
    assert.match(r.stdout, /ownership +managed by this resource/);
    assert.match(r.stdout, /spec +unchanged \(against the spec last applied, from status\)/);
    assert.match(r.stdout, /compaction +unchanged/);
    assert.match(r.stdout, /rules +unchanged/);
    assert.match(r.stdout, /no change: the controller would make no call to Druid/);
  });

  test("diff of an edit: the changed field against the spec last applied, an update that restarts tasks, exit 1; Druid is not touched", async () => {
    const before = await druid.historyLength(ds);
    const edited = structuredClone(manifest) as any;
    edited.spec.ingestion.nativeSpec.spec.tuningConfig = { ...(edited.spec.ingestion.nativeSpec.spec.tuningConfig ?? {}), maxRowsInMemory: 12345 };
    const r = await cli(["diff", "-o", "json", "-n", ns, write("edited", edited)]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as { comparedWith: string; spec: { changes: Array<{ path: string; op: string; to: unknown }> }; actions: Array<{ call: string }>; restartsTasks: boolean };
    assert.equal(report.comparedWith, "applied");
    assert.deepEqual(report.spec.changes.map((c) => [c.path, c.op, c.to]), [["/spec/tuningConfig/maxRowsInMemory", report.spec.changes[0]?.op, 12345]]);
    assert.deepEqual(report.actions.map((a) => a.call), [`POST supervisor ${ds} (Updated)`]);
    assert.equal(report.restartsTasks, true);
    assert.equal(await druid.historyLength(ds), before, "diff wrote nothing to Druid");
    assert.equal((await kube.getIngestion(ns, "cli"))?.metadata.generation, 1, "nor to Kubernetes");
  });

  test("diff without the cluster (--no-cluster --druid-url, DRUID_USER/DRUID_PASSWORD): Druid's stored copy, defaults and all, holds what the manifest sets: exit 0", async () => {
    const r = await cli(["diff", "--no-cluster", "--druid-url", env.druidUrl, "-n", ns, write("same-url", manifest)], { DRUID_USER: env.druidUser, DRUID_PASSWORD: env.druidPassword });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /spec +unchanged \(against Druid's stored copy/);
    assert.ok(!r.stdout.includes(env.druidPassword) && !r.stderr.includes(env.druidPassword), "the password is never printed");
  });

  test("diff of a manifest whose spec.druidEndpoint the administrator did not allow: EndpointNotAllowed, exit 2, no request (and no credential) sent there", async () => {
    const seen: string[] = [];
    const trap = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`);
      res.end("{}");
    });
    await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
      const elsewhere = structuredClone(manifest) as any;
      elsewhere.spec.druidEndpoint = url;
      const r = await cli(["diff", "-n", ns, write("elsewhere", elsewhere)]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, /EndpointNotAllowed: spec\.druidEndpoint: http:\/\/127\.0\.0\.1:\d+ is not an allowed Druid endpoint/);
      assert.deepEqual(seen, []);
      // Listed as the controller's administrator would list it: asked (with the resource's Secret).
      const allowed = await cli(["diff", "-n", ns, "--allowed-druid-endpoints", url, write("elsewhere", elsewhere)]);
      assert.equal(seen.length > 0, true, allowed.stdout + allowed.stderr);
    } finally {
      trap.close();
    }
  });

  test("status: Ready and Druid's state side by side; a supervisor suspended in Druid behind the resource's back is marked", async () => {
    type Row = { name: string; id: string; ready: string; druid: { present: boolean; state: string }; mismatches: string[] };
    // Status is what the controller last wrote: right after a change (PENDING → RUNNING in Druid)
    // the two differ, and status says so, until the controller's next look.
    const row = await waitFor("status and Druid to agree", async () => {
      const r = await cli(["status", "-n", ns, "-o", "json"]);
      assert.equal(r.code, 0, r.stderr);
      const [first] = JSON.parse(r.stdout) as Row[];
      return first && first.mismatches.length === 0 ? first : false;
    }, 60_000, 1000);
    assert.equal(row?.name, "cli");
    assert.equal(row?.id, ds);
    assert.equal(row?.druid.present, true);
    assert.deepEqual(row?.mismatches, []);

    await controller.stop();
    const suspended = await druid.call("POST", `/druid/indexer/v1/supervisor/${encodeURIComponent(ds)}/suspend`);
    assert.equal(suspended.status, 200, suspended.text);
    // Druid's list says SUSPENDED (and its own flag true) a moment after the call.
    const text = await waitFor("status to show the supervisor suspended in Druid", async () => {
      const r = await cli(["status", "-n", ns]);
      return r.code === 0 && /yes \(wants no\)/.test(r.stdout) ? r : false;
    }, 60_000, 1000);
    assert.match(text.stdout, /^NAMESPACE +NAME +TYPE +SUPERVISOR\/TASK +READY +SYNCED +STATUS STATE +DRUID STATE +SUSPENDED\n/);
    assert.match(text.stdout, new RegExp(`${ns} +cli +kafka +${ds} +\\w+ +\\w+ +\\w+ +SUSPENDED +yes \\(wants no\\)`));
    assert.match(text.stdout, new RegExp(`! ${ns}/cli: suspended in Druid, the resource wants it running`));

    // The controller, running again, resumes it: diff says so first.
    const diff = await cli(["diff", "-n", ns, write("resume", manifest)]);
    assert.equal(diff.code, 1, diff.stdout);
    assert.match(diff.stdout, new RegExp(`- resume supervisor ${ds}: new tasks start`));
    controller = await ControllerProcess.start({ KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl, RESYNC_PERIOD: "5s" });
    await waitFor("the controller resumed it", async () => (await druid.supervisor(ds))?.spec?.["suspended"] === false, 120_000);
  });

  test("the kubectl plugin: kubectl druid-ingestion runs the same CLI", async () => {
    const plugins = mkdtempSync(path.join(tmpdir(), "cli-plugin-"));
    symlinkSync(LAUNCHER, path.join(plugins, "kubectl-druid_ingestion"));
    const listed = await exec(kubectlBinary(), ["plugin", "list"], { PATH: `${plugins}:${process.env["PATH"] ?? ""}` });
    assert.match(listed.stdout, /kubectl-druid_ingestion/, listed.stderr);
    const r = await exec(kubectlBinary(), ["druid-ingestion", "status", "-n", ns], { PATH: `${plugins}:${process.env["PATH"] ?? ""}`, KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${ns} +cli +kafka +${ds} +\\w+ +\\w+ +\\w+ +(RUNNING|PENDING) +no`));
    const v = await exec(kubectlBinary(), ["druid-ingestion", "validate", path.join(REPO_ROOT, "deploy/examples")], { PATH: `${plugins}:${process.env["PATH"] ?? ""}` });
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });
});
