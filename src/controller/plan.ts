// The decision logic, pure: from the resource, what it renders to, how it holds its target (see
// ownership.ts) and what Druid reports, decide which Druid calls to make. No I/O: `execute.ts`
// performs the calls and `status.ts` turns the outcome into status. Everything is judged against
// Druid's observed state, and against what status records this resource applied.
import type { AppliedRecord, DruidIngestion, DruidIngestionStatus, JsonObject, JsonValue, ManagementPolicy } from "../api/druid-ingestion.ts";
import { druidMajorVersion, supportsExplicitSupervisorId, supportsHadoopIngestion } from "../druid/capabilities.ts";
import type { LiveSupervisor, LiveTask, SupervisorHealth } from "../druid/decode.ts";
import { contentHash, jsonEqual } from "./canonical-json.ts";
import { druidOwnedPaths, liveSupervisorSpecHash, sameIgnoredPaths, valueAt } from "./drift.ts";
import type { DruidAction, Failure, SubmitCause } from "./model.ts";
import { actionableNonce, newNonce, RESET, RESET_OFFSETS } from "./nonces.ts";
import { offsetResetStep } from "./offset-reset.ts";
import { describeUnsafeChanges, unsafeChanges, type UnsafeChange } from "./spec-checks.ts";
import { appliedSpecOf } from "./ownership.ts";
import type { DesiredIngestion, DesiredSupervisor, DesiredTask } from "./render.ts";
import { dataSourceOf, supervisorSubmission, taskSubmission, wantsSuspended } from "./render.ts";

/** What the per-cluster snapshot says about this resource's part of Druid. */
export interface Observed {
  druidVersion: string;
  /** Undefined when Druid lists no supervisor with that id. */
  supervisor?: LiveSupervisor | undefined;
  /** The supervisor's health report (recent errors), read when Druid lists it unhealthy anew. */
  health?: SupervisorHealth | undefined;
  /** That read failed (the errors are asked again; no idle shortcut until they are known). */
  healthUnread?: boolean;
  /** Tasks still reading or publishing, read while a recreate waits for a suspended supervisor's tasks (undefined: not read). */
  tasksLeft?: number | undefined;
  /** The recorded task as Druid reports it; undefined when none is recorded or Druid forgot it. */
  task?: LiveTask | undefined;
  /** The datasource's compaction config, undefined when none (only asked when it matters). */
  compaction?: JsonObject | undefined;
  /** The datasource's own rules ([] when none; only asked when they matter). */
  rules?: JsonObject[] | undefined;
}

/** How the resource holds its target, from the ownership decision. */
export type Holding = "owned" | "create" | "adopt";

export interface PlanInput {
  ingestion: DruidIngestion;
  desired: DesiredIngestion;
  observed: Observed;
  holding: Holding;
  record: AppliedRecord | undefined;
  policy: ManagementPolicy;
  /** Paths left out of drift detection (drift.ts ignoredPaths). */
  ignored: readonly string[];
  /**
   * The values of the spec's Secret references by "name/key" (memory only): where the hash of
   * Druid's copy leaves them out, Druid's value is compared with these instead.
   */
  secretValues?: ReadonlyMap<string, string>;
}

/** A part (compaction config, rules) Druid already holds with the desired content: recorded, not POSTed. */
export interface TakenOver {
  hash: string;
  liveHash: string;
}

export interface Plan {
  actions: DruidAction[];
  /** Set when the plan cannot be carried out as written; no actions then. */
  failure?: Failure;
  /** The supervisor/task Druid runs is already this spec (druid-operator takeover): recorded, not POSTed. */
  specTakenOver?: boolean;
  compactionTakenOver?: TakenOver;
  rulesTakenOver?: TakenOver;
  /** Parts left alone because Druid holds content this resource did not apply. */
  compactionStandDown?: Failure;
  rulesStandDown?: Failure;
  /** Why the offsets reset of a new spec.resetOffsetsNonce is not sent (refused; transient: not yet). Never holds other steps back. */
  offsetsResetHeld?: Failure;
  /** The resource comes to hold a supervisor that exists (adopted, or its own create confirmed late): the nonces it carries are consumed once this plan is carried out. */
  consumesNonces?: boolean;
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

/**
 * Every field the desired value sets is in `live` with the same value (objects recursively;
 * arrays item by item, same length): Druid's copy adds defaults but says the same thing.
 * The druid-operator judged compaction configs this way.
 */
export function includes(live: JsonValue | undefined, desired: JsonValue): boolean {
  if (Array.isArray(desired)) return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => includes(live[i], d));
  if (desired !== null && typeof desired === "object") {
    if (live === null || typeof live !== "object" || Array.isArray(live) || live === undefined) return false;
    return Object.entries(desired).every(([k, v]) => includes((live as JsonObject)[k], v));
  }
  return live === desired;
}

