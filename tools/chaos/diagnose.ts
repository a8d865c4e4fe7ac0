// Turns a violation into a report that can be debugged without the run: the resource (spec
// values, status, conditions), Druid's view, the proxy's log lines about its supervisor(s), the
// workload's operations on it, and the timeline of leaders, replica starts/exits and faults
// around the Druid writes involved.
import type { ProxiedRequest } from "../druid-proxy.ts";
import type { Violation } from "./invariants.ts";
import { clock, type JournalEvent } from "./journal.ts";
import { holderChanges, holdersAround, isDruidWrite, type HolderChange } from "./leadership.ts";
import { supervisorIdOfPath } from "./observe.ts";

export function describeRequest(e: ProxiedRequest, changes?: readonly HolderChange[]): string {
  const who = e.client ?? "?";
  const subject = e.subject ? ` {${e.subject}}` : "";
  const druid = e.forwarded ? `druid ${e.druidStatus ?? (e.error ? `error: ${e.error}` : "no answer")}` : "NOT forwarded";
  const told = e.answered === undefined ? "pending" : e.answered;
  const fault = e.fault ? ` [${e.fault}${e.delayMs ? ` ${e.delayMs}ms` : ""}]` : "";
  let holder = "";
  if (changes && isDruidWrite(e) && e.client !== undefined) {
    const holders = holdersAround(changes, e.at, 1000);
    if (!holders.has(e.client)) holder = ` !! written by ${e.client} while the Lease holder was ${[...holders].join("/") || "nobody"}`;
  }
  return `${clock(e.at)} ${who} ${e.method} ${e.path}${subject} -> ${druid}; controller got ${told}${fault}${holder}`;
}

function describeEvent(e: JournalEvent): string {
  const { at, kind, ...rest } = e;
  const fields = Object.entries(rest)
    .filter(([k]) => k !== "settings")
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${clock(at)} ${kind} ${fields}`;
}

const TIMELINE_KINDS = new Set(["leader", "replica-start", "replica-exit", "fault", "fault-end", "heal", "round"]);

/** The resources that named a datasource at some time in the run. */
function keysNaming(dataSource: string, journal: readonly JournalEvent[]): string[] {
  const keys: string[] = [];
  for (const e of journal) if (e.kind === "op" && e["dataSource"] === dataSource && !keys.includes(String(e["key"]))) keys.push(String(e["key"]));
  return keys;
}

/** Every datasource name a resource had in the run (from the workload's operations in the journal). */
function namesOf(key: string, journal: readonly JournalEvent[]): string[] {
  const names: string[] = [];
  for (const e of journal) {
    if (e.kind !== "op" || e["key"] !== key) continue;
    const ds = e["dataSource"];
    if (typeof ds === "string" && !names.includes(ds)) names.push(ds);
  }
  return names;
}

export interface Evidence {
  proxyLog: readonly ProxiedRequest[];
  journal: readonly JournalEvent[];
}

/** The supervisor ids a violation is about. */
function idsOf(v: Violation, journal: readonly JournalEvent[]): string[] {
  const ids = new Set<string>();
  if (v.supervisor) ids.add(v.supervisor.id);
  if (v.resource) {
    if (v.resource.dataSource) ids.add(v.resource.dataSource);
    if (v.resource.status.appliedSupervisorId) ids.add(v.resource.status.appliedSupervisorId);
    for (const n of namesOf(v.resource.key, journal)) ids.add(n);
  }
  if (v.kind === "orphan-supervisor" || v.kind === "double-reset") ids.add(v.subject);
  return [...ids];
}

export function diagnose(v: Violation, evidence: Evidence): string {
  const lines: string[] = [`${v.kind} ${v.subject}: ${v.message}`];
  const r = v.resource;
  if (r) {
    lines.push(
      `  resource: generation ${r.generation}, dataSource ${r.dataSource}, suspend ${r.suspend}, resetNonce ${r.resetNonce ?? "-"}, maxRowsInMemory ${r.maxRowsInMemory}, dimensions [${r.dimensions.join(",")}]${r.deleting ? `, DELETING (finalizers ${r.finalizers.join(",")})` : ""}`,
      `  status: observedGeneration ${r.status.observedGeneration ?? "-"}, applied.supervisorId ${r.status.appliedSupervisorId ?? "-"}, state ${r.status.state ?? "-"}, lastResetNonce ${r.status.lastResetNonce ?? "-"}`,
    );
    for (const c of r.status.conditions) lines.push(`    ${c.type}=${c.status} ${c.reason}: ${c.message.slice(0, 300)}`);
  }
  const s = v.supervisor;
  if (s) lines.push(`  druid: ${s.id} state ${s.state}/${s.detailedState} suspended ${s.suspended} dataSource ${s.dataSource} maxRowsInMemory ${s.maxRowsInMemory} dimensions [${s.dimensions.join(",")}] topic ${s.topic}`);
  if (v.resets) for (const x of v.resets) lines.push(`  reset ${clock(x.at)} by ${x.client ?? "?"}: druid ${x.druidStatus ?? "no answer"}, controller got ${x.answered ?? "-"}${x.fault ? ` [${x.fault}]` : ""}`);

  const ids = idsOf(v, evidence.journal);
  const changes = holderChanges(evidence.journal);
  const related = evidence.proxyLog.filter((e) => {
    const id = supervisorIdOfPath(e.path);
    return (id !== undefined && ids.includes(id)) || (e.subject !== undefined && ids.includes(e.subject));
  });
  if (related.length > 0) {
    lines.push(`  proxy log (${related.length} requests about ${ids.join(", ")}; last 30):`);
    for (const e of related.slice(-30)) lines.push(`    ${describeRequest(e, changes)}`);
  }
  const keys = r ? [r.key] : keysNaming(v.subject, evidence.journal);
  for (const key of keys) {
    const ops = evidence.journal.filter((e) => e.kind === "op" && e["key"] === key);
    if (ops.length > 0) {
      lines.push(`  workload operations on ${key} (last 15):`);
      for (const e of ops.slice(-15)) lines.push(`    ${clock(e.at)} ${String(e["op"])} -> ${String(e["outcome"])}${e["error"] ? ` (${String(e["error"])})` : ""}`);
    }
  }
  // Leaders, replica starts/exits and faults around the writes involved (or the last ones).
  const writes = related.filter((e) => e.method !== "GET" && e.forwarded).map((e) => e.at);
  const times = (writes.length > 0 ? writes : related.map((e) => e.at)).slice(-4);
  const around = evidence.journal.filter((e) => TIMELINE_KINDS.has(e.kind) && times.some((t) => e.at >= t - 8000 && e.at <= t + 3000));
  const timeline = around.length > 0 ? around.slice(-30) : evidence.journal.filter((e) => TIMELINE_KINDS.has(e.kind)).slice(-12);
  if (timeline.length > 0) {
    lines.push(`  timeline (leaders, replicas, faults${writes.length > 0 ? " around its last Druid writes" : ""}):`);
    for (const e of timeline) lines.push(`    ${describeEvent(e)}`);
  }
  return lines.join("\n");
}
