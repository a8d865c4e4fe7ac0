// Operating ingestion on the real stack (#12): a change Druid cannot make in place (another
// topic) is refused before anything is sent, and done by recreating the supervisor when the
// resource accepts it (deploy/examples/kafka-ingestion-operated.yaml, applied as it is); offsets
// moved by a resetOffsetsNonce (deploy/examples/kafka-ingestion-offsets.yaml, applied as it is);
// the last known good put back (deploy/examples/kafka-ingestion-rollback.yaml).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { load } from "js-yaml";
import type { DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { ControllerProcess } from "../support/controller.ts";
import { DruidProbe } from "../support/druid.ts";
import { cleanUpNamespaces, condition, Kube } from "../support/kube.ts";
import { ensureStack, REPO_ROOT, stackEnv } from "../support/stack.ts";
import { unmet } from "../support/needs.ts";
import { waitFor } from "../support/wait.ts";
import { kafkaIngestion, namespaceWithAuthSecret, unique } from "../support/fixtures.ts";
import { deleteKafkaTopics, kafkaTopicScript } from "../../tools/kafka-topics.ts";

ensureStack();
const env = stackEnv();
const kube = Kube.admin(env);
const druid = new DruidProbe(env);
const namespaces: string[] = [];
let controller: ControllerProcess;

before(async () => {
  await kube.installCrd();
  controller = await ControllerProcess.start({ KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl, RESYNC_PERIOD: "10s" });
});

after(async () => {
  const left = await cleanUpNamespaces(kube, namespaces);
  const code = await controller?.stop();
  assert.deepEqual(left, [], "every resource was finalized");
  assert.equal(code, 0, `controller exit code; last logs:\n${controller?.tail()}`);
});

const topicOf = (spec: Record<string, unknown> | undefined): unknown => ((spec?.["spec"] as Record<string, unknown> | undefined)?.["ioConfig"] as Record<string, unknown> | undefined)?.["topic"];

async function waitForIngestion(ns: string, name: string, what: string, ok: (i: DruidIngestion) => boolean): Promise<DruidIngestion> {
  return waitFor(`${ns}/${name}: ${what}`, async () => {
    const i = (await kube.getIngestion(ns, name)) as DruidIngestion | undefined;
    return i && ok(i) ? i : false;
  }, 180_000, 1000);
}

/** The ids of the datasource's tasks Druid knows (running and finished). */
async function taskIds(dataSource: string): Promise<string[]> {
  const tasks = (await druid.call("GET", `/druid/indexer/v1/tasks?datasource=${encodeURIComponent(dataSource)}`)).json as Array<{ id: string }>;
  return tasks.map((t) => t.id);
}

describe("operating ingestion", () => {
  test("another topic: refused with the field named and nothing sent; with unsafeChangePolicy Recreate (the example) the supervisor is recreated on the new topic", async () => {
    const ns = await namespaceWithAuthSecret(kube, env, "safe");
    namespaces.push(ns);
    const bootstrap = env.kafkaBootstrap ?? "127.0.0.1:9";
    const ds = unique("safe");
    try {
      // Refuse (the default).
      await kube.createIngestion(ns, kafkaIngestion("refused", ds, bootstrap));
      await waitForIngestion(ns, "refused", "synced", (i) => condition(i, "Synced")?.status === "True");
      const before = await druid.supervisor(ds);
      const body = kafkaIngestion("refused", ds, bootstrap) as { spec: { ingestion: { nativeSpec: { spec: { ioConfig: Record<string, unknown> } } } } };
      body.spec.ingestion.nativeSpec.spec.ioConfig["topic"] = `${ds}-v2`;
      await kube.patchIngestion(ns, "refused", { spec: { ingestion: body.spec.ingestion } });
      const refused = await waitForIngestion(ns, "refused", "StreamChangeRefused", (i) => condition(i, "Synced")?.reason === "StreamChangeRefused");
      assert.match(condition(refused, "Synced")?.message ?? "", new RegExp(`/spec/ioConfig/topic from "${ds}" to "${ds}-v2"`));
      assert.match(condition(refused, "Synced")?.message ?? "", /Nothing was sent.*unsafeChangePolicy: Recreate/);
      const after = await druid.supervisor(ds);
      assert.equal(topicOf(after?.spec), ds, "Druid still runs the old topic");
      assert.deepEqual(after?.spec, before?.spec, "nothing was sent");

      // The example, applied as it is, then its topic changed.
      const example = load(readFileSync(path.join(REPO_ROOT, "deploy/examples/kafka-ingestion-operated.yaml"), "utf8")) as DruidIngestion;
      await kube.createIngestion(ns, example);
      const created = await waitForIngestion(ns, "kafka-operated", "synced", (i) => condition(i, "Synced")?.status === "True" && i.status?.state === "RUNNING");
      const id = created.status?.supervisorId as string;
      assert.equal(topicOf((await druid.supervisor(id))?.spec), "metrics-operated");
      const moved = structuredClone(example.spec.ingestion);
      ((moved.nativeSpec!["spec"] as Record<string, Record<string, unknown>>)["ioConfig"] as Record<string, unknown>)["topic"] = "metrics-operated-v2";
      await kube.patchIngestion(ns, "kafka-operated", { spec: { ingestion: moved } });
      const recreated = await waitForIngestion(ns, "kafka-operated", "recreated on the new topic", (i) => condition(i, "Synced")?.status === "True" && i.status?.observedGeneration === i.metadata.generation && i.status?.state === "RUNNING");
      assert.equal(topicOf((await druid.supervisor(id))?.spec), "metrics-operated-v2");
      assert.equal(recreated.status?.supervisorId, id);
      const reasons = (await kube.events(ns, "kafka-operated")).map((e) => `${e.reason}: ${e.message}`);
      for (const want of [/^Suspended/, /^Reset: .*before it is recreated/, /^Terminated: .*to create it anew/, /^Recreated: .*anew with the new spec/]) assert.ok(reasons.some((r) => want.test(r)), `${want}: ${reasons.join(" | ")}`);
      // Druid's own history (newest first): suspended, terminated (a "noop" tombstone), created on the new topic.
      const history = (await druid.call("GET", `/druid/indexer/v1/supervisor/${id}/history`)).json as Array<{ spec: Record<string, unknown> }>;
      const steps = history.map(({ spec }) => (spec["type"] === "noop" ? "terminated" : `${String(topicOf(spec))}${spec["suspended"] === true ? " suspended" : ""}`)).reverse();
      // (The example's supervisor id is fixed: earlier runs left their history before these.)
      assert.deepEqual(steps.slice(-4), ["metrics-operated", "metrics-operated suspended", "terminated", "metrics-operated-v2"]);
    } finally {
      if (env.kafkaBootstrap) await deleteKafkaTopics(env.kafkaBootstrap, `${ds}.*|metrics-operated.*`).catch(() => {});
    }
  });

  test("offsets: a new resetOffsetsNonce moves partition 0 of the example to offset 20 once (Druid restarts its task there); resetToLatestAndBackfill refused before Druid 38", async (t) => {
    if (!env.kafkaBootstrap) return unmet(t, "kafka", "no Kafka in this stack");
    const bootstrap = env.kafkaBootstrap as string;
    const ns = await namespaceWithAuthSecret(kube, env, "offsets");
    namespaces.push(ns);
    const version = String(((await druid.call("GET", "/status")).json as { version?: string }).version ?? "");
    const example = load(readFileSync(path.join(REPO_ROOT, "deploy/examples/kafka-ingestion-offsets.yaml"), "utf8")) as DruidIngestion;
    const ds = "metrics-offsets";
    const now = Date.now();
    await kafkaTopicScript(["--produce", ds], Array.from({ length: 100 }, (_, i) => JSON.stringify({ timestamp: new Date(now + i).toISOString(), n: i })).join("\n") + "\n", 120_000, bootstrap);
    try {
      await kube.createIngestion(ns, example);
      await waitForIngestion(ns, "kafka-offsets", "running", (i) => condition(i, "Synced")?.status === "True" && i.status?.state === "RUNNING");
      // Its task has read all 100 records. (A reset that reaches Druid 33 while the supervisor's
      // first task is created but not started yet leaves that task reading from where it began.)
      await waitFor("the task read partition 0 to offset 100", async () => {
        const report = (await druid.call("GET", `/druid/indexer/v1/supervisor/${ds}/status`)).json as { payload?: { activeTasks?: Array<{ currentOffsets?: Record<string, number> }> } };
        return report.payload?.activeTasks?.some((t) => t.currentOffsets?.["0"] === 100) === true;
      }, 180_000, 1000);
      const tasksBefore = new Set(await taskIds(ds));

      await kube.patchIngestion(ns, "kafka-offsets", { spec: { resetOffsetsNonce: "reread-1" } });
      const moved = await waitForIngestion(ns, "kafka-offsets", "OffsetsResetApplied", (i) => condition(i, "OffsetsResetApplied")?.status === "True");
      assert.equal(moved.status?.lastResetOffsetsNonce, "reread-1");
      assert.equal(moved.status?.pendingResetOffsets, undefined);
      assert.match(condition(moved, "OffsetsResetApplied")?.message ?? "", /partition 0 → 20/);
      assert.ok((await kube.events(ns, "kafka-offsets")).some((e) => e.reason === "OffsetsReset" && /partition 0 → 20/.test(e.message ?? "")));
      // Druid took it: the task it starts for partition 0 reads from offset 20.
      const restarted = await waitFor("a task of the supervisor starting at offset 20", async () => {
        for (const id of await taskIds(ds)) {
          if (tasksBefore.has(id)) continue;
          const task = (await druid.call("GET", `/druid/indexer/v1/task/${encodeURIComponent(id)}`)).json as { payload?: { ioConfig?: { startSequenceNumbers?: { partitionSequenceNumberMap?: Record<string, number> } } } };
          const start = task.payload?.ioConfig?.startSequenceNumbers?.partitionSequenceNumberMap;
          if (start?.["0"] === 20) return id;
        }
        return false;
      }, 180_000, 2000);
      assert.ok(restarted);
      // Once per nonce: later reconciles (RESYNC_PERIOD 10s) do not send it again.
      await new Promise((r) => setTimeout(r, 12_000));
      const again = (await taskIds(ds)).filter((id) => !tasksBefore.has(id) && id !== restarted);
      assert.deepEqual(again, [], "no further restart: the reset was sent once");

      // resetToLatestAndBackfill: Druid 38's; refused by name before, with nothing sent.
      if (Number.parseInt(version, 10) < 38) {
        await kube.patchIngestion(ns, "kafka-offsets", { spec: { resetOffsetsNonce: "latest-1", resetOffsets: { partitions: null, latestAndBackfill: { backfillTaskCount: 1 } } } });
        const refused = await waitForIngestion(ns, "kafka-offsets", "ResetToLatestAndBackfillUnsupported", (i) => condition(i, "OffsetsResetApplied")?.reason === "ResetToLatestAndBackfillUnsupported");
        assert.equal(condition(refused, "OffsetsResetApplied")?.status, "False");
        assert.match(condition(refused, "OffsetsResetApplied")?.message ?? "", new RegExp(`Druid ${version.replace(/\./g, "\\.")} has no resetToLatestAndBackfill \\(added in Druid 38\\); nothing was sent`));
        assert.equal(condition(refused, "Synced")?.status, "True", "the rest of the resource is applied as usual");
        assert.ok((await kube.events(ns, "kafka-offsets")).some((e) => e.type === "Warning" && e.reason === "ResetToLatestAndBackfillUnsupported"));
        assert.equal(refused.status?.lastResetOffsetsNonce, "reread-1");
      }
    } finally {
      await deleteKafkaTopics(bootstrap, ds).catch(() => {});
    }
  });

  test("last known good: the example's spec, healthy for the window, is put back when Druid refuses an update and when an update makes the supervisor unhealthy; each generation once", async (t) => {
    if (!env.kafkaBootstrap) return unmet(t, "kafka", "no Kafka in this stack");
    const bootstrap = env.kafkaBootstrap as string;
    const ns = await namespaceWithAuthSecret(kube, env, "rollback");
    namespaces.push(ns);
    const example = load(readFileSync(path.join(REPO_ROOT, "deploy/examples/kafka-ingestion-rollback.yaml"), "utf8")) as DruidIngestion;
    const id = "metrics-rollback";
    const ioConfig = (i: { nativeSpec?: Record<string, unknown> }): Record<string, unknown> => ((i.nativeSpec!["spec"] as Record<string, unknown>)["ioConfig"]) as Record<string, unknown>;
    const druidIoConfig = async (): Promise<Record<string, unknown>> => ((await druid.supervisor(id))?.spec?.["spec"] as Record<string, Record<string, unknown>>)["ioConfig"] as Record<string, unknown>;
    try {
      // The example as it is, with a window this test can wait for.
      await kube.createIngestion(ns, { ...example, spec: { ...example.spec, rollback: { enabled: true, window: "40s" } } });
      const recorded = await waitForIngestion(ns, "kafka-rollback", "a last known good", (i) => i.status?.lastKnownGood?.specHash !== undefined && i.status.lastKnownGood.specHash === i.status.specHash);
      const good = recorded.status!.lastKnownGood!;

      // An update Druid refuses (an input format it does not know): the good spec stays in Druid.
      const refused = structuredClone(example.spec.ingestion);
      ioConfig(refused)["inputFormat"] = { type: "jsn" };
      await kube.patchIngestion(ns, "kafka-rollback", { spec: { ingestion: refused } });
      const kept = await waitForIngestion(ns, "kafka-rollback", "RolledBack (DruidRejected)", (i) => condition(i, "Synced")?.reason === "RolledBack" && i.status?.rollback?.generation === i.metadata.generation);
      assert.equal(kept.status?.rollback?.reason, "DruidRejected");
      assert.match(condition(kept, "Synced")?.message ?? "", /Druid refused generation \d+'s supervisor spec .*is kept in Druid/);
      assert.deepEqual((await druidIoConfig())["inputFormat"], { type: "json" });

      // An update that makes the supervisor unhealthy (no broker at 127.0.0.1:9) within the window.
      // (Short Kafka client timeouts, so Druid sees it in seconds; the window long enough for that.)
      const broken = structuredClone(example.spec.ingestion);
      ioConfig(broken)["consumerProperties"] = { "bootstrap.servers": "127.0.0.1:9", "default.api.timeout.ms": "3000", "request.timeout.ms": "2000", "socket.connection.setup.timeout.ms": "500", "socket.connection.setup.timeout.max.ms": "1000" };
      await kube.patchIngestion(ns, "kafka-rollback", { spec: { ingestion: broken, rollback: { enabled: true, window: "4m" } } });
      const rolled = await waitForIngestion(ns, "kafka-rollback", "RolledBack (Unhealthy)", (i) => i.status?.rollback?.reason === "Unhealthy" && i.status.rollback.generation === i.metadata.generation && i.status.specHash === good.specHash);
      assert.match(condition(rolled, "Synced")?.message ?? "", /Druid reported supervisor metrics-rollback unhealthy.*rolled back to the last known good spec/);
      assert.deepEqual((await druidIoConfig())["consumerProperties"], ioConfig(example.spec.ingestion)["consumerProperties"]);
      const events = (await kube.events(ns, "kafka-rollback")).filter((e) => e.type === "Warning" && e.reason === "RolledBack");
      assert.equal(events.length, 2, "one Warning per rollback");
      // Healthy again on the last known good, and the broken generation is not sent again.
      await waitForIngestion(ns, "kafka-rollback", "Healthy again", (i) => condition(i, "Healthy")?.status === "True" && i.status?.state === "RUNNING");
      assert.deepEqual((await druidIoConfig())["consumerProperties"], ioConfig(example.spec.ingestion)["consumerProperties"]);
    } finally {
      await deleteKafkaTopics(bootstrap, id).catch(() => {});
    }
  });

  test("explicit supervisor id: on Druid 34+ the supervisor runs under the spec's own id (not the datasource) and goes with the resource; before, refused before any call", async () => {
    const ns = await namespaceWithAuthSecret(kube, env, "sid");
    namespaces.push(ns);
    const ds = unique("sid");
    const id = `${ds}-eu`;
    const version = String(((await druid.call("GET", "/status")).json as { version?: string }).version ?? "");
    const resource = kafkaIngestion("eu", ds, env.kafkaBootstrap ?? "127.0.0.1:9") as { spec: { ingestion: { nativeSpec: Record<string, unknown> } } };
    resource.spec.ingestion.nativeSpec["id"] = id;
    try {
      await kube.createIngestion(ns, resource);
      if (Number.parseInt(version, 10) >= 34) {
        const synced = await waitForIngestion(ns, "eu", "synced under its own id", (i) => condition(i, "Synced")?.status === "True" && i.status?.supervisorId === id);
        assert.equal(synced.status?.applied?.supervisorId, id);
        const live = await druid.supervisor(id);
        assert.ok(live, `Druid lists supervisor ${id}`);
        assert.equal((((live.spec?.["spec"] as Record<string, unknown>)["dataSchema"]) as Record<string, unknown>)["dataSource"], ds);
        assert.equal(await druid.supervisor(ds), undefined, "nothing under the datasource's name");
        await kube.deleteIngestion(ns, "eu");
        await waitFor(`${ns}/eu finalized`, async () => !(await kube.getIngestion(ns, "eu")), 120_000, 1000);
        assert.equal(await druid.supervisor(id), undefined, "terminated under its own id");
      } else {
        const refused = await waitForIngestion(ns, "eu", "SupervisorIdUnsupported", (i) => condition(i, "Synced")?.reason === "SupervisorIdUnsupported");
        assert.match(condition(refused, "Synced")?.message ?? "", new RegExp(`supervisor id "${id}" but Druid ${version.replace(/\./g, "\\.")} only supports supervisor id = dataSource`));
        assert.equal(await druid.supervisor(id), undefined);
        assert.equal(await druid.supervisor(ds), undefined, "nothing was sent");
      }
    } finally {
      if (env.kafkaBootstrap) await deleteKafkaTopics(env.kafkaBootstrap, ds).catch(() => {});
    }
  });

  test("index-hadoop: refused before any call on Druid 37+ (Hadoop ingestion removed there); submitted as before on older Druid", async () => {
    const ns = await namespaceWithAuthSecret(kube, env, "hadoop");
    namespaces.push(ns);
    const ds = unique("hadoop");
    const version = String(((await druid.call("GET", "/status")).json as { version?: string }).version ?? "");
    await kube.createIngestion(ns, {
      apiVersion: "druid.apache.org/v1alpha1",
      kind: "DruidIngestion",
      metadata: { name: "h" },
      spec: {
        druidCluster: "tiny-cluster",
        auth: { type: "basic-auth", secretRef: { name: "druid-auth" } },
        ingestion: { type: "index-hadoop", nativeSpec: { type: "index_hadoop", spec: { dataSchema: { dataSource: ds }, ioConfig: { type: "hadoop", inputSpec: { type: "static", paths: "/nonexistent" } } } } },
      },
    });
    if (Number.parseInt(version, 10) >= 37) {
      const refused = await waitForIngestion(ns, "h", "HadoopIngestionRemoved", (i) => condition(i, "Synced")?.reason === "HadoopIngestionRemoved");
      assert.match(condition(refused, "Synced")?.message ?? "", new RegExp(`Druid ${version.replace(/\./g, "\\.")} has no Hadoop-based ingestion.*nothing was sent`));
      assert.equal(refused.status?.taskId, undefined, "no task submitted");
    } else {
      const submitted = await waitForIngestion(ns, "h", "a task submitted", (i) => i.status?.taskId !== undefined);
      assert.ok(submitted.status?.taskId);
    }
  });
});
