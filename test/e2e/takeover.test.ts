// Taking over from the Go druid-operator, and living beside Druid's own writes: the real
// controller process against the real API server and Druid (see test/support/druid-operator.ts
// for the druid-operator's writes, reproduced without running it). Each test starts its own
// controller, watching only its own namespace(s), so its metrics count only its own calls.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { ControllerProcess, metricValue } from "../support/controller.ts";
import { DruidProbe, kafkaSupervisorSpec } from "../support/druid.ts";
import { DruidProxy } from "../support/proxy.ts";
import { freshRouterNamespace, removeRouterNamespace, ROUTER_NS, routerNamesResolve, ROUTERS, routerUrl as routerUrlOf } from "../support/routers.ts";
import { CREATE_FAIL, CREATE_SUCCESS, createAsDruidOperator, GO_FINALIZER, goJson, type GoOperatorResult } from "../support/druid-operator.ts";
import { isSynced, kafkaIngestion, namespaceWithAuthSecret, unique } from "../support/fixtures.ts";
import { cleanUpNamespaces, condition, Kube } from "../support/kube.ts";
import { ensureStack, stackEnv } from "../support/stack.ts";
import { unmet } from "../support/needs.ts";
import { waitFor } from "../support/wait.ts";
import { kafkaTopicScript } from "../../tools/kafka-topics.ts";

ensureStack();
const env = stackEnv();
const kube = Kube.admin(env);
const druid = new DruidProbe(env);
/**
 * The stack's Kafka. (Not an address nobody listens on: Druid's first run of such a supervisor
 * hangs for minutes in Kafka's metadata fetch, and meanwhile it neither reports SUSPENDED nor
 * answers /terminate, for any supervisor: terminations are serialized.)
 */
const BROKER = env.kafkaBootstrap ?? "127.0.0.1:9";
const RESYNC_MS = 5000; // ControllerProcess's RESYNC_PERIOD
/**
 * The druid-operator only ever reached Druid through the router Service of the Druid CR, so a
 * resource it managed is found where that Service says. The local stack has no cluster DNS:
 * stack/hosts.sh maps router-a.druid-routers.svc to 127.0.0.1, so the takeover test works in that
 * fixed namespace (shared with ownership.test.ts, one run at a time) with a Service router-a on
 * Druid's port, labelled as Druid cluster "cluster-a"'s router.
 */
const ROUTER = ROUTERS.a;
const routerUrl = routerUrlOf(env, ROUTER);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const running = new Set<ControllerProcess>();
before(async () => {
  await kube.installCrd();
});
after(async () => {
  for (const c of running) await c.stop();
});

/** A controller watching only `namespaces` (other resources on the stack are not its business). */
async function startController(namespaces: string[], extra: Record<string, string> = {}): Promise<ControllerProcess> {
  const c = await ControllerProcess.start({ KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl, WATCH_NAMESPACE: namespaces.join(","), ...extra });
  running.add(c);
  return c;
}

/**
 * Runs `body`, which starts the controller (`start`) when it is time to; then, pass or fail,
 * deletes the namespaces' resources through a running controller (started now if `body` did not
 * get that far: the druid-operator's finalizer needs one) and stops it.
 */
async function scenario(namespaces: string[], controllerEnv: Record<string, string>, body: (start: () => Promise<ControllerProcess>) => Promise<void>): Promise<void> {
  let controller: ControllerProcess | undefined;
  const start = async (): Promise<ControllerProcess> => (controller ??= await startController(namespaces, controllerEnv));
  let failed: unknown;
  try {
    await body(start);
  } catch (error) {
    failed = error;
    if (controller) process.stderr.write(`\n--- controller log (last 200 lines) ---\n${controller.tail(200)}\n---\n`);
  }
  const c = controller ?? (await start());
  const left = await cleanUpNamespaces(kube, namespaces, 180_000).catch((e: unknown) => [`cleanup failed: ${String(e)}`]);
  const code = await c.stop();
  running.delete(c);
  if (failed) throw failed;
  assert.deepEqual(left, [], "every resource was finalized");
  assert.equal(code, 0, `controller exit code; last logs:\n${c.tail()}`);
}

