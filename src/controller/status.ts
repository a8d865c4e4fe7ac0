// From one reconcile's facts to the status the resource should show and the Events to emit.
// Pure. The caller patches status only when the result differs from what is stored.
import type { Condition, DruidIngestion, DruidIngestionStatus } from "../api/druid-ingestion.ts";
import type { LiveSupervisor, LiveTask } from "../druid/decode.ts";
import { COMPACTION_SYNCED, findCondition, READY, removeCondition, RULES_SYNCED, setCondition, SUSPENDED, SYNCED, type ConditionUpdate } from "./conditions.ts";
import { liveSupervisorSpecHash, type DruidAction } from "./plan.ts";
import type { DesiredIngestion } from "./render.ts";

export interface Failure {
  reason: string;
  message: string;
  /** Transient failures (Druid unreachable) leave Ready Unknown instead of False. */
  transient?: boolean;
}

export interface Outcome {
  /** Actions Druid confirmed, in order. */
  executed: DruidAction[];
  /** The action that failed, if any (later actions were not tried). */
  failed?: { action: DruidAction; failure: Failure };
  /** Hashes of Druid's copies read back right after an apply. */
  druidSpecHash?: string;
  druidCompactionHash?: string;
  druidRulesHash?: string;
}

export interface StatusFacts {
  ingestion: DruidIngestion;
  now: string;
  desired?: DesiredIngestion;
  /** A failure before any Druid action (schema, spec, Secret, endpoint, observing Druid, plan). */
  failure?: Failure;
  adopted?: boolean;
  outcome?: Outcome;
  supervisor?: LiveSupervisor | undefined;
  task?: LiveTask | undefined;
  druidEndpoint?: string;
  druidVersion?: string;
  configMapName?: string;
  paused?: boolean;
}

