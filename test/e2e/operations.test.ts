// Operating the controller: two replicas with a Lease (exactly one acts; a standby takes over
// when the leader dies), metrics that move with a lifecycle, and SIGTERM in the middle of work.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { ControllerProcess, metricValue } from "../support/controller.ts";
import { DruidProbe } from "../support/druid.ts";
import { cleanUpNamespaces, condition, Kube } from "../support/kube.ts";
import { DruidProxy } from "../support/proxy.ts";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { ensureStack, REPO_ROOT, stackEnv } from "../support/stack.ts";
import { unmet } from "../support/needs.ts";
import { waitFor } from "../support/wait.ts";
import { isSynced, kafkaIngestion, namespaceWithAuthSecret, unique } from "../support/fixtures.ts";

ensureStack();
const env = stackEnv();
const kube = Kube.admin(env);
const druid = new DruidProbe(env);
const bootstrap = env.kafkaBootstrap ?? "127.0.0.1:9";
const namespaces: string[] = [];
const processes: ControllerProcess[] = [];

async function namespace(prefix: string): Promise<string> {
  const ns = await namespaceWithAuthSecret(kube, env, prefix);
  namespaces.push(ns);
  return ns;
}

function manifest(name: string, dataSource: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return kafkaIngestion(name, dataSource, bootstrap, extra);
}

const synced = isSynced;

async function waitSynced(ns: string, name: string, timeoutMs = 90_000): Promise<DruidIngestion> {
  return waitFor(`${ns}/${name} synced`, async () => {
    const i = await kube.getIngestion(ns, name);
    return synced(i) ? i : false;
  }, timeoutMs);
}

async function replica(lease: string, identity: string, extra: Record<string, string> = {}): Promise<ControllerProcess> {
  const p = await ControllerProcess.start({
    KUBECONFIG: env.kubeconfig,
    DRUID_DEFAULT_URL: env.druidUrl,
    LEADER_ELECT: "true",
    LEADER_ELECTION_ID: lease,
    LEADER_ELECTION_NAMESPACE: "default",
    POD_NAME: identity,
    LEASE_DURATION: "6s",
    RENEW_DEADLINE: "4s",
    RETRY_PERIOD: "1s",
    ...extra,
  });
  processes.push(p);
  return p;
}

async function isLeader(p: ControllerProcess): Promise<boolean> {
  return metricValue(await p.metrics(), "leader_election_master_status") === 1;
}

/** Log lines of Druid writes for one supervisor. */
function applied(p: ControllerProcess, namespaceName: string): number {
  return p.entries().filter((e) => e["message"] === "applying to Druid" && e["namespace"] === namespaceName).length;
}

before(async () => {
  await kube.installCrd();
});

after(async () => {
  for (const p of processes) await p.stop();
  // The replicas were stopped or killed by the tests: one more finalizes what they left.
  const cleaner = await ControllerProcess.start({ KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl });
  const left = await cleanUpNamespaces(kube, namespaces);
  await cleaner.stop();
  assert.deepEqual(left, [], "every resource was finalized");
});

