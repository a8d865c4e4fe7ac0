// `diff`: what the controller would do in Druid for a manifest, decided by the controller's own
// functions on Druid's real state: the ownership decision (ownership.ts) and the plan (plan.ts),
// with the fields that change and what each call does to running tasks. Reads only.
import type { DruidIngestion, DruidIngestionStatus, JsonObject } from "../api/druid-ingestion.ts";
import { liveSupervisorSpecHash } from "../controller/drift.ts";
import { ignoredPathsOf } from "../controller/desired.ts";
import { failureOf, type DruidAction, type Failure } from "../controller/model.ts";
import { appliedSpecOf, decideOwnership, describeRecord, onlyEndpointDiffers, planRemoval, targetOf, type OwnershipDecision } from "../controller/ownership.ts";
import { planIngestion, type Holding, type Observed, type Plan } from "../controller/plan.ts";
import type { DesiredIngestion } from "../controller/render.ts";
import { desiredId, supervisorSubmission, wantsSuspended } from "../controller/render.ts";
import { resolveSecretRefs } from "../controller/secret-refs.ts";
import type { DruidClient } from "../druid/client.ts";
import { changesAgainstStored, effectOf, exactChanges, type ActionEffect, type FieldChange } from "./changes.ts";
import type { Cluster, DruidClients, ResolvedTarget } from "./access.ts";
import { unusableSecretFailure } from "../controller/druid-target.ts";
import { probeSameDruid } from "../controller/same-druid.ts";

export interface PartDiff {
  /** "unchanged", "set" (Druid has none), "changed", "removed" (the resource dropped it), "none". */
  state: "unchanged" | "set" | "changed" | "removed" | "none";
  changes: FieldChange[];
}

export interface DiffReport {
  resource: string;
  kind: "supervisor" | "task";
  id: string;
  druidEndpoint: string;
  druidVersion?: string;
  /** Druid's view now. */
  live?: { state?: string | undefined; detailedState?: string | undefined; healthy?: boolean | undefined; suspended: boolean } | undefined;
  /** How the resource holds its target (ownership.ts), or why the controller leaves Druid alone. */
  ownership: string;
  /** Against what the spec fields were compared. */
  comparedWith?: "applied" | "stored";
  spec: PartDiff;
  compaction: PartDiff;
  rules: PartDiff;
  actions: ActionEffect[];
  restartsTasks: boolean;
  /** The controller would not act: the reason its status would show. */
  refused?: Failure;
  notes: string[];
}

/**
 * The status the controller would have written had it applied what Druid stores: the spec hash is
 * the manifest's when Druid's copy holds every value the manifest sets (then only suspend/resume
 * and the parts can differ), and an unknown one otherwise (an update).
 */
function assumedStatus(ingestion: DruidIngestion, desired: DesiredIngestion, stored: JsonObject | undefined): DruidIngestionStatus {
  if (desired.kind !== "supervisor" || !stored) return {};
  const ignored = ignoredPathsOf(ingestion, desired);
  const same = changesAgainstStored(stored, desired.body, ignored).length === 0;
  return { specHash: same ? desired.specHash : "unknown (no status)", druidSpecHash: liveSupervisorSpecHash(stored, ignored), driftIgnorePaths: ignored };
}

function holdingOf(decision: OwnershipDecision): Holding | undefined {
  if (decision.kind === "owned" || decision.kind === "create" || decision.kind === "adopt") return decision.kind;
  return undefined;
}

function describeOwnership(decision: OwnershipDecision): string {
  switch (decision.kind) {
    case "owned":
      return `managed by this resource (${describeRecord(decision.record)}, ${decision.record.origin ?? "Created"})`;
    case "create":
      return "not in Druid yet: the controller creates it";
    case "adopt":
      return decision.origin === "Created" ? "this resource's own create, confirmed" : "exists in Druid; managementPolicy Adopt takes it over";
    case "move":
      return `moves: the resource's ${describeRecord(decision.from)} is removed first, then the new target is made`;
    case "standDown":
      return `left alone: ${decision.failure.reason}`;
    case "observe":
      return "Observe: the controller reports and never writes";
  }
}

function partDiff(desired: JsonObject | JsonObject[] | undefined, live: JsonObject | JsonObject[] | undefined, recorded: boolean): PartDiff {
  if (desired === undefined) return { state: recorded && live !== undefined && !(Array.isArray(live) && live.length === 0) ? "removed" : "none", changes: [] };
  if (live === undefined || (Array.isArray(live) && live.length === 0 && Array.isArray(desired) && desired.length > 0)) return { state: "set", changes: [] };
  // Druid adds defaults to both (a rule's useDefaultTierForNull): only what the resource sets counts.
  const changes = changesAgainstStored({ value: live }, { value: desired }).map((c) => ({ ...c, path: c.path.slice("/value".length) }));
  return { state: changes.length === 0 ? "unchanged" : "changed", changes };
}