/**
 * The druid-operator recorded the spec it submitted as compact sorted JSON in
 * status["currentIngestionSpec.json"]; when it equals the desired spec, what Druid runs is this
 * spec already. (Compared semantically: Go's encoder escapes HTML characters.)
 */
export function druidOperatorAppliedSame(status: DruidIngestionStatus, desired: DesiredIngestion): boolean {
  const previous = appliedSpecOf(status);
  // The druid-operator sent references as they are: what Druid runs is not what they stand for.
  if (!previous || desired.secretRefs.length > 0) return false;
  const { suspended: _flag, ...rest } = previous;
  return jsonEqual(rest, desired.body);
}

/** The hash of the spec last applied, as status says (a druid-operator takeover counts when the spec is the same). */
function appliedSpecHash(status: DruidIngestionStatus, record: AppliedRecord | undefined, desired: DesiredIngestion): { hash: string | undefined; takenOver: boolean } {
  if (status.specHash !== undefined) return { hash: status.specHash, takenOver: false };
  if (record?.origin === "DruidOperator" && druidOperatorAppliedSame(status, desired)) return { hash: desired.specHash, takenOver: true };
  return { hash: undefined, takenOver: false };
}

// ---------------------------------------------------------------------------------------------

/**
 * Under an enabled task autoscaler, Druid owns ioConfig.taskCount: a resubmission keeps the
 * count Druid scaled to (Druid 37+ honours a submitted taskCount; older versions reset it to the
 * autoscaler's start count whatever is sent), unless the resource itself changed taskCount.
 */
export function keepDruidOwnedValues(submission: JsonObject, desired: DesiredSupervisor, previous: JsonObject | undefined, live: LiveSupervisor | undefined): JsonObject {
  if (!live?.spec || druidOwnedPaths(desired.body).length === 0) return submission;
  const inner = submission["spec"];
  const nested = inner !== null && typeof inner === "object" && !Array.isArray(inner) && typeof inner["ioConfig"] === "object";
  const pointer = nested ? "/spec/ioConfig/taskCount" : "/ioConfig/taskCount";
  const liveCount = valueAt(live.spec, "/spec/ioConfig/taskCount") ?? valueAt(live.spec, "/ioConfig/taskCount");
  if (typeof liveCount !== "number") return submission;
  const wanted = valueAt(desired.body, pointer);
  // Without the previously applied spec it cannot be told whether the resource changed taskCount: send its value.
  if (previous === undefined || !jsonEqual(valueAt(previous, pointer) ?? null, wanted ?? null)) return submission;
  const copy = structuredClone(submission);
  const ioConfig = (nested ? (copy["spec"] as JsonObject)["ioConfig"] : copy["ioConfig"]) as JsonObject | undefined;
  if (ioConfig) ioConfig["taskCount"] = liveCount;
  return copy;
}

/**
 * Druid's copy holds another value where the spec references a Secret key: the value was rotated,
 * edited in Druid, or sent unresolved by another tool. Only a string Druid holds is compared (at
 * the reference's place or its top-level twin): a property Druid dropped or converted cannot be
 * compared, and resending would change nothing.
 */
export function secretValuesDiffer(live: JsonObject, desired: DesiredIngestion, values: ReadonlyMap<string, string> | undefined): boolean {
  if (!values) return false;
  return desired.secretRefs.some((ref) => {
    const wanted = values.get(`${ref.name}/${ref.key}`);
    if (wanted === undefined) return false;
    const held = [ref.pointer, ref.pointer.replace(/^\/spec(?=\/)/, "")].map((p) => valueAt(live, p)).find((v) => typeof v === "string" || (v !== undefined && v !== null && typeof v === "object" && "secretKeyRef" in v));
    return held !== undefined && held !== wanted;
  });
}

