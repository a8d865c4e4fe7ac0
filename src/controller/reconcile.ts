// One reconcile of one DruidIngestion, as stages:
//   validate → finalizer → render → target → spec Secrets → claims → ConfigMap → observe
//   → ownership → plan → pending create → execute → report
// A stage passes its result on or stops with a Failure; every path ends in `end`: status and
// Events (status.ts) and one pure requeue decision (requeue.ts). Level-triggered: a crash at any
// line is finished by the next reconcile, and a create whose outcome a crash lost is recognised
// through the pending create recorded (with a resourceVersion precondition) just before it.
import { randomUUID } from "node:crypto";
import type { KubernetesObject, V1ConfigMap, V1Service } from "@kubernetes/client-node";
import type { Logger } from "winston";
import { CREDENTIALS_LABEL, deletionPolicyOf, FINALIZER, isPaused, managementPolicyOf, objectKey, type AppliedRecord, type DruidIngestion, type DruidIngestionStatus, type JsonObject, type PendingCreate, type RollbackRecord } from "../api/druid-ingestion.ts";
import type { DruidIngestionValidator } from "../api/schema.ts";
import type { DruidClient, DruidCredentials, DruidTarget } from "../druid/client.ts";
import type { LiveSupervisor, SupervisorHealth } from "../druid/decode.ts";
import { sameEndpoint } from "../druid/endpoint.ts";
import type { DruidSnapshots } from "../druid/snapshot.ts";
import { describeApiError, isApiStatus, mergePatch, type KubeApi } from "../kube/api.ts";
import type { EventSink } from "../kube/events.ts";
import { LeadershipFence, type WriteFence } from "../kube/fence.ts";
import type { ReconcileResult } from "../observability/metrics.ts";
import { findCondition, READY } from "./conditions.ts";
import { sameIgnoredPaths } from "./drift.ts";
import { desiredOf, ignoredPathsOf } from "./desired.ts";
import { probeSameDruid } from "./same-druid.ts";
import { discoveryMoveRefusal, endpointSourceName, keepRecordedEndpoint, resolveCredentials, resolveEndpoint, unusableSecretFailure, type SecretLookup, type SecretRef } from "./druid-target.ts";
import type { Allowance } from "./endpoint-policy.ts";
import { executePlan } from "./execute.ts";
import { WriteExpectations } from "./expectations.ts";
import { createsSupervisor, emptyOutcome, failureOf, type DruidAction, type Failure, type Outcome } from "./model.ts";
import { confirmedButUnwritten, hasIntent, intentsFor, withConfirmed, type NonceRequest } from "./nonces.ts";
import { lastKnownGoodPending, rollbackDue } from "./rollback.ts";
import { betterClaimant, claimKey, decideOwnership, lookupRecord, recordAt, targetOf, mainRecorded, onlyEndpointDiffers, otherLiveClaimant, pendingCovers, pendingMatches, planRemoval, recordMatches, storedSince, type Claim, type Target } from "./ownership.ts";
import { planIngestion, plannedCreates, type Holding, type Observed } from "./plan.ts";
import type { ProcessResult } from "./queue.ts";
import { renderIngestion, type DesiredIngestion } from "./render.ts";
import { requeueAfter, type Ending } from "./requeue.ts";
import { NO_SECRET_REFS, resolveSecretRefs, type ResolvedSecretRefs } from "./secret-refs.ts";
import { configMapIsOurs, configMapNameFor, configMapPatch, configMapUpToDate, desiredConfigMap, SpecTooLargeError } from "./spec-configmap.ts";
import { DriftSchedule, needsStoredSpec } from "./drift-schedule.ts";
import { awaitsStateChange, eventsFor, isTransitional, nextStatus, statusEquals, supervisorRuns, type StatusFacts } from "./status.ts";
import type { SupervisorStateWatch } from "./state-watch.ts";
import type { SupervisorLagPoller } from "./lag-poller.ts";
import { nextStatusLag } from "./lag.ts";
import { unsafeChanges } from "./spec-checks.ts";
import { claimsSignature, dependencySignature, listingOf, sameListing, samePart, type IdleMemo, type ListedPart } from "./idle-shortcut.ts";

export interface ReconcilerSettings {
  /** How often an idle resource is looked at again (Druid drift, state changes). */
  resyncMs: number;
  /** After changing Druid, look again this soon to report the resulting state. */
  settleMs: number;
  /** How often each supervisor's stored spec is read for drift (default: the longer of 10 minutes and resyncMs). */
  driftCheckMs?: number;
  /** How often a running supervisor's lag is read (0 or absent: never). */
  lagPeriodMs?: number;
  allowCrossNamespaceSecrets: boolean;
  defaultDruidUrl: string | undefined;
}

export interface ReconcilerDeps {
  ingestions: { get(name: string, namespace: string): KubernetesObject | undefined };
  /** The resources that record, or are creating, a supervisor on an endpoint (the manager's index). */
  claimsOn(druidEndpoint: string, supervisorId: string): Claim[];
  configMaps: { get(name: string, namespace: string): V1ConfigMap | undefined };
  secrets: SecretLookup;
  /**
   * Secrets deleted lately, as last seen. Only deletion uses them: when a namespace is deleted,
   * its Secrets may go before the DruidIngestions that need them to clean up Druid.
   */
  deletedSecrets?: SecretLookup;
  routerServices: { list(namespace: string): readonly V1Service[] };
  kube: Pick<KubeApi, "patchIngestion" | "patchIngestionStatus" | "patchConfigMap" | "createConfigMap" | "readConfigMap" | "getIngestion" | "secretExists">;
  events: EventSink;
  druidClient(target: DruidTarget): DruidClient;
  /** May requests go to this URL? (An administrator's allow-list; all URLs when absent.) */
  allowEndpoint?(url: string, namespace: string): Allowance;
  snapshots: DruidSnapshots;
  validator: DruidIngestionValidator;
  settings: ReconcilerSettings;
  logger: Logger;
  now?: () => Date;
  /** A monotonic clock in ms (default performance.now), for how long a reconcile waits for the cache. */
  monotonicNow?: () => number;
  random?: () => number;
  observeResult?: (result: ReconcileResult, seconds: number) => void;
  /** A resync that found nothing changed since the last idle reconcile and skipped the rest (idle-shortcut.ts). */
  onIdleShortcut?: () => void;
  /** Wakes resources whose supervisor is on its way somewhere when Druid's list shows it arrived. */
  stateWatch?: Pick<SupervisorStateWatch, "watch" | "unwatch" | "reliesOnPoller" | "watching">;
  /** Reads the lag of the running supervisors registered with it (lag-poller.ts). */
  lagPoller?: Pick<SupervisorLagPoller, "track" | "untrack" | "reading">;
  /** Asked before every Druid write (leadership, shutdown); always open when absent. */
  fence?: WriteFence;
  /** Our own status write, as stored: indexes (claims) learn of it before the watch delivers it. */
  noteWritten?: (ingestion: DruidIngestion, replacedVersion: string) => void;
}

type Step<T> = { ok: true; value: T } | { ok: false; failure: Failure };

/** Druid's view, and how its datasource parts were read (from the shared lists, or fresh). */
interface Observation {
  observed: Observed;
  compaction?: ListedPart<JsonObject | undefined> | "fresh";
  rules?: ListedPart<JsonObject[]> | "fresh";
}

/** Where this reconcile acts, with what, and what the resource already holds there. */
interface Resolved {
  target: Target;
  record: AppliedRecord | undefined;
  credentials: DruidCredentials | undefined;
  /** The values the spec's Secret references stand for: only for the body POSTed, and to clean Druid's answers of them. */
  specSecrets: ResolvedSecretRefs;
}

/** In place of Druid's text when the spec references Secrets whose values are not read (Observe): it may quote them. */
const UNREAD_SECRETS_MESSAGE = "(Druid's message is not shown: the spec references Secrets whose values are not read here, and it may quote them)";

/** Retry interval while another resource's reconcile holds the same supervisor. */
const BUSY_RETRY_MS = 1_000;