export interface EventRecord {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

const HEALTHY_RUNNING_STATES = new Set(["RUNNING", "IDLE"]);

function readyForSupervisor(live: LiveSupervisor | undefined, wantSuspended: boolean): ConditionUpdate {
  if (!live) return { type: READY, status: "Unknown", reason: "Pending", message: "waiting for Druid to report the supervisor" };
  const detail = live.detailedState && live.detailedState !== live.state ? ` (${live.detailedState})` : "";
  const state = live.state ?? "UNKNOWN";
  if (live.suspended || state === "SUSPENDED") {
    return wantSuspended
      ? { type: READY, status: "True", reason: "Suspended", message: "the supervisor is suspended, as requested" }
      : { type: READY, status: "False", reason: "Suspended", message: "the supervisor is suspended in Druid but spec.suspend is false" };
  }
  if (HEALTHY_RUNNING_STATES.has(state) && live.healthy !== false) {
    return { type: READY, status: "True", reason: state === "IDLE" ? "Idle" : "Running", message: `the supervisor is ${state}${detail}` };
  }
  if (state === "PENDING") return { type: READY, status: "False", reason: "Pending", message: `the supervisor is starting${detail}` };
  if (state === "STOPPING") return { type: READY, status: "False", reason: "Stopping", message: `the supervisor is stopping${detail}` };
  return { type: READY, status: "False", reason: "Unhealthy", message: `the supervisor is ${state}${detail}; see the Druid console or GET /druid/indexer/v1/supervisor/<id>/status for its recent errors` };
}

function readyForTask(task: LiveTask | undefined): ConditionUpdate {
  if (!task) return { type: READY, status: "Unknown", reason: "Pending", message: "waiting for Druid to report the task" };
  if (task.statusCode === "SUCCESS") return { type: READY, status: "True", reason: "Succeeded", message: "the task succeeded" };
  if (task.statusCode === "FAILED") {
    return { type: READY, status: "False", reason: "TaskFailed", message: `the task failed${task.errorMsg ? `: ${task.errorMsg}` : ""}; change the spec or set a new spec.resetNonce to run it again` };
  }
  const runner = task.runnerStatusCode && task.runnerStatusCode !== "RUNNING" ? ` (${task.runnerStatusCode})` : "";
  return { type: READY, status: "False", reason: "TaskRunning", message: `the task is running${runner}` };
}

function changesDruidState(action: DruidAction): boolean {
  return action.kind === "submitSupervisor" || action.kind === "suspendSupervisor" || action.kind === "resumeSupervisor" || action.kind === "submitTask" || action.kind === "resetSupervisor";
}

function describeSynced(desired: DesiredIngestion, adopted: boolean): string {
  const what = desired.kind === "supervisor" ? `supervisor ${desired.supervisorId}` : `task ${desired.taskId}`;
  return `${what} matches spec hash ${desired.specHash.slice(0, 12)}${adopted ? " (taken over from an earlier controller)" : ""}`;
}

export function nextStatus(facts: StatusFacts): DruidIngestionStatus {
  const { ingestion, now, desired, outcome } = facts;
  const old = ingestion.status ?? {};
  const generation = ingestion.metadata.generation;
  const next: DruidIngestionStatus = { ...old, observedGeneration: generation };
  let conditions: Condition[] = old.conditions ?? [];
  const set = (u: ConditionUpdate): void => {
    conditions = setCondition(conditions, u, generation, now);
  };

  if (facts.druidEndpoint !== undefined) next.druidEndpoint = facts.druidEndpoint;
  if (facts.druidVersion !== undefined) next.druidVersion = facts.druidVersion;
  if (facts.configMapName !== undefined) next.configMapName = facts.configMapName;

  if (facts.paused) {
    set({ type: SYNCED, status: "False", reason: "ReconcilePaused", message: "reconciliation is paused by the ingestion.druid.apache.org/paused annotation; nothing is changed in Druid or Kubernetes" });
    return finish(next, conditions, old, now);
  }

  const failure = facts.failure ?? outcome?.failed?.failure;
  const executed = outcome?.executed ?? [];

  if (desired && !facts.failure) {
    recordApplied(next, ingestion, desired, executed, outcome, facts.supervisor);
  }
  if (desired?.kind === "supervisor") {
    next.supervisorId = desired.supervisorId;
    next.taskId = desired.supervisorId;
  }

  // Live state as observed before this reconcile's actions.
  if (desired?.kind === "supervisor" || facts.supervisor) {
    next.state = facts.supervisor?.state;
    next.detailedState = facts.supervisor?.detailedState;
    next.healthy = facts.supervisor?.healthy;
    delete next.taskStatus;
  } else if (desired?.kind === "task") {
    // After a new submission the observed task is the previous run: its state is not ours.
    const task = executed.some((a) => a.kind === "submitTask") ? undefined : facts.task;
    next.taskStatus = task?.statusCode;
    next.state = task ? (task.statusCode === "RUNNING" ? (task.runnerStatusCode ?? "RUNNING") : task.statusCode) : undefined;
    delete next.detailedState;
    delete next.healthy;
  }

  if (failure) {
    set({ type: SYNCED, status: "False", reason: failure.reason, message: failure.message });
    set(failure.transient ? { type: READY, status: "Unknown", reason: failure.reason, message: failure.message } : { type: READY, status: "False", reason: failure.reason, message: failure.message });
  } else if (desired) {
    set({ type: SYNCED, status: "True", reason: "Synced", message: describeSynced(desired, facts.adopted === true) });
    const applying = executed.filter(changesDruidState);
    if (applying.length > 0) {
      set({ type: READY, status: "Unknown", reason: "Applying", message: `waiting for Druid to report the state after ${applying.map((a) => a.kind).join(", ")}` });
    } else if (desired.kind === "supervisor") {
      set(readyForSupervisor(facts.supervisor, ingestion.spec.suspend === true));
    } else {
      set(readyForTask(facts.task));
    }
  }

  if (desired?.kind === "supervisor" && !facts.failure) {
    const suspendedNow = suspendedAfter(facts.supervisor?.suspended === true, executed, ingestion.spec.suspend === true);
    set(suspendedNow
      ? { type: SUSPENDED, status: "True", reason: "Suspended", message: "the supervisor is suspended in Druid" }
      : { type: SUSPENDED, status: "False", reason: "Running", message: "the supervisor is not suspended" });
  } else if (desired?.kind === "task") {
    conditions = removeCondition(conditions, SUSPENDED);
  }

  if (desired && !facts.failure) {
    conditions = partCondition(conditions, COMPACTION_SYNCED, desired.compaction !== undefined, "compaction config", outcome, "submitCompaction", generation, now);
    conditions = partCondition(conditions, RULES_SYNCED, desired.rules !== undefined, "retention rules", outcome, "submitRules", generation, now);
  }

  // druid-operator compatible summary fields mirror the Synced condition.
  const synced = findCondition(conditions, SYNCED);
  if (synced) {
    next.type = synced.reason;
    next.reason = synced.reason;
    next.status = synced.status;
    next.message = synced.message;
  }
  return finish(next, conditions, old, now);
}

function suspendedAfter(liveSuspended: boolean, executed: DruidAction[], wantSuspended: boolean): boolean {
  let suspended = liveSuspended;
  for (const a of executed) {
    if (a.kind === "suspendSupervisor") suspended = true;
    if (a.kind === "resumeSupervisor") suspended = false;
    if (a.kind === "submitSupervisor") suspended = wantSuspended;
  }
  return suspended;
}

function partCondition(conditions: Condition[], type: string, managed: boolean, what: string, outcome: Outcome | undefined, submitKind: DruidAction["kind"], generation: number, now: string): Condition[] {
  const failed = outcome?.failed;
  if (failed && (failed.action.kind === submitKind || (submitKind === "submitCompaction" && failed.action.kind === "deleteCompaction"))) {
    return setCondition(conditions, { type, status: "False", reason: failed.failure.reason, message: failed.failure.message }, generation, now);
  }
  if (!managed) return removeCondition(conditions, type);
  if (failed) {
    return setCondition(conditions, { type, status: "Unknown", reason: "NotAttempted", message: `the ${what} were not applied because an earlier step failed` }, generation, now);
  }
  return setCondition(conditions, { type, status: "True", reason: "Synced", message: `the ${what} in Druid match the spec` }, generation, now);
}

/** Moves hashes and ids into status for what Druid confirmed. */
function recordApplied(next: DruidIngestionStatus, ingestion: DruidIngestion, desired: DesiredIngestion, executed: DruidAction[], outcome: Outcome | undefined, live: LiveSupervisor | undefined): void {
  const failedKind = outcome?.failed?.action.kind;
  const mainFailed = failedKind === "submitSupervisor" || failedKind === "submitTask" || failedKind === "shutdownTask";
  const submitted = executed.find((a) => a.kind === "submitSupervisor" || a.kind === "submitTask");
  if (!mainFailed) {
    next.specHash = desired.specHash;
    next["currentIngestionSpec.json"] = desired.canonical;
    if (desired.kind === "task") next.taskId = desired.taskId;
    if (outcome?.druidSpecHash) next.druidSpecHash = outcome.druidSpecHash;
    else if (!submitted && next.druidSpecHash === undefined && live?.spec) next.druidSpecHash = liveSupervisorSpecHash(live.spec);
  }
  const nonce = ingestion.spec.resetNonce;
  const resetDone = executed.some((a) => a.kind === "resetSupervisor");
  const freshSupervisor = submitted?.kind === "submitSupervisor" && (submitted.cause === "Created" || submitted.cause === "Recreated");
  if (nonce && (resetDone || freshSupervisor || submitted?.kind === "submitTask")) next.lastResetNonce = nonce;

  for (const a of executed) {
    if (a.kind === "submitCompaction") {
      next.compactionHash = desired.compaction?.hash;
      if (outcome?.druidCompactionHash) next.druidCompactionHash = outcome.druidCompactionHash;
    }
    if (a.kind === "deleteCompaction") {
      delete next.compactionHash;
      delete next.druidCompactionHash;
    }
    if (a.kind === "submitRules") {
      if (a.cause === "Cleared") {
        delete next.rulesHash;
        delete next.druidRulesHash;
        delete next.rules;
      } else {
        next.rulesHash = desired.rules?.hash;
        next.rules = desired.rules?.rules;
        if (outcome?.druidRulesHash) next.druidRulesHash = outcome.druidRulesHash;
      }
    }
  }
}

function finish(next: DruidIngestionStatus, conditions: Condition[], old: DruidIngestionStatus, now: string): DruidIngestionStatus {
  next.conditions = conditions;
  for (const key of Object.keys(next) as Array<keyof DruidIngestionStatus>) {
    if (next[key] === undefined) delete next[key];
  }
  const { lastUpdateTime: _a, ...a } = next;
  const { lastUpdateTime: _b, ...b } = old;
  next.lastUpdateTime = JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b)) && old.lastUpdateTime ? old.lastUpdateTime : now;
  return next;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
}