/** Refused: the change would move a running supervisor to another stream or type. */
function unsafeChangeRefused(changes: readonly UnsafeChange[], inDruid: boolean, druidVersion: string, recreateAsked: boolean): Failure {
  const type = changes.some((c) => c.kind === "type");
  const what = describeUnsafeChanges(changes);
  const druid = druidMajorVersion(druidVersion) >= 34 ? `Druid ${druidVersion} refuses such an update` : `Druid ${druidVersion} would take it, ignore the stored offsets of the old ${type ? "type" : "stream"}, and its tasks would fail to publish until a hard reset`;
  const where = inDruid ? `Druid holds a spec edited there (${what}, from what Druid runs to what the resource says)` : `the spec changes ${what}`;
  const how = inDruid
    ? "Change the resource to what Druid runs, or undo the edit in Druid (a recreate is never used to undo an edit made in Druid)"
    : recreateAsked
      ? "spec.unsafeChangePolicy: Recreate applies only to a supervisor this resource created and applied (not one adopted): revert the change, or move to a new supervisor id or datasource"
      : "Revert the change, or set spec.unsafeChangePolicy: Recreate to suspend the supervisor, wait for its tasks to publish, reset its offsets, terminate it and create it anew (it then reads the new " + (type ? "source" : "stream") + " from its ioConfig.useEarliestOffset end)";
  return {
    reason: type ? "TypeChangeRefused" : "StreamChangeRefused",
    message: `${where}: a running supervisor cannot move to another ${type ? "supervisor type" : "topic or stream"} in place; ${druid}. Nothing was sent. ${how}`,
  };
}

