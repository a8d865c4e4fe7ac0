// From one reconcile's facts to the status the resource should show and the Events to emit.
// Pure. The ownership record moves here, and only here: it names what Druid accepted (a
// confirmed create, a takeover), loses what a confirmed removal took away, and is never set from
// what the resource merely asks for. The caller patches status only when the result differs.
import type { AppliedRecord, Condition, DruidIngestion, DruidIngestionStatus, PendingCreate, RecentError, RollbackRecord } from "../api/druid-ingestion.ts";
import type { LiveSupervisor, LiveTask, SupervisorHealth } from "../druid/decode.ts";
import type { EventRecord } from "../kube/events.ts";
import type { DruidClient } from "../druid/client.ts";
import { jsonEqual } from "./canonical-json.ts";
import { COMPACTION_SYNCED, CONFIGMAP_SYNCED, findCondition, HEALTHY, OFFSETS_RESET_APPLIED, READY, removeCondition, RULES_SYNCED, setCondition, SUSPENDED, SYNCED, type ConditionUpdate } from "./conditions.ts";
import { liveSupervisorSpecHash, sameIgnoredPaths } from "./drift.ts";
import { nextStatusLag, type LagReading } from "./lag.ts";
import { createsSupervisor, MAX_STATUS_COPY_BYTES, type DruidAction, type Failure, type Outcome } from "./model.ts";
import { askedNonce, dropStaleIntents, NONCE_REQUESTS, RESET_OFFSETS, settleNonces, unconfirmed, type NonceRequest } from "./nonces.ts";
import { describePartitionOffsets } from "./offset-reset.ts";
import { describeRecord, pendingMatches, type OwnershipDecision, type Removal, type Target } from "./ownership.ts";
import type { Observed, Plan } from "./plan.ts";
import { wantsSuspended, type DesiredIngestion } from "./render.ts";
import { nextLastKnownGood } from "./rollback.ts";

export { MAX_STATUS_COPY_BYTES };

export interface StatusFacts {
  ingestion: DruidIngestion;
  now: string;
  paused?: boolean;
  /** A stage stopped before any Druid action (schema, spec, endpoint, Secret, finalizer, observing, plan). */
  stop?: Failure;
  desired?: DesiredIngestion;
  target?: Target;
  druidVersion?: string;
  configMap?: { name: string; failure?: Failure };
  /** The record this reconcile started from (druid-operator and older forms resolved). */
  record?: AppliedRecord | undefined;
  decision?: OwnershipDecision;
  plan?: Plan;
  observed?: Observed;
  outcome?: Outcome;
  /** Paths left out of drift detection, as used this reconcile. */
  ignored?: readonly string[];
  /** For a move: what was to be removed or let go of. */
  removal?: Removal;
  /** A pending create for another target, resolved this reconcile (what it made removed, or nothing there). */
  staleCreate?: PendingCreate;
  /** The lag poller's last reading of the supervisor, and the lag period (absent: lag is not read). */
  lag?: { reading: LagReading | null | undefined; periodMs: number };
  /** This generation is held back at the last known good (rollback.ts): what is applied is that spec. */
  heldBack?: RollbackRecord;
  /** A rollback decided this reconcile (the next one applies the last known good). */
  rollback?: RollbackRecord;
  /** Where the supervisor this resource stands for is read (not used for status: the lag poller's registration). */
  lagTarget?: { client: Pick<DruidClient, "supervisorHealth">; supervisorId: string };
}

const HEALTHY_RUNNING_STATES = new Set(["RUNNING", "IDLE"]);
/** Actions on the datasource's compaction config and on its rules, not on the supervisor. */
const COMPACTION_ACTIONS: ReadonlyArray<DruidAction["kind"]> = ["submitCompaction", "deleteCompaction"];
const RULES_ACTIONS: ReadonlyArray<DruidAction["kind"]> = ["submitRules", "clearRules"];
const PART_ACTIONS: ReadonlySet<DruidAction["kind"]> = new Set([...COMPACTION_ACTIONS, ...RULES_ACTIONS]);

/** Druid reports the supervisor and it is not suspended (by its stored flag or its state): its lag means something. */
export function supervisorRuns(live: LiveSupervisor | undefined): live is LiveSupervisor {
  return live !== undefined && !live.suspended && live.state !== "SUSPENDED";
}

function readyForSupervisor(live: LiveSupervisor | undefined, wantSuspended: boolean): ConditionUpdate {
  if (!live) return { type: READY, status: "Unknown", reason: "Pending", message: "waiting for Druid to report the supervisor" };
  const detail = live.detailedState && live.detailedState !== live.state ? ` (${live.detailedState})` : "";
  const state = live.state ?? "UNKNOWN";
  if (live.suspended || state === "SUSPENDED") {
    return wantSuspended
      ? { type: READY, status: "True", reason: "Suspended", message: "the supervisor is suspended, as requested" }
      : { type: READY, status: "False", reason: "Suspended", message: "the supervisor is suspended in Druid but the resource asks it to run" };
  }
  if (HEALTHY_RUNNING_STATES.has(state) && live.healthy !== false) {
    return { type: READY, status: "True", reason: state === "IDLE" ? "Idle" : "Running", message: `the supervisor is ${state}${detail}` };
  }
  if (state === "PENDING") return { type: READY, status: "False", reason: "Pending", message: `the supervisor is starting${detail}` };
  if (state === "STOPPING") return { type: READY, status: "False", reason: "Stopping", message: `the supervisor is stopping${detail}` };
  return { type: READY, status: "False", reason: "Unhealthy", message: `the supervisor is ${state}${detail}; see the Druid console or GET /druid/indexer/v1/supervisor/<id>/status for its recent errors` };
}