export function statusEquals(a: DruidIngestionStatus | undefined, b: DruidIngestionStatus): boolean {
  return JSON.stringify(sortKeys(a ?? {})) === JSON.stringify(sortKeys(b));
}

// ---------------------------------------------------------------------------------------------

const ACTION_EVENTS: Record<DruidAction["kind"], (a: never) => EventRecord> = {
  submitSupervisor: (a: Extract<DruidAction, { kind: "submitSupervisor" }>) => ({
    type: "Normal",
    reason: a.cause === "DriftCorrected" ? "DriftCorrected" : a.cause,
    message: {
      Created: `created supervisor ${a.supervisorId} in Druid`,
      Recreated: `supervisor ${a.supervisorId} was missing in Druid; created it again`,
      Updated: `updated supervisor ${a.supervisorId} in Druid to the new spec`,
      DriftCorrected: `supervisor ${a.supervisorId} was changed in Druid outside this resource; restored the spec`,
    }[a.cause],
  }),
  suspendSupervisor: (a: Extract<DruidAction, { kind: "suspendSupervisor" }>) => ({ type: "Normal", reason: "Suspended", message: `suspended supervisor ${a.supervisorId}` }),
  resumeSupervisor: (a: Extract<DruidAction, { kind: "resumeSupervisor" }>) => ({ type: "Normal", reason: "Resumed", message: `resumed supervisor ${a.supervisorId}` }),
  resetSupervisor: (a: Extract<DruidAction, { kind: "resetSupervisor" }>) => ({
    type: "Normal",
    reason: "Reset",
    message: `reset supervisor ${a.supervisorId} (${a.cause === "ResetNonce" ? "new spec.resetNonce" : "resetOnResume"})`,
  }),
  terminateSupervisor: (a: Extract<DruidAction, { kind: "terminateSupervisor" }>) => ({ type: "Normal", reason: "Terminated", message: `terminated supervisor ${a.supervisorId} in Druid` }),
  submitTask: (a: Extract<DruidAction, { kind: "submitTask" }>) => ({ type: "Normal", reason: a.cause === "Created" ? "Created" : "Updated", message: `submitted task ${a.taskId}` }),
  shutdownTask: (a: Extract<DruidAction, { kind: "shutdownTask" }>) => ({ type: "Normal", reason: "TaskShutdown", message: `shut down task ${a.taskId}` }),
  submitCompaction: (a: Extract<DruidAction, { kind: "submitCompaction" }>) => ({ type: "Normal", reason: "CompactionUpdated", message: `applied the compaction config of datasource ${a.dataSource}${a.cause === "DriftCorrected" ? " (it was changed in Druid)" : ""}` }),
  deleteCompaction: (a: Extract<DruidAction, { kind: "deleteCompaction" }>) => ({ type: "Normal", reason: "CompactionDeleted", message: `removed the compaction config of datasource ${a.dataSource}` }),
  submitRules: (a: Extract<DruidAction, { kind: "submitRules" }>) =>
    a.cause === "Cleared"
      ? { type: "Normal", reason: "RulesCleared", message: `cleared the retention rules of datasource ${a.dataSource}` }
      : { type: "Normal", reason: "RulesUpdated", message: `applied ${a.rules.length} retention rule(s) to datasource ${a.dataSource}${a.cause === "DriftCorrected" ? " (they were changed in Druid)" : ""}` },
};

