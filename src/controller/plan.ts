// The decision logic, pure: from the resource, what it renders to, and what Druid reports,
// decide which Druid calls to make. No I/O here; `execute.ts` performs the calls and
// `status.ts` turns the outcome into status. Everything is judged against Druid's observed
// state, never against what the controller did last time, except for the hashes status keeps.
import type { DruidIngestion, DruidIngestionStatus, JsonObject } from "../api/druid-ingestion.ts";
import { deletionPolicyOf } from "../api/druid-ingestion.ts";
import type { LiveSupervisor, LiveTask } from "../druid/decode.ts";
import { contentHash, jsonEqual } from "./canonical-json.ts";
import type { DesiredIngestion, DesiredSupervisor, DesiredTask } from "./render.ts";
import { dataSourceOf, supervisorSubmission, TASK_TYPES } from "./render.ts";

export type SubmitCause = "Created" | "Recreated" | "Updated" | "DriftCorrected";
export type ResetCause = "ResetNonce" | "ResetOnResume";

export type DruidAction =
  | { kind: "submitSupervisor"; supervisorId: string; spec: JsonObject; cause: SubmitCause }
  | { kind: "suspendSupervisor"; supervisorId: string }
  | { kind: "resumeSupervisor"; supervisorId: string }
  | { kind: "resetSupervisor"; supervisorId: string; cause: ResetCause }
  | { kind: "terminateSupervisor"; supervisorId: string }
  | { kind: "submitTask"; taskId: string; spec: JsonObject; sql: boolean; cause: SubmitCause }
  | { kind: "shutdownTask"; taskId: string }
  | { kind: "submitCompaction"; dataSource: string; config: JsonObject; cause: SubmitCause }
  | { kind: "deleteCompaction"; dataSource: string }
  | { kind: "submitRules"; dataSource: string; rules: JsonObject[]; cause: SubmitCause | "Cleared" };

export interface PlanFailure {
  reason: string;
  message: string;
}

/** What the per-cluster snapshot says about this resource's part of Druid. */
export interface Observed {
  druidVersion: string;
  /** Undefined when Druid lists no supervisor with that id. */
  supervisor?: LiveSupervisor | undefined;
  /** Undefined when Druid has no task with that id (or none was asked). */
  task?: LiveTask | undefined;
  /** The datasource's compaction config, undefined when none (only when compaction is managed). */
  compaction?: JsonObject | undefined;
  /** The datasource's own rules ([] when none; only when rules are managed). */
  rules?: JsonObject[] | undefined;
}

export interface Plan {
  actions: DruidAction[];
  /** Take over a spec that the druid-operator (or an earlier controller) already applied. */
  adopted: boolean;
  /** Set when the plan cannot be carried out as written; no actions then. */
  failure?: PlanFailure;
}

// ---------------------------------------------------------------------------------------------
// Generic apply decision for anything the controller puts into Druid.

export type ApplyDecision = "none" | SubmitCause;

/**
 * appliedHash: hash of the desired content last applied (status).
 * recordedLiveHash: hash of Druid's copy read right after that apply (status).
 * liveHash: hash of Druid's copy now, undefined when Druid has none.
 */
export function decideApply(desiredHash: string, appliedHash: string | undefined, recordedLiveHash: string | undefined, liveHash: string | undefined): ApplyDecision {
  if (liveHash === undefined) return appliedHash === undefined ? "Created" : "Recreated";
  if (appliedHash !== desiredHash) return "Updated";
  if (recordedLiveHash !== undefined && recordedLiveHash !== liveHash) return "DriftCorrected";
  return "none";
}

/** Druid's stored copy of a supervisor spec, minus the flag that suspend/resume flips. */
export function liveSupervisorSpecHash(spec: JsonObject): string {
  const { suspended: _flag, ...rest } = spec;
  return contentHash(rest);
}

export function druidMajorVersion(version: string): number {
  const major = Number.parseInt(version.split(".")[0] ?? "", 10);
  return Number.isFinite(major) ? major : 0;
}

/** Druid 33 added `skipRestartIfUnmodified`; Druid 34 added explicit supervisor ids. */
export function supportsSkipRestart(version: string): boolean {
  return druidMajorVersion(version) >= 33;
}

