import { test } from "node:test";
import assert from "node:assert/strict";
import { ControllerMetrics } from "./metrics.ts";

test("controller-runtime series exist at zero before any work", async () => {
  const text = await new ControllerMetrics({ defaultMetrics: false }).registry.metrics();
  for (const series of [
    'controller_runtime_reconcile_total{controller="druidingestion",result="success"} 0',
    'controller_runtime_reconcile_total{controller="druidingestion",result="error"} 0',
    'controller_runtime_reconcile_errors_total{controller="druidingestion"} 0',
    'workqueue_retries_total{name="druidingestion",controller="druidingestion"} 0',
    'workqueue_adds_total{name="druidingestion",controller="druidingestion"} 0',
    'workqueue_depth{name="druidingestion",controller="druidingestion"} 0',
    'controller_runtime_active_workers{controller="druidingestion"} 0',
  ]) assert.ok(text.includes(series), series);
});

test("reconcile results and Druid requests are counted by label", async () => {
  const m = new ControllerMetrics({ defaultMetrics: false });
  m.observeReconcile("error", 0.2);
  m.observeDruid({ method: "POST", route: "/druid/indexer/v1/supervisor/{id}/reset", code: "200", seconds: 0.01 });
  const text = await m.registry.metrics();
  assert.ok(text.includes('controller_runtime_reconcile_errors_total{controller="druidingestion"} 1'));
  assert.ok(text.includes('druid_ingestion_druid_requests_total{method="POST",endpoint="/druid/indexer/v1/supervisor/{id}/reset",code="200"} 1'));
});

test("the per-resource health gauge is read from its source at each scrape; a resource gone is gone from it (#12)", async () => {
  const m = new ControllerMetrics({ defaultMetrics: false });
  let samples = [
    { namespace: "team", name: "orders", supervisor: "orders", healthy: true },
    { namespace: "team", name: "clicks", supervisor: "clicks-v2", healthy: false },
  ];
  m.setSupervisorHealthSource(() => samples);
  let text = await m.registry.metrics();
  assert.ok(text.includes('druid_ingestion_supervisor_healthy{namespace="team",name="orders",supervisor="orders"} 1'), text);
  assert.ok(text.includes('druid_ingestion_supervisor_healthy{namespace="team",name="clicks",supervisor="clicks-v2"} 0'));
  samples = samples.slice(0, 1);
  text = await m.registry.metrics();
  assert.ok(!text.includes('name="clicks"'), "deleted resources leave no series behind");
});

test("the lag gauges follow the lag poller's readings at each scrape: records, seconds, absent when not reported (#12)", async () => {
  const m = new ControllerMetrics({ defaultMetrics: false });
  let samples: Array<{ namespace: string; name: string; supervisor: string; records?: number; millis?: number }> = [
    { namespace: "team", name: "orders", supervisor: "orders", records: 1234 },
    { namespace: "team", name: "clicks", supervisor: "clicks", millis: 2500 },
  ];
  m.setSupervisorLagSource(() => samples);
  m.lagRead("ok");
  let text = await m.registry.metrics();
  assert.ok(text.includes('druid_ingestion_supervisor_lag{namespace="team",name="orders",supervisor="orders"} 1234'), text);
  assert.ok(text.includes('druid_ingestion_supervisor_lag_seconds{namespace="team",name="clicks",supervisor="clicks"} 2.5'));
  assert.ok(!text.includes('druid_ingestion_supervisor_lag{namespace="team",name="clicks"'), "no records reported: no records series");
  assert.ok(text.includes('druid_ingestion_lag_reads_total{result="ok"} 1'));
  assert.ok(text.includes('druid_ingestion_lag_reads_total{result="error"} 0'));
  samples = [];
  text = await m.registry.metrics();
  assert.ok(!text.includes('name="orders"'));
});
