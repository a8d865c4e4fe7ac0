// The run's figures: per round and in total, printed as text and written as JSON (--report).
import type { DruidFaultKind, FaultCounts } from "./faults.ts";
import type { ViolationKind } from "./invariants.ts";

export interface RoundReport {
  round: number;
  startedAt: string;
  plan: string;
  faultSeconds: number;
  healSeconds: number;
  convergeSeconds: number;
  checkSeconds: number;
  converged: boolean;
  /** Resources that took more than 15 s to converge, and why. */
  slowToConverge: Array<{ key: string; seconds: number; reason: string }>;
  operations: number;
  kills: number;
  stops: number;
  blackholes: number;
  apiserverRestarts: number;
  druidWindows: Record<DruidFaultKind, number>;
  checked: number;
  newViolations: number;
}

export interface ReportedViolation {
  round: number;
  kind: ViolationKind;
  subject: string;
  message: string;
  /** Everything needed to debug it: resource, Druid view, proxy log lines, timeline. */
  details: string;
}

export interface Summary {
  seed: number;
  runId: string;
  runDir: string;
  startedAt: string;
  finishedAt: string;
  minutes: number;
  rounds: number;
  roundsDetail: RoundReport[];
  resources: { created: number; edited: number; deleted: number; checked: number; writesRefused: number; writesUnknown: number };
  kills: number;
  stops: number;
  druidFaultWindows: Record<DruidFaultKind, number>;
  apiserverRestarts: number;
  blackholes: number;
  replicaStarts: number;
  resetsSent: number;
  /** Druid writes by a replica that did not hold the Lease then (the "one writer" rule), with the first ones. */
  nonLeaderWrites: { count: number; first: string[] };
  ambiguousResetsSurfaced: number;
  druidRequests: { total: number; forwarded: number; injected: Record<string, number> };
  cleanup: { resourcesLeft: string[]; finalizersRemoved: string[]; supervisorsTerminatedByHarness: string[] };
  violations: { count: number; byKind: Partial<Record<ViolationKind, number>>; list: ReportedViolation[] };
  aborted: string | undefined;
}

export function diffCounts(after: FaultCounts, before: FaultCounts): FaultCounts {
  const druidWindows = { ...after.druidWindows };
  for (const k of Object.keys(druidWindows) as DruidFaultKind[]) druidWindows[k] -= before.druidWindows[k];
  return {
    kills: after.kills - before.kills,
    freezes: after.freezes - before.freezes,
    blackholes: after.blackholes - before.blackholes,
    apiserverRestarts: after.apiserverRestarts - before.apiserverRestarts,
    druidWindows,
  };
}

function windows(w: Record<DruidFaultKind, number>): string {
  return Object.entries(w)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
}

export function formatRound(r: RoundReport): string {
  return (
    `round ${r.round}: faults ${r.faultSeconds.toFixed(0)}s (${r.operations} ops, ${r.kills} kills, ${r.stops} stops, ${r.blackholes} black-holes, ` +
    `${r.apiserverRestarts} apiserver restarts, druid ${windows(r.druidWindows)}), heal ${r.healSeconds.toFixed(1)}s, ` +
    `converge ${r.convergeSeconds.toFixed(1)}s${r.converged ? "" : " TIMEOUT"}, check ${r.checkSeconds.toFixed(1)}s: ${r.checked} checked, ${r.newViolations} new violation(s)`
  );
}

export function formatSummary(s: Summary): string {
  const lines = [
    "",
    `=== chaos summary (seed ${s.seed}, run ${s.runId}${s.aborted ? `, stopped early: ${s.aborted}` : ""})`,
    `rounds ${s.rounds}, minutes ${s.minutes.toFixed(1)}`,
    `resources: created ${s.resources.created}, edited ${s.resources.edited}, deleted ${s.resources.deleted}, checked ${s.resources.checked} (writes refused ${s.resources.writesRefused}, outcome unknown ${s.resources.writesUnknown})`,
    `kills (SIGKILL of the leader) ${s.kills}; stops (SIGSTOP > lease) ${s.stops}; replica starts ${s.replicaStarts}`,
    `druid fault windows: ${windows(s.druidFaultWindows)}`,
    `apiserver restarts ${s.apiserverRestarts}; black-holes ${s.blackholes}`,
    `druid requests ${s.druidRequests.total} (forwarded ${s.druidRequests.forwarded}; injected ${Object.entries(s.druidRequests.injected).map(([k, n]) => `${k} ${n}`).join(", ") || "none"})`,
    `resets sent (reached Druid) ${s.resetsSent}; ambiguous resets surfaced ${s.ambiguousResetsSurfaced}`,
    `druid writes by a replica not holding the Lease: ${s.nonLeaderWrites.count}${s.nonLeaderWrites.first.map((w) => `\n    ${w}`).join("")}`,
    `cleanup: ${s.cleanup.resourcesLeft.length} resource(s) left, finalizers removed by the harness [${s.cleanup.finalizersRemoved.join(", ")}], supervisors terminated by the harness [${s.cleanup.supervisorsTerminatedByHarness.join(", ")}]`,
    `violations ${s.violations.count}${s.violations.count > 0 ? ` (${Object.entries(s.violations.byKind).map(([k, n]) => `${k} ${n}`).join(", ")})` : ""}`,
  ];
  for (const v of s.violations.list) lines.push(`  [round ${v.round}] ${v.kind} ${v.subject}: ${v.message}`);
  lines.push(`run dir: ${s.runDir}`);
  return lines.join("\n");
}