function newResetNonce(ingestion: DruidIngestion): string | undefined {
  const nonce = ingestion.spec.resetNonce;
  return nonce && nonce !== ingestion.status?.lastResetNonce ? nonce : undefined;
}

/**
 * The druid-operator records the spec it submitted as compact sorted JSON in
 * status["currentIngestionSpec.json"]. When that equals our desired spec, the running
 * supervisor/task is ours already: take it over without resubmitting.
 */
export function isAdoptable(status: DruidIngestionStatus | undefined, desired: DesiredIngestion): boolean {
  if (!status || status.specHash !== undefined) return false;
  const previous = status["currentIngestionSpec.json"];
  if (!previous) return false;
  try {
    const parsed = JSON.parse(previous) as JsonObject;
    const { suspended: _flag, ...rest } = parsed;
    return jsonEqual(rest, desired.body);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------

export function planSupervisor(ingestion: DruidIngestion, desired: DesiredSupervisor, observed: Observed): Plan {
  const status = ingestion.status ?? {};
  const wantSuspended = ingestion.spec.suspend === true;
  const id = desired.supervisorId;
  const live = observed.supervisor;

  if (desired.explicitId && id !== desired.dataSource && druidMajorVersion(observed.druidVersion) < 34) {
    return {
      actions: [],
      adopted: false,
      failure: {
        reason: "SupervisorIdUnsupported",
        message: `the spec names supervisor id "${id}" but Druid ${observed.druidVersion} only supports supervisor id = dataSource ("${desired.dataSource}"); remove the top-level id or upgrade Druid to 34 or newer`,
      },
    };
  }

  const adopted = live !== undefined && isAdoptable(status, desired);
  const liveHash = live?.spec ? liveSupervisorSpecHash(live.spec) : live ? status.druidSpecHash : undefined;
  const decision = adopted ? "none" : decideApply(desired.specHash, status.specHash, status.druidSpecHash, liveHash);
  const actions: DruidAction[] = [];
  const nonce = newResetNonce(ingestion);

  if (decision === "Created" || decision === "Recreated") {
    // A brand-new supervisor has no offsets to reset: a pending nonce is simply consumed.
    actions.push({ kind: "submitSupervisor", supervisorId: id, spec: supervisorSubmission(desired, wantSuspended), cause: decision });
  } else {
    const liveSuspended = live?.suspended === true;
    const resuming = liveSuspended && !wantSuspended;
    const resetOnResume = resuming && ingestion.spec.resetOnResume === true;
    if (resetOnResume) actions.push({ kind: "resetSupervisor", supervisorId: id, cause: "ResetOnResume" });
    if (decision !== "none") {
      actions.push({ kind: "submitSupervisor", supervisorId: id, spec: supervisorSubmission(desired, wantSuspended), cause: decision });
    } else if (wantSuspended && !liveSuspended) {
      actions.push({ kind: "suspendSupervisor", supervisorId: id });
    } else if (resuming) {
      actions.push({ kind: "resumeSupervisor", supervisorId: id });
    }
    if (nonce && !resetOnResume) actions.push({ kind: "resetSupervisor", supervisorId: id, cause: "ResetNonce" });
  }
  return { actions: [...actions, ...planCompaction(ingestion, desired, observed), ...planRules(ingestion, desired, observed)], adopted };
}

export function planTask(ingestion: DruidIngestion, desired: DesiredTask, observed: Observed): Plan {
  const status = ingestion.status ?? {};
  const adopted = isAdoptable(status, desired) && status.taskId !== undefined;
  const sameTask = status.taskId === desired.taskId && status.specHash === desired.specHash;
  const actions: DruidAction[] = [];
  if (!adopted && !sameTask) {
    // A new spec (or a new resetNonce) means a new run. Stop the previous run first so two
    // versions never write the same datasource at once.
    if (status.taskId && status.taskId !== desired.taskId && observed.task?.statusCode === "RUNNING") {
      actions.push({ kind: "shutdownTask", taskId: status.taskId });
    }
    const sql = desired.type === "sql";
    actions.push({ kind: "submitTask", taskId: desired.taskId, spec: taskSubmission(desired), sql, cause: status.taskId ? "Updated" : "Created" });
  }
  return { actions: [...actions, ...planCompaction(ingestion, desired, observed), ...planRules(ingestion, desired, observed)], adopted };
}

/** The body POSTed for a task: the spec with its deterministic id (SQL: via sqlQueryId). */
export function taskSubmission(desired: DesiredTask): JsonObject {
  if (desired.type === "sql") {
    const context = (desired.body["context"] ?? {}) as JsonObject;
    return { ...desired.body, context: { ...context, sqlQueryId: sqlQueryIdOf(desired.taskId) } };
  }
  return { ...desired.body, id: desired.taskId };
}

/** MSQ names the controller task `query-<sqlQueryId>`. */
export function sqlQueryIdOf(taskId: string): string {
  return taskId.startsWith("query-") ? taskId.slice("query-".length) : taskId;
}

export function planCompaction(ingestion: DruidIngestion, desired: DesiredIngestion, observed: Observed): DruidAction[] {
  const status = ingestion.status ?? {};
  if (!desired.compaction) {
    // Compaction removed from the resource: remove what we put into Druid.
    if (status.compactionHash && desired.dataSource && observed.compaction !== undefined) {
      return [{ kind: "deleteCompaction", dataSource: desired.dataSource }];
    }
    return [];
  }
  const liveHash = observed.compaction === undefined ? undefined : contentHash(observed.compaction);
  const decision = decideApply(desired.compaction.hash, status.compactionHash, status.druidCompactionHash, liveHash);
  if (decision === "none") return [];
  return [{ kind: "submitCompaction", dataSource: desired.dataSource as string, config: desired.compaction.config, cause: decision }];
}

export function planRules(ingestion: DruidIngestion, desired: DesiredIngestion, observed: Observed): DruidAction[] {
  const status = ingestion.status ?? {};
  const live = observed.rules ?? [];
  if (!desired.rules) {
    if (status.rulesHash && desired.dataSource && live.length > 0) {
      return [{ kind: "submitRules", dataSource: desired.dataSource, rules: [], cause: "Cleared" }];
    }
    return [];
  }
  // Druid has no "absent" rules, only an empty list: an empty live list is absent unless we want [].
  const liveHash = live.length === 0 && desired.rules.rules.length > 0 ? undefined : contentHash(live);
  const decision = decideApply(desired.rules.hash, status.rulesHash, status.druidRulesHash, liveHash);
  if (decision === "none") return [];
  return [{ kind: "submitRules", dataSource: desired.dataSource as string, rules: desired.rules.rules, cause: decision }];
}

export function planIngestion(ingestion: DruidIngestion, desired: DesiredIngestion, observed: Observed): Plan {
  return desired.kind === "supervisor" ? planSupervisor(ingestion, desired, observed) : planTask(ingestion, desired, observed);
}

// ---------------------------------------------------------------------------------------------

/**
 * What must go from Druid before the finalizer may be removed. Uses what status recorded
 * (what we, or the druid-operator, actually created) and falls back to the rendered spec.
 */
export function planDeletion(ingestion: DruidIngestion, desired: DesiredIngestion | undefined): DruidAction[] {
  if (deletionPolicyOf(ingestion) === "Orphan") return [];
  const status = ingestion.status ?? {};
  const isTask = TASK_TYPES.has(ingestion.spec.ingestion.type);
  const actions: DruidAction[] = [];
  if (isTask) {
    const taskId = status.taskId ?? (desired?.kind === "task" ? desired.taskId : undefined);
    if (taskId) actions.push({ kind: "shutdownTask", taskId });
  } else {
    // The druid-operator recorded the supervisor id in taskId.
    const supervisorId = status.supervisorId ?? status.taskId ?? (desired?.kind === "supervisor" ? desired.supervisorId : undefined);
    if (supervisorId) actions.push({ kind: "terminateSupervisor", supervisorId });
  }
  const dataSource = desired?.dataSource ?? dataSourceFromStatus(status);
  if (dataSource && (status.compactionHash || desired?.compaction)) actions.push({ kind: "deleteCompaction", dataSource });
  if (dataSource && (status.rulesHash || (desired?.rules && desired.rules.rules.length > 0))) {
    actions.push({ kind: "submitRules", dataSource, rules: [], cause: "Cleared" });
  }
  return actions;
}

function dataSourceFromStatus(status: DruidIngestionStatus): string | undefined {
  const previous = status["currentIngestionSpec.json"];
  if (!previous) return undefined;
  try {
    return dataSourceOf(JSON.parse(previous) as JsonObject);
  } catch {
    return undefined;
  }
}