describe("operations", { timeout: 600_000 }, () => {
  test("two replicas: exactly one acts; kill it and the standby takes over and finishes pending work", async () => {
    const lease = unique("e2e-lease");
    const a = await replica(lease, "replica-a");
    const b = await replica(lease, "replica-b");
    const [leader, standby] = await waitFor("one leader", async () => {
      const [la, lb] = [await isLeader(a), await isLeader(b)];
      if (la && lb) throw new Error("two leaders");
      return la ? [a, b] : lb ? [b, a] : false;
    }, 30_000);
    assert.equal(await isLeader(standby), false);
    const leaseObject = await kube.kc.makeApiClient((await import("@kubernetes/client-node")).CoordinationV1Api).readNamespacedLease({ name: lease, namespace: "default" });
    assert.equal(leaseObject.spec?.holderIdentity, leader === a ? "replica-a" : "replica-b");

    const ns = await namespace("ha");
    await kube.createIngestion(ns, manifest("first", unique("ha")));
    await waitSynced(ns, "first");
    assert.ok(applied(leader, ns) >= 1, "the leader applied");
    assert.equal(applied(standby, ns), 0, "the standby did nothing");
    assert.equal(metricValue(await standby.metrics(), "controller_runtime_reconcile_total"), 0, "the standby reconciled nothing");

    // Kill the leader without a chance to release the lease, then give the standby work.
    await leader.stop("SIGKILL");
    const ds = unique("ha-pending");
    await kube.createIngestion(ns, manifest("pending", ds));
    const takeoverStarted = Date.now();
    await waitFor("standby leads", () => isLeader(standby), 30_000);
    const takeoverMs = Date.now() - takeoverStarted;
    assert.ok(takeoverMs < 15_000, `took over in ${takeoverMs} ms (lease 6 s)`);
    await waitSynced(ns, "pending");
    assert.ok(await druid.supervisor(ds), "the new leader created the pending supervisor");
    await standby.stop();
  });

  test("metrics after a lifecycle: controller-runtime names move, Druid requests are counted", async () => {
    const p = await replica(unique("e2e-metrics"), "metrics-replica");
    await waitFor("leader", () => isLeader(p), 30_000);
    const ns = await namespace("metrics");
    const ds = unique("metrics");
    await kube.createIngestion(ns, manifest("ing", ds));
    await waitSynced(ns, "ing");
    await kube.patchIngestion(ns, "ing", { spec: { suspend: true } });
    await waitFor("suspended condition", async () => condition(await kube.getIngestion(ns, "ing"), "Suspended")?.status === "True");
    await kube.deleteIngestion(ns, "ing");
    await waitFor("deleted", async () => !(await kube.getIngestion(ns, "ing")));
    const text = await p.metrics();
    assert.ok(metricValue(text, "controller_runtime_reconcile_total", { controller: "druidingestion" }) >= 3, "reconciles counted");
    assert.ok(metricValue(text, "controller_runtime_reconcile_time_seconds_count", { controller: "druidingestion" }) >= 3);
    assert.equal(metricValue(text, "controller_runtime_max_concurrent_reconciles", { controller: "druidingestion" }), 4);
    assert.ok(metricValue(text, "workqueue_adds_total", { name: "druidingestion" }) >= 3);
    assert.ok(metricValue(text, "workqueue_queue_duration_seconds_count", { name: "druidingestion" }) >= 3);
    assert.ok(metricValue(text, "workqueue_work_duration_seconds_count", { name: "druidingestion" }) >= 3);
    assert.match(text, /^workqueue_depth\{name="druidingestion",controller="druidingestion"\} \d+/m);
    assert.match(text, /^controller_runtime_active_workers\{controller="druidingestion"\} \d+/m);
    assert.match(text, /^workqueue_retries_total/m);
    assert.equal(metricValue(text, "leader_election_master_status"), 1);
    assert.ok(metricValue(text, "druid_ingestion_druid_requests_total", { method: "POST", endpoint: "/druid/indexer/v1/supervisor", code: "200" }) >= 1);
    assert.ok(metricValue(text, "druid_ingestion_druid_requests_total", { endpoint: "/druid/indexer/v1/supervisor/{id}/suspend" }) >= 1);
    assert.ok(metricValue(text, "druid_ingestion_druid_requests_total", { endpoint: "/druid/indexer/v1/supervisor/{id}/terminate" }) >= 1);
    assert.ok(metricValue(text, "druid_ingestion_druid_request_duration_seconds_count") >= 3);
    assert.ok(metricValue(text, "druid_ingestion_druid_snapshot_fetches_total", { part: "supervisors" }) >= 1);
    assert.match(text, /^process_cpu_seconds_total/m, "process metrics");
    const health = await fetch(`http://127.0.0.1:${p.port}/healthz`);
    assert.equal(health.status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${p.port}/readyz`)).status, 200);
    assert.equal(await p.stop(), 0);
  });

  test("SIGTERM mid-reconcile: in-flight work finishes, exit 0, lease released, the next leader completes the rest", async () => {
    const lease = unique("e2e-term");
    const proxy = await DruidProxy.start(env.druidUrl);
    try {
      const a = await replica(lease, "term-a", { SHUTDOWN_TIMEOUT: "30s" });
      await waitFor("a leads", () => isLeader(a), 30_000);
      const b = await replica(lease, "term-b");
      const ns = await namespace("term");
      const ds = unique("term");
      proxy.delayMs = 1500; // every Druid request takes 1.5 s: a reconcile is several requests
      await kube.createIngestion(ns, manifest("ing", ds, { druidEndpoint: proxy.url }));
      await waitFor("a reconcile in flight", async () => metricValue(await a.metrics(), "controller_runtime_active_workers") >= 1, 30_000, 100);
      const stoppedAt = Date.now();
      const code = await a.stop("SIGTERM");
      assert.equal(code, 0, a.tail());
      const messages = a.entries().map((e) => String(e["message"]));
      assert.ok(messages.includes("shutting down: no new work; waiting for in-flight reconciles"));
      assert.ok(messages.includes("released the lease"), messages.slice(-15).join(" | "));
      await waitFor("b leads", () => isLeader(b), 10_000, 200);
      assert.ok(Date.now() - stoppedAt < 6000 + 20_000, "b took over without waiting for a lease expiry");
      proxy.delayMs = 0;
      const done = await waitSynced(ns, "ing", 120_000);
      assert.equal(done.status?.supervisorId, ds);
      const live = await druid.supervisor(ds);
      assert.equal((live?.spec as { spec: { dataSchema: { dataSource: string } } }).spec.dataSchema.dataSource, ds, "the supervisor is complete in Druid");
      assert.ok(done.metadata.finalizers?.includes("druidingestion.datainfra.io/finalizer"));
      // Delete while this Druid endpoint (the proxy) still exists.
      await kube.deleteIngestion(ns, "ing");
      await waitFor("deleted", async () => !(await kube.getIngestion(ns, "ing")));
      // On failure, both replicas' logs say who wrote what, and when.
      await waitFor("supervisor terminated", async () => (await druid.supervisor(ds)) === undefined, 10_000).catch((e: Error) => {
        throw new Error(`${e.message}\n--- a:\n${a.tail(80)}\n--- b:\n${b.tail(80)}`);
      });
      await b.stop();
    } finally {
      await proxy.stop();
    }
  });

  test("SIGTERM with Druid too slow to finish by SHUTDOWN_TIMEOUT: its calls are abandoned first, then the Lease is released", async () => {
    const lease = unique("e2e-abandon");
    const proxy = await DruidProxy.start(env.druidUrl);
    try {
      // One call fits in the deadline (5 s < 6 s), a reconcile of several does not.
      const a = await replica(lease, "abandon-a", { SHUTDOWN_TIMEOUT: "6s", DRUID_REQUEST_TIMEOUT: "5s", DRUID_RETRIES: "0" });
      await waitFor("a leads", () => isLeader(a), 30_000);
      const b = await replica(lease, "abandon-b");
      const ns = await namespace("abandon");
      const ds = unique("abandon");
      proxy.delayMs = 2500;
      await kube.createIngestion(ns, manifest("ing", ds, { druidEndpoint: proxy.url }));
      await waitFor("a reconcile in flight", async () => metricValue(await a.metrics(), "controller_runtime_active_workers") >= 1, 30_000, 100);
      const code = await a.stop("SIGTERM");
      assert.equal(code, 0, a.tail());
      const log = a.entries();
      const at = (message: string): number => log.findIndex((e) => e["message"] === message);
      const abandoned = at("reconciles still running at the deadline: abandoning their Druid calls");
      const released = at("released the lease");
      assert.ok(abandoned >= 0, log.slice(-20).map((e) => e["message"]).join(" | "));
      assert.ok(released > abandoned, "the Lease is released only after the work was abandoned");
      const abandonedAt = Date.parse(String(log[abandoned]?.["timestamp"]));
      const late = proxy.requests({ method: "POST" }).filter((r) => r.at > abandonedAt + 100);
      assert.deepEqual(late, [], "no Druid write starts after the fence closed");
      await waitFor("b leads", () => isLeader(b), 10_000, 200);
      proxy.delayMs = 0;
      const done = await waitSynced(ns, "ing", 120_000);
      assert.equal(done.status?.supervisorId, ds, "the next leader completes it");
      await kube.deleteIngestion(ns, "ing");
      await waitFor("deleted", async () => !(await kube.getIngestion(ns, "ing")));
      await b.stop();
    } finally {
      await proxy.stop();
    }
  });

  test("the API server restarts under a running controller: its watches recover and new work is picked up", async (t) => {
    if (!env.local) return unmet(t, "local-stack", "KUBECONFIG and DRUID_URL name another cluster");
    const p = await ControllerProcess.start({ KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl });
    processes.push(p);
    const ns = await namespace("restart");
    await kube.createIngestion(ns, manifest("before", unique("before")));
    await waitSynced(ns, "before");
    const kubeStack = (script: string) => execFileSync("bash", [path.join(REPO_ROOT, "stack/kube", script)], { stdio: ["ignore", "ignore", "inherit"] });
    kubeStack("down.sh");
    await new Promise((r) => setTimeout(r, 3000));
    kubeStack("up.sh");
    const ds = unique("after");
    await kube.createIngestion(ns, manifest("after", ds));
    await waitSynced(ns, "after", 120_000);
    assert.ok(await druid.supervisor(ds));
    const messages = p.entries().map((e) => String(e["message"]));
    assert.ok(messages.some((m) => m === "watch failed; restarting" || m === "restarting watch"), "the informers said they restarted");
    assert.equal(await p.stop(), 0);
  });
});