/**
 * UNABLE_TO_CONNECT_TO_STREAM → UnableToConnectToStream: a condition reason in Kubernetes' form
 * (a letter first, letters and digits, at most 64 characters here), whatever the state's text.
 */
export function reasonOf(druidState: string): string {
  const camel = druidState.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
  if (camel === "") return "Unhealthy";
  return (/^[A-Za-z]/.test(camel) ? camel : `State${camel}`).slice(0, 64);
}

/** Status' copy of Druid's recent errors (fields Druid left out are left out). */
function recentErrorsOf(health: SupervisorHealth): RecentError[] {
  return health.recentErrors.map((e) => ({ ...(e.timestamp ? { timestamp: e.timestamp } : {}), ...(e.exceptionClass ? { exceptionClass: e.exceptionClass } : {}), message: e.message }));
}

/**
 * Healthy, from Druid's own flag; False names Druid's state and its newest error, so the reason
 * to page is on the resource (and in the Warning Event), not only in the Druid console.
 */
export function healthyCondition(live: LiveSupervisor | undefined, errors: readonly RecentError[] | undefined, errorsUnread = false): ConditionUpdate {
  if (!live) return { type: HEALTHY, status: "Unknown", reason: "NotReported", message: "Druid does not report the supervisor (yet)" };
  const detail = live.detailedState && live.detailedState !== live.state ? ` (${live.detailedState})` : "";
  const state = live.state ?? "UNKNOWN";
  // A suspended supervisor runs nothing: Druid may keep an old UNHEALTHY_TASKS until tasks run
  // again, which is no reason to page (Ready says whether suspended is what the resource asks).
  if (live.suspended) return { type: HEALTHY, status: "True", reason: "Suspended", message: `the supervisor is suspended and runs nothing${live.healthy === false ? ` (Druid still reports ${state}${detail} from before)` : ""}` };
  if (live.healthy === undefined) return { type: HEALTHY, status: "Unknown", reason: "NotReported", message: `Druid reports the supervisor ${state}${detail} without saying whether it is healthy` };
  if (live.healthy) return { type: HEALTHY, status: "True", reason: "Healthy", message: `Druid reports the supervisor healthy: ${state}${detail}` };
  // No timestamp here: the message (and so the Event) is the same for one incident; status.recentErrors has the times.
  const newest = errors?.[0];
  const error = newest
    ? `; its newest error: ${newest.exceptionClass ? `${newest.exceptionClass}: ` : ""}${newest.message}`
    : errorsUnread
      ? "; its recent errors could not be read (GET /druid/indexer/v1/supervisor/<id>/status failed), they are asked again at the next resync"
      : "; Druid gave no error text";
  return { type: HEALTHY, status: "False", reason: reasonOf(live.detailedState ?? state), message: `Druid reports the supervisor unhealthy: ${state}${detail}${error}` };
}

