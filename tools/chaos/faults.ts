// Faults of one round: a plan drawn from the seeded PRNG at the start of the round (pure:
// `planFaults`), then carried out while the workload runs (`FaultInjector.run`), and undone by
// `heal`. Kinds:
//   kill       SIGKILL of the acting leader, again and again (the busiest fault);
//   freeze     SIGSTOP of the leader for longer than the Lease, then SIGCONT;
//   blackhole  one replica's kube-apiserver tunnel passes no byte for longer than the Lease;
//   druid      windows of latency, 5xx before forwarding, 502/504 after, cut after, outage;
//   apiserver  kube-apiserver killed and started again (local stack only).
import { setTimeout as sleep } from "node:timers/promises";
import type { DruidProxy, ProxyFaults } from "../druid-proxy.ts";
import { restartApiserver, type StackControl } from "./apiserver.ts";
import type { Journal } from "./journal.ts";
import type { LeaseWatch } from "./lease-watch.ts";
import type { Prng } from "./prng.ts";
import type { Replica } from "./replica.ts";
import type { TcpTunnel } from "./tcp-tunnel.ts";

export const DRUID_FAULT_KINDS = ["latency", "errorBefore", "errorAfter", "cutAfter", "outage"] as const;
export type DruidFaultKind = (typeof DRUID_FAULT_KINDS)[number];

export interface DruidWindow {
  kind: DruidFaultKind;
  atMs: number;
  durationMs: number;
  settings: ProxyFaults;
}

export interface TimedFault {
  atMs: number;
  durationMs: number;
}

export interface FaultPlan {
  durationMs: number;
  druid: DruidWindow[];
  freezes: TimedFault[];
  blackholes: Array<TimedFault & { target: "leader" | "standby" }>;
  apiserverRestartAtMs: number | undefined;
  /** Time from one kill to the next (the next waits for an acting leader anyway). */
  killEveryMs: { min: number; max: number };
  /** Once a new leader acts, how long it may act before it is killed. */
  killGraceMs: { min: number; max: number };
}

export interface PlanSettings {
  leaseMs: number;
  /** Restart kube-apiserver in this round with this probability (0 when not the local stack). */
  apiserverRestartChance: number;
}

function druidSettings(kind: DruidFaultKind, prng: Prng): ProxyFaults {
  switch (kind) {
    case "latency": {
      const minMs = prng.int(50, 500);
      return { latency: { minMs, maxMs: minMs + prng.int(500, 6000) } };
    }
    case "errorBefore":
      return { errorBefore: { probability: prng.between(0.3, 0.9), statuses: [500, 503] } };
    case "errorAfter":
      return { errorAfter: { probability: prng.between(0.3, 0.9), statuses: [502, 504] } };
    case "cutAfter":
      return { cutAfter: { probability: prng.between(0.3, 0.9) } };
    case "outage":
      return {};
  }
}

/** Pure: what the round will do and when (offsets from the start of its fault phase). */
export function planFaults(prng: Prng, durationMs: number, settings: PlanSettings): FaultPlan {
  const druid: DruidWindow[] = [];
  for (let at = prng.int(500, 4000); ; ) {
    const durationMsOfWindow = prng.int(3000, 10_000);
    if (at + durationMsOfWindow > durationMs) break;
    const kind = prng.pick(DRUID_FAULT_KINDS);
    druid.push({ kind, atMs: at, durationMs: durationMsOfWindow, settings: druidSettings(kind, prng) });
    at += durationMsOfWindow + prng.int(1000, 6000);
  }
  // Every round has an outage: the kind that most often leaves work half done.
  if (druid.length > 0 && !druid.some((w) => w.kind === "outage")) {
    const w = prng.pick(druid);
    w.kind = "outage";
    w.settings = {};
  }
  const spread = (count: number, minMs: number, maxMs: number): TimedFault[] => {
    const faults: TimedFault[] = [];
    for (let i = 0; i < count; i++) {
      const length = prng.int(minMs, maxMs);
      if (length + 1000 >= durationMs) break;
      faults.push({ atMs: prng.int(1000, durationMs - length), durationMs: length });
    }
    return faults.sort((a, b) => a.atMs - b.atMs);
  };
  const overLease = { min: settings.leaseMs + 1000, max: settings.leaseMs + 5000 };
  // Freezes and black-holes keep the Lease from moving for seconds; one of each at most per round
  // leaves most of the round to kills.
  const freezes = spread(prng.int(0, 1), overLease.min, overLease.max);
  const blackholes = spread(prng.int(0, 1), overLease.min + 1000, overLease.max + 2000).map((f) => ({ ...f, target: prng.chance(0.7) ? ("leader" as const) : ("standby" as const) }));
  const apiserverRestartAtMs = prng.chance(settings.apiserverRestartChance) ? prng.int(2000, Math.max(2001, Math.floor(durationMs * 0.6))) : undefined;
  return { durationMs, druid, freezes, blackholes, apiserverRestartAtMs, killEveryMs: { min: 2500, max: 5000 }, killGraceMs: { min: 50, max: 800 } };
}

