// The benchmark's arithmetic: scrapes subtracted per label, percentiles, and the targets.
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { counterDelta, parseMetrics, total } from "../../bench/scale/metrics.ts";
import { kubeWrites, percentile, verdicts, type SizeResult } from "../../bench/scale/results.ts";

test("counter deltas per label combination, from two Prometheus scrapes", () => {
  const before = parseMetrics(['# HELP x', 'druid_ingestion_kube_requests_total{verb="list",resource="configmaps",code="200"} 4', 'druid_ingestion_kube_requests_total{verb="watch",resource="configmaps",code="200"} 1', 'other 3'].join("\n"));
  const after = parseMetrics(['druid_ingestion_kube_requests_total{verb="list",resource="configmaps",code="200"} 4', 'druid_ingestion_kube_requests_total{verb="watch",resource="configmaps",code="200"} 3', 'druid_ingestion_kube_requests_total{verb="patch",resource="druidingestions/status",code="409"} 2', 'druid_ingestion_druid_requests_total{method="GET",endpoint="/druid/indexer/v1/supervisor?state=true",code="200"} 7'].join("\n"));
  const byVerb = counterDelta(before, after, "druid_ingestion_kube_requests_total", ["verb", "resource"]);
  assert.deepEqual([...byVerb], [["patch druidingestions/status", 2], ["watch configmaps", 2]]);
  assert.equal(total(byVerb, (k) => k.startsWith("watch")), 2);
  assert.deepEqual([...counterDelta([], after, "druid_ingestion_druid_requests_total", ["endpoint"])], [["/druid/indexer/v1/supervisor?state=true", 7]]);
  assert.equal(kubeWrites(Object.fromEntries(byVerb)), 2);
});

test("percentiles are nearest-rank", () => {
  assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
  assert.equal(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99), 99);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test("targets: which apply at which size, met or not", () => {
  const base: SizeResult = {
    resources: 1000, druid: "real", druidVersion: "33.0.0", concurrency: 4, resyncSeconds: 60, createSeconds: 10, convergeSeconds: 50, perResourceP50Ms: 100, perResourceP99Ms: 900,
    baseline: { postSeconds: 30, kubeWritesSeconds: 12, deleteSeconds: 20 },
    converge: { kube: {}, druidRequests: {}, druidBytes: {} },
    idle: { seconds: 300, resyncs: 5, cpuSecondsPerResync: 0.3, cpuPercentOfCore: 0.5, kube: {}, kubeWrites: 0, watchRequestsPer5MinPerWatch: 0.75, watches: 4, druidRequests: {}, druidBytes: {}, druidBytesPerResync: 200_000 },
    rss: { peakMiB: 150, steadyMiB: 120 }, applyToPostMs: { samples: 20, p50: 40, p99: 90 }, deleteSeconds: 30, leftInDruid: 0,
  };
  const at1k = verdicts(base);
  assert.deepEqual(at1k.map((v) => [v.target.split(" ")[0], v.met]), [["convergence", true], ["RSS", false], ["idle", true], ["idle", true], ["idle", true]]);
  assert.match(at1k[0]?.measured ?? "", /1\.19×/);
  const at10k = verdicts({ ...base, resources: 10_000, rss: { peakMiB: 300, steadyMiB: 240 } });
  assert.deepEqual(at10k.map((v) => [v.target.split(" ")[0], v.met]), [["convergence", true], ["RSS", true], ["apply→POST", true]]);
  assert.equal(verdicts({ ...base, resources: 100 }).length, 1);
});