export function planSupervisor(input: PlanInput & { desired: DesiredSupervisor }): Plan {
  const { ingestion, desired, observed, record, ignored } = input;
  const status = ingestion.status ?? {};
  const wantSuspended = wantsSuspended(ingestion, desired);
  const id = desired.supervisorId;
  const live = observed.supervisor;

  if (desired.explicitId && id !== desired.dataSource && !supportsExplicitSupervisorId(observed.druidVersion)) {
    return {
      actions: [],
      failure: {
        reason: "SupervisorIdUnsupported",
        message: `the spec names supervisor id "${id}" but Druid ${observed.druidVersion} only supports supervisor id = dataSource ("${desired.dataSource}"); remove the top-level id or upgrade Druid to 34 or newer`,
      },
    };
  }

  // Nothing recorded means nothing applied here, whatever older status fields say.
  const applied = input.holding === "create" ? { hash: undefined, takenOver: false } : appliedSpecHash(status, record, desired);
  // A changed set of ignored paths makes the recorded hash of Druid's copy incomparable: re-baseline.
  const baseline = sameIgnoredPaths(status.driftIgnorePaths, ignored) ? status.druidSpecHash : undefined;
  const liveHash = live?.spec ? liveSupervisorSpecHash(live.spec, ignored) : live ? baseline : undefined;
  const hashed = decideApply(desired.specHash, applied.hash, baseline, liveHash);
  // The places of Secret references are out of every hash: compared by value here (a rotation).
  const decision = hashed === "none" && live?.spec && secretValuesDiffer(live.spec, desired, input.secretValues) ? "Updated" : hashed;
  const actions: DruidAction[] = [];
  // At most once per nonce: one whose reset may already have happened is not sent again.
  const nonce = actionableNonce(RESET, ingestion);
  const submission = (): JsonObject => keepDruidOwnedValues(supervisorSubmission(desired, wantSuspended), desired, appliedSpecOf(status), live);

  // Another stream or type: Druid cannot carry the read position over (spec-checks.ts). Observe
  // only reports (its plan is what managing would do); nothing here is sent under it.
  const unsafe = input.policy !== "Observe" && (decision === "Updated" || decision === "DriftCorrected") && live?.spec ? unsafeChanges(live.spec, desired.body) : [];
  if (unsafe.length > 0) {
    // A recreate resets offsets: only of a supervisor this resource applied, for its own edit
    // (never one adopted, nor to undo an edit made in Druid: a person made it, a person decides).
    const ours = input.holding === "owned" && status.specHash !== undefined && decision === "Updated";
    if (ingestion.spec.unsafeChangePolicy !== "Recreate" || !ours) return { actions: [], failure: unsafeChangeRefused(unsafe, decision === "DriftCorrected", observed.druidVersion, ingestion.spec.unsafeChangePolicy === "Recreate") };
    // Suspended first, and nothing more until its tasks have published what they read and
    // stopped (Druid commits their offsets when they publish: a reset before that would be
    // overwritten with the old stream's). Then reset while it still exists (the offsets go with
    // it), terminate, and a new supervisor reads the new stream from its configured end.
    if (!live?.suspended) return { actions: [{ kind: "suspendSupervisor", supervisorId: id }] };
    if (observed.tasksLeft === undefined || observed.tasksLeft > 0) {
      const left = observed.tasksLeft === undefined ? "its tasks could not be counted (GET /supervisor/<id>/status)" : `${observed.tasksLeft} of its tasks are still reading or publishing`;
      return { actions: [], failure: { reason: "Recreating", message: `recreating supervisor ${id} for ${describeUnsafeChanges(unsafe)}: suspended; ${left}, so its offsets are reset, and it is terminated and created anew, once they are done`, transient: true } };
    }
    actions.push({ kind: "resetSupervisor", supervisorId: id, cause: "Recreate" });
    actions.push({ kind: "terminateSupervisor", supervisorId: id, cause: "Recreate" });
    actions.push({ kind: "submitSupervisor", supervisorId: id, spec: supervisorSubmission(desired, wantSuspended), cause: "Recreated", anew: true });
    return withParts({ actions }, input);
  }
  let offsetsResetHeld: Failure | undefined;
  // A supervisor this resource comes to hold now (its own create confirmed late, or adopted):
  // a nonce already there is consumed, not acted on, as for a supervisor it creates.
  const takesHold = input.holding !== "owned" && decision !== "Created" && decision !== "Recreated";
  if (decision === "Created" || decision === "Recreated") {
    // A brand-new supervisor has no offsets to reset: a pending nonce is simply consumed.
    actions.push({ kind: "submitSupervisor", supervisorId: id, spec: supervisorSubmission(desired, wantSuspended), cause: decision });
  } else {
    const liveSuspended = live?.suspended === true;
    const resuming = liveSuspended && !wantSuspended;
    const resetOnResume = resuming && ingestion.spec.resetOnResume === true;
    if (resetOnResume) actions.push({ kind: "resetSupervisor", supervisorId: id, cause: "ResetOnResume" });
    if (decision !== "none") {
      actions.push({ kind: "submitSupervisor", supervisorId: id, spec: submission(), cause: decision });
    } else if (wantSuspended && !liveSuspended) {
      actions.push({ kind: "suspendSupervisor", supervisorId: id });
    } else if (resuming) {
      actions.push({ kind: "resumeSupervisor", supervisorId: id });
    }
    if (nonce && !resetOnResume && !takesHold) actions.push({ kind: "resetSupervisor", supervisorId: id, cause: "ResetNonce" });
    // Alone, once Druid has taken the other steps: the offsets go on top of what those leave
    // (Druid takes a reset as a notice, and restarts tasks for an update, asynchronously). A
    // request that cannot go out holds nothing else back (a suspend, an update).
    const offsetsNonce = takesHold ? undefined : actionableNonce(RESET_OFFSETS, ingestion);
    if (offsetsNonce && ingestion.spec.resetOffsets) {
      const step = offsetResetStep({ reset: ingestion.spec.resetOffsets, nonce: offsetsNonce, supervisorId: id, desired: desired.body, live, druidVersion: observed.druidVersion, wantSuspended, othersFirst: actions.length > 0 });
      if (step.kind === "send") actions.push(step.action);
      else offsetsResetHeld = step.failure;
    }
  }
  return withParts({ actions, ...(applied.takenOver && decision === "none" ? { specTakenOver: true } : {}), ...(offsetsResetHeld ? { offsetsResetHeld } : {}), ...(takesHold ? { consumesNonces: true } : {}) }, input);
}

