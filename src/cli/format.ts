// The CLI's text output: one line per finding, aligned, readable in a terminal and in a CI log
// (no colours, no control characters). `-o json` prints the same data as JSON instead.
import type { JsonValue } from "../api/druid-ingestion.ts";
import { brief, type FieldChange } from "./changes.ts";
import type { Checked } from "./check.ts";
import type { DiffReport, PartDiff } from "./diff.ts";
import type { StatusRow } from "./status.ts";
import type { Rendered, Request } from "./submission.ts";

export function formatCheck(source: string, result: Checked): string {
  if (result.ok) {
    const { ingestion, desired } = result;
    const id = desired.kind === "supervisor" ? `supervisor ${desired.supervisorId}` : `task ${desired.taskId}`;
    return `ok    ${source}: DruidIngestion ${ingestion.metadata.namespace}/${ingestion.metadata.name} → ${id} (${desired.type}), spec hash ${desired.specHash.slice(0, 12)}\n`;
  }
  return `FAIL  ${source}: DruidIngestion ${result.name}: ${result.reason}\n${result.problems.map((p) => `        ${p}\n`).join("")}`;
}

function request(title: string, r: Request): string {
  return `# ${title}: ${r.method} ${r.path}\n# hash ${r.hash}\n${JSON.stringify(r.body, null, 2)}\n`;
}

export function formatRendered(r: Rendered): string {
  let text = `# DruidIngestion ${r.resource} → ${r.kind} ${r.id}${r.dataSource ? ` (dataSource ${r.dataSource})` : ""}\n`;
  text += request(r.kind === "supervisor" ? "supervisor spec" : "task", r.spec);
  if (r.compaction) text += request("compaction config", r.compaction);
  if (r.rules) text += request("retention rules", r.rules);
  for (const ref of r.secretRefs) text += `# from a Secret: ${ref}\n`;
  for (const note of r.notes) text += `# note: ${note}\n`;
  return text;
}

const pointerText = (p: string): string => (p === "" ? "(whole value)" : p.slice(1).split("/").join("."));

function changeLine(c: FieldChange): string {
  if (c.op === "add") return `      + ${pointerText(c.path)}: ${brief(c.to)}\n`;
  if (c.op === "remove") return `      - ${pointerText(c.path)}: ${brief(c.from)}\n`;
  return `      ~ ${pointerText(c.path)}: ${brief(c.from)} → ${brief(c.to as JsonValue)}\n`;
}

function partLine(label: string, part: PartDiff, what: string): string {
  const head = `  ${label.padEnd(12)}`;
  switch (part.state) {
    case "none":
      return "";
    case "unchanged":
      return `${head}unchanged\n`;
    case "set":
      return `${head}Druid has none: it is set\n`;
    case "removed":
      return `${head}the resource no longer sets ${what}: Druid's is removed\n`;
    case "changed":
      return `${head}${part.changes.length} field(s) differ\n${part.changes.map(changeLine).join("")}`;
  }
}

export function formatDiff(r: DiffReport): string {
  let text = `DruidIngestion ${r.resource} → ${r.kind} ${r.id} on ${r.druidEndpoint}${r.druidVersion ? ` (Druid ${r.druidVersion})` : ""}\n`;
  if (r.kind === "supervisor") {
    const live = r.druidVersion === undefined ? "not asked" : r.live ? `${r.live.state ?? "?"}${r.live.healthy === false ? " (unhealthy)" : ""}${r.live.suspended ? ", suspended" : ""}` : "no such supervisor";
    text += `  ${"Druid now".padEnd(12)}${live}\n`;
  }
  if (r.ownership) text += `  ${"ownership".padEnd(12)}${r.ownership}\n`;
  const against = r.comparedWith === "applied" ? " (against the spec last applied, from status)" : r.comparedWith === "stored" ? " (against Druid's stored copy: only fields the manifest sets)" : "";
  text += partLine(`spec`, r.spec, "a spec").replace(/\n/, `${r.spec.state === "changed" || r.spec.state === "unchanged" ? against : ""}\n`);
  text += partLine("compaction", r.compaction, "a compaction config");
  text += partLine("rules", r.rules, "retention rules");
  if (r.refused) text += `  REFUSED     ${r.refused.reason}: ${r.refused.message}\n`;
  if (r.actions.length === 0) text += r.refused ? "" : "  no change: the controller would make no call to Druid\n";
  else {
    text += "  the controller would:\n";
    for (const a of r.actions) text += `    - ${a.call}: ${a.effect}\n`;
    text += `  running tasks restart: ${r.restartsTasks ? "YES" : "no"}\n`;
  }
  for (const note of r.notes) text += `  note: ${note}\n`;
  return text;
}

function cell(value: string | undefined): string {
  return value === undefined || value === "" ? "-" : value;
}

export function formatStatus(rows: readonly StatusRow[], namespace: string | undefined): string {
  if (rows.length === 0) return `No DruidIngestions${namespace ? ` in namespace ${namespace}` : ""}.\n`;
  const header = ["NAMESPACE", "NAME", "TYPE", "SUPERVISOR/TASK", "READY", "SYNCED", "STATUS STATE", "DRUID STATE", "SUSPENDED"];
  const table = rows.map((r) => [
    r.namespace,
    r.name,
    r.type,
    cell(r.id),
    r.ready,
    r.synced,
    cell(r.recorded.state),
    r.druid === undefined ? "-" : r.druid.error ? "unreachable" : !r.druid.present ? "absent" : `${cell(r.druid.state)}${r.druid.healthy === false ? " (unhealthy)" : ""}`,
    r.druid?.present ? `${r.druid.suspended ? "yes" : "no"}${r.druid.suspended !== r.wantsSuspended ? ` (wants ${r.wantsSuspended ? "yes" : "no"})` : ""}` : r.wantsSuspended ? "wants yes" : "-",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string => `${cells.map((c, i) => c.padEnd(widths[i] as number)).join("  ").trimEnd()}\n`;
  let text = line(header) + table.map(line).join("");
  for (const r of rows) {
    const problems = [...r.mismatches, ...(r.druid?.error ? [`Druid not asked: ${r.druid.error}`] : []), ...(r.ready !== "True" && r.reason ? [`not ready: ${r.reason}: ${r.message ?? ""}`] : [])];
    for (const p of problems) text += `! ${r.namespace}/${r.name}: ${p}\n`;
  }
  return text;
}