/** Health is not known while nothing is observed (paused, or stopped before or while reading Druid). */
function healthUnknown(next: DruidIngestionStatus, why: string): ConditionUpdate {
  delete next.healthy;
  delete next.recentErrors;
  delete next.lag;
  return { type: HEALTHY, status: "Unknown", reason: "NotObserved", message: `not known: ${why}` };
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

/**
 * True for the states a supervisor passes through on its way somewhere (worth looking again soon).
 * With its stored flag known: Druid 33 shows a supervisor created suspended as PENDING, then
 * RUNNING (CONNECTING_TO_STREAM), and only then SUSPENDED; and a resumed one SUSPENDED a moment.
 */
export function isTransitional(live: (Pick<LiveSupervisor, "state" | "detailedState"> & { suspended?: boolean }) | undefined): boolean {
  if (live === undefined || live.state === undefined) return true;
  if (live.state === "PENDING" || live.state === "STOPPING" || live.detailedState === "CREATING_TASKS") return true;
  return (live.suspended === true && live.state === "RUNNING") || (live.suspended === false && live.state === "SUSPENDED");
}

/**
 * True while the status reports a supervisor on its way somewhere: the next reading must be
 * recent, not the shared list of up to a resync ago. Ready alone does not say it: a supervisor
 * created suspended is Ready (Suspended, as asked) while Druid still reports it PENDING.
 */
export function awaitsStateChange(status: DruidIngestionStatus): boolean {
  const ready = findCondition(status.conditions, READY)?.reason;
  if (ready === "Pending" || ready === "Stopping" || ready === "Applying") return true;
  // Suspending and resuming are left out: the Suspended condition is not written for every
  // policy (Observe), and a stale one would make every reconcile read alone for ever. The state
  // poller, which sees them from the reading itself, wakes those resources instead.
  return status.state !== undefined && isTransitional({ state: status.state, detailedState: status.detailedState });
}

function describeSynced(desired: DesiredIngestion, record: AppliedRecord | undefined, origin: string | undefined): string {
  const what = desired.kind === "supervisor" ? `supervisor ${desired.supervisorId}` : `task ${record?.taskId ?? desired.taskId}`;
  const how = origin === "DruidOperator" ? " (taken over from the druid-operator)" : origin === "Adopted" ? " (adopted)" : "";
  return `${what} matches spec hash ${desired.specHash.slice(0, 12)}${how}`;
}

function suspendedAfter(liveSuspended: boolean, executed: readonly DruidAction[], wantSuspended: boolean): boolean {
  let suspended = liveSuspended;
  for (const a of executed) {
    if (a.kind === "suspendSupervisor") suspended = true;
    if (a.kind === "resumeSupervisor") suspended = false;
    if (a.kind === "submitSupervisor") suspended = wantSuspended;
  }
  return suspended;
}

/** What status says about the applied supervisor/task spec (not the record itself). */
function dropAppliedSpec(next: DruidIngestionStatus): void {
  delete next.specHash;
  delete next.druidSpecHash;
  delete next.driftIgnorePaths;
  delete next["currentIngestionSpec.json"];
}

function dropCompaction(next: DruidIngestionStatus): void {
  delete next.compactionHash;
  delete next.druidCompactionHash;
}

function dropRules(next: DruidIngestionStatus): void {
  delete next.rulesHash;
  delete next.druidRulesHash;
  delete next.rules;
}

/**
 * What a move took out of the record: only what Druid confirmed removed, or what was let go of
 * without a call (Orphan, a finished task). A part left (a failed removal) keeps its record, so
 * nothing is created elsewhere and nothing is forgotten until it is gone.
 */
function applyRemovals(next: DruidIngestionStatus, record: AppliedRecord | undefined, removal: Removal | undefined, executed: readonly DruidAction[], target: Target | undefined): void {
  if (!record || !removal) return;
  const done = (kinds: ReadonlyArray<DruidAction["kind"]>): boolean => executed.some((a) => kinds.includes(a.kind) && (!("cause" in a) || a.cause !== "Replaced"));
  const mainGone = removal.forget.main || done(["terminateSupervisor", "shutdownTask"]);
  const compactionGone = removal.forget.compaction || done(["deleteCompaction"]);
  const rulesGone = removal.forget.rules || done(["clearRules"]);
  if (compactionGone) dropCompaction(next);
  if (rulesGone) dropRules(next);
  const kept: AppliedRecord = { ...record };
  if (mainGone) {
    delete kept.supervisorId;
    delete kept.taskId;
    dropAppliedSpec(next);
    // Also the older forms of the record (the druid-operator's, this controller's earlier status).
    delete next.supervisorId;
    delete next.taskId;
    delete next.druidEndpoint;
  }
  const partsLeft = Boolean(next.compactionHash || next.rulesHash);
  if (kept.supervisorId === undefined && kept.taskId === undefined && !partsLeft) {
    delete next.applied;
    return;
  }
  // The supervisor stays by design (same id, same endpoint) while its datasource's parts moved
  // away: it is now on the target's datasource. One that was to go but did not keeps its own.
  const mainStaysByDesign = !removal.forget.main && !removal.actions.some((a) => a.kind === "terminateSupervisor" || a.kind === "shutdownTask");
  if (mainStaysByDesign && !partsLeft && target) {
    if (target.dataSource) kept.dataSource = target.dataSource;
    else delete kept.dataSource;
  }
  next.applied = kept;
}

function recordFor(target: Target, origin: AppliedRecord["origin"], taskId: string | undefined): AppliedRecord {
  const record: AppliedRecord = { druidEndpoint: target.druidEndpoint, endpointSource: target.endpointSource, origin };
  if (target.druidCluster) record.druidCluster = target.druidCluster;
  if (target.kind === "supervisor" && target.supervisorId) record.supervisorId = target.supervisorId;
  if (target.kind === "task" && taskId) record.taskId = taskId;
  if (target.dataSource) record.dataSource = target.dataSource;
  return record;
}

function boundedCopy(text: string): string | undefined {
  return Buffer.byteLength(text, "utf8") <= MAX_STATUS_COPY_BYTES ? text : undefined;
}

/** The record and hashes after a reconcile that manages its target (owned, create, adopt). */
function applyManaged(next: DruidIngestionStatus, facts: StatusFacts, desired: DesiredIngestion, target: Target, decision: OwnershipDecision): void {
  const { ingestion, plan, outcome, observed, record } = facts;
  const ignored = facts.ignored ?? [];
  const executed = outcome?.executed ?? [];
  const failed = outcome?.failed;
  const main = executed.find((a) => a.kind === "submitSupervisor" || a.kind === "submitTask");
  const mainFailed = failed && (failed.action.kind === "submitSupervisor" || failed.action.kind === "submitTask");
  const origin = decision.kind === "adopt" ? decision.origin : decision.kind === "owned" ? decision.record.origin : (record?.origin ?? "Created");

  if (main) {
    next.applied = recordFor(target, origin, main.kind === "submitTask" ? (outcome?.submittedTaskId ?? main.taskId) : undefined);
    next.specHash = desired.specHash;
    const copy = boundedCopy(desired.canonical);
    if (copy) next["currentIngestionSpec.json"] = copy;
    else delete next["currentIngestionSpec.json"];
    if (outcome?.druidSpecHash) next.druidSpecHash = outcome.druidSpecHash;
    else delete next.druidSpecHash;
    setIgnored(next, ignored);
  } else if (decision.kind === "owned" && !mainFailed) {
    // Written once for resources recorded in an older form (this controller's, the druid-operator's).
    next.applied = recordFor(target, origin, decision.record.taskId);
    if (plan?.specTakenOver) next.specHash = desired.specHash;
    const live = observed?.supervisor;
    const baselineStale = next.druidSpecHash === undefined || !sameIgnoredPaths(next.driftIgnorePaths, ignored);
    if (desired.kind === "supervisor" && live?.spec && baselineStale && next.specHash === desired.specHash) {
      next.druidSpecHash = liveSupervisorSpecHash(live.spec, ignored);
      setIgnored(next, ignored);
    }
  }

  // The pending create is done with once Druid confirmed it, or refused it outright.
  if (!failed || !failed.ambiguous) delete next.pendingCreate;

  // Nonces acted on; an intent recorded before sending is kept only while the outcome is unknown.
  settleNonces(next, ingestion.spec, plan?.actions ?? [], executed, failed, plan?.consumesNonces === true);

  for (const a of executed) {
    if (a.kind === "submitCompaction") {
      next.compactionHash = desired.compaction?.hash as string;
      if (outcome?.druidCompactionHash) next.druidCompactionHash = outcome.druidCompactionHash;
    }
    if (a.kind === "deleteCompaction") dropCompaction(next);
    if (a.kind === "submitRules") {
      next.rulesHash = desired.rules?.hash as string;
      const copy = boundedCopy(JSON.stringify(desired.rules?.rules ?? []));
      if (copy) next.rules = desired.rules?.rules as NonNullable<DruidIngestionStatus["rules"]>;
      else delete next.rules;
      if (outcome?.druidRulesHash) next.druidRulesHash = outcome.druidRulesHash;
    }
    if (a.kind === "clearRules") dropRules(next);
  }
  if (plan?.compactionTakenOver) {
    next.compactionHash = plan.compactionTakenOver.hash;
    next.druidCompactionHash = plan.compactionTakenOver.liveHash;
  }
  if (plan?.rulesTakenOver) {
    next.rulesHash = plan.rulesTakenOver.hash;
    next.druidRulesHash = plan.rulesTakenOver.liveHash;
    if (desired.rules) next.rules = desired.rules.rules;
  }
  if (next.applied && (next.compactionHash || next.rulesHash) && desired.dataSource) next.applied.dataSource = desired.dataSource;
}

function setIgnored(next: DruidIngestionStatus, ignored: readonly string[]): void {
  if (ignored.length > 0) next.driftIgnorePaths = [...ignored];
  else delete next.driftIgnorePaths;
}

/**
 * The druid-operator's ids mirror the record: `taskId` holds the supervisor id, as there. Only an
 * explicit record (now or before this reconcile) is mirrored: without one, these fields may be
 * the only record there is (the druid-operator's, this controller's older status) and are kept.
 */
function mirrorRecord(next: DruidIngestionStatus, old: DruidIngestionStatus): void {
  if (!next.applied && !old.applied) return;
  const record = next.applied;
  if (record?.supervisorId) {
    next.supervisorId = record.supervisorId;
    next.taskId = record.supervisorId;
  } else if (record?.taskId) {
    delete next.supervisorId;
    next.taskId = record.taskId;
  } else {
    delete next.supervisorId;
    delete next.taskId;
  }
  if (record) next.druidEndpoint = record.druidEndpoint;
  else delete next.druidEndpoint;
}

function clearLiveState(next: DruidIngestionStatus): void {
  delete next.state;
  delete next.detailedState;
  delete next.healthy;
  delete next.recentErrors;
  delete next.lag;
  delete next.taskStatus;
}

function firstFailure(facts: StatusFacts): Failure | undefined {
  const { decision, outcome, plan } = facts;
  if (facts.stop) return facts.stop;
  if (decision?.kind === "standDown") return decision.failure;
  if (outcome?.failed) return outcome.failed.failure;
  if (plan?.failure) return plan.failure;
  return plan?.compactionStandDown ?? plan?.rulesStandDown;
}

export function nextStatus(facts: StatusFacts): DruidIngestionStatus {
  const { ingestion, now, desired, outcome, decision, target } = facts;
  const old = ingestion.status ?? {};
  const generation = ingestion.metadata.generation;
  const next: DruidIngestionStatus = structuredClone({ ...old, observedGeneration: generation });
  let conditions: Condition[] = old.conditions ?? [];
  const set = (u: ConditionUpdate): void => {
    conditions = setCondition(conditions, u, generation, now);
  };

  if (facts.druidVersion !== undefined) next.druidVersion = facts.druidVersion;
  if (facts.configMap) next.configMapName = facts.configMap.name;

  if (facts.paused) {
    set({ type: SYNCED, status: "False", reason: "ReconcilePaused", message: "reconciliation is paused by the ingestion.druid.apache.org/paused annotation; nothing is changed in Druid or Kubernetes" });
    if (findCondition(conditions, HEALTHY)) set(healthUnknown(next, "reconciliation is paused, Druid is not looked at"));
    return finish(next, conditions, old, now);
  }

  const executed = outcome?.executed ?? [];
  const failure = firstFailure(facts);

  // --- the record -------------------------------------------------------------------------------
  if (facts.staleCreate && !outcome?.failed && statusEquals(next.pendingCreate as DruidIngestionStatus | undefined, facts.staleCreate as DruidIngestionStatus)) {
    delete next.pendingCreate;
  }
  if (decision?.kind === "move") {
    // The record may be in an older form (no status.applied yet): what the move leaves is explicit.
    applyRemovals(next, next.applied ?? facts.record, facts.removal, executed, target);
  } else if (decision?.kind === "standDown") {
    if (decision.dropRecord) {
      delete next.applied;
      dropAppliedSpec(next);
      dropCompaction(next);
      dropRules(next);
    }
    if (target && pendingMatches(next.pendingCreate, target)) delete next.pendingCreate;
  } else if (desired && target && decision && decision.kind !== "observe" && !facts.stop) {
    applyManaged(next, facts, desired, target, decision);
  } else if (decision?.kind === "observe" && !next.applied && facts.record) {
    // A record kept in an older form (this controller's, the druid-operator's) becomes explicit.
    next.applied = facts.record;
  }
  mirrorRecord(next, old);
  dropStaleIntents(next, ingestion.spec);
  // When the supervisor spec last changed in Druid by a submit of this resource (the rollback window starts there).
  if (next.specHash !== undefined && next.specHash !== old.specHash && executed.some((a) => a.kind === "submitSupervisor")) {
    next.specAppliedTime = now;
    next.specAppliedOnHealthy = old.healthy === true;
  }
  if (next.specHash === undefined) {
    delete next.specAppliedTime;
    delete next.specAppliedOnHealthy;
  }
  if (facts.rollback) next.rollback = facts.rollback;

  // --- Druid's state ------------------------------------------------------------------------------
  const managing = decision?.kind === "owned" || decision?.kind === "create" || decision?.kind === "adopt" || decision?.kind === "observe";
  const liveSupervisor = outcome?.supervisorAfter ?? facts.observed?.supervisor;
  if (desired?.kind === "supervisor" && managing && !facts.stop) {
    next.state = liveSupervisor?.state;
    next.detailedState = liveSupervisor?.detailedState;
    next.healthy = liveSupervisor?.healthy;
    // Errors are read when Druid lists the supervisor unhealthy anew, and kept while it stays so
    // (not while suspended: a resume reads them again). Unread, the old ones are not shown as new.
    if (liveSupervisor?.healthy !== false || liveSupervisor.suspended) delete next.recentErrors;
    else if (facts.observed?.health) next.recentErrors = recentErrorsOf(facts.observed.health);
    else if (facts.observed?.healthUnread) delete next.recentErrors;
    const running = supervisorRuns(liveSupervisor);
    // A supervisor created (again) this reconcile starts from nothing: the old lag is not its.
    const fresh = executed.some(createsSupervisor);
    const lag = running && facts.lag && !fresh ? nextStatusLag(old.lag, facts.lag.reading, new Date(now), facts.lag.periodMs) : undefined;
    if (lag) next.lag = lag;
    else delete next.lag;
    // (A part that failed or stood down says nothing about how the supervisor runs.)
    const supervisorFailed = facts.plan?.failure !== undefined || (outcome?.failed !== undefined && !PART_ACTIONS.has(outcome.failed.action.kind));
    if (decision?.kind !== "observe" && !supervisorFailed) {
      const healthy = findCondition(old.conditions, HEALTHY);
      const healthySince = healthy?.status === "True" && healthy.reason === "Healthy" ? healthy.lastTransitionTime : undefined;
      const good = nextLastKnownGood({ ingestion, next, desired, live: liveSupervisor, healthySince, now });
      if (good) next.lastKnownGood = good;
      else delete next.lastKnownGood;
    }
    delete next.taskStatus;
  } else if (desired?.kind === "task" && managing && !facts.stop) {
    // After a new submission the observed task is the previous run: its state is not this one's.
    const task = executed.some((a) => a.kind === "submitTask") ? undefined : facts.observed?.task;
    next.taskStatus = task?.statusCode;
    next.state = task ? (task.statusCode === "RUNNING" ? (task.runnerStatusCode ?? "RUNNING") : task.statusCode) : undefined;
    delete next.detailedState;
    delete next.healthy;
    delete next.recentErrors;
    delete next.lag;
  } else if (decision?.kind === "standDown" || decision?.kind === "move") {
    clearLiveState(next);
  }

  // --- conditions ---------------------------------------------------------------------------------
  if (failure) {
    set({ type: SYNCED, status: "False", reason: failure.reason, message: failure.message });
    set(failure.transient ? { type: READY, status: "Unknown", reason: failure.reason, message: failure.message } : { type: READY, status: "False", reason: failure.reason, message: failure.message });
  } else if (!decision && facts.staleCreate && executed.length > 0) {
    const message = `removed what an earlier create (whose answer was lost) made for a target the resource no longer names; ${target?.kind === "supervisor" ? `supervisor ${target.supervisorId}` : "the task"} on ${target?.druidEndpoint} comes next`;
    set({ type: SYNCED, status: "False", reason: "Moving", message });
    set({ type: READY, status: "Unknown", reason: "Moving", message });
  } else if (decision?.kind === "move") {
    const message = `removed ${describeRecord(decision.from)}; ${target?.kind === "supervisor" ? `supervisor ${target.supervisorId}` : "the task"} on ${target?.druidEndpoint} comes next`;
    set({ type: SYNCED, status: "False", reason: "Moving", message });
    set({ type: READY, status: "Unknown", reason: "Moving", message });
  } else if (decision?.kind === "observe" && desired) {
    const what = desired.kind === "supervisor" ? `supervisor ${desired.supervisorId}` : `task ${desired.taskId}`;
    const would = (facts.plan?.actions ?? []).map((a) => a.kind);
    set({
      type: SYNCED,
      status: "Unknown",
      reason: "Observing",
      message: `managementPolicy Observe: ${what} is watched, never changed${would.length > 0 ? `; managing it would now ${would.join(", ")}` : ""}`,
    });
    if (desired.kind === "supervisor") set(liveSupervisor ? readyForSupervisor(liveSupervisor, wantsSuspended(ingestion, desired)) : { type: READY, status: "False", reason: "NotFound", message: `Druid has no ${what}` });
    else set(readyForTask(facts.observed?.task));
  } else if (desired && decision) {
    set({ type: SYNCED, status: "True", reason: "Synced", message: describeSynced(desired, next.applied, next.applied?.origin) });
    if (desired.kind === "supervisor") set(readyForSupervisor(liveSupervisor, wantsSuspended(ingestion, desired)));
    else if (executed.some((a) => a.kind === "submitTask")) set({ type: READY, status: "Unknown", reason: "TaskSubmitted", message: `submitted task ${next.taskId}; waiting for Druid to run it` });
    else set(readyForTask(facts.observed?.task));
  }

  // Held back at the last known good: Druid runs that spec, not the resource's.
  const rolledBack = facts.rollback ?? facts.heldBack;
  if (rolledBack && !failure && desired && decision && decision.kind !== "observe") set({ type: SYNCED, status: "False", reason: "RolledBack", message: rolledBack.message });

  const healthyBefore = findCondition(conditions, HEALTHY);
  if (desired?.kind === "supervisor" && managing && !facts.stop) set(healthyCondition(liveSupervisor, next.recentErrors, facts.observed?.healthUnread === true));
  // Not observed: an unhealthy supervisor stays reported as such (a flaky Overlord must not
  // restart an alert's clock, nor warn again once it answers); a healthy one is no longer vouched for.
  else if (facts.stop && healthyBefore !== undefined && healthyBefore.status !== "False") set(healthUnknown(next, facts.stop.message));
  else if (desired?.kind === "task" || decision?.kind === "standDown" || decision?.kind === "move") conditions = removeCondition(conditions, HEALTHY);

  if (desired?.kind === "supervisor" && managing && !facts.stop && decision?.kind !== "observe") {
    const suspendedNow = outcome?.supervisorAfter ? outcome.supervisorAfter.suspended : suspendedAfter(facts.observed?.supervisor?.suspended === true, executed, wantsSuspended(ingestion, desired));
    set(suspendedNow
      ? { type: SUSPENDED, status: "True", reason: "Suspended", message: "the supervisor is suspended in Druid" }
      : { type: SUSPENDED, status: "False", reason: "Running", message: "the supervisor is not suspended" });
  } else if (desired?.kind === "task" || decision?.kind === "standDown" || decision?.kind === "move") {
    conditions = removeCondition(conditions, SUSPENDED);
  }

  if (desired && decision && decision.kind !== "standDown" && decision.kind !== "move" && decision.kind !== "observe" && !facts.stop) {
    conditions = partCondition(conditions, COMPACTION_SYNCED, desired.compaction !== undefined, "compaction config", facts, COMPACTION_ACTIONS, facts.plan?.compactionStandDown, generation, now);
    conditions = partCondition(conditions, RULES_SYNCED, desired.rules !== undefined, "retention rules", facts, RULES_ACTIONS, facts.plan?.rulesStandDown, generation, now);
  }

  for (const request of NONCE_REQUESTS) {
    if (desired?.kind === "supervisor") conditions = nonceCondition(request, conditions, ingestion, next, facts, generation, now);
    else conditions = removeCondition(conditions, request.condition);
  }

  if (facts.configMap) {
    const cm = facts.configMap;
    set(cm.failure
      ? { type: CONFIGMAP_SYNCED, status: "False", reason: cm.failure.reason, message: cm.failure.message }
      : { type: CONFIGMAP_SYNCED, status: "True", reason: "Applied", message: `the rendered spec is in ConfigMap ${cm.name}` });
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

/** What became of a nonce (spec.resetNonce, spec.resetOffsetsNonce): done, failed (retried), or unknown (never repeated). */
function nonceCondition(request: NonceRequest, conditions: Condition[], ingestion: DruidIngestion, next: DruidIngestionStatus, facts: StatusFacts, generation: number, now: string): Condition[] {
  const nonce = askedNonce(request, ingestion.spec);
  if (!nonce) return removeCondition(conditions, request.condition);
  const asked = `spec.${request.nonceField} "${nonce}"`;
  const failed = facts.outcome?.failed;
  const pending = unconfirmed(request, next, nonce);
  if (pending) {
    const why = failed && request.attempts(failed.action) ? `: ${failed.failure.message}` : " (the controller stopped or lost the answer after recording it)";
    return setCondition(conditions, {
      type: request.condition,
      status: "Unknown",
      reason: "ResetOutcomeUnknown",
      message: `the ${request.what} of supervisor ${pending.supervisorId} for ${asked} was sent (or about to be sent) to ${pending.druidEndpoint} at ${pending.since} and its outcome is unknown${why}. Druid keeps no record of resets, so it is not sent again: check the supervisor's offsets (Druid console, GET /druid/indexer/v1/supervisor/${pending.supervisorId}/status)${request === RESET_OFFSETS && ingestion.spec.resetOffsets?.latestAndBackfill ? `, and whether GET /druid/indexer/v1/supervisor lists a backfill supervisor named ${pending.supervisorId}_backfill_…` : ""}; to do it (again), set a new spec.${request.nonceField}`,
    }, generation, now);
  }
  if (next[request.lastField] === nonce) {
    const done = facts.outcome?.executed.find(request.attempts);
    const previous = findCondition(conditions, request.condition);
    if (!done && previous?.status === "True") return conditions;
    return setCondition(conditions, {
      type: request.condition,
      status: "True",
      reason: done ? "Reset" : "Done",
      message: done ? `${describeDone(done, facts.outcome)} for ${asked}` : `${asked} was acted on, or the supervisor was created or taken over by this resource after it was set (a nonce present then is consumed without a call)`,
    }, generation, now);
  }
  if (failed && request.attempts(failed.action)) {
    return setCondition(conditions, { type: request.condition, status: "False", reason: failed.failure.reason, message: `the ${request.what} for ${asked} did not happen (${failed.failure.message}); it is tried again` }, generation, now);
  }
  const held = request === RESET_OFFSETS ? facts.plan?.offsetsResetHeld : undefined;
  if (held) return setCondition(conditions, { type: request.condition, status: held.transient ? "Unknown" : "False", reason: held.reason, message: held.message }, generation, now);
  return conditions;
}

/** What a reset that Druid confirmed did, for the condition. */
function describeDone(action: DruidAction, outcome: Outcome | undefined): string {
  if (action.kind === "resetOffsets") return `Druid took the offsets of supervisor ${action.supervisorId} to store (partition ${describePartitionOffsets(action.metadata)}; it restarts the tasks reading them there)`;
  if (action.kind === "resetToLatestAndBackfill") return `supervisor ${action.supervisorId} reads from the stream's latest offsets; Druid reads the range skipped with backfill supervisor ${outcome?.backfillSupervisorId ?? "(id not reported)"}`;
  return `supervisor ${"supervisorId" in action ? action.supervisorId : ""} was reset`;
}

function partCondition(conditions: Condition[], type: string, managed: boolean, what: string, facts: StatusFacts, kinds: ReadonlyArray<DruidAction["kind"]>, standDown: Failure | undefined, generation: number, now: string): Condition[] {
  const failed = facts.outcome?.failed;
  if (failed && kinds.includes(failed.action.kind)) {
    return setCondition(conditions, { type, status: "False", reason: failed.failure.reason, message: failed.failure.message }, generation, now);
  }
  if (standDown) return setCondition(conditions, { type, status: "False", reason: standDown.reason, message: standDown.message }, generation, now);
  if (!managed) return removeCondition(conditions, type);
  if (failed || facts.plan?.failure) {
    return setCondition(conditions, { type, status: "Unknown", reason: "NotAttempted", message: `the ${what} were not applied because an earlier step failed` }, generation, now);
  }
  return setCondition(conditions, { type, status: "True", reason: "Synced", message: `the ${what} in Druid match the spec` }, generation, now);
}

function finish(next: DruidIngestionStatus, conditions: Condition[], old: DruidIngestionStatus, now: string): DruidIngestionStatus {
  next.conditions = conditions;
  for (const key of Object.keys(next) as Array<keyof DruidIngestionStatus>) {
    if (next[key] === undefined) delete next[key];
  }
  const { lastUpdateTime: _a, ...a } = next;
  const { lastUpdateTime: _b, ...b } = old;
  next.lastUpdateTime = jsonEqual(a, b) && old.lastUpdateTime ? old.lastUpdateTime : now;
  return next;
}

export function statusEquals(a: DruidIngestionStatus | undefined, b: DruidIngestionStatus): boolean {
  return jsonEqual(a ?? {}, b);
}

/** The status with a pending create recorded (written, with a resourceVersion precondition, before the create). */
export function withPendingCreate(status: DruidIngestionStatus | undefined, pending: PendingCreate): DruidIngestionStatus {
  return { ...(status ?? {}), pendingCreate: pending };
}

// ---------------------------------------------------------------------------------------------

function removalSuffix(cause: string): string {
  return cause === "Moved" ? " (the resource now points elsewhere)" : cause === "Unmanaged" ? " (no longer in the spec)" : cause === "Recreate" ? " (to create it anew for another stream or type)" : "";
}

const ACTION_EVENTS: { [K in DruidAction["kind"]]: (a: Extract<DruidAction, { kind: K }>, outcome: Outcome | undefined) => EventRecord } = {
  submitSupervisor: (a) => ({
    type: "Normal",
    reason: a.cause,
    message: {
      Created: `created supervisor ${a.supervisorId} in Druid`,
      Recreated: a.anew ? `created supervisor ${a.supervisorId} anew with the new spec (unsafeChangePolicy Recreate: its offsets were reset)` : `supervisor ${a.supervisorId} was missing in Druid; created it again`,
      Updated: `updated supervisor ${a.supervisorId} in Druid to the new spec`,
      DriftCorrected: `supervisor ${a.supervisorId} was changed in Druid outside this resource; restored the spec`,
    }[a.cause],
  }),
  suspendSupervisor: (a) => ({ type: "Normal", reason: "Suspended", message: `suspended supervisor ${a.supervisorId}` }),
  resumeSupervisor: (a) => ({ type: "Normal", reason: "Resumed", message: `resumed supervisor ${a.supervisorId}` }),
  resetSupervisor: (a) => ({ type: "Normal", reason: "Reset", message: `reset supervisor ${a.supervisorId} (${a.cause === "ResetNonce" ? "new spec.resetNonce" : a.cause === "Recreate" ? "its offsets, before it is recreated for another stream or type" : "resetOnResume"})` }),
  resetOffsets: (a) => ({ type: "Normal", reason: "OffsetsReset", message: `moved the stored offsets of supervisor ${a.supervisorId} (new spec.resetOffsetsNonce): partition ${describePartitionOffsets(a.metadata)}` }),
  resetToLatestAndBackfill: (a, outcome) => ({ type: "Normal", reason: "ResetToLatest", message: `supervisor ${a.supervisorId} now reads from the stream's latest offsets (new spec.resetOffsetsNonce); Druid reads the range skipped with backfill supervisor ${outcome?.backfillSupervisorId ?? "(id not reported)"}` }),
  terminateSupervisor: (a) => ({ type: "Normal", reason: "Terminated", message: `terminated supervisor ${a.supervisorId} in Druid${removalSuffix(a.cause)}` }),
  submitTask: (a) => ({ type: "Normal", reason: a.cause === "Created" ? "Created" : "Updated", message: `submitted task ${a.taskId}` }),
  shutdownTask: (a) => ({ type: "Normal", reason: "TaskShutdown", message: `shut down task ${a.taskId}${a.cause === "Replaced" ? " (a new run replaces it)" : removalSuffix(a.cause)}` }),
  submitCompaction: (a) => ({ type: "Normal", reason: "CompactionUpdated", message: `applied the compaction config of datasource ${a.dataSource}${a.cause === "DriftCorrected" ? " (it was changed in Druid)" : ""}` }),
  deleteCompaction: (a) => ({ type: "Normal", reason: "CompactionDeleted", message: `removed the compaction config of datasource ${a.dataSource}${removalSuffix(a.cause)}` }),
  submitRules: (a) => ({ type: "Normal", reason: "RulesUpdated", message: `applied ${a.rules.length} retention rule(s) to datasource ${a.dataSource}${a.cause === "DriftCorrected" ? " (they were changed in Druid)" : ""}` }),
  clearRules: (a) => ({ type: "Normal", reason: "RulesCleared", message: `cleared the retention rules of datasource ${a.dataSource}${removalSuffix(a.cause)}` }),
};

export function eventForAction(action: DruidAction, outcome?: Outcome): EventRecord {
  return (ACTION_EVENTS[action.kind] as (a: DruidAction, o: Outcome | undefined) => EventRecord)(action, outcome);
}

/** Condition types whose new failures are recorded as Warning Events. */
const WARNED_CONDITIONS = [SYNCED, CONFIGMAP_SYNCED, HEALTHY, OFFSETS_RESET_APPLIED];

/** Events for one reconcile: one per Druid change, one per takeover, one per new failure, one on recovery. */
export function eventsFor(old: DruidIngestionStatus | undefined, next: DruidIngestionStatus, outcome: Outcome | undefined): EventRecord[] {
  const events = (outcome?.executed ?? []).map((a) => eventForAction(a, outcome));
  const before = old?.applied;
  const after = next.applied;
  if (before && after && before.druidEndpoint !== after.druidEndpoint && before.supervisorId === after.supervisorId && before.taskId === after.taskId) {
    events.push({ type: "Normal", reason: "EndpointChanged", message: `${describeRecord(before)} is the same Druid as ${after.druidEndpoint} (same stored spec version): now recorded under the new URL, nothing was restarted` });
  } else if (after && after.origin !== "Created" && (!before || before.origin !== after.origin || describeRecord(before) !== describeRecord(after))) {
    const from = after.origin === "DruidOperator" ? "from the druid-operator" : "as managementPolicy Adopt allows";
    events.unshift({ type: "Normal", reason: "Adopted", message: `took over ${describeRecord(after)} ${from}; it is managed by this resource from now on` });
  }
  for (const type of WARNED_CONDITIONS) {
    const was = findCondition(old?.conditions, type);
    const now = findCondition(next.conditions, type);
    if (now && now.status === "False" && (was?.reason !== now.reason || was?.message !== now.message)) {
      events.push({ type: now.reason === "ReconcilePaused" || now.reason === "Moving" ? "Normal" : "Warning", reason: now.reason, message: now.message });
    }
  }
  const wasHealthy = findCondition(old?.conditions, HEALTHY);
  const healthyNow = findCondition(next.conditions, HEALTHY);
  if (healthyNow?.status === "True" && wasHealthy?.status === "False") events.push({ type: "Normal", reason: "Healthy", message: `recovered: ${healthyNow.message}` });
  const before_ = findCondition(old?.conditions, SYNCED);
  const after_ = findCondition(next.conditions, SYNCED);
  if (after_?.status === "True" && before_ && before_.status !== "True" && !["ReconcilePaused", "Moving", "Observing"].includes(before_.reason)) {
    events.push({ type: "Normal", reason: "Synced", message: `recovered: ${after_.message}` });
  }
  return events;
}