export function planTask(input: PlanInput & { desired: DesiredTask }): Plan {
  const { ingestion, desired, observed, record } = input;
  const status = ingestion.status ?? {};
  const applied = appliedSpecHash(status, record, desired);
  const newRun = record?.taskId === undefined || applied.hash !== desired.specHash || newNonce(RESET, ingestion) !== undefined;
  const actions: DruidAction[] = [];
  const offsetsNonce = newNonce(RESET_OFFSETS, ingestion);
  if (offsetsNonce) {
    return {
      actions: [],
      failure: { reason: "ResetOffsetsUnsupported", message: `spec.resetOffsetsNonce "${offsetsNonce}": ${desired.type} runs a task, which has no stored offsets to reset (they are a stream supervisor's); nothing was sent. Remove spec.resetOffsetsNonce and spec.resetOffsets` },
    };
  }
  const hadoop = desired.type === "index-hadoop" || desired.body["type"] === "index_hadoop";
  if (newRun && hadoop && !supportsHadoopIngestion(observed.druidVersion)) {
    return {
      actions: [],
      failure: {
        reason: "HadoopIngestionRemoved",
        message: `Druid ${observed.druidVersion} has no Hadoop-based ingestion (removed in Druid 37): nothing was sent. Rewrite the spec as native batch (type native-batch, an index_parallel task) or SQL-based ingestion (type sql), or run it against Druid 36 or older`,
      },
    };
  }
  if (newRun) {
    if (desired.explicitId && record?.taskId === desired.taskId) {
      return {
        actions: [],
        failure: {
          reason: "TaskIdInUse",
          message: `the spec names task id "${desired.taskId}", which Druid already used for the previous run of this resource; a task id can be used once: change or remove the id to run the new spec`,
        },
      };
    }
    // A new spec (or a new resetNonce) means a new run. Stop the previous run first so two
    // versions never write the same datasource at once.
    if (record?.taskId && observed.task?.statusCode === "RUNNING") actions.push({ kind: "shutdownTask", taskId: record.taskId, cause: "Replaced" });
    actions.push({ kind: "submitTask", taskId: desired.taskId, spec: taskSubmission(desired), sql: desired.type === "sql", cause: record?.taskId ? "Updated" : "Created" });
  }
  return withParts({ actions, ...(applied.takenOver && !newRun ? { specTakenOver: true } : {}) }, input);
}

export function planIngestion(input: PlanInput): Plan {
  return input.desired.kind === "supervisor" ? planSupervisor(input as PlanInput & { desired: DesiredSupervisor }) : planTask(input as PlanInput & { desired: DesiredTask });
}

// ---------------------------------------------------------------------------------------------
// Compaction config and retention rules of the datasource.

/** Druid holds a part this resource never applied: may it be taken over? */
function mayTakeOver(input: PlanInput, sameContent: boolean): boolean {
  if (input.policy === "Adopt") return true;
  // The druid-operator applied the spec's compaction and rules, to the datasource of the spec it
  // recorded: taken over once, at takeover (before this controller applied anything itself).
  const status = input.ingestion.status ?? {};
  if (input.record?.origin === "DruidOperator" && status.specHash === undefined && dataSourceOf(appliedSpecOf(status) ?? {}) === input.desired.dataSource) return true;
  // Our own lost create: only if Druid holds exactly what this resource would have sent.
  return sameContent && pendingFor(input.ingestion.status?.pendingCreate, input.desired.dataSource);
}

function pendingFor(pending: DruidIngestionStatus["pendingCreate"], dataSource: string | undefined): boolean {
  return pending?.dataSource !== undefined && pending.dataSource === dataSource;
}

function withParts(plan: Plan, input: PlanInput): Plan {
  const compaction = planCompaction(input);
  const rules = planRules(input);
  return {
    ...plan,
    actions: [...plan.actions, ...compaction.actions, ...rules.actions],
    ...(compaction.takenOver ? { compactionTakenOver: compaction.takenOver } : {}),
    ...(rules.takenOver ? { rulesTakenOver: rules.takenOver } : {}),
    ...(compaction.standDown ? { compactionStandDown: compaction.standDown } : {}),
    ...(rules.standDown ? { rulesStandDown: rules.standDown } : {}),
  };
}

interface PartPlan {
  actions: DruidAction[];
  takenOver?: TakenOver;
  standDown?: Failure;
}

/**
 * The status as far as it speaks for the desired datasource: the compaction/rules hashes are this
 * resource's only for the datasource its record names (a move cleans up any other first).
 */
function partsStatus(input: PlanInput): DruidIngestionStatus {
  const status = input.ingestion.status ?? {};
  if (input.record?.dataSource === input.desired.dataSource || (!status.compactionHash && !status.rulesHash)) return status;
  const { compactionHash: _c, druidCompactionHash: _dc, rulesHash: _r, druidRulesHash: _dr, ...rest } = status;
  return rest;
}

