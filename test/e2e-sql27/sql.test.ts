// SQL-based ingestion (spec.ingestion.type: sql) on a real Druid with druid-multi-stage-query:
// the controller POSTs {query, context} to /druid/v2/sql/task with context.sqlQueryId and follows
// the task Druid names query-<sqlQueryId> to SUCCESS; a new query is a new run under a new id;
// deleting the resource is finalized. deploy/examples/sql-ingestion.yaml is applied as it is.
//
// Only Druid 27.0.0 can run it here (druid-multi-stage-query is served only as 27.0.0), so this
// file runs from test/e2e-sql27.sh (npm run test:e2e:sql27), which starts that Druid and sets
// DIC_E2E_SQL27=1 with DRUID_URL = its Router. It lives outside test/e2e/ so the Druid 33 run
// never meets it; run any other way it fails, saying how to run it (it never skips).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { load } from "js-yaml";
import { FINALIZER, type DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { ControllerProcess } from "../support/controller.ts";
import { DruidProbe } from "../support/druid.ts";
import { cleanUpNamespaces, condition, Kube } from "../support/kube.ts";
import { ensureStack, REPO_ROOT, stackEnv } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";
import { namespaceWithAuthSecret } from "../support/fixtures.ts";

if (process.env["DIC_E2E_SQL27"] !== "1") {
  throw new Error("SQL-based ingestion needs Druid 27.0.0 with MSQ: run it with `npm run test:e2e:sql27` (test/e2e-sql27.sh starts that Druid)");
}

type TaskStatusBody = { status: { id: string; statusCode: string; type: string; dataSource: string; errorMsg: string | null } };

describe("SQL-based ingestion (type: sql) on Druid 27 with MSQ", { timeout: 900_000 }, () => {
  let env: ReturnType<typeof stackEnv>;
  let kube: Kube;
  let druid: DruidProbe;
  let controller: ControllerProcess;
  const namespaces: string[] = [];

  before(async () => {
    ensureStack();
    env = stackEnv();
    kube = Kube.admin(env);
    druid = new DruidProbe(env);
    // The Router serves the SQL task API: without it there is nothing to test against.
    const enabled = await druid.call("GET", "/druid/v2/sql/task/enabled");
    assert.equal(enabled.status, 200, `GET ${env.druidUrl}/druid/v2/sql/task/enabled: ${enabled.status} ${enabled.text}`);
    await kube.installCrd();
    controller = await ControllerProcess.start({ KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl });
  });

  after(async () => {
    const left = kube ? await cleanUpNamespaces(kube, namespaces) : [];
    await controller?.stop();
    assert.deepEqual(left, []);
  });

  async function waitForStatus(ns: string, name: string, what: string, ok: (i: DruidIngestion) => boolean): Promise<DruidIngestion> {
    return waitFor(`${ns}/${name}: ${what}`, async () => {
      const i = await kube.getIngestion(ns, name);
      if (i?.status?.taskStatus === "FAILED") throw new Error(`${ns}/${name}: task ${i.status.taskId} FAILED: ${JSON.stringify(i.status.conditions)}`);
      return i && ok(i) ? i : false;
    }, 300_000, 1000);
  }

  async function liveStatus(taskId: string): Promise<TaskStatusBody["status"]> {
    const r = await druid.call("GET", `/druid/indexer/v1/task/${encodeURIComponent(taskId)}/status`);
    assert.equal(r.status, 200, `task status of ${taskId}: ${r.status} ${r.text}`);
    return (r.json as TaskStatusBody).status;
  }

  test("the example REPLACE runs to SUCCESS as query-<sqlQueryId>; a new query runs again under a new id; delete is finalized", async () => {
    const ns = await namespaceWithAuthSecret(kube, env, "sql");
    namespaces.push(ns);
    const example = load(readFileSync(path.join(REPO_ROOT, "deploy/examples/sql-ingestion.yaml"), "utf8")) as DruidIngestion;
    const name = example.metadata.name;
    const dataSource = "pageviews-sql";
    assert.match(example.spec.ingestion.nativeSpec?.["query"] as string, /REPLACE INTO "pageviews-sql"/);
    await kube.createIngestion(ns, example);

    const first = await waitForStatus(ns, name, "task SUCCESS and Ready", (i) =>
      i.status?.taskStatus === "SUCCESS" && condition(i, "Ready")?.status === "True" && i.status.observedGeneration === i.metadata.generation);
    const firstTask = first.status?.taskId as string;
    assert.match(firstTask, /^query-/, `status.taskId ${firstTask}`);
    assert.equal(condition(first, "Ready")?.reason, "Succeeded");
    assert.equal(condition(first, "Synced")?.status, "True");
    assert.ok(first.metadata.finalizers?.includes(FINALIZER), "finalizer set");
    const live1 = await liveStatus(firstTask);
    assert.equal(live1.statusCode, "SUCCESS");
    assert.equal(live1.type, "query_controller");
    assert.equal(live1.dataSource, dataSource);

    // A new query: a new generation, a new spec hash, so a new run under a new id.
    const query2 = (example.spec.ingestion.nativeSpec?.["query"] as string).replace("2026-01-01T01:00:00Z,b,2", "2026-01-01T02:00:00Z,c,3");
    assert.notEqual(query2, example.spec.ingestion.nativeSpec?.["query"]);
    const patched = await kube.patchIngestion(ns, name, { spec: { ingestion: { nativeSpec: { query: query2 } } } });
    assert.ok((patched.metadata.generation ?? 0) > (first.metadata.generation ?? 0), "new generation");
    const second = await waitForStatus(ns, name, "second task SUCCESS", (i) =>
      i.status?.taskId !== firstTask && i.status?.taskStatus === "SUCCESS" && condition(i, "Ready")?.status === "True" &&
      i.status.observedGeneration === patched.metadata.generation);
    const secondTask = second.status?.taskId as string;
    assert.match(secondTask, /^query-/);
    assert.notEqual(secondTask, firstTask);
    assert.equal((await liveStatus(secondTask)).statusCode, "SUCCESS");
    assert.equal((await liveStatus(firstTask)).statusCode, "SUCCESS", "the first run is left as it was");
    const tasks = (await druid.call("GET", `/druid/indexer/v1/tasks?datasource=${dataSource}`)).json as Array<{ id: string; type: string }>;
    const controllers = tasks.filter((t) => t.type === "query_controller").map((t) => t.id);
    assert.ok(controllers.includes(firstTask) && controllers.includes(secondTask), controllers.join(","));
    const events = (await kube.events(ns, name)).map((e) => e.reason);
    assert.ok(events.includes("Created") && events.includes("Updated"), events.join(","));

    await kube.deleteIngestion(ns, name);
    await waitFor(`${ns}/${name} finalized and gone`, async () => !(await kube.getIngestion(ns, name)), 120_000);
    const after = (await druid.call("GET", `/druid/indexer/v1/tasks?datasource=${dataSource}`)).json as Array<{ id: string; type: string }>;
    assert.equal(after.filter((t) => t.type === "query_controller").length, controllers.length, "deleting the resource ran nothing more");
  });
});
