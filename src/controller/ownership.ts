// Ownership: what a resource may touch in Druid. Pure. Invariants:
// - a resource owns exactly what its record (status.applied) names, on the endpoint it names;
//   the record is written only after Druid accepted the create (or an explicit takeover);
// - nothing is removed from Druid except what a record (or a pending create) names, and only on
//   that record's endpoint; no record means nothing to remove;
// - a supervisor nobody recorded is never overwritten or terminated unless the resource opts in
//   (managementPolicy Adopt); the druid-operator's own status counts as a record (takeover);
// - a change of target (id, datasource, endpoint) is a move: the recorded one goes first, and
//   never while the new target is someone else's.
import type { AppliedRecord, DruidIngestion, DruidIngestionStatus, EndpointSource, JsonObject, ManagementPolicy, PendingCreate, RecordOrigin } from "../api/druid-ingestion.ts";
import { objectKey } from "../api/druid-ingestion.ts";
import { normalizeOrKeep } from "../druid/endpoint.ts";
import type { DruidAction, Failure, RemoveCause } from "./model.ts";
import { dataSourceOf, TASK_TYPES, type DesiredIngestion } from "./render.ts";
import type { EndpointChoice, Resolution } from "./druid-target.ts";

/** Where this reconcile wants the ingestion to be. */
export interface Target {
  druidEndpoint: string;
  endpointSource: EndpointSource;
  /** The druidCluster the endpoint was found for (router Service or the default URL). */
  druidCluster?: string;
  kind: "supervisor" | "task";
  /** Supervisors only. */
  supervisorId?: string;
  dataSource: string | undefined;
}

/** The target of a resource's spec at an endpoint: where, which supervisor (or a task), which datasource. */
export function targetOf(ingestion: DruidIngestion, desired: DesiredIngestion, endpoint: EndpointChoice): Target {
  const target: Target = { druidEndpoint: endpoint.url, endpointSource: endpoint.source, kind: desired.kind, dataSource: desired.dataSource };
  if (ingestion.spec.druidCluster && endpoint.source !== "DruidEndpoint") target.druidCluster = ingestion.spec.druidCluster;
  if (desired.kind === "supervisor") target.supervisorId = desired.supervisorId;
  return target;
}

/** What a status says the resource holds: its own record, or one derived from older statuses. */
export type RecordLookup =
  | { kind: "none" }
  | { kind: "recorded"; record: AppliedRecord }
  /** The druid-operator's status names the supervisor/task but not the endpoint it used. */
  | { kind: "druidOperator"; partial: Omit<AppliedRecord, "druidEndpoint" | "endpointSource"> };

/** The spec last applied, as status["currentIngestionSpec.json"] records it (the druid-operator's form), if readable. */
export function appliedSpecOf(status: DruidIngestionStatus | undefined): JsonObject | undefined {
  const text = status?.["currentIngestionSpec.json"];
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The record a status holds. Besides `status.applied` it reads two older forms, so resources
 * keep working without an edit: this controller's status before records existed (specHash with
 * supervisorId/taskId and druidEndpoint), and the druid-operator's (taskId and
 * currentIngestionSpec.json, no specHash), whose endpoint is the one discovery gives now.
 */
/** Body types Druid runs as one-shot tasks (what the druid-operator may have POSTed to /task). */
const TASK_BODY_TYPES: ReadonlySet<string> = new Set(["index", "index_parallel", "index_hadoop", "index_realtime", "noop", "compact", "kill", "query_controller"]);
/** Body types Druid runs as supervisors. */
const SUPERVISOR_BODY_TYPES: ReadonlySet<string> = new Set(["kafka", "kinesis", "rabbit", "rabbitmq", "autocompact", "scheduled_batch", "derivativeDataSource"]);

/**
 * Whether what an older-form status records is a task: judged from the spec it recorded (the
 * resource's type may have changed since), else from the resource's type.
 */
