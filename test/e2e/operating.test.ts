// Operating ingestion on the real stack (#12): a change Druid cannot make in place (another
// topic) is refused before anything is sent, and done by recreating the supervisor when the
// resource accepts it (deploy/examples/kafka-ingestion-operated.yaml, applied as it is).
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
import { waitFor } from "../support/wait.ts";
import { kafkaIngestion, namespaceWithAuthSecret, unique } from "../support/fixtures.ts";
import { deleteKafkaTopics } from "../../tools/kafka-topics.ts";

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
