// Ingestion health on the real stack: a running Kafka supervisor whose brokers cannot be reached
// is reported unhealthy by Druid; the resource says so with Druid's own error text (Healthy
// condition, status.recentErrors, a Warning Event, the per-resource gauge), and says it again
// once the supervisor recovers.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { ControllerProcess, metricValue } from "../support/controller.ts";
import { kafkaSupervisorSpec } from "../support/druid.ts";
import { cleanUpNamespaces, condition, Kube } from "../support/kube.ts";
import { ensureStack, stackEnv } from "../support/stack.ts";
import { unmet } from "../support/needs.ts";
import { waitFor } from "../support/wait.ts";
import { deleteKafkaTopics, kafkaTopicScript } from "../../tools/kafka-topics.ts";
import { namespaceWithAuthSecret, unique } from "../support/fixtures.ts";

ensureStack();
const env = stackEnv();
const kube = Kube.admin(env);
const namespaces: string[] = [];
let controller: ControllerProcess;

/**
 * A running (not suspended) Kafka supervisor on `bootstrap`, with short Kafka client timeouts and
 * supervisor periods so Druid's three failed runs (druid.supervisor.unhealthinessThreshold=3 in
 * the stack) come within a minute or two rather than several.
 */
function runningKafka(name: string, dataSource: string, bootstrap: string): Record<string, unknown> {
  const nativeSpec = kafkaSupervisorSpec(dataSource, bootstrap) as { spec: { ioConfig: Record<string, unknown> } };
  nativeSpec.spec.ioConfig["consumerProperties"] = {
    "bootstrap.servers": bootstrap,
    "default.api.timeout.ms": "3000",
    "request.timeout.ms": "2000",
    "socket.connection.setup.timeout.ms": "500",
    "socket.connection.setup.timeout.max.ms": "1000",
  };
  nativeSpec.spec.ioConfig["period"] = "PT5S";
  nativeSpec.spec.ioConfig["startDelay"] = "PT1S";
  return {
    apiVersion: "druid.apache.org/v1alpha1",
    kind: "DruidIngestion",
    metadata: { name },
    spec: { druidCluster: "tiny-cluster", auth: { type: "basic-auth", secretRef: { name: "druid-auth" } }, ingestion: { type: "kafka", nativeSpec } },
  };
}

before(async () => {
  await kube.installCrd();
  controller = await ControllerProcess.start({ KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl, RESYNC_PERIOD: "10s", LAG_PERIOD: "5s" });
});

after(async () => {
  const left = await cleanUpNamespaces(kube, namespaces);
  const code = await controller?.stop();
  assert.deepEqual(left, [], "every resource was finalized");
  assert.equal(code, 0, `controller exit code; last logs:\n${controller?.tail()}`);
});