function recordedIsTask(status: DruidIngestionStatus, currentType: string): boolean {
  if (status.supervisorId !== undefined) return false;
  const applied = appliedSpecOf(status);
  if (applied) {
    if (typeof applied["query"] === "string") return true;
    if (typeof applied["type"] === "string" && TASK_BODY_TYPES.has(applied["type"])) return true;
    if (typeof applied["type"] === "string" && SUPERVISOR_BODY_TYPES.has(applied["type"])) return false;
  }
  return TASK_TYPES.has(currentType);
}

export function lookupRecord(ingestion: DruidIngestion): RecordLookup {
  const status = ingestion.status;
  if (!status) return { kind: "none" };
  if (status.applied) return { kind: "recorded", record: status.applied };
  const isTask = recordedIsTask(status, ingestion.spec.ingestion.type);
  const dataSource = dataSourceOf(appliedSpecOf(status) ?? {});
  const ids = (id: string): Pick<AppliedRecord, "supervisorId" | "taskId"> => (isTask ? { taskId: id } : { supervisorId: id });
  if (status.specHash && status.druidEndpoint) {
    const id = isTask ? status.taskId : (status.supervisorId ?? status.taskId);
    if (!id) return { kind: "none" };
    const record: AppliedRecord = { druidEndpoint: normalizeOrKeep(status.druidEndpoint), ...ids(id), origin: "Created" };
    if (dataSource) record.dataSource = dataSource;
    return { kind: "recorded", record };
  }
  if (!status.specHash && status.taskId && status["currentIngestionSpec.json"]) {
    const partial: Omit<AppliedRecord, "druidEndpoint" | "endpointSource"> = { ...ids(status.taskId), origin: "DruidOperator" };
    if (dataSource) partial.dataSource = dataSource;
    return { kind: "druidOperator", partial };
  }
  return { kind: "none" };
}

/** The record with an endpoint: a druid-operator record takes the endpoint discovery gives now. */
export function resolveRecord(lookup: RecordLookup, current: { druidEndpoint: string; endpointSource: EndpointSource } | undefined): AppliedRecord | undefined {
  if (lookup.kind === "recorded") return lookup.record;
  if (lookup.kind === "druidOperator" && current) return { ...lookup.partial, druidEndpoint: current.druidEndpoint, endpointSource: current.endpointSource };
  return undefined;
}

/**
 * The record with its endpoint. A druid-operator record takes the endpoint found now, but never
 * the controller default: that operator only ever used the router Service (or none at all).
 */
export function recordAt(ingestion: DruidIngestion, lookup: RecordLookup, endpoint: EndpointChoice): Resolution<AppliedRecord | undefined> {
  if (lookup.kind === "druidOperator" && endpoint.source === "ControllerDefault") {
    return {
      ok: false,
      failure: {
        reason: "EndpointNotFound",
        message: `this resource was managed by the druid-operator, which only used the router Service of Druid cluster ${ingestion.spec.druidCluster ?? "(none)"} (labels druid_cr, component=router); no such Service is found, so the Druid that runs what it created is not known (the controller default URL may be another one). Restore the router Service, or set spec.druidEndpoint to that Druid's URL`,
      },
    };
  }
  return { ok: true, value: resolveRecord(lookup, { druidEndpoint: endpoint.url, endpointSource: endpoint.source }) };
}

/** The record's compaction config / rules (status hashes) belong to its recorded datasource. */
export function partsRecorded(status: DruidIngestionStatus | undefined): boolean {
  return Boolean(status?.compactionHash || status?.rulesHash);
}

/** The record names the target's main part: the same supervisor id, or (for tasks) a task. */
export function mainRecorded(record: AppliedRecord, target: Target): boolean {
  return target.kind === "task" ? record.taskId !== undefined && record.supervisorId === undefined : record.supervisorId !== undefined && record.supervisorId === target.supervisorId;
}

/**
 * Nothing recorded is elsewhere: the same endpoint, the same main part (or none recorded), and
 * the recorded compaction config / rules on the target's datasource. Otherwise something recorded
 * has to go first (a move).
 */
export function recordMatches(record: AppliedRecord, target: Target, status?: DruidIngestionStatus): boolean {
  if (normalizeOrKeep(record.druidEndpoint) !== target.druidEndpoint) return false;
  if (partsRecorded(status) && record.dataSource !== target.dataSource) return false;
  const hasMain = record.supervisorId !== undefined || record.taskId !== undefined;
  return !hasMain || mainRecorded(record, target);
}

