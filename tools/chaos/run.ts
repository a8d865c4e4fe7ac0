// `npm run chaos -- --minutes M --seed S`: two controller replicas under faults while a
// workload changes DruidIngestions, in rounds: faults + workload for a while, heal everything,
// wait for convergence, check the invariants against Druid itself. Prints each round and a
// summary (also as JSON with --report); exit code 1 when any invariant was violated.
// Everything random comes from --seed (see prng.ts); names carry a per-run tag so runs never
// share a datasource, namespace or Lease.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CoordinationV1Api } from "@kubernetes/client-node";
import { DruidProbe } from "../druid-probe.ts";
import { ignore404, Kube } from "../kube.ts";
import { REPO_ROOT, stackEnv, type StackEnv } from "../stack.ts";
import { apiserverPid, kubeUp, type StackControl } from "./apiserver.ts";
import { convergenceViolations, waitConverged } from "./converge.ts";
import { describeRequest, diagnose } from "./diagnose.ts";
import { describePlan, FaultInjector, planFaults, type FaultCounts } from "./faults.ts";
import { checkInvariants, LAGGING_KINDS, violationKey, type CheckResult, type Violation } from "./invariants.ts";
import { Journal } from "./journal.ts";
import { LeaseWatch } from "./lease-watch.ts";
import { holderChanges, writesByNonHolder } from "./leadership.ts";
import { listRunIngestions, resetRequests, resourceView, runSupervisors } from "./observe.ts";
import { parseOptions, USAGE, UsageError, type ChaosOptions } from "./options.ts";
import { Prng } from "./prng.ts";
import { diffCounts, formatRound, formatSummary, type ReportedViolation, type RoundReport, type Summary } from "./report.ts";
import { LEASE_MS, startRig, type Rig } from "./rig.ts";
import { describeOperation, RUN_LABEL, Workload } from "./workload.ts";

const say = (line: string): void => void process.stdout.write(`${line}\n`);

function stackControl(env: StackEnv): StackControl | undefined {
  if (!env.local) return undefined;
  const stackDir = process.env["DIC_STACK_DIR"] ?? path.join(REPO_ROOT, ".stack");
  return { repoRoot: REPO_ROOT, stackDir };
}