/** A fresh router namespace; what an earlier run left there is finalized by a controller first. */
async function freshRouters(): Promise<void> {
  if (await kube.namespaceExists(ROUTER_NS)) {
    const c = await startController([ROUTER_NS]);
    await removeRouterNamespace(kube);
    await c.stop();
    running.delete(c);
  }
  await freshRouterNamespace(kube, env);
}

async function waitForStatus(ns: string, name: string, what: string, ok: (i: DruidIngestion) => boolean, timeoutMs = 90_000): Promise<DruidIngestion> {
  return waitFor(`${ns}/${name}: ${what}`, async () => {
    const current = await kube.getIngestion(ns, name);
    return current && ok(current) ? current : false;
  }, timeoutMs);
}

const druidRequests = async (c: ControllerProcess, labels: Record<string, string>): Promise<number> => metricValue(await c.metrics(), "druid_ingestion_druid_requests_total", labels);


describe("taking over from the druid-operator, and Druid's own writes", { timeout: 900_000 }, () => {
  test("switching from the druid-operator: five resources recorded without a POST, the suspended one stays suspended, the task keeps Druid's id; deletion removes all of it", async (t) => {
    if (!(await routerNamesResolve(t))) return;
    await freshRouters();
    const ns = ROUTER_NS;
    const startedAt = Date.now();
    const ds = { a: unique("to-a"), b: unique("to-b"), c: unique("to-c"), e: unique("to-e") };
    const compaction = { skipOffsetFromLatest: "PT2H", inputSegmentSizeBytes: 100000000 };
    const rules = [{ type: "loadByPeriod", period: "P7D", includeFuture: true, tieredReplicants: { _default_tier: 1 } }, { type: "dropForever" }];
    // (c): the druid-operator way to suspend: `"suspended": true` in the spec body (spec.suspend is ignored there).
    const suspendedBody = { ...kafkaSupervisorSpec(ds.c, BROKER), suspended: true };
    const noopTask = { type: "noop", runTime: 600_000 };
    const auth = { type: "basic-auth", secretRef: { name: "druid-auth" } };
    const cluster = { druidCluster: ROUTER.cluster };
    const manifests: Record<string, Record<string, unknown>> = {
      a: kafkaIngestion("a", ds.a, BROKER, cluster),
      b: kafkaIngestion("b", ds.b, BROKER, { ...cluster, ingestion: { type: "kafka", nativeSpec: kafkaSupervisorSpec(ds.b, BROKER), compaction, rules } }),
      c: kafkaIngestion("c", ds.c, BROKER, { ...cluster, ingestion: { type: "kafka", nativeSpec: suspendedBody } }),
      d: { apiVersion: "druid.apache.org/v1alpha1", kind: "DruidIngestion", metadata: { name: "d" }, spec: { ...cluster, auth, ingestion: { type: "native-batch", spec: JSON.stringify(noopTask) } } },
      // (e): the older JSON-string form, pretty-printed with its keys in manifest order.
      e: kafkaIngestion("e", ds.e, BROKER, { ...cluster, ingestion: { type: "kafka", spec: JSON.stringify(kafkaSupervisorSpec(ds.e, BROKER), null, 2) } }),
    };

    await scenario([ns], {}, async (start) => {
      // --- the druid-operator's era ------------------------------------------------------------------
      const go: Record<string, GoOperatorResult> = {};
      for (const [name, manifest] of Object.entries(manifests)) go[name] = await createAsDruidOperator(kube, druid, ns, manifest);
      assert.equal(go["a"]?.taskId, ds.a, "supervisor id recorded as taskId");
      assert.equal(go["a"]?.reason, CREATE_FAIL, "its no-compaction bug: a successful create recorded as CreateFail");
      assert.equal(go["b"]?.reason, CREATE_SUCCESS);
      assert.equal(go["d"]?.specJson, '{"runTime":600000,"type":"noop"}');
      const taskId = go["d"]?.taskId as string;
      assert.match(taskId, /^noop_/, "Druid generated the task id");
      for (const name of Object.keys(manifests)) {
        const i = go[name]?.ingestion as DruidIngestion;
        assert.deepEqual(i.metadata.finalizers, [GO_FINALIZER]);
        assert.equal(i.spec.suspend, false, "written back by the Go structs");
        assert.equal(i.status?.specHash, undefined);
        assert.equal(i.status?.["currentIngestionSpec.json"], go[name]?.specJson);
      }
      assert.equal(go["c"]?.specJson, goJson(suspendedBody));
      await waitFor("(c) SUSPENDED in Druid", async () => (await druid.supervisor(ds.c))?.state === "SUSPENDED", 60_000);
      await waitFor("the druid-operator's task RUNNING in Druid", async () => (await druid.taskStatus(taskId))?.statusCode === "RUNNING", 60_000);
      assert.equal((await druid.compactionConfig(ds.b)).status, 200);
      const supervisors = [ds.a, ds.b, ds.c, ds.e];
      const history: Record<string, number> = {};
      for (const id of supervisors) history[id] = await druid.historyLength(id);
      assert.deepEqual(Object.values(history), [1, 1, 1, 1]);

      // --- our controller takes over -------------------------------------------------------------
      const controller = await start();
      for (const name of Object.keys(manifests)) {
        await waitForStatus(ns, name, "synced", (i) => isSynced(i) && condition(i, "Ready") !== undefined);
      }
      await sleep(3 * RESYNC_MS + 1500); // several resyncs

      const posts = await druidRequests(controller, { method: "POST" });
      assert.equal(posts, 0, `no POST to Druid at all; metrics:\n${(await controller.metrics()).split("\n").filter((l) => l.startsWith("druid_ingestion_druid_requests_total")).join("\n")}`);
      for (const id of supervisors) assert.equal(await druid.historyLength(id), history[id], `supervisor ${id}: no new spec version in Druid`);

      for (const name of Object.keys(manifests)) {
        const i = (await kube.getIngestion(ns, name)) as DruidIngestion;
        const events = await kube.events(ns, name);
        const adopted = events.filter((e) => e.reason === "Adopted");
        assert.equal(adopted.length, 1, `${name}: one Adopted event: ${JSON.stringify(events)}`);
        assert.match(adopted[0]?.message ?? "", /from the druid-operator/);
        for (const e of events) assert.ok(!["Created", "Updated", "Recreated", "DriftCorrected", "Resumed", "Suspended", "CompactionUpdated", "RulesUpdated"].includes(e.reason), `${name}: unexpected event ${e.reason}: ${e.message}`);
        assert.equal(i.status?.applied?.origin, "DruidOperator", `${name}: recorded as taken over`);
        assert.equal(i.status?.applied?.druidEndpoint, routerUrl, `${name}: recorded on the druid-operator's router Service`);
        assert.match(condition(i, "Synced")?.message ?? "", /taken over from the druid-operator/);
        assert.match(i.status?.specHash ?? "", /^[0-9a-f]{64}$/);
      }

      // (c): suspended in the body means suspended; no resume, ever.
      const c = (await kube.getIngestion(ns, "c")) as DruidIngestion;
      assert.equal((await druid.supervisor(ds.c))?.state, "SUSPENDED");
      assert.equal(await druidRequests(controller, { endpoint: "/druid/indexer/v1/supervisor/{id}/resume" }), 0, "no /resume call");
      assert.equal(condition(c, "Suspended")?.status, "True");
      assert.equal(condition(c, "Ready")?.reason, "Suspended");
      assert.equal(condition(c, "Ready")?.status, "True", "suspended as the resource asks");

      // (d): the task keeps the id Druid gave it, and is reported running.
      const d = (await kube.getIngestion(ns, "d")) as DruidIngestion;
      assert.equal(d.status?.taskId, taskId);
      assert.equal(d.status?.applied?.taskId, taskId);
      assert.equal(d.status?.taskStatus, "RUNNING");
      assert.equal(condition(d, "Ready")?.reason, "TaskRunning");
      assert.match(condition(d, "Ready")?.message ?? "", /the task is running/);
      assert.equal((await druid.taskStatus(taskId))?.statusCode, "RUNNING");

      // (b): compaction config and rules already in Druid are recorded, not POSTed.
      const b = (await kube.getIngestion(ns, "b")) as DruidIngestion;
      assert.equal(condition(b, "CompactionSynced")?.status, "True");
      assert.equal(condition(b, "RulesSynced")?.status, "True");
      assert.ok(b.status?.compactionHash && b.status?.rulesHash, "compaction and rules recorded");
      assert.equal(b.status?.applied?.dataSource, ds.b);

      for (const name of ["a", "e"]) {
        const i = (await kube.getIngestion(ns, name)) as DruidIngestion;
        assert.equal(i.status?.supervisorId, name === "a" ? ds.a : ds.e);
        assert.equal(i.status?.applied?.supervisorId, name === "a" ? ds.a : ds.e);
      }

      // --- deletion: exactly what the record names ---------------------------------------------
      for (const name of Object.keys(manifests)) await kube.deleteIngestion(ns, name);
      await waitFor("all five resources gone", async () => {
        for (const name of Object.keys(manifests)) if (await kube.getIngestion(ns, name)) return false;
        return true;
      }, 120_000);
      for (const id of supervisors) {
        assert.equal(await druid.supervisor(id), undefined, `supervisor ${id} terminated`);
        assert.equal((await druid.call("POST", `/druid/indexer/v1/supervisor/${id}/terminate`)).status, 404, `Druid says ${id} is gone`);
      }
      const stopped = await waitFor("the druid-operator's task shut down under its real id", async () => {
        const s = await druid.taskStatus(taskId);
        return s?.statusCode === "FAILED" ? s : false;
      }, 60_000);
      assert.match(String(stopped.errorMsg ?? ""), /shutdown/i);
      const shutdownEvents = (await kube.events(ns, "d")).filter((e) => e.reason === "TaskShutdown");
      assert.ok(shutdownEvents.some((e) => e.message.includes(taskId)), JSON.stringify(shutdownEvents));
      assert.equal((await druid.compactionConfig(ds.b)).status, 404, "compaction config removed");
      assert.deepEqual((await druid.call("GET", `/druid/coordinator/v1/rules/${ds.b}`)).json, [], "rules cleared");
      // Nothing else was started: no other noop task since the test began.
      const tasks = (await druid.call("GET", "/druid/indexer/v1/tasks?type=noop")).json as Array<{ id: string; type: string; createdTime: string; statusCode: string }>;
      const ours = tasks.filter((t) => t.type === "noop" && Date.parse(t.createdTime) >= startedAt - 2000); // same host: one clock
      assert.deepEqual(ours.map((t) => t.id), [taskId], "the only noop task is the druid-operator's");
      assert.ok(ours.every((t) => t.statusCode !== "RUNNING"));
    });
    await kube.deleteNamespace(ns);
  });

  test("Druid's task autoscaler persisting a new taskCount is not drift: no resubmission, no DriftCorrected", async (t) => {
    if (!env.kafkaBootstrap) {
      return unmet(t, "kafka", "no Kafka broker on this stack");
    }
    const ns = await namespaceWithAuthSecret(kube, env, "autoscale");
    const ds = unique("autoscale");
    await kafkaTopicScript([ds, "2"]);
    // Messages waiting before the first task starts; the consumer below reads them slowly, so the
    // lag stays far above the threshold while the autoscaler samples it.
    const lines: string[] = [];
    for (let n = 0; n < 60_000; n++) lines.push(`{"ts":"2026-01-01T00:00:00Z","page":"p${n}"}`);
    await kafkaTopicScript(["--produce", ds], `${lines.join("\n")}\n`);

    const spec = kafkaSupervisorSpec(ds, env.kafkaBootstrap) as { spec: { ioConfig: Record<string, unknown>; tuningConfig: Record<string, unknown> } };
    const io = spec.spec.ioConfig;
    // One record batch per fetch, each fetch held up to 1 s by the broker: a slow consumer.
    io["consumerProperties"] = { "bootstrap.servers": env.kafkaBootstrap, "fetch.min.bytes": "100000000", "fetch.max.wait.ms": "1000", "max.partition.fetch.bytes": "1" };
    io["offsetFetchPeriod"] = "PT5S";
    io["autoScalerConfig"] = {
      enableTaskAutoScaler: true,
      autoScalerStrategy: "lagBased",
      taskCountMin: 1,
      taskCountMax: 2,
      taskCountStart: 1,
      lagCollectionIntervalMillis: 1000,
      lagCollectionRangeMillis: 10_000,
      scaleActionStartDelayMillis: 5000,
      scaleActionPeriodMillis: 5000,
      // Long enough that the next decision sees both new tasks running (at the maximum: no action).
      minTriggerScaleActionFrequencyMillis: 20_000,
      scaleOutThreshold: 100,
      triggerScaleOutFractionThreshold: 0.5,
      scaleOutStep: 1,
      // Never scale in during the test (a proportion never reaches 2).
      scaleInThreshold: 0,
      triggerScaleInFractionThreshold: 2.0,
      scaleInStep: 1,
    };
    // Stopped tasks publish; without a Historical, handoff is never confirmed: do not hold the slot long.
    spec.spec.tuningConfig["handoffConditionTimeout"] = 5000;

    await scenario([ns], {}, async (start) => {
      const controller = await start();
      await kube.createIngestion(ns, kafkaIngestion("ing", ds, env.kafkaBootstrap as string, { ingestion: { type: "kafka", nativeSpec: spec } }));
      await waitForStatus(ns, "ing", "synced", isSynced);
      const createPosts = await druidRequests(controller, { method: "POST", endpoint: "/druid/indexer/v1/supervisor" });
      assert.equal(createPosts, 1, "one create");

      const taskCountOf = (s: Record<string, unknown> | undefined): unknown => (s?.["spec"] as { ioConfig?: { taskCount?: unknown } } | undefined)?.ioConfig?.taskCount;
      const scaledAt = Date.now();
      await waitFor("Druid's autoscaler stored taskCount 2", async () => taskCountOf(await druid.storedSpec(ds)) === 2, 240_000, 500);
      process.stderr.write(`autoscaler: taskCount 2 stored ${Math.round((Date.now() - scaledAt) / 1000)} s after the create\n`);
      await sleep(500); // the autoscaler's own history entry is written with its decision
      const history = await druid.historyLength(ds);

      // Several resyncs: each compares Druid's stored spec with the recorded one.
      const until = Date.now() + 4 * RESYNC_MS + 2000;
      while (Date.now() < until) {
        assert.equal(await druid.historyLength(ds), history, "no new spec version in Druid");
        await sleep(1000);
      }
      const events = await kube.events(ns, "ing");
      assert.ok(!events.some((e) => e.reason === "DriftCorrected" || e.reason === "Updated" || e.reason === "Recreated"), JSON.stringify(events));
      assert.equal(await druidRequests(controller, { method: "POST", endpoint: "/druid/indexer/v1/supervisor" }), createPosts, "no resubmission");
      assert.equal(taskCountOf(await druid.storedSpec(ds)), 2, "Druid's decision stands");
      const i = (await kube.getIngestion(ns, "ing")) as DruidIngestion;
      assert.ok(isSynced(i), JSON.stringify(i.status?.conditions));
      assert.ok(i.status?.driftIgnorePaths?.includes("/spec/ioConfig/taskCount"), JSON.stringify(i.status?.driftIgnorePaths));
    });
    await kube.deleteNamespace(ns);
  });

  test("no second POST right after a create: a list fetched while our own POSTs were in flight is not taken as fresh", async () => {
    const n = Number(process.env["RACE_RESOURCES"] ?? 20);
    const holdMs = Number(process.env["RACE_HOLD_MS"] ?? 1500);
    const ns = await namespaceWithAuthSecret(kube, env, "race");
    // Druid slow to create supervisors (the Overlord's lock under load), prompt to answer lists.
    const isCreate = (method: string, p: string): boolean => method === "POST" && /^\/druid\/indexer\/v1\/supervisor(\?|$)/.test(p);
    const proxy = await DruidProxy.start(env.druidUrl);
    proxy.hold = (method, p) => (isCreate(method, p) ? holdMs : 0);
    const names = Array.from({ length: n }, (_, k) => `ing-${k}`);
    const ids = names.map(() => unique("race"));
    try {
      await scenario([ns], { DRUID_DEFAULT_URL: proxy.url, RESYNC_PERIOD: process.env["RACE_RESYNC"] ?? "30s", SETTLE_DELAY: "1s" }, async (start) => {
        await start();
        await Promise.all(names.map((name, k) => kube.createIngestion(ns, kafkaIngestion(name, ids[k] as string, BROKER, { suspend: true }))));
        for (const name of names) await waitForStatus(ns, name, "synced", isSynced, 180_000);
        await sleep(6000); // the re-reads after the creates
        const recreated: string[] = [];
        for (const name of names) {
          for (const e of await kube.events(ns, name)) if (e.reason === "Recreated" || e.reason === "DriftCorrected") recreated.push(`${name}: ${e.reason} ${e.message}`);
        }
        const creates = proxy.requests().filter((r) => isCreate(r.method, r.path)).length;
        const histories = await Promise.all(ids.map((id) => druid.historyLength(id)));
        assert.deepEqual(recreated, [], "no supervisor was re-created right after its create");
        assert.equal(creates, n, "exactly one create POST per supervisor");
        assert.deepEqual(histories, ids.map(() => 1), "one spec version per supervisor in Druid");
      });
    } finally {
      await proxy.stop();
    }
    await kube.deleteNamespace(ns);
  });

  test("a ConfigMap that cannot be applied (ResourceQuota count/configmaps: 0) is a visible condition and Warning; Druid is synced anyway", async () => {
    const ns = await namespaceWithAuthSecret(kube, env, "cmquota");
    const ds = unique("cmquota");
    const quota = await kube.core.createNamespacedResourceQuota({ namespace: ns, body: { metadata: { name: "no-configmaps" }, spec: { hard: { "count/configmaps": "0" } } } });
    // Quota admission enforces what the quota's status says; the stack runs no resourcequota
    // controller to fill it in, so write what that controller would (nothing used yet).
    if (!quota.status?.hard) {
      await kube.core.replaceNamespacedResourceQuotaStatus({ namespace: ns, name: "no-configmaps", body: { ...quota, status: { hard: { "count/configmaps": "0" }, used: { "count/configmaps": "0" } } } });
    }
    await waitFor("quota in force (a ConfigMap create is refused)", async () => {
      try {
        await kube.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "quota-probe" } } });
        await kube.core.deleteNamespacedConfigMap({ namespace: ns, name: "quota-probe" });
        return false;
      } catch (e) {
        return (e as { code?: number }).code === 403;
      }
    }, 60_000);

    await scenario([ns], {}, async (start) => {
      await start();
      await kube.createIngestion(ns, kafkaIngestion("ing", ds, BROKER, { suspend: true }));
      const failed = await waitForStatus(ns, "ing", "ConfigMap apply failed, Druid synced", (i) => isSynced(i) && condition(i, "ConfigMapSynced")?.status === "False");
      const cm = condition(failed, "ConfigMapSynced");
      assert.equal(cm?.reason, "ConfigMapApplyFailed");
      assert.match(cm?.message ?? "", /ing-druid-spec/);
      assert.match(cm?.message ?? "", /403|forbidden|exceeded quota/i);
      assert.ok(await druid.supervisor(ds), "the supervisor was created in Druid");
      const warning = (await kube.events(ns, "ing")).find((e) => e.reason === "ConfigMapApplyFailed");
      assert.equal(warning?.type, "Warning", JSON.stringify(await kube.events(ns, "ing")));

      await kube.core.deleteNamespacedResourceQuota({ namespace: ns, name: "no-configmaps" });
      const fixed = await waitForStatus(ns, "ing", "ConfigMap applied at a resync", (i) => condition(i, "ConfigMapSynced")?.status === "True", 60_000);
      assert.ok(isSynced(fixed));
      const applied = await kube.core.readNamespacedConfigMap({ namespace: ns, name: "ing-druid-spec" });
      assert.equal(JSON.parse(applied.data?.["supervisor.json"] ?? "{}").spec.dataSchema.dataSource, ds);
    });
    await kube.deleteNamespace(ns);
  });
});