/** Druid's clock and ours may differ a little: "stored after our intent" allows this much. */
export const CLOCK_SKEW_MS = 30_000;

/**
 * When Druid stored something (a spec version, a task) relative to this resource's recorded
 * intent to create it: "since" (ours), "before" (someone else's), or "unknown" (a time missing).
 */
export function storedRelativeTo(druidTime: string | undefined, since: string | undefined): "since" | "before" | "unknown" {
  const stored = druidTime === undefined ? Number.NaN : Date.parse(druidTime);
  const intended = since === undefined ? Number.NaN : Date.parse(since);
  if (!Number.isFinite(stored) || !Number.isFinite(intended)) return "unknown";
  return stored >= intended - CLOCK_SKEW_MS ? "since" : "before";
}

/** Druid stored it after this resource recorded that it was about to create it. */
export function storedSince(druidTime: string, since: string): boolean {
  return storedRelativeTo(druidTime, since) === "since";
}

/** The pending create is for this target (and, for tasks, this run): nothing else to resolve first. */
export function pendingCovers(pending: PendingCreate, target: Target, taskId: string | undefined): boolean {
  if (normalizeOrKeep(pending.druidEndpoint) !== target.druidEndpoint) return false;
  if (pending.supervisorId !== undefined && (target.kind !== "supervisor" || pending.supervisorId !== target.supervisorId)) return false;
  if (pending.taskId !== undefined && pending.taskId !== taskId) return false;
  return pending.dataSource === undefined || pending.dataSource === target.dataSource;
}

export function pendingMatches(pending: PendingCreate | undefined, target: Target): boolean {
  if (!pending || normalizeOrKeep(pending.druidEndpoint) !== target.druidEndpoint) return false;
  return target.kind === "task" ? pending.taskId !== undefined : pending.supervisorId === target.supervisorId;
}

// ---------------------------------------------------------------------------------------------

export type OwnershipDecision =
  /** The record is the target: manage it. */
  | { kind: "owned"; record: AppliedRecord }
  /** Nothing recorded and nothing in Druid: create it (after recording the intent). */
  | { kind: "create" }
  /** Druid has it and this resource may take it: record it, then manage it. */
  | { kind: "adopt"; origin: RecordOrigin }
  /** The record names another target: remove the recorded one first, then look again. */
  | { kind: "move"; from: AppliedRecord }
  /** Leave Druid alone and say why. `dropRecord`: this resource lost a race for the target. */
  | { kind: "standDown"; failure: Failure; dropRecord: boolean }
  /** Observe only: report, never write. */
  | { kind: "observe"; record: AppliedRecord | undefined };

export interface OwnershipInput {
  policy: ManagementPolicy;
  target: Target;
  record: AppliedRecord | undefined;
  /** The status the record is part of (its compaction/rules hashes). */
  status?: DruidIngestionStatus | undefined;
  /**
   * A pending create for the target whose supervisor Druid shows as stored after the pending
   * create was recorded: this resource's own create, whose answer was lost.
   */
  pendingConfirmed: boolean;
  /** Druid has the target supervisor now (always false for tasks: their ids are checked on submit). */
  live: boolean;
  /** A resource with a better claim to the same target (betterClaimant). */
  olderClaimant: Claim | undefined;
  /**
   * The record is on another URL of the very Druid the target URL leads to (probed: same
   * supervisor history version, or same task creation time): only the URL changed.
   */
  sameDruidAsRecord?: boolean;
}

/** Only the URL differs: the record's ids are the target's, so a probe can tell whether it is one Druid. */
export function onlyEndpointDiffers(record: AppliedRecord, target: Target): boolean {
  if (normalizeOrKeep(record.druidEndpoint) === target.druidEndpoint) return false;
  return target.kind === "supervisor" ? record.supervisorId === target.supervisorId : record.supervisorId === undefined && record.taskId !== undefined;
}