describe("health", () => {
  test("a supervisor that cannot reach its brokers: Healthy=False with Druid's error, a Warning Event, the gauge at 0; it recovers once the brokers are right", async () => {
    const ns = await namespaceWithAuthSecret(kube, env, "health");
    namespaces.push(ns);
    const ds = unique("health");
    // 127.0.0.1:9 (discard) refuses connections: Druid cannot fetch the topic's partitions.
    await kube.createIngestion(ns, runningKafka("h", ds, "127.0.0.1:9"));
    const unhealthy = await waitFor(`${ns}/h: Healthy=False`, async () => {
      const i = await kube.getIngestion(ns, "h");
      return condition(i, "Healthy")?.status === "False" ? (i as DruidIngestion) : false;
    }, 300_000, 1000);
    const healthy = condition(unhealthy, "Healthy");
    assert.equal(unhealthy.status?.healthy, false);
    assert.match(healthy?.reason ?? "", /^[A-Z][A-Za-z]+$/, "Druid's state as a condition reason");
    assert.match(healthy?.message ?? "", /Druid reports the supervisor unhealthy: UNHEALTHY_SUPERVISOR/);
    assert.ok((unhealthy.status?.recentErrors?.length ?? 0) > 0, `recent errors in status: ${JSON.stringify(unhealthy.status)}`);
    assert.match(healthy?.message ?? "", /its newest error/, "Druid's own words in the condition");
    assert.doesNotMatch(JSON.stringify(unhealthy.status), new RegExp(env.druidPassword.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), "no credential in status");
    const events = await kube.events(ns, "h");
    const warning = events.find((e) => e.type === "Warning" && e.reason === healthy?.reason);
    assert.ok(warning, `a Warning Event: ${JSON.stringify(events)}`);
    assert.match(warning.message, /its newest error/);
    assert.equal(metricValue(await controller.metrics(), "druid_ingestion_supervisor_healthy", { namespace: ns, name: "h", supervisor: ds }), 0);

    if (env.kafkaBootstrap) {
      // The right brokers: Druid's healthy runs bring it back.
      const fixed = runningKafka("h", ds, env.kafkaBootstrap) as { spec: Record<string, unknown> };
      await kube.patchIngestion(ns, "h", { spec: { ingestion: fixed.spec["ingestion"] } });
      await waitFor(`${ns}/h: Healthy=True again`, async () => condition(await kube.getIngestion(ns, "h"), "Healthy")?.status === "True", 300_000, 1000);
      const recovered = await kube.getIngestion(ns, "h");
      assert.equal(recovered?.status?.recentErrors, undefined, "errors are history once healthy");
      assert.ok((await kube.events(ns, "h")).some((e) => e.type === "Normal" && e.reason === "Healthy"));
      assert.equal(metricValue(await controller.metrics(), "druid_ingestion_supervisor_healthy", { namespace: ns, name: "h", supervisor: ds }), 1);
    }
  });

  test("lag: a running Kafka supervisor's lag reaches status.lag (Lag column) and the druid_ingestion_supervisor_lag gauge; suspended, both go (#12)", async (t) => {
    if (!env.kafkaBootstrap) return unmet(t, "kafka", "no Kafka in this stack");
    const bootstrap = env.kafkaBootstrap as string;
    const ns = await namespaceWithAuthSecret(kube, env, "lag");
    namespaces.push(ns);
    const ds = unique("lag");
    // Records waiting before the supervisor starts (it reads from the earliest offset).
    const now = Date.now();
    await kafkaTopicScript(["--produce", ds], Array.from({ length: 2000 }, (_, i) => JSON.stringify({ ts: new Date(now + i).toISOString(), page: `p${i % 7}` })).join("\n") + "\n", 120_000, bootstrap);
    try {
      await kube.createIngestion(ns, runningKafka("l", ds, bootstrap));
      const withLag = await waitFor(`${ns}/l: status.lag`, async () => {
        const i = (await kube.getIngestion(ns, "l")) as DruidIngestion | undefined;
        return i?.status?.lag?.records !== undefined ? i : false;
      }, 300_000, 1000);
      const lag = withLag.status!.lag!;
      assert.ok(Number.isInteger(lag.records) && lag.records! >= 0 && lag.records! <= 2000, JSON.stringify(lag));
      assert.match(lag.lastUpdateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const printed = await kube.printerColumns(ns, "l");
      assert.equal(printed["Lag"], String(lag.records), `the Lag column: ${JSON.stringify(printed)}`);
      const gauge = metricValue(await controller.metrics(), "druid_ingestion_supervisor_lag", { namespace: ns, name: "l", supervisor: ds });
      assert.ok(Number.isFinite(gauge) && gauge >= 0 && gauge <= 2000, `gauge: ${gauge}`);
      assert.ok(metricValue(await controller.metrics(), "druid_ingestion_lag_reads_total", { result: "ok" }) > 0);

      await kube.patchIngestion(ns, "l", { spec: { suspend: true } });
      await waitFor(`${ns}/l: suspended, no lag`, async () => {
        const i = await kube.getIngestion(ns, "l");
        return i?.status?.state === "SUSPENDED" && i.status.lag === undefined;
      }, 120_000, 1000);
      await waitFor(`${ns}/l: no lag series`, async () => !(await controller.metrics()).includes(`druid_ingestion_supervisor_lag{namespace="${ns}",name="l"`), 30_000, 500);
    } finally {
      await deleteKafkaTopics(bootstrap, ds).catch(() => {});
    }
  });
});
