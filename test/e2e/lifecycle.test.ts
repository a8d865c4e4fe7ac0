// The product, end to end: the real controller process against a real kube-apiserver and a
// real Druid Overlord. Each test works in its own namespace and datasource.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { loadAll } from "js-yaml";
import { CREDENTIALS_LABEL, FINALIZER, type DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { ControllerProcess, metricValue } from "../support/controller.ts";
import { DruidProbe, kafkaSupervisorSpec } from "../support/druid.ts";
import { cleanUpNamespaces, condition, Kube } from "../support/kube.ts";
import { DruidProxy } from "../support/proxy.ts";
import { ensureStack, REPO_ROOT, stackEnv } from "../support/stack.ts";
import { unmet } from "../support/needs.ts";
import { waitFor } from "../support/wait.ts";
import { isSynced, kafkaIngestion, namespaceWithAuthSecret, unique } from "../support/fixtures.ts";

ensureStack();
const env = stackEnv();
const kube = Kube.admin(env);
const druid = new DruidProbe(env);
const bootstrap = env.kafkaBootstrap ?? "127.0.0.1:9";
let controller: ControllerProcess;
const namespaces: string[] = [];

async function namespaceWithSecret(prefix: string, password = env.druidPassword): Promise<string> {
  const ns = await namespaceWithAuthSecret(kube, env, prefix, password);
  namespaces.push(ns);
  return ns;
}

function manifest(name: string, dataSource: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return kafkaIngestion(name, dataSource, bootstrap, spec);
}

async function waitForStatus(ns: string, name: string, what: string, ok: (i: DruidIngestion) => boolean, timeoutMs = 90_000): Promise<DruidIngestion> {
  return waitFor(`${ns}/${name}: ${what}`, async () => {
    const current = await kube.getIngestion(ns, name);
    return current && ok(current) ? current : false;
  }, timeoutMs);
}

const synced = isSynced;

async function supervisorHistoryLength(id: string): Promise<number> {
  const r = await druid.call("GET", `/druid/indexer/v1/supervisor/${id}/history`);
  return Array.isArray(r.json) ? r.json.length : 0;
}

before(async () => {
  await kube.installCrd();
  controller = await ControllerProcess.start({ KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl, LAG_PERIOD: "5s" });
});

after(async () => {
  const left = await cleanUpNamespaces(kube, namespaces);
  const code = await controller?.stop();
  assert.deepEqual(left, [], "every resource was finalized");
  assert.equal(code, 0, `controller exit code; last logs:\n${controller?.tail()}`);
});

describe("DruidIngestion lifecycle", { timeout: 600_000 }, () => {
  test("create → the supervisor runs in Druid with exactly the spec; status, ConfigMap and events say so", async () => {
    const ns = await namespaceWithSecret("create");
    const ds = unique("create");
    await kube.createIngestion(ns, manifest("ing", ds));
    const ready = await waitForStatus(ns, "ing", "synced with a Druid state", (i) => synced(i) && i.status?.state !== undefined);
    assert.equal(ready.status?.supervisorId, ds);
    assert.equal(ready.status?.taskId, ds, "druid-operator compatible taskId");
    assert.match(ready.status?.specHash ?? "", /^[0-9a-f]{64}$/);
    assert.ok(ready.metadata.finalizers?.includes(FINALIZER));
    assert.equal(ready.status?.druidEndpoint, env.druidUrl);
    assert.deepEqual(JSON.parse(ready.status?.["currentIngestionSpec.json"] ?? "{}"), kafkaSupervisorSpec(ds, bootstrap));

    const live = await druid.supervisor(ds);
    assert.ok(live, "Druid lists the supervisor");
    const liveSpec = live.spec as { spec: { ioConfig: { topic: string; consumerProperties: Record<string, string> }; dataSchema: { dataSource: string } } };
    assert.equal(liveSpec.spec.dataSchema.dataSource, ds);
    assert.equal(liveSpec.spec.ioConfig.topic, ds);
    assert.equal(liveSpec.spec.ioConfig.consumerProperties["bootstrap.servers"], bootstrap);
    assert.equal(ready.status?.state, live.state);

    const cm = await kube.core.readNamespacedConfigMap({ namespace: ns, name: "ing-druid-spec" });
    assert.equal(cm.metadata?.annotations?.["ingestion.druid.apache.org/spec-hash"], ready.status?.specHash);
    assert.equal(cm.metadata?.ownerReferences?.[0]?.uid, ready.metadata.uid);
    assert.deepEqual(JSON.parse(cm.data?.["supervisor.json"] ?? "{}"), kafkaSupervisorSpec(ds, bootstrap));

    const events = await kube.events(ns, "ing");
    assert.ok(events.some((e) => e.reason === "Created" && e.type === "Normal" && e.message.includes(ds)), JSON.stringify(events));
  });

  test("spec change → Druid updated and hash changes; an unrelated change makes no POST; idle makes no writes", async () => {
    const ns = await namespaceWithSecret("update");
    const ds = unique("update");
    await kube.createIngestion(ns, manifest("ing", ds));
    const first = await waitForStatus(ns, "ing", "synced", synced);
    const historyBefore = await supervisorHistoryLength(ds);

    const changed = kafkaSupervisorSpec(ds, bootstrap);
    (changed["spec"] as { tuningConfig: Record<string, unknown> }).tuningConfig["maxRowsInMemory"] = 12345;
    await kube.patchIngestion(ns, "ing", { spec: { ingestion: { nativeSpec: changed } } });
    const second = await waitForStatus(ns, "ing", "synced to generation 2", (i) => synced(i) && i.metadata.generation === 2 && i.status?.specHash !== first.status?.specHash);
    await waitFor("Druid runs the new spec", async () => {
      const live = await druid.supervisor(ds);
      return (live?.spec as { spec: { tuningConfig: { maxRowsInMemory: number } } })?.spec.tuningConfig.maxRowsInMemory === 12345;
    });
    assert.equal(await supervisorHistoryLength(ds), historyBefore + 1, "exactly one new spec version in Druid");
    assert.ok((await kube.events(ns, "ing")).some((e) => e.reason === "Updated"));

    // Unrelated: a label, and a spec field that does not change what Druid runs.
    await kube.patchIngestion(ns, "ing", { metadata: { labels: { team: "data" } }, spec: { deletionPolicy: "Delete" } });
    await waitForStatus(ns, "ing", "synced to generation 3", (i) => synced(i) && i.status?.observedGeneration === 3);
    assert.equal((await kube.getIngestion(ns, "ing"))?.status?.specHash, second.status?.specHash);
    await new Promise((r) => setTimeout(r, 6000)); // more than one resync period (5 s here)
    assert.equal(await supervisorHistoryLength(ds), historyBefore + 1, "no POST for an unrelated change or on resync");

    // Idle: once Druid's state has settled (the supervisor is past PENDING) and its first lag
    // reading is written (an empty topic: 0 records behind, which then never moves), several
    // resyncs make no status write (resourceVersion unchanged) and no POST.
    const settled = await waitForStatus(ns, "ing", "a settled Druid state (and, running, its lag)", (i) => {
      const ready = condition(i, "Ready")?.reason ?? "";
      return synced(i) && ["Running", "Idle", "Unhealthy"].includes(ready) && (ready !== "Running" || i.status?.lag !== undefined);
    }, 180_000);
    const rv = settled.metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, 11_000));
    assert.equal((await kube.getIngestion(ns, "ing"))?.metadata.resourceVersion, rv, "no write to the API server while idle");
    assert.equal(await supervisorHistoryLength(ds), historyBefore + 1);
  });

  test("suspend → SUSPENDED in Druid; resume → running again", async () => {
    const ns = await namespaceWithSecret("suspend");
    const ds = unique("suspend");
    await kube.createIngestion(ns, manifest("ing", ds));
    await waitForStatus(ns, "ing", "synced", synced);
    await kube.patchIngestion(ns, "ing", { spec: { suspend: true } });
    await waitFor("Druid reports SUSPENDED", async () => (await druid.supervisor(ds))?.state === "SUSPENDED");
    const suspended = await waitForStatus(ns, "ing", "Suspended condition and state", (i) => condition(i, "Suspended")?.status === "True" && i.status?.state === "SUSPENDED" && condition(i, "Ready")?.reason === "Suspended");
    assert.equal(condition(suspended, "Ready")?.status, "True");

    await kube.patchIngestion(ns, "ing", { spec: { suspend: false } });
    await waitFor("Druid no longer SUSPENDED", async () => {
      const s = await druid.supervisor(ds);
      return s && s.state !== "SUSPENDED" && (s.spec as { suspended?: boolean }).suspended === false;
    });
    await waitForStatus(ns, "ing", "not suspended", (i) => condition(i, "Suspended")?.status === "False" && i.status?.state !== "SUSPENDED");
    const reasons = (await kube.events(ns, "ing")).map((e) => e.reason);
    assert.ok(reasons.includes("Suspended") && reasons.includes("Resumed"), reasons.join(","));
  });

  test("resetNonce → exactly one reset per new value", async () => {
    const ns = await namespaceWithSecret("reset");
    const ds = unique("reset");
    await kube.createIngestion(ns, manifest("ing", ds));
    await waitForStatus(ns, "ing", "synced", synced);
    const resets = async () => metricValue(await controller.metrics(), "druid_ingestion_druid_requests_total", { endpoint: "/druid/indexer/v1/supervisor/{id}/reset", code: "200" });
    const before = await resets();
    await kube.patchIngestion(ns, "ing", { spec: { resetNonce: "first" } });
    await waitForStatus(ns, "ing", "nonce recorded", (i) => i.status?.lastResetNonce === "first");
    await new Promise((r) => setTimeout(r, 7000)); // resyncs must not reset again
    assert.equal(await resets(), before + 1);
    await kube.patchIngestion(ns, "ing", { spec: { resetNonce: "second" } });
    await waitForStatus(ns, "ing", "second nonce recorded", (i) => i.status?.lastResetNonce === "second");
    assert.equal(await resets(), before + 2);
    const resetEvents = (await kube.events(ns, "ing")).filter((e) => e.reason === "Reset");
    assert.equal(resetEvents.reduce((n, e) => n + e.count, 0), 2);
  });

  test("terminated or edited in Druid behind our back → restored at the next resync", async () => {
    const ns = await namespaceWithSecret("drift");
    const ds = unique("drift");
    await kube.createIngestion(ns, manifest("ing", ds));
    await waitForStatus(ns, "ing", "synced", synced);

    assert.equal(await druid.terminate(ds), 200);
    await waitFor("supervisor recreated", async () => (await druid.supervisor(ds)) !== undefined);
    await waitFor("Recreated event", async () => (await kube.events(ns, "ing")).some((e) => e.reason === "Recreated"));

    // An edit "in the console": the same id with another spec.
    const edited = kafkaSupervisorSpec(ds, bootstrap);
    (edited["spec"] as { tuningConfig: Record<string, unknown> }).tuningConfig["maxRowsInMemory"] = 777;
    assert.equal((await druid.call("POST", "/druid/indexer/v1/supervisor", edited)).status, 200);
    await waitFor("drift undone", async () => {
      const live = await druid.supervisor(ds);
      return (live?.spec as { spec: { tuningConfig: { maxRowsInMemory: number } } })?.spec.tuningConfig.maxRowsInMemory === 10000;
    });
    // The Event is recorded after the POST and the status write: it may come a moment later.
    await waitFor("DriftCorrected event", async () => (await kube.events(ns, "ing")).some((e) => e.reason === "DriftCorrected"));
  });

  test("delete → supervisor terminated in Druid first, then the resource goes; Orphan leaves Druid alone", async () => {
    const ns = await namespaceWithSecret("delete");
    const ds = unique("delete");
    const kept = unique("orphan");
    await kube.createIngestion(ns, manifest("ing", ds));
    await kube.createIngestion(ns, manifest("orphan", kept, { deletionPolicy: "Orphan" }));
    await waitForStatus(ns, "ing", "synced", synced);
    await waitForStatus(ns, "orphan", "synced", synced);
    await kube.deleteIngestion(ns, "ing");
    await kube.deleteIngestion(ns, "orphan");
    await waitFor("resources gone", async () => !(await kube.getIngestion(ns, "ing")) && !(await kube.getIngestion(ns, "orphan")));
    assert.equal(await druid.supervisor(ds), undefined, "terminated in Druid");
    assert.equal((await druid.call("POST", `/druid/indexer/v1/supervisor/${ds}/terminate`)).status, 404, "Druid says it is gone");
    assert.ok(await druid.supervisor(kept), "Orphan: still in Druid");
    assert.equal(await druid.terminate(kept), 200);
  });

  test("Druid unreachable during delete → finalizer stays with a condition; deletion completes when it returns", async () => {
    const ns = await namespaceWithSecret("outage");
    const ds = unique("outage");
    const proxy = await DruidProxy.start(env.druidUrl);
    try {
      await kube.createIngestion(ns, manifest("ing", ds, { druidEndpoint: proxy.url }));
      await waitForStatus(ns, "ing", "synced", synced);
      await proxy.stop(); // the Overlord is unreachable from here on
      await kube.deleteIngestion(ns, "ing");
      const blocked = await waitForStatus(ns, "ing", "deletion blocked", (i) => condition(i, "Synced")?.reason === "DruidUnreachable");
      assert.ok(blocked.metadata.deletionTimestamp, "being deleted");
      assert.ok(blocked.metadata.finalizers?.includes(FINALIZER), "finalizer kept");
      assert.match(condition(blocked, "Synced")?.message ?? "", /finalizer stays.*deletionPolicy: Orphan/);
      assert.ok(await druid.supervisor(ds), "supervisor untouched");
      await proxy.restart();
      await waitFor("resource gone", async () => !(await kube.getIngestion(ns, "ing")), 120_000);
      assert.equal(await druid.supervisor(ds), undefined, "terminated once Druid was back");
    } finally {
      await proxy.stop();
    }
  });

  test("deleting the whole namespace: its Secret may go first, Druid is still cleaned up and the namespace goes", async () => {
    const ns = await namespaceWithSecret("nsdelete");
    const ds = unique("nsdelete");
    await kube.createIngestion(ns, manifest("ing", ds));
    await waitForStatus(ns, "ing", "synced", synced);
    await kube.deleteNamespace(ns);
    await waitFor("namespace gone", async () => {
      try {
        await kube.core.readNamespace({ name: ns });
        return false;
      } catch (e) {
        return (e as { code?: number }).code === 404;
      }
    }, 120_000);
    assert.equal(await druid.supervisor(ds), undefined, "terminated in Druid before the resource went");
  });

  test("wrong password → condition with the 401 reason, no secret in status or events", async () => {
    const ns = await namespaceWithSecret("badpw", "not-the-password");
    const ds = unique("badpw");
    await kube.createIngestion(ns, manifest("ing", ds));
    const failed = await waitForStatus(ns, "ing", "unauthorized", (i) => condition(i, "Synced")?.reason === "DruidUnauthorized");
    assert.match(condition(failed, "Synced")?.message ?? "", /HTTP 401/);
    assert.equal(condition(failed, "Ready")?.status, "False");
    const everything = JSON.stringify(failed) + JSON.stringify(await kube.events(ns, "ing")) + controller.logs.join("\n");
    assert.ok(!everything.includes("not-the-password"), "the password appears nowhere");
    assert.ok(!everything.includes(Buffer.from(`${env.druidUser}:not-the-password`).toString("base64")), "nor its basic-auth form");
    assert.equal(await druid.supervisor(ds), undefined);
    // Fixing the Secret re-triggers the resource without any edit to it.
    await kube.core.replaceNamespacedSecret({ namespace: ns, name: "druid-auth", body: { metadata: { name: "druid-auth", labels: { [CREDENTIALS_LABEL]: "true" } }, stringData: { OperatorUserName: env.druidUser, OperatorPassword: env.druidPassword } } });
    await waitForStatus(ns, "ing", "synced after the fix", synced);
  });

  test("missing Secret → condition; fixed automatically once the Secret appears", async () => {
    const ns = await kube.createNamespace("nosecret");
    namespaces.push(ns);
    const ds = unique("nosecret");
    await kube.createIngestion(ns, manifest("ing", ds));
    const failed = await waitForStatus(ns, "ing", "secret not found", (i) => condition(i, "Synced")?.reason === "SecretNotFound");
    assert.match(condition(failed, "Synced")?.message ?? "", new RegExp(`Secret ${ns}/druid-auth not found`));
    assert.ok((await kube.events(ns, "ing")).some((e) => e.type === "Warning" && e.reason === "SecretNotFound"));
    await kube.createSecret(ns, "druid-auth", { OperatorUserName: env.druidUser, OperatorPassword: env.druidPassword });
    await waitForStatus(ns, "ing", "synced once the Secret exists", synced, 30_000);
    assert.ok(await druid.supervisor(ds));
  });

  test("cross-namespace Secret reference is refused", async () => {
    const ns = await namespaceWithSecret("xns");
    const other = await namespaceWithSecret("xns-other");
    await kube.createIngestion(ns, manifest("ing", unique("xns"), { auth: { type: "basic-auth", secretRef: { name: "druid-auth", namespace: other } } }));
    const refused = await waitForStatus(ns, "ing", "refused", (i) => condition(i, "Synced")?.reason === "CrossNamespaceSecretRefused");
    assert.match(condition(refused, "Synced")?.message ?? "", /ALLOW_CROSS_NAMESPACE_SECRETS/);
  });

  test("invalid spec JSON → InvalidSpec condition, nothing sent to Druid", async () => {
    const ns = await namespaceWithSecret("invalid");
    await kube.createIngestion(ns, { ...manifest("ing", "x"), spec: { druidCluster: "tiny-cluster", auth: { type: "basic-auth", secretRef: { name: "druid-auth" } }, ingestion: { type: "kafka", spec: '{"type": "kafka", ' } } });
    const failed = await waitForStatus(ns, "ing", "invalid", (i) => condition(i, "Synced")?.reason === "InvalidSpec");
    assert.match(condition(failed, "Synced")?.message ?? "", /not valid JSON/);
  });

  test("the API server rejects what the schema forbids", async () => {
    const ns = await namespaceWithSecret("schema");
    await assert.rejects(
      kube.createIngestion(ns, { ...manifest("both", "x"), spec: { druidCluster: "c", ingestion: { type: "kafka", spec: "{}", nativeSpec: { a: 1 } } } }),
      (e: Error) => /both are set/.test(String((e as { body?: unknown }).body ?? e.message)),
    );
    await assert.rejects(kube.createIngestion(ns, { ...manifest("policy", "x", { deletionPolicy: "Keep" }) }), /Unsupported value|deletionPolicy/);
  });

  test("pause annotation → no changes in Druid while paused, and the condition says so", async () => {
    const ns = await namespaceWithSecret("pause");
    const ds = unique("pause");
    await kube.createIngestion(ns, manifest("ing", ds));
    await waitForStatus(ns, "ing", "synced", synced);
    await kube.patchIngestion(ns, "ing", { metadata: { annotations: { "ingestion.druid.apache.org/paused": "true" } }, spec: { suspend: true } });
    await waitForStatus(ns, "ing", "paused", (i) => condition(i, "Synced")?.reason === "ReconcilePaused");
    await new Promise((r) => setTimeout(r, 6000));
    assert.notEqual((await druid.supervisor(ds))?.state, "SUSPENDED", "not suspended while paused");
    await kube.patchIngestion(ns, "ing", { metadata: { annotations: { "ingestion.druid.apache.org/paused": null } } });
    await waitFor("suspended after unpause", async () => (await druid.supervisor(ds))?.state === "SUSPENDED");
  });

  test("two resources naming one supervisor: the newer stands down, and deleting it leaves the supervisor", async () => {
    const first = await namespaceWithSecret("claim-a");
    const second = await namespaceWithSecret("claim-b");
    const ds = unique("claimed");
    await kube.createIngestion(first, manifest("ing", ds));
    await waitForStatus(first, "ing", "synced", synced);
    const historyBefore = await supervisorHistoryLength(ds);
    const other = kafkaSupervisorSpec(ds, bootstrap);
    (other["spec"] as { tuningConfig: Record<string, unknown> }).tuningConfig["maxRowsInMemory"] = 4242;
    await kube.createIngestion(second, manifest("ing", ds, { ingestion: { type: "kafka", nativeSpec: other } }));
    const conflict = await waitForStatus(second, "ing", "conflict", (i) => condition(i, "Synced")?.reason === "SupervisorConflict");
    assert.match(condition(conflict, "Synced")?.message ?? "", new RegExp(`already managed by DruidIngestion ${first}/ing`));
    await new Promise((r) => setTimeout(r, 6000));
    assert.equal(await supervisorHistoryLength(ds), historyBefore, "the newer resource sent nothing to Druid");
    await kube.deleteIngestion(second, "ing");
    await waitFor("newer resource gone", async () => !(await kube.getIngestion(second, "ing")));
    assert.ok(await druid.supervisor(ds), "the owner's supervisor survives");
    await kube.deleteIngestion(first, "ing");
    await waitFor("owner gone", async () => !(await kube.getIngestion(first, "ing")));
    assert.equal(await druid.supervisor(ds), undefined);
  });

  test("the example manifests apply unchanged and run", async (t) => {
    // The examples name fixed datasources: a resource elsewhere (e.g. left by `npm run quickstart`)
    // that already manages them would rightly win the SupervisorConflict.
    const all = (await kube.custom.listClusterCustomObject({ group: "druid.apache.org", version: "v1alpha1", plural: "druidingestions" })) as { items: DruidIngestion[] };
    const holder = all.items.find((i) => ["metrics-kafka", "metrics-kafka-2"].includes(i.status?.supervisorId ?? ""));
    if (holder) {
      return unmet(t, "examples", `DruidIngestion ${holder.metadata.namespace}/${holder.metadata.name} already manages ${holder.status?.supervisorId}: delete it (with a controller running) to run this test`);
    }
    const ns = await kube.createNamespace("examples");
    namespaces.push(ns);
    const dir = path.join(REPO_ROOT, "deploy/examples");
    for (const file of ["druid-auth-secret.yaml", "kafka-ingestion.yaml", "kafka-ingestion-native.yaml"]) {
      for (const doc of loadAll(readFileSync(path.join(dir, file), "utf8")) as Array<{ kind: string; metadata: { name: string } }>) {
        if (doc.kind === "Secret") await kube.core.createNamespacedSecret({ namespace: ns, body: doc as never });
        else await kube.createIngestion(ns, doc);
      }
    }
    await waitForStatus(ns, "kafka-1", "synced", synced);
    const native = await waitForStatus(ns, "kafka-2", "synced with compaction and rules", (i) => synced(i) && condition(i, "CompactionSynced")?.status === "True" && condition(i, "RulesSynced")?.status === "True");
    assert.ok(await druid.supervisor("metrics-kafka"));
    assert.ok(await druid.supervisor("metrics-kafka-2"));
    assert.equal(native.status?.rules?.length, 2);
    const compaction = await druid.compactionConfig("metrics-kafka-2");
    assert.equal(compaction.status, 200);
    assert.equal((compaction.json as { skipOffsetFromLatest: string }).skipOffsetFromLatest, "PT1H");
    const rules = await druid.call("GET", "/druid/coordinator/v1/rules/metrics-kafka-2");
    assert.deepEqual((rules.json as Array<{ type: string }>).map((r) => r.type), ["loadByPeriod", "dropForever"]);

    await kube.deleteIngestion(ns, "kafka-1");
    await kube.deleteIngestion(ns, "kafka-2");
    await waitFor("examples deleted", async () => !(await kube.getIngestion(ns, "kafka-1")) && !(await kube.getIngestion(ns, "kafka-2")));
    assert.equal(await druid.supervisor("metrics-kafka-2"), undefined);
    assert.equal((await druid.compactionConfig("metrics-kafka-2")).status, 404, "compaction config removed");
    assert.deepEqual((await druid.call("GET", "/druid/coordinator/v1/rules/metrics-kafka-2")).json, [], "rules cleared");
  });
});