export interface FaultCounts {
  kills: number;
  freezes: number;
  blackholes: number;
  apiserverRestarts: number;
  druidWindows: Record<DruidFaultKind, number>;
}

export function emptyFaultCounts(): FaultCounts {
  return { kills: 0, freezes: 0, blackholes: 0, apiserverRestarts: 0, druidWindows: { latency: 0, errorBefore: 0, errorAfter: 0, cutAfter: 0, outage: 0 } };
}

export interface FaultTargets {
  proxy: DruidProxy;
  replicas: readonly Replica[];
  tunnels: ReadonlyMap<string, TcpTunnel>;
  lease: LeaseWatch;
  journal: Journal;
  /** Set for the repo's local stack: kube-apiserver may be restarted. */
  stack: StackControl | undefined;
  leaseMs: number;
}

/** Resolves after ms, or at once (false) when the signal aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    await sleep(Math.max(0, ms), undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

export class FaultInjector {
  readonly counts: FaultCounts = emptyFaultCounts();
  private readonly t: FaultTargets;
  private readonly prng: Prng;
  private apiserverRestart: Promise<void> | undefined;
  private druidOut = false;

  constructor(targets: FaultTargets, prng: Prng) {
    this.t = targets;
    this.prng = prng;
  }

  /** The replica that holds the Lease, renewed recently, and is running (not frozen, not dead). */
  actingLeader(): Replica | undefined {
    const holder = this.t.lease.actingHolder(this.t.leaseMs / 2);
    return this.t.replicas.find((r) => r.name === holder && r.state === "running");
  }

  private async waitForLeader(signal: AbortSignal, timeoutMs: number): Promise<Replica | undefined> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const leader = this.actingLeader();
      if (leader) return leader;
      if (Date.now() > until || !(await pause(100, signal))) return undefined;
    }
  }

  /** Carries out the plan until it ends or `signal` aborts; faults in force at the end stay until `heal`. */
  async run(plan: FaultPlan, signal: AbortSignal): Promise<void> {
    const start = Date.now();
    const at = (offsetMs: number): Promise<boolean> => pause(start + offsetMs - Date.now(), signal);
    const tracks: Array<Promise<void>> = [];

    tracks.push((async () => {
      let next = this.prng.between(plan.killEveryMs.min, plan.killEveryMs.max);
      while (await at(next)) {
        const leader = await this.waitForLeader(signal, plan.durationMs);
        if (!leader || !(await pause(this.prng.between(plan.killGraceMs.min, plan.killGraceMs.max), signal))) return;
        if (this.actingLeader() === leader && leader.kill()) {
          this.counts.kills++;
          this.t.journal.record("fault", { fault: "kill", replica: leader.name, pid: leader.pid });
        }
        next = Date.now() - start + this.prng.between(plan.killEveryMs.min, plan.killEveryMs.max);
      }
    })());

    tracks.push((async () => {
      for (const w of plan.druid) {
        if (!(await at(w.atMs))) return;
        this.counts.druidWindows[w.kind]++;
        this.t.journal.record("fault", { fault: `druid-${w.kind}`, durationMs: w.durationMs, settings: w.settings });
        if (w.kind === "outage") {
          this.druidOut = true;
          await this.t.proxy.stop();
        } else this.t.proxy.faults = w.settings;
        if (!(await at(w.atMs + w.durationMs))) return;
        await this.endDruidFault();
      }
    })());

    tracks.push((async () => {
      for (const f of plan.freezes) {
        if (!(await at(f.atMs))) return;
        const leader = await this.waitForLeader(signal, 8000);
        if (!leader || !leader.freeze()) continue;
        this.counts.freezes++;
        this.t.journal.record("fault", { fault: "freeze", replica: leader.name, pid: leader.pid, durationMs: f.durationMs });
        if (!(await pause(f.durationMs, signal))) return;
        leader.thaw();
        this.t.journal.record("fault-end", { fault: "freeze", replica: leader.name });
      }
    })());

    tracks.push((async () => {
      for (const b of plan.blackholes) {
        if (!(await at(b.atMs))) return;
        const leader = await this.waitForLeader(signal, 8000);
        // Without an acting leader (one was just killed), the replica that will take over next.
        const target = b.target === "leader" ? (leader ?? this.t.replicas.find((r) => r.state === "running")) : this.t.replicas.find((r) => r !== leader && r.state === "running");
        const tunnel = target ? this.t.tunnels.get(target.name) : undefined;
        if (!target || !tunnel || tunnel.isBlackholed) continue;
        tunnel.blackhole();
        this.counts.blackholes++;
        this.t.journal.record("fault", { fault: "blackhole", replica: target.name, leader: target === leader, durationMs: b.durationMs });
        if (!(await pause(b.durationMs, signal))) return;
        tunnel.restore();
        this.t.journal.record("fault-end", { fault: "blackhole", replica: target.name });
      }
    })());

    if (plan.apiserverRestartAtMs !== undefined && this.t.stack) {
      const stack = this.t.stack;
      tracks.push((async () => {
        if (!(await at(plan.apiserverRestartAtMs as number))) return;
        this.counts.apiserverRestarts++;
        this.t.journal.record("fault", { fault: "apiserver-restart" });
        // Not interrupted by the end of the phase: healing waits for it.
        this.apiserverRestart = restartApiserver(stack).then(
          ({ downMs }) => void this.t.journal.record("fault-end", { fault: "apiserver-restart", downMs }),
          (error: Error) => void this.t.journal.record("error", { what: "apiserver restart", message: error.message }),
        );
        await this.apiserverRestart;
      })());
    }
    await Promise.all(tracks);
  }

  private async endDruidFault(): Promise<void> {
    this.t.proxy.faults = {};
    if (this.druidOut) {
      await this.t.proxy.restart();
      this.druidOut = false;
    }
  }

  /** Every fault off: Druid reachable, tunnels open, nobody frozen, kube-apiserver back, both replicas running. */
  async heal(): Promise<void> {
    await this.endDruidFault();
    for (const tunnel of this.t.tunnels.values()) if (tunnel.isBlackholed) tunnel.restore();
    for (const r of this.t.replicas) r.thaw();
    if (this.apiserverRestart) {
      await this.apiserverRestart;
      this.apiserverRestart = undefined;
    }
    for (const r of this.t.replicas) r.ensureRunning();
    this.t.journal.record("heal");
  }
}

export function describePlan(plan: FaultPlan): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
  const parts = [
    `druid: ${plan.druid.map((w) => `${w.kind}@${s(w.atMs)}+${s(w.durationMs)}`).join(", ") || "none"}`,
    `freeze: ${plan.freezes.map((f) => `@${s(f.atMs)}+${s(f.durationMs)}`).join(", ") || "none"}`,
    `blackhole: ${plan.blackholes.map((f) => `${f.target}@${s(f.atMs)}+${s(f.durationMs)}`).join(", ") || "none"}`,
    `apiserver restart: ${plan.apiserverRestartAtMs === undefined ? "no" : `@${s(plan.apiserverRestartAtMs)}`}`,
  ];
  return parts.join("; ");
}