async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(Math.max(0, ms), undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

class ChaosRun {
  private readonly options: ChaosOptions;
  private readonly env: StackEnv;
  private readonly kube: Kube;
  private readonly druid: DruidProbe;
  private readonly prng: Prng;
  private readonly journal: Journal;
  private readonly runDir: string;
  private readonly runId: string;
  private readonly prefix: string;
  private readonly leaseName: string;
  private readonly stack: StackControl | undefined;
  private readonly abort = new AbortController();
  private namespaces: string[] = [];
  private rig: Rig | undefined;
  private lease: LeaseWatch | undefined;
  private faults: FaultInjector | undefined;
  private workload: Workload | undefined;
  private readonly rounds: RoundReport[] = [];
  private readonly violations: ReportedViolation[] = [];
  private previousKeys = new Set<string>();
  private readonly ambiguous = new Set<string>();
  private checked = 0;
  private readonly startedAt = Date.now();
  private abortedBecause: string | undefined;

  constructor(options: ChaosOptions) {
    this.options = options;
    this.env = stackEnv();
    this.kube = Kube.admin(this.env);
    this.druid = new DruidProbe(this.env);
    this.prng = new Prng(options.seed);
    const tag = Date.now().toString(36).slice(-5);
    this.runId = `${tag}-s${options.seed}`;
    this.prefix = `chaos-${tag}`;
    this.leaseName = `${this.prefix}-lease`;
    this.runDir = path.resolve(options.runDir ?? path.join(REPO_ROOT, ".chaos", `${new Date().toISOString().replace(/[:.]/g, "-")}-seed${options.seed}`));
    mkdirSync(this.runDir, { recursive: true });
    this.journal = new Journal(path.join(this.runDir, "events.jsonl"));
    this.stack = stackControl(this.env);
  }

  stop(reason: string): void {
    if (this.abort.signal.aborted) return;
    this.abortedBecause = reason;
    say(`chaos: ${reason}: healing and cleaning up (again to kill everything at once)`);
    this.abort.abort();
  }

  killNow(): void {
    for (const r of this.rig?.replicas ?? []) r.killNow();
  }

  async run(): Promise<Summary> {
    say(`chaos: run ${this.runId}, seed ${this.options.seed}, ${this.options.minutes} min, run dir ${this.runDir}`);
    try {
      await this.setUp();
      await this.loop();
    } catch (error) {
      this.abortedBecause ??= `error: ${(error as Error).stack ?? String(error)}`;
      say(`chaos: ${this.abortedBecause}`);
    }
    const cleanup = await this.cleanUp();
    return this.summary(cleanup);
  }

  private async setUp(): Promise<void> {
    await this.kube.installCrd();
    const setup = this.prng.fork("setup");
    const count = setup.int(2, 3);
    for (let i = 0; i < count; i++) {
      const name = `${this.prefix}-ns${i}`;
      await this.kube.core.createNamespace({ body: { metadata: { name, labels: { [RUN_LABEL]: this.runId } } } });
      this.namespaces.push(name);
      await this.kube.createSecret(name, "druid-auth", { OperatorUserName: this.env.druidUser, OperatorPassword: this.env.druidPassword });
    }
    this.journal.record("setup", { namespaces: this.namespaces, lease: this.leaseName, prefix: this.prefix });
    this.rig = await startRig({
      env: this.env,
      repoRoot: REPO_ROOT,
      runDir: this.runDir,
      leaseName: this.leaseName,
      namespaces: this.namespaces,
      journal: this.journal,
      proxyPrng: this.prng.fork("proxy"),
      respawnPrng: this.prng.fork("respawn"),
    });
    this.lease = new LeaseWatch(this.kube.kc, { name: this.leaseName, namespace: "default" }, this.journal);
    this.lease.start();
    this.faults = new FaultInjector(
      { proxy: this.rig.proxy, replicas: this.rig.replicas, tunnels: this.rig.tunnels, lease: this.lease, journal: this.journal, stack: this.stack, leaseMs: LEASE_MS },
      this.prng.fork("faults"),
    );
    this.workload = new Workload({
      kube: this.kube,
      prng: this.prng.fork("workload"),
      limits: { poolSize: this.options.poolSize, maxRunning: 2 },
      run: { id: this.runId, prefix: this.prefix, namespaces: this.namespaces, topic: `${this.prefix}-topic`, bootstrap: this.env.kafkaBootstrap ?? "127.0.0.1:9" },
    });
    const leader = await this.waitForLeader(60_000);
    say(`chaos: namespaces ${this.namespaces.join(", ")}; lease default/${this.leaseName}; leader ${leader ?? "(none yet)"}; Druid via ${this.rig.proxy.url}`);
    // KUBECONFIG and DRUID_URL both set name an external cluster, which is never restarted.
    say(`chaos: API-server restarts ${this.stack ? "on (the local stack)" : "OFF: KUBECONFIG and DRUID_URL name an external cluster; unset them to use the local stack"}`);
  }

  private async waitForLeader(timeoutMs: number): Promise<string | undefined> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until && !this.abort.signal.aborted) {
      const holder = this.lease?.actingHolder(LEASE_MS);
      if (holder) return holder;
      await pause(250, this.abort.signal);
    }
    return undefined;
  }

  private get deadline(): number {
    return this.startedAt + this.options.minutes * 60_000;
  }

  private async loop(): Promise<void> {
    const roundPrng = this.prng.fork("rounds");
    const opsPrng = this.prng.fork("pace");
    for (let round = 1; ; round++) {
      if (this.abort.signal.aborted || Date.now() >= this.deadline) break;
      if (this.options.maxRounds !== undefined && round > this.options.maxRounds) break;
      const faults = this.faults as FaultInjector;
      const workload = this.workload as Workload;
      const before: FaultCounts = structuredClone(faults.counts);
      const roundStart = Date.now();
      const wanted = roundPrng.between(this.options.roundSeconds.min, this.options.roundSeconds.max) * 1000;
      const faultMs = Math.round(Math.min(wanted, Math.max(15_000, this.deadline - roundStart)));
      const plan = planFaults(roundPrng, faultMs, { leaseMs: LEASE_MS, apiserverRestartChance: this.stack ? 0.25 : 0 });
      this.journal.record("round", { round, plan: describePlan(plan) });
      say(`round ${round}: ${Math.round(faultMs / 1000)} s of faults: ${describePlan(plan)}`);

      const phase = new AbortController();
      const onAbort = (): void => phase.abort();
      this.abort.signal.addEventListener("abort", onAbort, { once: true });
      const timer = setTimeout(() => phase.abort(), faultMs);
      let operations = 0;
      const work = (async () => {
        while (!phase.signal.aborted) {
          try {
            const step = await workload.step();
            if (step) {
              operations++;
              const { op, outcome, error } = step;
              const key = op.kind === "create" ? `${op.namespace}/${op.name}` : op.key;
              const dataSource = op.kind === "create" || op.kind === "rename" ? op.dataSource : undefined;
              this.journal.record("op", { key, op: describeOperation(op), outcome, ...(dataSource ? { dataSource } : {}), ...(error ? { error } : {}) });
            }
          } catch (error) {
            this.journal.record("error", { what: "workload step", message: (error as Error).message });
          }
          await pause(opsPrng.between(800, 2500), phase.signal);
        }
      })();
      await Promise.all([faults.run(plan, phase.signal), work]);
      clearTimeout(timer);
      this.abort.signal.removeEventListener("abort", onAbort);
      const faultEnd = Date.now();

      await faults.heal();
      const healEnd = Date.now();
      const convergence = await waitConverged(this.kube, this.namespaces, this.options.convergeSeconds * 1000, this.abort.signal);
      const convergeEnd = Date.now();
      if (this.abort.signal.aborted) break;
      let result: CheckResult;
      try {
        result = await this.check();
      } catch (error) {
        this.journal.record("error", { what: "check", message: (error as Error).message });
        say(`round ${round}: check failed: ${(error as Error).message}`);
        continue;
      }
      const all = [...convergenceViolations(convergence), ...result.violations.filter((v) => !convergence.pending.some((p) => `${p.metadata.namespace}/${p.metadata.name}` === v.subject && v.kind === "stuck-finalizer"))];
      const fresh = this.record(round, all);
      this.checked += result.checked;
      for (const a of result.ambiguousResets) this.ambiguous.add(`${a.key}:${a.nonce}`);
      const counts = diffCounts(faults.counts, before);
      const report: RoundReport = {
        round,
        startedAt: new Date(roundStart).toISOString(),
        plan: describePlan(plan),
        faultSeconds: (faultEnd - roundStart) / 1000,
        healSeconds: (healEnd - faultEnd) / 1000,
        convergeSeconds: (convergeEnd - healEnd) / 1000,
        checkSeconds: (Date.now() - convergeEnd) / 1000,
        converged: convergence.converged,
        slowToConverge: convergence.slow,
        operations,
        kills: counts.kills,
        stops: counts.freezes,
        blackholes: counts.blackholes,
        apiserverRestarts: counts.apiserverRestarts,
        druidWindows: counts.druidWindows,
        checked: result.checked,
        newViolations: fresh.length,
      };
      this.rounds.push(report);
      say(formatRound(report));
      for (const s of convergence.slow) say(`  slow to converge: ${s.key} ${s.seconds}s, last: ${s.reason.slice(0, 300)}`);
      for (const v of fresh) say(v.details.replace(/^/gm, "  | "));
    }
  }

  /** The invariants, from a fresh look; status kinds that may lag one resync are confirmed by a second look. */
  private async check(): Promise<CheckResult> {
    const first = await this.checkOnce();
    if (!first.violations.some((v) => LAGGING_KINDS.has(v.kind))) return first;
    await pause(6000, this.abort.signal);
    const second = await this.checkOnce();
    const persisting = new Set(second.violations.map(violationKey));
    return { ...first, violations: first.violations.filter((v) => !LAGGING_KINDS.has(v.kind) || persisting.has(violationKey(v))) };
  }

  private async checkOnce(): Promise<CheckResult> {
    const resources = (await listRunIngestions(this.kube, this.namespaces)).map(resourceView);
    const supervisors = (await runSupervisors(this.druid, this.prefix)).map((s) => s.view);
    const rig = this.rig as Rig;
    return checkInvariants({
      prefix: this.prefix,
      resources,
      supervisors,
      resets: resetRequests(rig.proxy.requests()),
      allowedResets: (this.workload as Workload).allowance.toRecord(),
    });
  }

  /** Keeps the violations not seen in the previous check; returns them. */
  private record(round: number, violations: readonly Violation[]): ReportedViolation[] {
    const keys = new Set(violations.map(violationKey));
    const evidence = { proxyLog: (this.rig as Rig).proxy.requests(), journal: this.journal.events() };
    const fresh = violations
      .filter((v) => !this.previousKeys.has(violationKey(v)))
      .map((v) => ({ round, kind: v.kind, subject: v.subject, message: v.message, details: diagnose(v, evidence) }));
    this.previousKeys = keys;
    this.violations.push(...fresh);
    for (const v of fresh) this.journal.record("violation", { round, kind: v.kind, subject: v.subject, message: v.message });
    return fresh;
  }

  private async cleanUp(): Promise<Summary["cleanup"]> {
    const result: Summary["cleanup"] = { resourcesLeft: [], finalizersRemoved: [], supervisorsTerminatedByHarness: [] };
    say("chaos: cleaning up");
    const quick = this.abort.signal.aborted && this.abortedBecause?.startsWith("SIG");
    try {
      await this.faults?.heal();
    } catch (error) {
      this.journal.record("error", { what: "heal", message: (error as Error).message });
    }
    if (this.stack && apiserverPid(this.stack) === undefined) await kubeUp(this.stack).catch((e: Error) => say(`chaos: ${e.message}`));
    // The controller finalizes what it can: delete, wait, then let go of what is left.
    try {
      const items = await listRunIngestions(this.kube, this.namespaces).catch(() => []);
      for (const i of items) await this.kube.deleteIngestion(i.metadata.namespace, i.metadata.name).catch(() => undefined);
      const until = Date.now() + (quick ? 30_000 : 120_000);
      let left = await listRunIngestions(this.kube, this.namespaces).catch(() => []);
      while (left.length > 0 && Date.now() < until) {
        await sleep(1000);
        left = await listRunIngestions(this.kube, this.namespaces).catch(() => left);
      }
      result.resourcesLeft = left.map((i) => `${i.metadata.namespace}/${i.metadata.name}`);
      for (const i of left) {
        await this.kube.patchIngestion(i.metadata.namespace, i.metadata.name, { metadata: { finalizers: null } }).catch(ignore404);
        result.finalizersRemoved.push(`${i.metadata.namespace}/${i.metadata.name}`);
      }
    } catch (error) {
      this.journal.record("error", { what: "cleanup resources", message: (error as Error).message });
    }
    for (const ns of this.namespaces) await this.kube.deleteNamespace(ns).catch(() => undefined);
    await this.lease?.stop();
    await this.rig?.stop().catch((e: Error) => say(`chaos: stopping replicas: ${e.message}`));
    try {
      for (const { view } of await runSupervisors(this.druid, this.prefix)) {
        await this.druid.terminate(view.id);
        result.supervisorsTerminatedByHarness.push(view.id);
      }
    } catch (error) {
      say(`chaos: could not clear the run's supervisors in Druid: ${(error as Error).message}`);
    }
    await this.kube.kc.makeApiClient(CoordinationV1Api).deleteNamespacedLease({ name: this.leaseName, namespace: "default" }).catch(() => undefined);
    return result;
  }

  private summary(cleanup: Summary["cleanup"]): Summary {
    const workload = this.workload;
    const log = this.rig?.proxy.requests() ?? [];
    const injected: Record<string, number> = {};
    for (const e of log) if (e.fault) injected[e.fault] = (injected[e.fault] ?? 0) + 1;
    const byKind: Summary["violations"]["byKind"] = {};
    for (const v of this.violations) byKind[v.kind] = (byKind[v.kind] ?? 0) + 1;
    const counts = this.faults?.counts;
    return {
      seed: this.options.seed,
      runId: this.runId,
      runDir: this.runDir,
      startedAt: new Date(this.startedAt).toISOString(),
      finishedAt: new Date().toISOString(),
      minutes: (Date.now() - this.startedAt) / 60_000,
      rounds: this.rounds.length,
      roundsDetail: this.rounds,
      resources: {
        created: workload?.counts.created ?? 0,
        edited: workload?.counts.edited ?? 0,
        deleted: workload?.counts.deleted ?? 0,
        checked: this.checked,
        writesRefused: workload?.counts.refused ?? 0,
        writesUnknown: workload?.counts.unknown ?? 0,
      },
      kills: counts?.kills ?? 0,
      stops: counts?.freezes ?? 0,
      druidFaultWindows: counts?.druidWindows ?? { latency: 0, errorBefore: 0, errorAfter: 0, cutAfter: 0, outage: 0 },
      apiserverRestarts: counts?.apiserverRestarts ?? 0,
      blackholes: counts?.blackholes ?? 0,
      replicaStarts: (this.rig?.replicas ?? []).reduce((n, r) => n + r.starts, 0),
      resetsSent: resetRequests(log).length,
      nonLeaderWrites: (() => {
        const changes = holderChanges(this.journal.events());
        const writes = writesByNonHolder(log, changes);
        return { count: writes.length, first: writes.slice(0, 10).map((e) => describeRequest(e, changes)) };
      })(),
      ambiguousResetsSurfaced: this.ambiguous.size,
      druidRequests: { total: log.length, forwarded: log.filter((e) => e.forwarded).length, injected },
      cleanup,
      violations: { count: this.violations.length, byKind, list: this.violations },
      aborted: this.abortedBecause,
    };
  }

  async close(): Promise<void> {
    await this.journal.close();
  }
}

async function main(): Promise<number> {
  let options: ChaosOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`chaos: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
  if (options.help) {
    say(USAGE);
    return 0;
  }
  const run = new ChaosRun(options);
  let signals = 0;
  const onSignal = (signal: string): void => {
    if (++signals > 1) {
      run.killNow();
      process.exit(130);
    }
    run.stop(signal);
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("exit", () => run.killNow());
  const summary = await run.run();
  await run.close();
  const text = formatSummary(summary);
  say(text);
  const json = `${JSON.stringify(summary, null, 2)}\n`;
  writeFileSync(path.join(summary.runDir, "summary.json"), json);
  writeFileSync(path.join(summary.runDir, "summary.txt"), `${text}\n\n${summary.violations.list.map((v) => `[round ${v.round}] ${v.details}`).join("\n\n")}\n`);
  if (options.report) writeFileSync(path.resolve(options.report), json);
  if (summary.aborted?.startsWith("error")) return 2;
  return summary.violations.count > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`chaos: fatal: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