export function decideOwnership(input: OwnershipInput): OwnershipDecision {
  const { policy, target, record, live, olderClaimant, status } = input;
  const what = target.kind === "supervisor" ? `supervisor ${target.supervisorId}` : "task";
  if (olderClaimant) {
    const message = `${what} on ${target.druidEndpoint} is already managed by DruidIngestion ${olderClaimant.key}; give this resource another dataSource (or, on Druid 34+, a top-level id), or delete one of the two. Nothing was sent to Druid`;
    const lostRace = record !== undefined && normalizeOrKeep(record.druidEndpoint) === target.druidEndpoint && mainRecorded(record, target);
    return { kind: "standDown", failure: { reason: "SupervisorConflict", message }, dropRecord: lostRace };
  }
  if (policy === "Observe") return { kind: "observe", record };
  const standDownExists = (): OwnershipDecision => {
    const kept = record ? ` ${describeRecord(record)} is kept as it is.` : "";
    const message = `${what} already exists on ${target.druidEndpoint} and was not created by this resource, so it is left untouched.${kept} To take it over and manage it, set spec.managementPolicy: Adopt; to only watch it, set Observe`;
    return { kind: "standDown", failure: { reason: "SupervisorExists", message }, dropRecord: false };
  };
  if (record && !recordMatches(record, target, status)) {
    if (input.sameDruidAsRecord && onlyEndpointDiffers(record, target)) {
      return { kind: "owned", record: { ...record, druidEndpoint: target.druidEndpoint, endpointSource: target.endpointSource } };
    }
    // Never remove ours to make room for someone else's: the new target must be free (or ours).
    const targetIsOurs = normalizeOrKeep(record.druidEndpoint) === target.druidEndpoint && mainRecorded(record, target);
    if (live && !targetIsOurs && !input.pendingConfirmed && policy !== "Adopt") return standDownExists();
    return { kind: "move", from: record };
  }
  if (record && mainRecorded(record, target)) return { kind: "owned", record };
  if (live && input.pendingConfirmed) return { kind: "adopt", origin: "Created" };
  if (live && policy !== "Adopt") return standDownExists();
  if (live) return { kind: "adopt", origin: "Adopted" };
  return { kind: "create" };
}

export function describeRecord(record: AppliedRecord): string {
  const what = record.supervisorId ? `supervisor ${record.supervisorId}` : record.taskId ? `task ${record.taskId}` : `datasource ${record.dataSource ?? "?"}`;
  return `${what} on ${record.druidEndpoint}`;
}

// ---------------------------------------------------------------------------------------------

export interface RemovalOptions {
  cause: RemoveCause;
  /** For a move: what stays the same is kept (the supervisor under an unchanged id, the parts of an unchanged datasource). */
  keep?: Target;
  /** deletionPolicy Orphan: let go of it all without a Druid call. */
  orphan?: boolean;
  /** A task known to have finished needs no shutdown: it is only let go of. */
  taskFinished?: boolean;
}

/** What is to go from the record: removed in Druid (actions), or let go of without a call (forget). */
export interface Removal {
  actions: DruidAction[];
  forget: { main: boolean; compaction: boolean; rules: boolean };
}

/**
 * What must go, at `record.druidEndpoint`, for a deletion or a move: exactly what the record and
 * status name (the supervisor or task, and the compaction config and rules this resource applied
 * to the recorded datasource). Nothing else.
 */