function describePending(pending: PendingCreate): string {
  const what = [pending.supervisorId && `supervisor ${pending.supervisorId}`, pending.taskId && `task ${pending.taskId}`, pending.dataSource && `datasource ${pending.dataSource}'s compaction/rules`].filter(Boolean).join(", ");
  return `${what} on ${pending.druidEndpoint}`;
}

/** Actions whose only consequence to watch is the supervisor's state (an update may restart tasks). */
function startsOrStops(action: DruidAction): boolean {
  return createsSupervisor(action) || action.kind === "suspendSupervisor" || action.kind === "resumeSupervisor";
}

/** Druid stored the supervisor's newest spec after `since` (the evidence that a pending create made it). */
async function supervisorStoredSince(client: DruidClient, supervisorId: string, since: string): Promise<boolean> {
  const version = await client.supervisorSpecVersion(supervisorId);
  return version !== undefined && storedSince(version, since);
}

/** The outcome of writing status: the object as stored, or a lost race. */
type Written = { kind: "written"; ingestion: DruidIngestion } | { kind: "unchanged" } | { kind: "conflict" } | { kind: "gone" };

const TERMINAL_TASK = new Set(["SUCCESS", "FAILED"]);

/** Status already reports this task finished (a finished task does not change: Druid need not be asked). */
function finishedTask(status: DruidIngestionStatus | undefined, taskId: string | undefined): boolean {
  return taskId !== undefined && status?.taskId === taskId && status.taskStatus !== undefined && TERMINAL_TASK.has(status.taskStatus);
}

/** How long a reconcile waits for the cache to show our own last write before acting regardless. */
export const EXPECTATION_TIMEOUT_MS = 30_000;
/** Retry interval while waiting for the cache to show our own write (no Druid call is made). */
export const CACHE_LAG_RETRY_MS = 200;

export class Reconciler {
  private readonly deps: ReconcilerDeps;
  private readonly expectations: WriteExpectations;
  private readonly fence: WriteFence;
  /** claimKey → the resource whose reconcile holds that supervisor now. */
  private readonly claimLocks = new Map<string, string>();
  private readonly driftChecks: DriftSchedule;
  /** The installed CRD has no status.lag (an older one): lag is no longer written to status. */
  lagStatusDropped = false;
  /** key → what its last idle reconcile depended on (idle-shortcut.ts). */
  private readonly idleMemos = new Map<string, IdleMemo>();

  constructor(deps: ReconcilerDeps) {
    this.deps = deps;
    const { driftCheckMs, resyncMs } = deps.settings;
    this.driftChecks = new DriftSchedule(driftCheckMs ?? Math.max(600_000, resyncMs), deps.monotonicNow, deps.random);
    this.expectations = new WriteExpectations(EXPECTATION_TIMEOUT_MS, deps.monotonicNow);
    this.fence = deps.fence ?? new LeadershipFence();
  }

  /** The resource is gone from the cache: what is kept per resource goes too. */
  forget(key: string): void {
    this.expectations.forget(key);
    this.driftChecks.forget(key);
    this.idleMemos.delete(key);
    this.deps.stateWatch?.unwatch(key);
    this.deps.lagPoller?.untrack(key);
  }

  async reconcile(key: string): Promise<ProcessResult> {
    const started = performance.now();
    const result = await this.reconcileKey(key);
    const kind: ReconcileResult = "error" in result ? "error" : result.requeueAfterMs !== undefined ? "requeue_after" : "success";
    this.deps.observeResult?.(kind, (performance.now() - started) / 1000);
    return result;
  }

  private async reconcileKey(key: string): Promise<ProcessResult> {
    const [namespace, name] = key.split("/") as [string, string];
    let raw = this.deps.ingestions.get(name, namespace);
    if (!raw) {
      this.forget(key);
      return {};
    }
    const log = this.deps.logger.child({ namespace, name, reconcileId: randomUUID().slice(0, 8) });
    // The cache has not yet seen our own last write: acting on it would repeat that write.
    const freshness = this.expectations.check(key, raw.metadata?.resourceVersion);
    if (freshness === "wait") return { requeueAfterMs: CACHE_LAG_RETRY_MS };
    // What this reconcile reads from the caches, as of now: a change after this line is seen by the next one.
    const dependencies = freshness === "fresh" ? this.dependenciesOf(raw) : undefined;
    const memo = this.idleMemos.get(key);
    if (memo) {
      if (dependencies !== undefined && (await this.unchangedSinceMemo(key, raw, dependencies, memo))) {
        this.deps.onIdleShortcut?.();
        return requeueAfter({ kind: "idle", supervisor: memo.supervisor }, this.deps.settings, this.deps.random);
      }
      this.idleMemos.delete(key);
    }
    if (freshness === "readThrough") {
      log.warn("the cache has not shown our own write for too long; reading the resource from the API server");
      try {
        raw = await this.deps.kube.getIngestion(namespace, name);
      } catch (error) {
        if (isApiStatus(error, 404)) return {};
        log.error("cannot read the resource", { error: describeApiError(error) });
        return { error };
      }
    }
    try {
      const parsed = this.deps.validator.parse(raw);
      if (!parsed.ok) {
        // Nothing about the object can be trusted; say so and wait for an edit.
        log.warn("resource does not match the schema", { problems: parsed.error.problems });
        return await this.end(log, { ingestion: raw as DruidIngestion, now: this.nowIso(), stop: { reason: "SchemaInvalid", message: parsed.error.message } }, { kind: "waitForEdit" });
      }
      const ingestion = parsed.value;
      if (isPaused(ingestion)) return await this.end(log, { ingestion, now: this.nowIso(), paused: true }, { kind: "waitForEdit" });
      if (ingestion.metadata.deletionTimestamp) {
        this.deps.lagPoller?.untrack(key);
        return await this.finalize(log, ingestion);
      }
      return await this.sync(log, key, ingestion, dependencies);
    } catch (error) {
      log.error("reconcile failed", { error: describeApiError(error) });
      // A failing resource retries with its backoff, not at the lag poller's pace.
      this.deps.lagPoller?.untrack(key);
      return { error };
    }
  }

