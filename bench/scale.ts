// Benchmark: the controller at N = 100, 1,000 and 10,000 DruidIngestions (suspended Kafka
// supervisors, so Druid runs no task), each size against the real local Druid (N ≤ 1,000) or
// the loopback Overlord double (above; kept honest by test/e2e/overlord-contract.test.ts). Per
// size it prints convergence (total, p50/p99 per resource), the Kubernetes and Druid traffic
// during convergence and while idle, CPU per idle resync, RSS (peak and steady), apply→POST for
// one edit among N idle resources, deletion, and the direct baseline; then each of issue #11's
// targets as met / not met. Writes the figures (JSON) and a plot (SVG). Figures only: nothing is
// asserted, and everything it creates is removed at the end.
//
//   npm run bench                                  # 100, 1,000, 10,000
//   npm run bench -- --sizes 100 --idle-periods 2   # a quick look
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { parseDuration } from "../src/config.ts";
import { Kube } from "../tools/kube.ts";
import { OverlordDouble } from "../tools/overlord-double.ts";
import { ensureStack, REPO_ROOT, stackEnv } from "../tools/stack.ts";
import { plotSvg } from "./scale/plot.ts";
import { baselineSeconds, verdicts, type SizeResult } from "./scale/results.ts";
import { runSize } from "./scale/run-size.ts";
import { deleteKafkaTopics } from "../tools/kafka-topics.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "100,1000,10000" },
    resync: { type: "string", default: "60s" },
    "idle-periods": { type: "string", default: "5" },
    concurrency: { type: "string", default: "4" },
    edits: { type: "string", default: "20" },
    druid: { type: "string", default: "auto" },
    // As the image runs it (Dockerfile CMD, npm start); --node-args= for none.
    "node-args": { type: "string", default: "--max-semi-space-size=1 --optimize-for-size" },
    "heap-snapshot-dir": { type: "string" },
    "controller-log-level": { type: "string" },
    "controller-log": { type: "string" },
    out: { type: "string", default: path.join(REPO_ROOT, "docs/benchmarks") },
  },
});
const sizes = values.sizes.split(",").map((s) => Number(s.trim()));
const mode = values.druid;
if (!["auto", "real", "double"].includes(mode)) throw new Error(`--druid must be auto, real or double, not ${mode}`);

ensureStack();
const env = stackEnv();
// The baseline's minimal client reuses its connections, as the controller does.
const kube = Kube.admin(env, { pooled: true });
await kube.installCrd();
const print = (line: string): void => void process.stdout.write(`${line}\n`);
const row = (label: string, value: string | number): void => print(`  ${label.padEnd(58)} ${value}`);
const fmt = (m: Record<string, number>): string => Object.entries(m).map(([k, v]) => `${k}=${Math.round(v)}`).join(", ") || "none";