export function planRemoval(record: AppliedRecord, status: DruidIngestionStatus, options: RemovalOptions): Removal {
  const { cause, keep } = options;
  const sameEndpoint = keep !== undefined && normalizeOrKeep(record.druidEndpoint) === keep.druidEndpoint;
  const hasMain = record.supervisorId !== undefined || record.taskId !== undefined;
  // A new run of a task on the same endpoint is the planner's (it stops the previous run itself).
  const mainStays = !hasMain || (keep !== undefined && sameEndpoint && mainRecorded(record, keep));
  const partsStay = keep !== undefined && sameEndpoint && keep.dataSource === record.dataSource;
  const ds = record.dataSource;
  const compactionGoes = Boolean(ds && status.compactionHash && !partsStay);
  const rulesGoes = Boolean(ds && status.rulesHash && !partsStay);
  const removal: Removal = { actions: [], forget: { main: false, compaction: false, rules: false } };
  if (options.orphan) {
    removal.forget = { main: !mainStays, compaction: compactionGoes, rules: rulesGoes };
    return removal;
  }
  if (!mainStays) {
    if (record.supervisorId) removal.actions.push({ kind: "terminateSupervisor", supervisorId: record.supervisorId, cause });
    else if (record.taskId && options.taskFinished) removal.forget.main = true;
    else if (record.taskId) removal.actions.push({ kind: "shutdownTask", taskId: record.taskId, cause });
  }
  if (compactionGoes) removal.actions.push({ kind: "deleteCompaction", dataSource: ds as string, cause });
  if (rulesGoes) removal.actions.push({ kind: "clearRules", dataSource: ds as string, cause });
  return removal;
}

// ---------------------------------------------------------------------------------------------
// Claims: two resources naming one supervisor would fight over it. The older resource (by
// creation time, then namespace/name) wins; the newer one stands down.

export interface Claim {
  key: string;
  createdAt: string;
  druidEndpoint: string;
  supervisorId: string;
  deleting: boolean;
  /** Recorded as applied (a confirmed owner), not only pending. */
  recorded: boolean;
}

/** The supervisors a resource records or is creating (what it claims). */
export function claimsOf(ingestion: DruidIngestion): Claim[] {
  const base = {
    key: objectKey(ingestion.metadata.namespace, ingestion.metadata.name),
    createdAt: ingestion.metadata.creationTimestamp ?? "",
    deleting: ingestion.metadata.deletionTimestamp !== undefined,
  };
  const claims: Claim[] = [];
  const lookup = lookupRecord(ingestion);
  if (lookup.kind === "recorded" && lookup.record.supervisorId) {
    claims.push({ ...base, druidEndpoint: normalizeOrKeep(lookup.record.druidEndpoint), supervisorId: lookup.record.supervisorId, recorded: true });
  }
  const pending = ingestion.status?.pendingCreate;
  if (pending?.supervisorId) {
    const claim = { ...base, druidEndpoint: normalizeOrKeep(pending.druidEndpoint), supervisorId: pending.supervisorId, recorded: false };
    if (!claims.some((c) => c.druidEndpoint === claim.druidEndpoint && c.supervisorId === claim.supervisorId)) claims.push(claim);
  }
  return claims;
}

export function claimKey(druidEndpoint: string, supervisorId: string): string {
  return `${normalizeOrKeep(druidEndpoint)}\u0000${supervisorId}`;
}

function older(a: { createdAt: string; key: string }, b: { createdAt: string; key: string }): boolean {
  return a.createdAt !== b.createdAt ? a.createdAt < b.createdAt : a.key < b.key;
}

/**
 * Another resource that has the better claim to the target than `self`: one that records it as
 * applied beats one that does not (so an older resource cannot take over, even with Adopt, what a
 * newer one owns); between equals (both pending, or both recorded after a race) the older wins.
 */
export function betterClaimant(self: DruidIngestion, selfRecorded: boolean, claims: Iterable<Claim>): Claim | undefined {
  const me = { key: objectKey(self.metadata.namespace, self.metadata.name), createdAt: self.metadata.creationTimestamp ?? "" };
  let best: Claim | undefined;
  for (const claim of claims) {
    if (claim.key === me.key) continue;
    const beatsMe = claim.recorded !== selfRecorded ? claim.recorded : older(claim, me);
    if (!beatsMe) continue;
    if (!best || (claim.recorded !== best.recorded ? claim.recorded : older(claim, best))) best = claim;
  }
  return best;
}

/** Another resource that is not being deleted and claims the same supervisor (deletion leaves it be). */
export function otherLiveClaimant(self: DruidIngestion, claims: Iterable<Claim>): Claim | undefined {
  const key = objectKey(self.metadata.namespace, self.metadata.name);
  for (const claim of claims) if (claim.key !== key && !claim.deleting) return claim;
  return undefined;
}