  private nowIso(): string {
    return (this.deps.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  // --- create / update / move / suspend / resume / reset ------------------------------------------

  /** The versions of what a reconcile of this object reads from the caches (idle-shortcut.ts). */
  private dependenciesOf(raw: KubernetesObject): string {
    return dependencySignature(raw, configMapNameFor(raw.metadata?.name ?? ""), {
      secretVersion: (namespace, name) => this.deps.secrets.get(namespace, name)?.metadata?.resourceVersion,
      configMapVersion: (namespace, name) => this.deps.configMaps.get(name, namespace)?.metadata?.resourceVersion,
      routerServices: (namespace) => this.deps.routerServices.list(namespace),
    });
  }

  /** The lag poller's reading for status, with the lag period; undefined while lag is not written to status. */
  private lagFacts(key: string): StatusFacts["lag"] {
    const periodMs = this.deps.settings.lagPeriodMs ?? 0;
    if (!this.deps.lagPoller || periodMs <= 0 || this.lagStatusDropped) return undefined;
    return { reading: this.deps.lagPoller.reading(key), periodMs };
  }

  /** The lag poller has a reading that status should show (lag.ts): only a whole reconcile writes it. */
  private lagWriteDue(key: string, raw: KubernetesObject): boolean {
    const lag = this.lagFacts(key);
    if (!lag) return false;
    const previous = (raw as DruidIngestion).status?.lag;
    return nextStatusLag(previous, lag.reading, this.deps.now?.() ?? new Date(), lag.periodMs) !== previous;
  }

  /**
   * The resource, its dependencies, the claims on its supervisor and Druid's listing are as its
   * last idle reconcile saw them, and no drift check is due: that reconcile's end holds again.
   * Any doubt (a failed read included) answers no, and the whole reconcile runs.
   */
  private async unchangedSinceMemo(key: string, raw: KubernetesObject, dependencies: string, memo: IdleMemo): Promise<boolean> {
    if (raw.metadata?.deletionTimestamp || this.driftChecks.due(key) || this.lagWriteDue(key, raw)) return false;
    const claims = claimsSignature(this.deps.claimsOn(memo.druidEndpoint, memo.supervisorId));
    if (`${dependencies}\n${claims}` !== memo.dependencies) return false;
    const snapshots = this.deps.snapshots;
    try {
      // Anything that takes a read of its own (an unknown suspended flag) is for the whole path.
      const reading = await snapshots.listedSupervisor(memo.client, memo.supervisorId);
      if (!reading || reading.version !== memo.druidVersion || !sameListing(reading.supervisor, memo.supervisor)) return false;
      if (memo.compaction && !samePart(await snapshots.compaction(memo.client, memo.compaction.dataSource), memo.compaction)) return false;
      if (memo.rules && !samePart(await snapshots.rules(memo.client, memo.rules.dataSource), memo.rules)) return false;
      return true;
    } catch {
      return false;
    }
  }

  private async sync(log: Logger, key: string, cached: DruidIngestion, dependencies?: string): Promise<ProcessResult> {
    const facts: StatusFacts = { ingestion: cached, now: this.nowIso() };
    const lag = this.lagFacts(key);
    if (lag) facts.lag = lag;

    const finalizer = await this.ensureFinalizer(log, cached);
    if (!finalizer.ok) return "conflict" in finalizer ? requeueAfter({ kind: "conflict" }, this.deps.settings) : this.stop(log, facts, finalizer.failure);
    const ingestion = finalizer.value;
    facts.ingestion = ingestion;

    const wanted = desiredOf(ingestion);
    if (!wanted.ok) {
      facts.stop = wanted.failure;
      return this.end(log, facts, { kind: "waitForEdit" });
    }
    // A spec rolled back (spec.rollback): the last known good is what is applied.
    const { desired } = wanted;
    if (wanted.heldBack) facts.heldBack = wanted.heldBack;
    if (wanted.heldBackUnusable) log.warn("spec rolled back, but the last known good spec cannot stand in for it: applying the resource's spec", { generation: wanted.heldBackUnusable.generation });
    facts.desired = desired;

    const resolved = await this.resolve(ingestion, desired);
    if (!resolved.ok) return this.stop(log, facts, resolved.failure);
    facts.target = resolved.value.target;
    facts.record = resolved.value.record;
    // Nothing is planned, and so nothing POSTed, with a reference whose value is not known.
    // Only a submission needs the values: Observe never submits, so it never reads them.
    const specSecrets: Step<ResolvedSecretRefs> = managementPolicyOf(ingestion) === "Observe" ? { ok: true, value: NO_SECRET_REFS } : await this.specSecretsOf(ingestion, desired);
    if (!specSecrets.ok) return this.stop(log, facts, specSecrets.failure);
    facts.desired = desired;

    // One reconcile per supervisor at a time, from the claim check to the status write, so two
    // resources naming one supervisor never both create it (one leader: a process-local lock).
    const { target } = resolved.value;
    const lock = target.supervisorId ? claimKey(target.druidEndpoint, target.supervisorId) : undefined;
    if (lock !== undefined) {
      const holder = this.claimLocks.get(lock);
      if (holder !== undefined && holder !== key) return { requeueAfterMs: BUSY_RETRY_MS };
      this.claimLocks.set(lock, key);
    }
    try {
      return await this.syncTarget(log, key, facts, ingestion, desired, { ...resolved.value, specSecrets: specSecrets.value }, dependencies);
    } finally {
      if (lock !== undefined && this.claimLocks.get(lock) === key) this.claimLocks.delete(lock);
    }
  }

  private async syncTarget(log: Logger, key: string, facts: StatusFacts, ingestion: DruidIngestion, desired: DesiredIngestion, resolved: Resolved, dependencies?: string): Promise<ProcessResult> {
    const { target, record, credentials, specSecrets } = resolved;
    const status = ingestion.status ?? {};
    const policy = managementPolicyOf(ingestion);
    const orphan = deletionPolicyOf(ingestion) === "Orphan";
    const selfRecorded = record !== undefined && recordMatches(record, target, status) && mainRecorded(record, target);
    const claims = target.supervisorId ? this.deps.claimsOn(target.druidEndpoint, target.supervisorId) : [];
    const claimant = target.supervisorId ? betterClaimant(ingestion, selfRecorded, claims) : undefined;

    // The ConfigMap only shows the rendered spec (a failure is reported, never a reason to stop):
    // it is written while Druid is read, and in place before anything is decided.
    const configMapWritten = this.writeConfigMap(log, ingestion, desired).then((written) => {
      facts.configMap = written;
    });

    // An earlier create for another target (the spec changed after a create whose answer was lost).
    if (status.pendingCreate) {
      await configMapWritten;
      const stale = await this.resolveStalePending(log, key, facts, ingestion, target, desired, credentials);
      if (stale) return stale;
    }

    const client = this.client(ingestion, target.druidEndpoint, credentials);
    // Druid's copy holds the referenced values: left out of its hash (status), like the resource's
    // own ignored paths. A rotated value changes desired.specHash instead, so it is sent once.
    const ignored = ignoredPathsOf(ingestion, desired);
    let observation: Observation;
    try {
      [observation] = await Promise.all([this.observe(key, client, ingestion, desired, record, target, specSecrets, ignored), configMapWritten]);
    } catch (error) {
      await configMapWritten;
      return this.stop(log, facts, failureOf(error));
    }
    const { observed } = observation;
    facts.observed = observed;
    facts.druidVersion = observed.druidVersion;

    let sameDruidAsRecord: boolean | undefined;
    if (record && onlyEndpointDiffers(record, target) && (observed.supervisor !== undefined || target.kind === "task")) {
      // The new URL shows what the record names: another URL of the same Druid, or another Druid?
      const probe = await this.sameDruid(record, client, credentials);
      if (probe.ok) sameDruidAsRecord = probe.value;
      else if (orphan) sameDruidAsRecord = false; // Orphan lets go of the old one anyway
      else return this.stop(log, facts, probe.failure);
    }
    let pendingConfirmed = false;
    if (observed.supervisor && pendingMatches(status.pendingCreate, target)) {
      const confirmed = await this.storedSincePending(client, status.pendingCreate as PendingCreate);
      if (!confirmed.ok) return this.stop(log, facts, confirmed.failure);
      pendingConfirmed = confirmed.value;
    }
    const decision = decideOwnership({ policy, target, record, status, pendingConfirmed, live: observed.supervisor !== undefined, olderClaimant: claimant, sameDruidAsRecord });
    facts.decision = decision;
    facts.ignored = ignored;
    // Druid lists a supervisor this resource stands for unhealthy anew: its errors say why.
    if ((decision.kind === "owned" || decision.kind === "adopt" || decision.kind === "observe") && desired.kind === "supervisor") {
      const live = observed.supervisor;
      if (live?.healthy === false && !live.suspended && (status.healthy !== false || status.detailedState !== live.detailedState || status.state !== live.state || status.recentErrors === undefined)) {
        observed.health = await this.healthOf(client, desired, specSecrets);
        if (!observed.health) observed.healthUnread = true;
      }
    }
    // A recreate waits for the suspended supervisor's tasks to finish (plan.ts): count them.
    if (decision.kind === "owned" && desired.kind === "supervisor" && ingestion.spec.unsafeChangePolicy === "Recreate" && observed.supervisor?.suspended && observed.supervisor.spec && unsafeChanges(observed.supervisor.spec, desired.body).length > 0) {
      const report = await this.healthOf(client, desired, specSecrets);
      observed.tasksLeft = report?.activeTasks !== undefined && report.publishingTasks !== undefined ? report.activeTasks + report.publishingTasks : undefined;
    }
    if (decision.kind === "owned" || decision.kind === "create" || decision.kind === "adopt" || decision.kind === "observe") {
      if (desired.kind === "supervisor") facts.lagTarget = { client, supervisorId: desired.supervisorId };
    }
    // Within the rollback window after an update, Druid reports the supervisor unhealthy: the
    // rollback is recorded now and carried out by the next reconcile (which holds this generation back).
    if (decision.kind === "owned" && desired.kind === "supervisor" && !facts.heldBack) {
      const due = rollbackDue({ ingestion, desired, live: observed.supervisor, now: facts.now });
      if (due) return this.rollBack(log, facts, due);
    }
    const planFor = (holding: Holding) => planIngestion({ ingestion, desired, observed, holding, record: holding === "owned" && decision.kind === "owned" ? decision.record : record, policy, ignored, secretValues: specSecrets.values });

    switch (decision.kind) {
      case "standDown":
        log.info("standing down", { reason: decision.failure.reason });
        return this.end(log, facts, { kind: "failed", failure: decision.failure });
      case "observe":
        facts.plan = planFor(record ? "owned" : observed.supervisor ? "adopt" : "create");
        return this.idle(log, facts, client, desired, observed);
      case "move": {
        const removal = planRemoval(decision.from, status, { cause: "Moved", keep: target, orphan, taskFinished: this.recordedTaskFinished(ingestion) });
        // The druid-operator keeps a copy of the rules it applied: they go with its datasource.
        const from = decision.from;
        if (!orphan && from.origin === "DruidOperator" && !status.applied && from.dataSource && from.dataSource !== target.dataSource && (status.rules?.length ?? 0) > 0 && !status.rulesHash) {
          removal.actions.push({ kind: "clearRules", dataSource: from.dataSource, cause: "Moved" });
        }
        facts.removal = removal;
        log.info("target changed: removing the recorded one first", { from: decision.from, to: target, actions: removal.actions.map((a) => a.kind), forget: removal.forget });
        const oldClient = this.client(ingestion, decision.from.druidEndpoint, credentials);
        facts.outcome = await executePlan(removal.actions, { client: oldClient, snapshots: this.deps.snapshots, fence: this.fence, druidVersion: "", ignored: [] });
        return this.end(log, facts, facts.outcome.failed ? { kind: "failed", failure: facts.outcome.failed.failure } : { kind: "changed" });
      }
      case "owned":
      case "create":
      case "adopt":
        break;
    }

    const plan = planFor(decision.kind);
    facts.plan = plan;
    if (plan.failure) return this.end(log, facts, { kind: "failed", failure: plan.failure });

    let pendingSince = status.pendingCreate?.since;
    const creates = plannedCreates(plan, status, decision.kind === "owned" ? decision.record : record);
    const intents = intentsFor(plan.actions, ingestion, target.druidEndpoint, facts.now);
    if (creates || Object.keys(intents).length > 0) {
      // Recorded before the create or reset, on a status no newer than what this reconcile read
      // (resourceVersion precondition): a create whose outcome is lost is then known to be this
      // resource's, and a reset whose outcome is lost is never sent twice for one nonce.
      const intent: DruidIngestionStatus = { ...status, ...intents };
      if (creates) {
        intent.pendingCreate = this.pendingCreate(status.pendingCreate, target, creates, facts.now);
        pendingSince = intent.pendingCreate.since;
      }
      const written = await this.writeStatus(ingestion, intent);
      if (written.kind === "conflict") return requeueAfter({ kind: "conflict" }, this.deps.settings);
      if (written.kind === "gone") return {};
      if (written.kind === "written") facts.ingestion = written.ingestion;
    }

    let outcome: Outcome = emptyOutcome();
    if (plan.actions.length > 0) {
      log.info("applying to Druid", { actions: plan.actions.map((a) => a.kind), druid: target.druidEndpoint });
      outcome = await executePlan(plan.actions, { client, snapshots: this.deps.snapshots, fence: this.fence, druidVersion: observed.druidVersion, ignored, pendingSince, specSecrets });
      if (outcome.failed) log.warn("Druid call failed", { action: outcome.failed.action.kind, reason: outcome.failed.failure.reason, ambiguous: outcome.failed.ambiguous, error: outcome.failed.failure.message });
    }
    facts.outcome = outcome;
    // Druid's own supervisor, started for this resource: said here too, should the status write or the Event be lost.
    if (outcome.backfillSupervisorId !== undefined) log.info("Druid started a backfill supervisor", { supervisor: desired.kind === "supervisor" ? desired.supervisorId : undefined, backfill: outcome.backfillSupervisorId });
    const failed = outcome.failed;
    // Druid refused the resource's spec (certainly not applied): the last known good stays.
    if (failed && failed.action.kind === "submitSupervisor" && failed.action.cause === "Updated" && !failed.ambiguous && desired.kind === "supervisor" && decision.kind === "owned" && !facts.heldBack) {
      const due = rollbackDue({ ingestion, desired, live: observed.supervisor, rejected: failed.failure, now: facts.now });
      if (due) return this.rollBack(log, facts, due);
    }
    if (outcome.failed) return this.end(log, facts, { kind: "failed", failure: outcome.failed.failure });
    const partStandDown = plan.compactionStandDown ?? plan.rulesStandDown;
    if (outcome.executed.length > 0) {
      // A create, suspend or resume whose read-back says where the supervisor is: the state poller
      // (or, unserved, the usual backoff from the settle delay) takes it from there, without a
      // second look of its own a settle delay later.
      if (outcome.supervisorAfter && desired.kind === "supervisor" && outcome.executed.every(startsOrStops)) return this.idle(log, facts, client, desired, { ...observed, supervisor: outcome.supervisorAfter }, true);
      return this.end(log, facts, { kind: "changed" });
    }
    if (partStandDown) return this.end(log, facts, { kind: "failed", failure: partStandDown });
    // Owned, in place, nothing pending, nothing read fresh, no referenced Secret values (their
    // spec is read every resync): the next resync may skip all this if nothing changes.
    const memo: IdleMemo | undefined =
      dependencies !== undefined && decision.kind === "owned" && desired.kind === "supervisor" && observed.supervisor && desired.secretRefs.length === 0 && !status.pendingCreate && !hasIntent(status) && !lastKnownGoodPending(ingestion, facts.now) && !facts.configMap?.failure && !observed.healthUnread && observation.compaction !== "fresh" && observation.rules !== "fresh"
        ? {
            dependencies: `${dependencies}\n${claimsSignature(claims)}`,
            client,
            druidEndpoint: target.druidEndpoint,
            supervisorId: desired.supervisorId,
            druidVersion: observed.druidVersion,
            supervisor: listingOf(observed.supervisor),
            ...(observation.compaction ? { compaction: observation.compaction } : {}),
            ...(observation.rules ? { rules: observation.rules } : {}),
          }
        : undefined;
    return this.idle(log, facts, client, desired, observed, false, memo);
  }

  /** A rollback decided now: recorded in status; the next reconcile holds the spec back and applies the last known good. */
  private async rollBack(log: Logger, facts: StatusFacts, due: RollbackRecord): Promise<ProcessResult> {
    log.warn("rolling back to the last known good spec", { reason: due.reason, generation: due.generation, to: due.toSpecHash });
    facts.rollback = due;
    return this.end(log, facts, { kind: "changed" });
  }

  /** Nothing to change; a supervisor on its way somewhere is watched (once the status is written). */
  private idle(log: Logger, facts: StatusFacts, client: DruidClient, desired: DesiredIngestion, observed: Observed, afterWrite = false, memo?: IdleMemo): Promise<ProcessResult> {
    const watchWith = desired.kind === "supervisor" ? { client, supervisorId: desired.supervisorId, newWait: afterWrite } : undefined;
    // Right after our own write the wait starts now, whatever the status said before.
    return this.end(log, facts, { kind: "idle", supervisor: observed.supervisor, task: observed.task, ...(afterWrite ? { sinceTransitionMs: 0 } : {}) }, watchWith, memo);
  }

  /**
   * A pending create that is not for the current target: what it may have created is this
   * resource's only if Druid stored it after the pending create was recorded. That is removed
   * (on the pending create's endpoint) before anything else; what is not there is forgotten.
   */
  private async resolveStalePending(log: Logger, key: string, facts: StatusFacts, ingestion: DruidIngestion, target: Target, desired: DesiredIngestion, credentials: DruidCredentials | undefined): Promise<ProcessResult | undefined> {
    const pending = ingestion.status?.pendingCreate;
    if (!pending || pendingCovers(pending, target, desired.kind === "task" ? desired.taskId : undefined)) return undefined;
    const client = this.client(ingestion, pending.druidEndpoint, credentials);
    const found = await this.pendingEvidence(client, pending);
    if (!found.ok) {
      return this.stop(log, facts, { ...found.failure, message: `an earlier create of ${describePending(pending)} may or may not have reached Druid, and it cannot be checked now (${found.failure.message}); nothing else is done until it can` });
    }
    facts.staleCreate = pending;
    // What another resource claims is left to it; what another reconcile is working on, later.
    const busy = found.value.some((a) => {
      const holder = a.kind === "terminateSupervisor" ? this.claimLocks.get(claimKey(pending.druidEndpoint, a.supervisorId)) : undefined;
      return holder !== undefined && holder !== key;
    });
    if (busy) return { requeueAfterMs: BUSY_RETRY_MS };
    const actions = found.value.filter((a) => a.kind !== "terminateSupervisor" || !otherLiveClaimant(ingestion, this.deps.claimsOn(pending.druidEndpoint, a.supervisorId)));
    if (actions.length === 0) return undefined;
    log.info("removing what an earlier, unconfirmed create made", { pending, actions: actions.map((a) => a.kind) });
    facts.outcome = await executePlan(actions, { client, snapshots: this.deps.snapshots, fence: this.fence, druidVersion: "", ignored: [] });
    return this.end(log, facts, facts.outcome.failed ? { kind: "failed", failure: facts.outcome.failed.failure } : { kind: "changed" });
  }

  /** What a pending create demonstrably made: stored in Druid after the pending create was recorded. */
  private async pendingEvidence(client: DruidClient, pending: PendingCreate): Promise<Step<DruidAction[]>> {
    try {
      const actions: DruidAction[] = [];
      if (pending.supervisorId && (await supervisorStoredSince(client, pending.supervisorId, pending.since))) {
        actions.push({ kind: "terminateSupervisor", supervisorId: pending.supervisorId, cause: "Moved" });
      }
      if (pending.taskId) {
        const task = await client.taskStatus(pending.taskId);
        if (task?.statusCode === "RUNNING" && task.createdTime !== undefined && storedSince(task.createdTime, pending.since)) actions.push({ kind: "shutdownTask", taskId: pending.taskId, cause: "Moved" });
      }
      return { ok: true, value: actions };
    } catch (error) {
      return { ok: false, failure: failureOf(error) };
    }
  }

  /** The supervisor Druid shows for a matching pending create was stored after it was recorded (so it is ours). */
  private async storedSincePending(client: DruidClient, pending: PendingCreate): Promise<Step<boolean>> {
    try {
      return { ok: true, value: pending.supervisorId !== undefined && (await supervisorStoredSince(client, pending.supervisorId, pending.since)) };
    } catch (error) {
      return { ok: false, failure: failureOf(error) };
    }
  }

  /**
   * Whether the record's URL and the target's lead to one Druid: the supervisor's newest stored
   * version (metadata store) or the task's creation time is the same through both.
   */
  private async sameDruid(record: AppliedRecord, targetClient: DruidClient, credentials: DruidCredentials | undefined): Promise<Step<boolean>> {
    const recorded = this.deps.druidClient({ baseUrl: record.druidEndpoint, credentials, ...(targetClient.target.namespace ? { namespace: targetClient.target.namespace } : {}) });
    return probeSameDruid(record, recorded, targetClient);
  }

  /** The pending create for this target; an earlier one for the same target keeps its time. */
  private pendingCreate(previous: PendingCreate | undefined, target: Target, creates: { supervisorId?: string; taskId?: string; dataSource?: string }, now: string): PendingCreate {
    const pending: PendingCreate = { druidEndpoint: target.druidEndpoint, ...creates, since: now };
    if (previous && previous.druidEndpoint === pending.druidEndpoint && previous.supervisorId === pending.supervisorId && previous.taskId === pending.taskId && previous.dataSource === pending.dataSource) {
      pending.since = previous.since;
    }
    return pending;
  }

  /**
   * How long the status has shown what it shows now (its last change, else Ready's transition):
   * a supervisor that Druid restarts while Ready stays the same (suspended, edited) is new again.
   */
  private sinceStatusChanged(status: DruidIngestionStatus | undefined): number {
    const ready = findCondition(status?.conditions, READY);
    const at = status?.lastUpdateTime ? Date.parse(status.lastUpdateTime) : ready ? Date.parse(ready.lastTransitionTime) : Number.NaN;
    const now = (this.deps.now?.() ?? new Date()).getTime();
    return Number.isFinite(at) ? Math.max(0, now - at) : 0;
  }

  private recordedTaskFinished(ingestion: DruidIngestion): boolean {
    return finishedTask(ingestion.status, ingestion.status?.applied?.taskId);
  }

  /** A Druid client acting for this resource (its namespace decides which router Services are allowed). */
  private client(ingestion: DruidIngestion, baseUrl: string, credentials: DruidCredentials | undefined): DruidClient {
    return this.deps.druidClient({ baseUrl, credentials, namespace: ingestion.metadata.namespace });
  }

  /** The Druid credentials a resource names, or why its Secret cannot be used. */
  private async credentialsOf(ingestion: DruidIngestion, secrets: SecretLookup): Promise<Step<DruidCredentials | undefined>> {
    const resolved = resolveCredentials(ingestion, secrets, this.deps.settings.allowCrossNamespaceSecrets);
    if (resolved.ok || "failure" in resolved) return resolved;
    return { ok: false, failure: await this.unusableSecret(resolved.unusable, resolved.keys) };
  }

  /** The values of the spec's Secret references (own namespace, opted-in Secrets only), or why not. */
  private async specSecretsOf(ingestion: DruidIngestion, desired: DesiredIngestion): Promise<Step<ResolvedSecretRefs>> {
    const resolved = resolveSecretRefs(desired.secretRefs, ingestion.metadata.namespace, this.deps.secrets);
    if (resolved.ok || "failure" in resolved) return resolved;
    return { ok: false, failure: await this.unusableSecret(resolved.unusable, resolved.keys) };
  }

  /**
   * Credentials for cleaning up Druid. A Secret gone from the cache may have been deleted just
   * before the resource (a namespace teardown): its last copy is used then, but only when it is
   * really gone: one that still exists lost its label, and that revokes it.
   */
  private async credentialsForDeletion(ingestion: DruidIngestion): Promise<Step<DruidCredentials | undefined>> {
    const resolved = resolveCredentials(ingestion, this.deps.secrets, this.deps.settings.allowCrossNamespaceSecrets);
    if (resolved.ok || "failure" in resolved) return resolved;
    const { namespace, name } = resolved.unusable;
    const remembered = this.deps.deletedSecrets?.get(namespace, name);
    if (remembered) {
      try {
        if (!(await this.deps.kube.secretExists(namespace, name))) return this.credentialsOf(ingestion, { get: () => remembered });
      } catch (error) {
        return { ok: false, failure: { reason: "SecretNotFound", message: `Secret ${namespace}/${name} is gone from the controller's cache and whether it still exists could not be asked: ${describeApiError(error)}`, transient: true } };
      }
    }
    return { ok: false, failure: await this.unusableSecret(resolved.unusable, resolved.keys) };
  }

  /** Why a named Secret is not used: asked whether it exists, never what it holds. */
  private async unusableSecret(ref: SecretRef, keys: readonly string[]): Promise<Failure> {
    try {
      return unusableSecretFailure(ref, await this.deps.kube.secretExists(ref.namespace, ref.name), keys);
    } catch (error) {
      return { reason: "SecretNotFound", message: `Secret ${ref.namespace}/${ref.name} is not among the Secrets labelled ${CREDENTIALS_LABEL}=true that the controller reads, and whether it exists could not be asked: ${describeApiError(error)}`, transient: true };
    }
  }

  /**
   * The target (endpoint, ids) and the record. A druid-operator record takes the endpoint found
   * now; once something was applied, a fallback endpoint never moves it (keepRecordedEndpoint).
   */
  private async resolve(ingestion: DruidIngestion, desired: DesiredIngestion): Promise<Step<Omit<Resolved, "specSecrets">>> {
    const { settings } = this.deps;
    const endpoint = resolveEndpoint(ingestion, this.deps.routerServices.list(ingestion.metadata.namespace), settings.defaultDruidUrl);
    if (!endpoint.ok) return endpoint;
    const found = recordAt(ingestion, lookupRecord(ingestion), endpoint.value);
    if (!found.ok) return found;
    const record = found.value;
    const kept = keepRecordedEndpoint(endpoint.value, record);
    if (!kept.ok) return kept;
    // Where requests go is an administrator's decision: refused before the Secret is even read.
    const allowance = this.deps.allowEndpoint?.(endpoint.value.url, ingestion.metadata.namespace);
    if (allowance && !allowance.ok) {
      return { ok: false, failure: { reason: "EndpointNotAllowed", message: `${endpointSourceName(endpoint.value.source, ingestion.spec.druidCluster)}: ${allowance.message}` } };
    }
    const credentials = await this.credentialsOf(ingestion, this.deps.secrets);
    if (!credentials.ok) return credentials;
    const target = targetOf(ingestion, desired, endpoint.value);
    // Discovery alone gives another URL (a router Service appeared, was renamed or relabelled)
    // while the resource did not change: no request goes there (druid-target.ts).
    const moveRefused = discoveryMoveRefusal(ingestion, record, target, endpoint.value.source);
    if (moveRefused) return { ok: false, failure: moveRefused };
    return { ok: true, value: { target, record, credentials: credentials.value } };
  }

  /**
   * Druid's view of the target. What no record names yet is read fresh (its own call, not the
   * shared list): a create or a takeover is never decided on a reading up to a resync old.
   */
  private async observe(key: string, client: DruidClient, ingestion: DruidIngestion, desired: DesiredIngestion, record: AppliedRecord | undefined, target: Target, specSecrets: ResolvedSecretRefs, ignored: readonly string[]): Promise<Observation> {
    const status = ingestion.status ?? {};
    const snapshots = this.deps.snapshots;
    let observed: Observed;
    if (desired.kind === "supervisor") {
      // While waiting for a state change, a reading at most one settle delay old.
      const waiting = awaitsStateChange(status);
      const unrecorded = !record || !recordMatches(record, target, status) || !mainRecorded(record, target);
      // The state list has no specs: this supervisor is read on its own only when needed.
      const wantSpec = (listed: LiveSupervisor): boolean =>
        needsStoredSpec({
          driftCheckDue: this.driftChecks.due(key),
          specChanged: status.specHash !== desired.specHash,
          edited: ingestion.metadata.generation !== status.observedGeneration,
          stateChanged: listed.state !== status.state,
          baselineMissing: status.druidSpecHash === undefined || !sameIgnoredPaths(status.driftIgnorePaths, ignored),
          referencesSecrets: desired.secretRefs.length > 0,
        });
      // One the state poller watches is woken when the list shows a change: the shared list, which
      // the poller keeps fresh, is recent enough for it.
      // The watch also knows suspending and resuming (from the reading, stored flag included).
      const watch = this.deps.stateWatch;
      const fresh = (waiting || (watch?.watching(key) ?? false)) && !(watch?.reliesOnPoller(key, client) ?? false);
      const reading = await snapshots.supervisor(client, desired.supervisorId, unrecorded ? 0 : fresh ? this.deps.settings.settleMs : undefined, unrecorded ? () => true : wantSpec);
      if (reading.supervisor?.spec) this.driftChecks.checked(key);
      observed = { druidVersion: reading.version, supervisor: reading.supervisor };
    } else {
      observed = { druidVersion: await snapshots.version(client) };
      // Tasks are not listed cluster-wide: ask for the recorded one while it may still change.
      const taskId = record?.taskId;
      if (taskId && finishedTask(status, taskId)) {
        observed.task = { id: taskId, statusCode: status.taskStatus as string, runnerStatusCode: "NONE", errorMsg: undefined };
      } else if (taskId) {
        // A failed task's message may quote its spec: the values its references carried are cleaned
        // out first; when they are not known (Observe reads none), the message is not shown at all.
        const values = [...specSecrets.values.values()];
        observed.task = await client.taskStatus(taskId, values);
        if (observed.task?.errorMsg && desired.secretRefs.length > 0 && values.length === 0) {
          observed.task = { ...observed.task, errorMsg: UNREAD_SECRETS_MESSAGE };
        }
      }
    }
    const ds = desired.dataSource;
    const partsOurs = record?.dataSource === ds;
    const observation: Observation = { observed };
    if (ds && (desired.compaction || status.compactionHash)) {
      const listed = partsOurs && status.compactionHash !== undefined;
      observed.compaction = await snapshots.compaction(client, ds, listed ? undefined : 0);
      observation.compaction = listed ? { dataSource: ds, value: observed.compaction } : "fresh";
    }
    if (ds && (desired.rules || status.rulesHash)) {
      const listed = partsOurs && status.rulesHash !== undefined;
      observed.rules = await snapshots.rules(client, ds, listed ? undefined : 0);
      observation.rules = listed ? { dataSource: ds, value: observed.rules } : "fresh";
    }
    return observation;
  }

  /**
   * The supervisor's status report (recent errors, tasks), its errors cleaned of the values its
   * spec references; when those are not known (Observe reads none), messages that may quote them
   * are not shown. A failed read gives undefined: health is reported from the list regardless.
   */
  private async healthOf(client: DruidClient, desired: Extract<DesiredIngestion, { kind: "supervisor" }>, specSecrets: ResolvedSecretRefs): Promise<SupervisorHealth | undefined> {
    const values = [...specSecrets.values.values()];
    let health: SupervisorHealth | undefined;
    try {
      health = await client.supervisorHealth(desired.supervisorId, values);
    } catch (error) {
      this.deps.logger.debug("could not read the supervisor's status report", { supervisor: desired.supervisorId, error: describeApiError(error) });
      return undefined;
    }
    if (health && desired.secretRefs.length > 0 && values.length === 0) {
      for (const e of health.recentErrors) {
        e.message = UNREAD_SECRETS_MESSAGE;
        e.exceptionClass = undefined;
      }
    }
    return health;
  }

  // --- deletion ---------------------------------------------------------------------------------

  private async finalize(log: Logger, ingestion: DruidIngestion): Promise<ProcessResult> {
    if (!(ingestion.metadata.finalizers ?? []).includes(FINALIZER)) return {};
    const facts: StatusFacts = { ingestion, now: this.nowIso() };
    if (deletionPolicyOf(ingestion) === "Orphan" || managementPolicyOf(ingestion) === "Observe") {
      log.info("letting go without touching Druid", { deletionPolicy: deletionPolicyOf(ingestion), managementPolicy: managementPolicyOf(ingestion) });
      return this.removeFinalizer(log, ingestion);
    }
    let desired: DesiredIngestion | undefined;
    try {
      desired = renderIngestion(ingestion);
    } catch {
      desired = undefined; // the record still names what was created
    }
    const status = ingestion.status ?? {};
    const lookup = lookupRecord(ingestion);
    if (lookup.kind === "none" && !status.pendingCreate) {
      log.info("nothing recorded in Druid; removing the finalizer");
      return this.removeFinalizer(log, ingestion);
    }
    const credentials = await this.credentialsForDeletion(ingestion);
    if (!credentials.ok) return this.blockDeletion(log, facts, credentials.failure);
    const groups = await this.removals(ingestion, desired, credentials.value);
    if (!groups.ok) return this.blockDeletion(log, facts, groups.failure);

    const outcome = emptyOutcome();
    for (const { endpoint, actions } of groups.value) {
      const client = this.client(ingestion, endpoint, credentials.value);
      const part = await executePlan(actions, { client, snapshots: this.deps.snapshots, fence: this.fence, druidVersion: "", ignored: [] });
      outcome.executed.push(...part.executed);
      if (part.failed) {
        outcome.failed = part.failed;
        facts.outcome = outcome;
        return this.blockDeletion(log, facts, part.failed.failure);
      }
    }
    for (const event of eventsFor(status, status, outcome)) await this.deps.events.record(ingestion, event);
    log.info("removed from Druid", { druidActions: outcome.executed.map((a) => a.kind) });
    return this.removeFinalizer(log, ingestion);
  }

  /**
   * What deletion removes, per endpoint: what the record names (a druid-operator record: also
   * the compaction config and rules its spec applies), and a pending create whose outcome was
   * never confirmed. A supervisor another live resource claims is left to it.
   */
  private async removals(ingestion: DruidIngestion, desired: DesiredIngestion | undefined, credentials: DruidCredentials | undefined): Promise<Step<Array<{ endpoint: string; actions: DruidAction[] }>>> {
    const status: DruidIngestionStatus = ingestion.status ?? {};
    const lookup = lookupRecord(ingestion);
    let record: AppliedRecord | undefined;
    if (lookup.kind === "druidOperator") {
      // The druid-operator never recorded its endpoint: the one discovery gives now.
      const endpoint = resolveEndpoint(ingestion, this.deps.routerServices.list(ingestion.metadata.namespace), this.deps.settings.defaultDruidUrl);
      if (!endpoint.ok) return endpoint;
      const found = recordAt(ingestion, lookup, endpoint.value);
      if (!found.ok) return found;
      record = found.value;
    } else if (lookup.kind === "recorded") {
      record = lookup.record;
    }
    const groups: Array<{ endpoint: string; actions: DruidAction[] }> = [];
    const add = (endpoint: string, actions: DruidAction[]): void => {
      // A supervisor another live resource claims is left to it, with its datasource's parts.
      const leftToOther = actions.some((a) => a.kind === "terminateSupervisor" && otherLiveClaimant(ingestion, this.deps.claimsOn(endpoint, a.supervisorId)));
      if (!leftToOther && actions.length > 0) groups.push({ endpoint, actions });
    };
    const fromSpec = (dataSource: string | undefined): DruidAction[] => {
      const parts: DruidAction[] = [];
      if (dataSource && desired?.compaction && !status.compactionHash) parts.push({ kind: "deleteCompaction", dataSource, cause: "Deleted" });
      if (dataSource && desired?.rules && !status.rulesHash) parts.push({ kind: "clearRules", dataSource, cause: "Deleted" });
      return parts;
    };
    if (record) {
      const actions = planRemoval(record, status, { cause: "Deleted", taskFinished: this.recordedTaskFinished(ingestion) }).actions;
      // The druid-operator applied the spec's compaction config and rules too.
      if (record.origin === "DruidOperator" && !status.applied) actions.push(...fromSpec(record.dataSource));
      add(record.druidEndpoint, actions);
    }
    const pending = status.pendingCreate;
    const pendingIsRecorded = record !== undefined && pending !== undefined && sameEndpoint(pending.druidEndpoint, record.druidEndpoint) && pending.supervisorId === record.supervisorId && pending.taskId === record.taskId;
    if (pending && !pendingIsRecorded) {
      // A create whose answer was lost: what Druid stored after it was recorded is this resource's.
      const found = await this.pendingEvidence(this.client(ingestion, pending.druidEndpoint, credentials), pending);
      if (!found.ok) return found;
      add(pending.druidEndpoint, found.value.map((a) => ({ ...a, cause: "Deleted" }) as DruidAction));
    }
    return { ok: true, value: groups };
  }

  private async blockDeletion(log: Logger, facts: StatusFacts, failure: Failure): Promise<ProcessResult> {
    const message = `cannot remove the ingestion from Druid, so the finalizer stays and the resource is kept: ${failure.message}. To delete the resource without touching Druid, set spec.deletionPolicy: Orphan`;
    log.warn("deletion blocked", { reason: failure.reason, error: failure.message });
    facts.stop = { ...failure, message, transient: true };
    const { written } = await this.report(log, facts);
    if (written.kind === "conflict") return requeueAfter({ kind: "conflict" }, this.deps.settings);
    // Retried with backoff: what blocks deletion (Druid down, a Secret) may come back any time.
    return { error: new Error(failure.message) };
  }

  // --- Kubernetes writes --------------------------------------------------------------------------

  /** Returns the resource as stored after the patch, so later conditional writes use its version. */
  private async ensureFinalizer(log: Logger, ingestion: DruidIngestion): Promise<Step<DruidIngestion> | { ok: false; conflict: true }> {
    const { namespace, name, resourceVersion, finalizers } = ingestion.metadata;
    if ((finalizers ?? []).includes(FINALIZER)) return { ok: true, value: ingestion };
    // Before anything exists in Druid, so the resource can never vanish without cleanup.
    // `test` on resourceVersion: never overwrite a finalizer list we have not seen.
    const ops = finalizers
      ? [{ op: "test" as const, path: "/metadata/resourceVersion", value: resourceVersion }, { op: "add" as const, path: "/metadata/finalizers/-", value: FINALIZER }]
      : [{ op: "test" as const, path: "/metadata/resourceVersion", value: resourceVersion }, { op: "add" as const, path: "/metadata/finalizers", value: [FINALIZER] }];
    try {
      const stored = (await this.deps.kube.patchIngestion(namespace, name, ops)) as Partial<DruidIngestion>;
      this.expectations.wrote(objectKey(namespace, name), resourceVersion);
      if (stored.metadata?.resourceVersion) this.deps.noteWritten?.(stored as DruidIngestion, resourceVersion);
      log.debug("finalizer added");
      const version = stored.metadata?.resourceVersion;
      return { ok: true, value: { ...ingestion, metadata: { ...ingestion.metadata, finalizers: [...(finalizers ?? []), FINALIZER], ...(version ? { resourceVersion: version } : {}) } } };
    } catch (error) {
      // A stale cache (the resource changed since it was read) fails the `test`: just look again.
      if (isApiStatus(error, 409) || (isApiStatus(error, 422) && /test/i.test(describeApiError(error)))) return { ok: false, conflict: true };
      return {
        ok: false,
        failure: {
          reason: "FinalizerPatchFailed",
          message: `could not add the finalizer ${FINALIZER} (${describeApiError(error)}); nothing is created in Druid until it is set, so deleting the resource can never leave Druid behind`,
          transient: true,
        },
      };
    }
  }

  private async removeFinalizer(log: Logger, ingestion: DruidIngestion): Promise<ProcessResult> {
    const { namespace, name, finalizers = [] } = ingestion.metadata;
    const index = finalizers.indexOf(FINALIZER);
    try {
      await this.deps.kube.patchIngestion(namespace, name, [
        { op: "test", path: `/metadata/finalizers/${index}`, value: FINALIZER },
        { op: "remove", path: `/metadata/finalizers/${index}` },
      ]);
      log.info("finalized", { deletionPolicy: deletionPolicyOf(ingestion) });
    } catch (error) {
      if (!isApiStatus(error, 404)) throw error; // already gone
    }
    return {};
  }

  /** The owned ConfigMap is informational: a failure is reported, never a reason to stop. */
  private async writeConfigMap(log: Logger, ingestion: DruidIngestion, desired: DesiredIngestion): Promise<{ name: string; failure?: Failure }> {
    let configMap: V1ConfigMap;
    try {
      configMap = desiredConfigMap(ingestion, desired);
    } catch (error) {
      if (!(error instanceof SpecTooLargeError)) throw error;
      return { name: error.configMapName, failure: { reason: "SpecTooLarge", message: error.message } };
    }
    const name = configMap.metadata?.name as string;
    const namespace = ingestion.metadata.namespace;
    const current = this.deps.configMaps.get(name, namespace);
    if (configMapUpToDate(current, configMap)) return { name };
    const failed = (error: unknown, why = ""): { name: string; failure: Failure } => {
      log.warn("spec ConfigMap not written", { configMap: name, error: describeApiError(error) });
      return { name, failure: { reason: "ConfigMapApplyFailed", message: `could not write ConfigMap ${name} (${describeApiError(error)})${why}; Druid is kept in sync regardless, the ConfigMap only shows the rendered spec` } };
    };
    const patchFrom = async (stored: V1ConfigMap): Promise<void> => {
      await this.deps.kube.patchConfigMap(namespace, name, configMapPatch(stored, configMap));
    };
    try {
      // The cache holds only ConfigMaps labelled as ours: one it lacks is created, never written
      // over, since a user's ConfigMap of the same name would be taken over (and then be garbage-
      // collected with this resource).
      if (!configMapIsOurs(current, ingestion)) {
        try {
          await this.deps.kube.createConfigMap(configMap);
          log.debug("spec ConfigMap created", { configMap: name });
          return { name };
        } catch (error) {
          if (!isApiStatus(error, 409)) throw error;
          const stored = await this.deps.kube.readConfigMap(namespace, name);
          if (!configMapIsOurs(stored, ingestion)) return failed(error, ": a ConfigMap of that name exists and is not this resource's, so it is left as it is (rename or remove it)");
          await patchFrom(stored);
          return { name };
        }
      }
      try {
        await patchFrom(current as V1ConfigMap);
      } catch (error) {
        if (!isApiStatus(error, 409)) throw error;
        await patchFrom(await this.deps.kube.readConfigMap(namespace, name)); // the cache was behind
      }
      log.debug("spec ConfigMap updated", { configMap: name });
      return { name };
    } catch (error) {
      return failed(error);
    }
  }

  private async stop(log: Logger, facts: StatusFacts, failure: Failure): Promise<ProcessResult> {
    facts.stop = failure;
    return this.end(log, facts, { kind: "failed", failure });
  }

  /**
   * The one way a reconcile ends: report, then the requeue decision. An idle supervisor on its
   * way somewhere waits on the state poller, registered only once its status is written (a
   * resource deleted meanwhile must not be left waiting).
   */
  private async end(log: Logger, facts: StatusFacts, ending: Ending, watchWith?: { client: DruidClient; supervisorId: string; newWait?: boolean }, memo?: IdleMemo): Promise<ProcessResult> {
    const key = objectKey(facts.ingestion.metadata.namespace, facts.ingestion.metadata.name);
    const { written, status } = await this.report(log, facts);
    const supervisor = ending.kind === "idle" ? ending.supervisor : undefined;
    const waits = written.kind !== "conflict" && written.kind !== "gone" && watchWith !== undefined && supervisor !== undefined && isTransitional(supervisor);
    // Only an end that wrote nothing and awaits nothing holds again while nothing changes.
    if (memo && written.kind === "unchanged" && !waits && this.deps.ingestions.get(facts.ingestion.metadata.name, facts.ingestion.metadata.namespace) !== undefined) this.idleMemos.set(key, memo);
    // A wait that our own write starts owes nothing to an earlier one (its age, its lists).
    if (!waits || watchWith?.newWait) this.deps.stateWatch?.unwatch(key);
    const watched = waits && (this.deps.stateWatch?.watch(key, watchWith.client, watchWith.supervisorId, supervisor) ?? false);
    // A running supervisor this resource stands for has its lag read, however the reconcile
    // ended (a refused change, a part standing down: it still runs); anything else, not (any more).
    const live = facts.outcome?.supervisorAfter ?? facts.observed?.supervisor;
    const running = written.kind !== "gone" && !facts.stop && facts.lagTarget !== undefined && supervisorRuns(live);
    // A supervisor created (again) here: a reading of the one before is not its.
    if (facts.outcome?.executed.some(createsSupervisor)) this.deps.lagPoller?.untrack(key);
    if (running) this.deps.lagPoller?.track(key, facts.lagTarget as NonNullable<StatusFacts["lagTarget"]>);
    else if (written.kind !== "conflict") this.deps.lagPoller?.untrack(key);
    if (written.kind === "conflict") return requeueAfter({ kind: "conflict" }, this.deps.settings);
    if (written.kind === "gone") return {};
    if (ending.kind === "idle") ending = { ...ending, sinceTransitionMs: ending.sinceTransitionMs ?? this.sinceStatusChanged(status), watched };
    return requeueAfter(ending, this.deps.settings, this.deps.random);
  }

  /**
   * Patches status only when it changed (conditionally on the version read), then records the
   * transition's Events. Gives the status as reported (written or already there).
   */
  private async report(log: Logger, facts: StatusFacts): Promise<{ written: Written; status: DruidIngestionStatus }> {
    const { ingestion } = facts;
    const next = nextStatus(facts);
    const previous = ingestion.status;
    const unchanged = statusEquals(previous, next);
    const written = unchanged ? ({ kind: "unchanged" } as const) : await this.writeStatus(ingestion, next);
    const status = unchanged ? (previous ?? next) : next;
    if (written.kind === "conflict") {
      log.info("status changed meanwhile; looking again");
      // A reset Druid confirmed must be recorded, or the next reconcile reports it as unknown.
      for (const { request, nonce } of confirmedButUnwritten(previous, next, ingestion.spec)) await this.confirmReset(log, ingestion, request, nonce);
      return { written, status };
    }
    if (written.kind === "gone") return { written, status };
    for (const event of eventsFor(previous, next, facts.outcome)) {
      log.info("event", { type: event.type, reason: event.reason, message: event.message });
      await this.deps.events.record(ingestion, event);
    }
    return { written, status };
  }

  /**
   * Records a confirmed reset on the resource as it is now (the status write of the reconcile lost
   * a race with another writer): the nonce acted on, the intent dropped, if the intent is still ours.
   */
  private async confirmReset(log: Logger, ingestion: DruidIngestion, request: NonceRequest, nonce: string): Promise<void> {
    const { namespace, name } = ingestion.metadata;
    const field = request.nonceField;
    for (let attempt = 0; attempt < 3; attempt++) {
      let current: DruidIngestion;
      try {
        current = (await this.deps.kube.getIngestion(namespace, name)) as DruidIngestion;
      } catch (error) {
        log.warn("could not record a confirmed reset; it will be reported as of unknown outcome", { field, nonce, error: describeApiError(error) });
        return;
      }
      const next = withConfirmed(current.status ?? {}, request, nonce);
      if (!next) return;
      const written = await this.writeStatus(current, next);
      if (written.kind !== "conflict") return;
    }
    log.warn("could not record a confirmed reset after 3 attempts; it will be reported as of unknown outcome", { field, nonce });
  }

  private async writeStatus(ingestion: DruidIngestion, next: DruidIngestionStatus): Promise<Written> {
    const { namespace, name, resourceVersion } = ingestion.metadata;
    const patch = mergePatch(ingestion.status as Record<string, unknown> | undefined, next as Record<string, unknown>);
    if (Object.keys(patch).length === 0) return { kind: "unchanged" };
    try {
      const stored = (await this.deps.kube.patchIngestionStatus(namespace, name, patch, resourceVersion)) as DruidIngestion;
      // The same version back: the API server changed nothing (fields its CRD does not know are
      // dropped), so there is no write of ours for the cache to show.
      if (stored.metadata.resourceVersion !== resourceVersion) {
        this.expectations.wrote(objectKey(namespace, name), resourceVersion);
        this.deps.noteWritten?.(stored, resourceVersion);
      }
      if (next.lag !== undefined && stored.status !== undefined && stored.status.lag === undefined && !this.lagStatusDropped) {
        this.lagStatusDropped = true;
        this.deps.logger.warn("the API server drops status.lag: the installed DruidIngestion CRD is older than this controller. Lag stays in the gauges only until crds/druid.apache.org_druidingestions.yaml is applied (kubectl apply --server-side -f ...) and the controller restarted");
      }
      return { kind: "written", ingestion: { ...ingestion, metadata: { ...ingestion.metadata, resourceVersion: stored.metadata.resourceVersion }, status: stored.status ?? next } };
    } catch (error) {
      if (isApiStatus(error, 404)) return { kind: "gone" };
      if (isApiStatus(error, 409)) return { kind: "conflict" };
      throw error;
    }
  }
}