async function observe(client: DruidClient, ingestion: DruidIngestion, desired: DesiredIngestion, record: ResolvedTarget["record"]): Promise<Observed> {
  const status = ingestion.status ?? {};
  const observed: Observed = { druidVersion: await client.version() };
  if (desired.kind === "supervisor") observed.supervisor = await client.supervisorWithState(desired.supervisorId);
  else if (record?.taskId) observed.task = await client.taskStatus(record.taskId);
  const ds = desired.dataSource;
  if (ds && (desired.compaction || status.compactionHash)) observed.compaction = await client.getCompactionConfig(ds);
  if (ds && (desired.rules || status.rulesHash)) observed.rules = await client.getRules(ds);
  return observed;
}

export interface DiffInput {
  ingestion: DruidIngestion;
  desired: DesiredIngestion;
  target: ResolvedTarget;
  client: DruidClient;
  /** To read the values of the spec's Secret references (the user's own rights); without it they are not compared. */
  cluster?: Cluster | undefined;
  /** No status to judge ownership by (a manifest not read from the cluster): compared as if the resource managed what Druid has. */
  assumeOwned: boolean;
  /** For a client of the recorded endpoint (the same-Druid probe). */
  clients: DruidClients;
}

export async function diffIngestion(input: DiffInput): Promise<DiffReport> {
  const { desired, target, client } = input;
  let ingestion = input.ingestion;
  const status = ingestion.status ?? {};
  const id = desiredId(desired);
  const report: DiffReport = {
    resource: `${ingestion.metadata.namespace}/${ingestion.metadata.name}`,
    kind: desired.kind,
    id,
    druidEndpoint: target.druidEndpoint,
    ownership: "",
    spec: { state: "none", changes: [] },
    compaction: { state: "none", changes: [] },
    rules: { state: "none", changes: [] },
    actions: [],
    restartsTasks: false,
    notes: [...target.notes],
  };
  const policy = ingestion.spec.managementPolicy ?? "Manage";
  // The values the spec's references stand for (never shown): the controller stops without them
  // (Observe reads none); where the kubeconfig may not read a Secret, they are not compared.
  let secretValues: ReadonlyMap<string, string> | undefined;
  if (desired.secretRefs.length > 0 && input.cluster && policy !== "Observe") {
    const namespace = ingestion.metadata.namespace;
    const lookup = await input.cluster.secretLookup(desired.secretRefs.map((r) => ({ namespace, name: r.name })));
    const resolved = resolveSecretRefs(desired.secretRefs, namespace, lookup);
    if (resolved.ok) secretValues = resolved.value.values;
    else if ("unusable" in resolved && input.cluster.unreadable(resolved.unusable.namespace, resolved.unusable.name)) report.notes.push(`Secret ${resolved.unusable.namespace}/${resolved.unusable.name} is not readable with your kubeconfig: the values the spec references are not compared`);
    else {
      report.refused = "unusable" in resolved ? unusableSecretFailure(resolved.unusable, lookup.get(resolved.unusable.namespace, resolved.unusable.name) !== undefined, resolved.keys) : resolved.failure;
      return report;
    }
  }
  if (desired.secretRefs.length > 0) report.notes.push(`${desired.secretRefs.length} value(s) come from Secrets: ${secretValues ? "compared by value, never shown" : "not compared"}`);
  let observed: Observed;
  try {
    observed = await observe(client, ingestion, desired, target.record);
  } catch (error) {
    report.refused = failureOf(error);
    return report;
  }
  report.druidVersion = observed.druidVersion;
  const live = observed.supervisor;
  if (live) report.live = { state: live.state, detailedState: live.detailedState, healthy: live.healthy, suspended: live.suspended };

  const t = targetOf(ingestion, desired, { url: target.druidEndpoint, source: target.endpointSource });
  let decision: OwnershipDecision;
  let record = target.record;
  if (input.assumeOwned && !record && (live || desired.kind === "task")) {
    record = { druidEndpoint: target.druidEndpoint, endpointSource: target.endpointSource, ...(desired.kind === "supervisor" ? { supervisorId: desired.supervisorId } : {}), ...(desired.dataSource ? { dataSource: desired.dataSource } : {}), origin: "Created" } as NonNullable<typeof record>;
    decision = policy === "Observe" ? { kind: "observe", record } : { kind: "owned", record };
    ingestion = { ...ingestion, status: assumedStatus(ingestion, desired, live?.spec) };
    report.notes.push("the manifest has no status, so ownership is not checked: compared as if this resource managed what Druid has (diff a resource in the cluster, with a kubeconfig, for the controller's real decision)");
  } else {
    // Only the URL changed: the controller asks both whether they are one Druid (same-druid.ts).
    let sameDruidAsRecord: boolean | undefined;
    if (record && onlyEndpointDiffers(record, t) && (live !== undefined || desired.kind === "task")) {
      const probe = await probeSameDruid(record, input.clients(record.druidEndpoint, target.credentials), client);
      if (probe.ok) sameDruidAsRecord = probe.value;
      else if (ingestion.spec.deletionPolicy === "Orphan") sameDruidAsRecord = false;
      else {
        report.refused = probe.failure;
        return report;
      }
    }
    decision = decideOwnership({ policy, target: t, record, status, pendingConfirmed: false, live: live !== undefined, olderClaimant: undefined, ...(sameDruidAsRecord === undefined ? {} : { sameDruidAsRecord }) });
  }
  report.ownership = describeOwnership(decision);

  const ignored = ignoredPathsOf(ingestion, desired);
  // The fields: against the spec last applied (status keeps it in the manifest's form) when there
  // is one for this target, else against the copy Druid stores (defaults filled in).
  // Someone else's supervisor (the controller leaves it alone) is not compared: its stored copy may
  // hold values of Secrets this resource has no business showing.
  if (desired.kind === "supervisor" && decision.kind !== "standDown") {
    const wanted = supervisorSubmission(desired, wantsSuspended(ingestion, desired));
    const applied = target.record?.supervisorId === desired.supervisorId ? appliedSpecOf(status) : undefined;
    if (!live) report.spec = { state: "set", changes: [] };
    else if (applied) {
      report.comparedWith = "applied";
      const changes = exactChanges(applied, wanted, ignored);
      report.spec = { state: changes.length ? "changed" : "unchanged", changes };
    } else if (live.spec) {
      report.comparedWith = "stored";
      // Druid's copy holds the values Secrets gave it: its side is never shown, only that it differs.
      const changes = changesAgainstStored(live.spec, wanted, ignored).map(({ from: _hidden, ...c }) => c);
      report.spec = { state: changes.length ? "changed" : "unchanged", changes };
    }
  }
  report.compaction = partDiff(desired.compaction?.config, observed.compaction, status.compactionHash !== undefined);
  report.rules = partDiff(desired.rules?.rules, observed.rules, status.rulesHash !== undefined);

  const holding = holdingOf(decision);
  let actions: DruidAction[] = [];
  if (decision.kind === "standDown") {
    report.refused = decision.failure;
  } else if (decision.kind === "move") {
    actions = planRemoval(decision.from, status, { cause: "Moved", keep: t, orphan: ingestion.spec.deletionPolicy === "Orphan", taskFinished: false }).actions;
    report.notes.push("after the move, the next reconcile plans the new target (diff again then)");
  } else {
    const plan: Plan = planIngestion({ ingestion, desired, observed, holding: holding ?? (record ? "owned" : live ? "adopt" : "create"), record: decision.kind === "owned" ? decision.record : record, policy, ignored, ...(secretValues ? { secretValues } : {}) });
    if (plan.failure) report.refused = plan.failure;
    if (decision.kind === "observe") report.notes.push(plan.actions.length > 0 ? `Observe: ${plan.actions.length} call(s) would be needed to match; none is made` : "Observe: Druid matches the resource");
    else actions = plan.actions;
    if (plan.offsetsResetHeld) report.notes.push(`offsets reset not sent yet: ${plan.offsetsResetHeld.message}`);
  }
  // The plan compares hashes: a field the resource no longer sets, or one changed in Druid, shows only there.
  for (const [part, kinds] of [["compaction", ["submitCompaction"]], ["rules", ["submitRules"]]] as const) {
    if (report[part].state === "unchanged" && actions.some((a) => (kinds as readonly string[]).includes(a.kind))) {
      report[part] = { state: "changed", changes: [] };
      report.notes.push(`${part}: what Druid holds differs from what this resource applied (a field it no longer sets, or an edit made in Druid)`);
    }
  }
  report.actions = actions.map(effectOf);
  report.restartsTasks = report.actions.some((a) => a.restartsTasks);
  return report;
}

/** Something would change in Druid (the CLI's exit code 1). */
export function hasChanges(report: DiffReport): boolean {
  return report.actions.length > 0;
}