export function planCompaction(input: PlanInput): PartPlan {
  const { desired, observed } = input;
  const status = partsStatus(input);
  const dataSource = desired.dataSource;
  const live = observed.compaction;
  if (!desired.compaction || !dataSource) {
    // Compaction removed from the resource: remove what this resource put into Druid.
    if (status.compactionHash && dataSource && live !== undefined) return { actions: [{ kind: "deleteCompaction", dataSource, cause: "Unmanaged" }] };
    return { actions: [] };
  }
  const liveHash = live === undefined ? undefined : contentHash(live);
  if (status.compactionHash === undefined && live !== undefined) {
    if (!mayTakeOver(input, includes(live, desired.compaction.config))) {
      return {
        actions: [],
        standDown: {
          reason: "CompactionConfigExists",
          message: `datasource ${dataSource} already has a compaction config in Druid that this resource did not apply, so it is left as it is; set spec.managementPolicy: Adopt to manage it, or remove spec.ingestion.compaction`,
        },
      };
    }
    if (includes(live, desired.compaction.config)) return { actions: [], takenOver: { hash: desired.compaction.hash, liveHash: liveHash as string } };
    return { actions: [{ kind: "submitCompaction", dataSource, config: desired.compaction.config, cause: "Updated" }] };
  }
  const decision = decideApply(desired.compaction.hash, status.compactionHash, status.druidCompactionHash, liveHash);
  if (decision === "none") return { actions: [] };
  return { actions: [{ kind: "submitCompaction", dataSource, config: desired.compaction.config, cause: decision }] };
}

export function planRules(input: PlanInput): PartPlan {
  const { desired, observed } = input;
  const status = partsStatus(input);
  const dataSource = desired.dataSource;
  const live = observed.rules ?? [];
  if (!desired.rules || !dataSource) {
    if (status.rulesHash && dataSource && live.length > 0) return { actions: [{ kind: "clearRules", dataSource, cause: "Unmanaged" }] };
    return { actions: [] };
  }
  // Druid has no "absent" rules, only an empty list: an empty live list is absent unless we want [].
  const liveHash = live.length === 0 && desired.rules.rules.length > 0 ? undefined : contentHash(live);
  if (status.rulesHash === undefined && live.length > 0) {
    if (!mayTakeOver(input, includes(live, desired.rules.rules))) {
      return {
        actions: [],
        standDown: {
          reason: "RulesExist",
          message: `datasource ${dataSource} already has retention rules in Druid that this resource did not apply, so they are left as they are; set spec.managementPolicy: Adopt to manage them, or remove spec.ingestion.rules`,
        },
      };
    }
    if (includes(live, desired.rules.rules)) return { actions: [], takenOver: { hash: desired.rules.hash, liveHash: liveHash as string } };
    return { actions: [{ kind: "submitRules", dataSource, rules: desired.rules.rules, cause: "Updated" }] };
  }
  const decision = decideApply(desired.rules.hash, status.rulesHash, status.druidRulesHash, liveHash);
  if (decision === "none") return { actions: [] };
  return { actions: [{ kind: "submitRules", dataSource, rules: desired.rules.rules, cause: decision }] };
}

// ---------------------------------------------------------------------------------------------

/** What a plan creates that no record names yet: these are recorded as a pending create first. */
export function plannedCreates(plan: Plan, status: DruidIngestionStatus, record?: AppliedRecord): { supervisorId?: string; taskId?: string; dataSource?: string } | undefined {
  const creates: { supervisorId?: string; taskId?: string; dataSource?: string } = {};
  const partsOurs = (dataSource: string): boolean => record?.dataSource === dataSource;
  for (const a of plan.actions) {
    if (a.kind === "submitSupervisor" && a.cause === "Created") creates.supervisorId = a.supervisorId;
    if (a.kind === "submitTask") creates.taskId = a.taskId;
    if (a.kind === "submitCompaction" && (status.compactionHash === undefined || !partsOurs(a.dataSource))) creates.dataSource = a.dataSource;
    if (a.kind === "submitRules" && (status.rulesHash === undefined || !partsOurs(a.dataSource))) creates.dataSource = a.dataSource;
  }
  return Object.keys(creates).length > 0 ? creates : undefined;
}