const realVersion = (await fetch(`${env.druidUrl}/status`, { headers: { authorization: `Basic ${Buffer.from(`${env.druidUser}:${env.druidPassword}`).toString("base64")}` } }).then((r) => r.json())) as { version: string };
const results: SizeResult[] = [];
for (const count of sizes) {
  const useDouble = mode === "double" || (mode === "auto" && count > 1000);
  const double = useDouble ? await OverlordDouble.start({ credentials: { username: env.druidUser, password: env.druidPassword }, druidVersion: realVersion.version }) : undefined;
  try {
    print(`\n== controller flags: ${values["node-args"] || "(none)"}`);
    print(`== ${count.toLocaleString("en-US")} resources on ${double ? `the Overlord double (${double.url})` : `the real Druid ${realVersion.version} (${env.druidUrl})`}`);
    const r = await runSize({
      kube,
      kubeconfig: env.kubeconfig,
      count,
      druid: { kind: double ? "double" : "real", url: double?.url ?? env.druidUrl, username: env.druidUser, password: env.druidPassword, version: realVersion.version },
      kafkaBootstrap: env.kafkaBootstrap ?? "127.0.0.1:9",
      ...(env.local && env.kafkaBootstrap ? { removeTopics: (pattern: string) => deleteKafkaTopics(env.kafkaBootstrap as string, pattern) } : {}),
      concurrency: Number(values.concurrency),
      resync: values.resync,
      resyncMs: parseDuration(values.resync),
      idlePeriods: Number(values["idle-periods"]),
      edits: Number(values.edits),
      nodeArgs: values["node-args"].split(" ").filter(Boolean),
      heapSnapshotDir: values["heap-snapshot-dir"],
      controllerLogLevel: values["controller-log-level"],
      controllerLog: values["controller-log"] ? `${values["controller-log"]}.${count}` : undefined,
      log: print,
    });
    results.push(r);
    const baseline = baselineSeconds(r);
    row("convergence (first create → all Synced + SUSPENDED)", `${r.convergeSeconds.toFixed(1)} s = ${(r.convergeSeconds / baseline).toFixed(2)}× baseline (${baseline.toFixed(1)} s: POSTs until all SUSPENDED ${(r.baseline.settledSeconds ?? r.baseline.postSeconds).toFixed(1)} s (the POSTs alone ${r.baseline.postSeconds.toFixed(1)} s) + Kubernetes writes ${r.baseline.kubeWritesSeconds.toFixed(1)} s)`);
    row("  per resource p50 / p99", `${r.perResourceP50Ms.toFixed(0)} ms / ${r.perResourceP99Ms.toFixed(0)} ms`);
    row("  Kubernetes requests by verb", fmt(r.converge.kube));
    row("  Druid requests by endpoint", fmt(r.converge.druidRequests));
    row("  Druid response bytes by endpoint", fmt(r.converge.druidBytes));
    row(`idle (${r.idle.seconds.toFixed(0)} s, ${r.idle.resyncs.toFixed(1)} resyncs of ${r.resyncSeconds} s)`, "");
    row("  CPU per resync; share of a core", `${r.idle.cpuSecondsPerResync.toFixed(3)} s; ${r.idle.cpuPercentOfCore.toFixed(2)} %`);
    if (r.idle.reconciles !== undefined) row("  reconciles; ended at the idle shortcut", `${r.idle.reconciles}; ${r.idle.idleShortcuts ?? 0}`);
    row("  Kubernetes requests by verb", fmt(r.idle.kube));
    row("  Kubernetes writes", r.idle.kubeWrites);
    row("  watch/list requests per watch per 5 min", r.idle.watchRequestsPer5MinPerWatch.toFixed(2));
    row("  Druid requests by endpoint", fmt(r.idle.druidRequests));
    row("  Druid bytes per resync", `${Math.round(r.idle.druidBytesPerResync).toLocaleString("en-US")} (${(r.idle.druidBytesPerResync / count).toFixed(0)} per resource)`);
    row("RSS peak / steady", `${r.rss.peakMiB.toFixed(0)} MiB / ${r.rss.steadyMiB.toFixed(0)} MiB`);
    row(`apply→POST, one edit among ${count} idle (${r.applyToPostMs.samples} edits)`, `p50 ${r.applyToPostMs.p50.toFixed(0)} ms, p99 ${r.applyToPostMs.p99.toFixed(0)} ms`);
    row("deletion (all terminated in Druid first)", `${r.deleteSeconds.toFixed(1)} s = ${(r.deleteSeconds / r.baseline.deleteSeconds).toFixed(2)}× baseline terminations (${r.baseline.deleteSeconds.toFixed(1)} s); left in Druid: ${r.leftInDruid}`);
    for (const v of verdicts(r)) row(`target: ${v.target}`, `${v.met ? "met" : "NOT MET"} (${v.measured})`);
  } finally {
    await double?.stop();
  }
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, Druid ${realVersion.version}`;
mkdirSync(values.out, { recursive: true });
writeFileSync(path.join(values.out, "scale-results.json"), `${JSON.stringify({ machine, command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(), at: new Date().toISOString(), results }, null, 2)}\n`);
if (results.length > 1) writeFileSync(path.join(values.out, "scale.svg"), plotSvg(results, `${machine}; resync ${values.resync}, concurrency ${values.concurrency}`));
print(`\nwrote ${path.relative(REPO_ROOT, values.out)}/scale-results.json${results.length > 1 ? " and scale.svg" : ""}`);