export function eventForAction(action: DruidAction): EventRecord {
  return (ACTION_EVENTS[action.kind] as (a: DruidAction) => EventRecord)(action);
}

/** Events for one reconcile: one per Druid change, one per new failure, one on recovery. */
export function eventsFor(old: DruidIngestionStatus | undefined, next: DruidIngestionStatus, outcome: Outcome | undefined, adopted: boolean): EventRecord[] {
  const events = (outcome?.executed ?? []).map(eventForAction);
  if (adopted) events.unshift({ type: "Normal", reason: "Adopted", message: `took over ${next.supervisorId ? `supervisor ${next.supervisorId}` : `task ${next.taskId}`} without resubmitting: Druid already runs this spec` });
  const before = findCondition(old?.conditions, SYNCED);
  const after = findCondition(next.conditions, SYNCED);
  if (after && after.status !== "True" && (before?.reason !== after.reason || before?.message !== after.message)) {
    events.push({ type: after.reason === "ReconcilePaused" ? "Normal" : "Warning", reason: after.reason, message: after.message });
  }
  if (after?.status === "True" && before && before.status !== "True" && before.reason !== "ReconcilePaused") {
    events.push({ type: "Normal", reason: "Synced", message: `recovered: ${after.message}` });
  }
  return events;
}

