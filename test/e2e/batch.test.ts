// One-shot ingestion (native-batch): the task runs once with a deterministic id, its outcome
// shows in status, a new resetNonce runs it again, and deletion shuts it down if still running.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { ControllerProcess } from "../support/controller.ts";
import { DruidProbe } from "../support/druid.ts";
import { cleanUpNamespaces, condition, Kube } from "../support/kube.ts";
import { ensureStack, stackEnv } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

ensureStack();
const env = stackEnv();
const kube = Kube.admin(env);
const druid = new DruidProbe(env);
let controller: ControllerProcess;
const namespaces: string[] = [];

function batchSpec(dataSource: string): Record<string, unknown> {
  return {
    type: "index_parallel",
    spec: {
      dataSchema: {
        dataSource,
        timestampSpec: { column: "ts", format: "iso" },
        dimensionsSpec: { dimensions: ["page"] },
        granularitySpec: { segmentGranularity: "DAY", queryGranularity: "NONE", rollup: false },
      },
      ioConfig: {
        type: "index_parallel",
        inputSource: { type: "inline", data: '{"ts":"2026-01-01T00:00:00Z","page":"a"}\n{"ts":"2026-01-01T01:00:00Z","page":"b"}\n' },
        inputFormat: { type: "json" },
      },
      tuningConfig: { type: "index_parallel", maxNumConcurrentSubTasks: 1 },
    },
  };
}

async function waitForStatus(ns: string, what: string, ok: (i: DruidIngestion) => boolean): Promise<DruidIngestion> {
  return waitFor(`${ns}/batch: ${what}`, async () => {
    const i = await kube.getIngestion(ns, "batch");
    return i && ok(i) ? i : false;
  }, 240_000, 1000);
}

before(async () => {
  await kube.installCrd();
  controller = await ControllerProcess.start({ KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl });
});

after(async () => {
  const left = await cleanUpNamespaces(kube, namespaces);
  await controller.stop();
  assert.deepEqual(left, []);
});

describe("native-batch", { timeout: 900_000 }, () => {
  test("a task runs once, succeeds, reruns on a new resetNonce, and is let go on delete", async () => {
    const ns = await kube.createNamespace("batch");
    namespaces.push(ns);
    await kube.createSecret(ns, "druid-auth", { OperatorUserName: env.druidUser, OperatorPassword: env.druidPassword });
    const ds = `batch-${randomBytes(3).toString("hex")}`;
    await kube.createIngestion(ns, {
      apiVersion: "druid.apache.org/v1alpha1",
      kind: "DruidIngestion",
      metadata: { name: "batch" },
      spec: { druidCluster: "tiny-cluster", auth: { type: "basic-auth", secretRef: { name: "druid-auth" } }, ingestion: { type: "native-batch", spec: JSON.stringify(batchSpec(ds)) } },
    });
    const done = await waitForStatus(ns, "task succeeded", (i) => i.status?.taskStatus === "SUCCESS");
    const firstTask = done.status?.taskId as string;
    assert.match(firstTask, new RegExp(`^druidingestion_${ns}_batch_[0-9a-f]{16}$`));
    assert.equal(condition(done, "Ready")?.reason, "Succeeded");
    assert.equal(condition(done, "Synced")?.status, "True");
    assert.equal(condition(done, "Suspended"), undefined, "no Suspended condition for a task");
    const live = await druid.call("GET", `/druid/indexer/v1/task/${firstTask}/status`);
    assert.equal((live.json as { status: { statusCode: string } }).status.statusCode, "SUCCESS");
    const tasksOf = async () => ((await druid.call("GET", `/druid/indexer/v1/tasks?datasource=${ds}`)).json as Array<{ id: string; type: string }>).filter((t) => t.type === "index_parallel");
    assert.equal((await tasksOf()).length, 1, "submitted exactly once");

    await kube.patchIngestion(ns, "batch", { spec: { resetNonce: "rerun-1" } });
    const rerun = await waitForStatus(ns, "rerun succeeded", (i) => i.status?.taskId !== firstTask && i.status?.taskStatus === "SUCCESS");
    assert.equal(rerun.status?.lastResetNonce, "rerun-1");
    assert.equal((await tasksOf()).length, 2, "one more run");
    const events = (await kube.events(ns, "batch")).map((e) => e.reason);
    assert.ok(events.includes("Created") && events.includes("Updated"), events.join(","));

    await kube.deleteIngestion(ns, "batch");
    await waitFor("deleted", async () => !(await kube.getIngestion(ns, "batch")));
    assert.equal((await tasksOf()).length, 2, "deleting the resource ran nothing more");
  });
});
