// One reconcile of one DruidIngestion: read the resource, its ConfigMap and Druid's state,
// decide (plan.ts), act (execute.ts), report (status.ts). Level-triggered: a crash at any line
// is finished by the next reconcile. The work queue owns retries and timing; this returns
// "done, look again after T" or an error to back off on.
import { randomUUID } from "node:crypto";
import type { KubernetesObject, V1ConfigMap, V1Service } from "@kubernetes/client-node";
import type { Logger } from "winston";
import { FINALIZER, isPaused, type DruidIngestion, type DruidIngestionStatus } from "../api/druid-ingestion.ts";
import type { DruidIngestionValidator } from "../api/schema.ts";
import type { DruidClient, DruidTarget } from "../druid/client.ts";
import type { DruidSnapshots } from "../druid/snapshot.ts";
import { describeApiError, isApiStatus, type KubeApi } from "../kube/api.ts";
import type { EventSink } from "../kube/events.ts";
import type { ReconcileResult } from "../observability/metrics.ts";
import { otherLiveClaim, ownerOtherThan } from "./claims.ts";
import { resolveCredentials, resolveEndpoint, type SecretLookup } from "./druid-target.ts";
import { executePlan, failureOf } from "./execute.ts";
import { planDeletion, planIngestion, type Observed } from "./plan.ts";
import type { ProcessResult } from "./queue.ts";
import { renderIngestion, RenderError, type DesiredIngestion } from "./render.ts";
import { configMapUpToDate, desiredConfigMap } from "./spec-configmap.ts";
import { eventsFor, nextStatus, statusEquals, type Failure, type Outcome, type StatusFacts } from "./status.ts";

export interface ReconcilerSettings {
  /** How often an idle resource is looked at again (Druid drift, state changes). */
  resyncMs: number;
  /** After changing Druid, look again this soon to report the resulting state. */
  settleMs: number;
  allowCrossNamespaceSecrets: boolean;
  defaultDruidUrl: string | undefined;
}

export interface ReconcilerDeps {
  ingestions: { get(name: string, namespace: string): KubernetesObject | undefined };
  /** Every DruidIngestion in the cache, to find two resources claiming one supervisor. */
  allIngestions(): Iterable<DruidIngestion>;
  configMaps: { get(name: string, namespace: string): V1ConfigMap | undefined };
  secrets: SecretLookup;
  /**
   * Secrets deleted lately, as last seen. Only deletion uses them: when a namespace is deleted,
   * its Secrets may go before the DruidIngestions that need them to clean up Druid.
   */
  deletedSecrets?: SecretLookup;
  routerServices: { list(namespace: string): readonly V1Service[] };
  kube: Pick<KubeApi, "patchIngestion" | "patchIngestionStatus" | "applyConfigMap">;
  events: EventSink;
  druidClient(target: DruidTarget): DruidClient;
  snapshots: DruidSnapshots;
  validator: DruidIngestionValidator;
  settings: ReconcilerSettings;
  logger: Logger;
  now?: () => Date;
  observeResult?: (result: ReconcileResult, seconds: number) => void;
}

/** A reconcile step that could not proceed; carries the status-facing failure. */
class Stop {
  readonly failure: Failure;
  constructor(failure: Failure) {
    this.failure = failure;
  }
}

export class Reconciler {
  private readonly deps: ReconcilerDeps;

  constructor(deps: ReconcilerDeps) {
    this.deps = deps;
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
    const raw = this.deps.ingestions.get(name, namespace);
    if (!raw) return {};
    const log = this.deps.logger.child({ namespace, name, reconcileId: randomUUID().slice(0, 8) });
    const parsed = this.deps.validator.parse(raw);
    if (!parsed.ok) {
      // Nothing about the object can be trusted; say so and wait for an edit.
      log.warn("resource does not match the schema", { problems: parsed.error.problems });
      const ingestion = raw as DruidIngestion;
      await this.report(log, ingestion, { ingestion, now: this.nowIso(), failure: { reason: "SchemaInvalid", message: parsed.error.message } });
      return {};
    }
    const ingestion = parsed.value;
    try {
      if (isPaused(ingestion)) {
        await this.report(log, ingestion, { ingestion, now: this.nowIso(), paused: true });
        return {};
      }
      if (ingestion.metadata.deletionTimestamp) return await this.finalize(log, ingestion);
      return await this.sync(log, ingestion);
    } catch (error) {
      log.error("reconcile failed", { error: describeApiError(error) });
      return { error };
    }
  }

  private nowIso(): string {
    return (this.deps.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  private jitteredResync(): number {
    const { resyncMs } = this.deps.settings;
    return Math.round(resyncMs * (0.9 + Math.random() * 0.2));
  }

  // --- create / update / suspend / resume / reset ------------------------------------------------

  private async sync(log: Logger, ingestion: DruidIngestion): Promise<ProcessResult> {
    if (!(ingestion.metadata.finalizers ?? []).includes(FINALIZER)) {
      // Before anything exists in Druid, so the resource can never vanish without cleanup.
      await this.addFinalizer(ingestion);
      log.debug("finalizer added");
    }
    const now = this.nowIso();
    let desired: DesiredIngestion;
    try {
      desired = renderIngestion(ingestion);
    } catch (error) {
      if (!(error instanceof RenderError)) throw error;
      await this.report(log, ingestion, { ingestion, now, failure: { reason: error.reason, message: error.message } });
      return {};
    }

    let target: DruidTarget;
    try {
      target = this.resolveTarget(ingestion);
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
      await this.report(log, ingestion, { ingestion, now, desired, failure: error.failure });
      // Fixed by a Secret/Service change (watched) or by the next resync.
      return { requeueAfterMs: this.jitteredResync() };
    }

    if (desired.kind === "supervisor") {
      const owner = ownerOtherThan(ingestion, desired.supervisorId, target.baseUrl, this.deps.allIngestions());
      if (owner) {
        const message = `supervisor ${desired.supervisorId} on ${target.baseUrl} is already managed by DruidIngestion ${owner.key}; give this resource another dataSource (or, on Druid 34+, a top-level id), or delete one of the two. Nothing was sent to Druid`;
        await this.report(log, ingestion, { ingestion, now, failure: { reason: "SupervisorConflict", message } });
        return { requeueAfterMs: this.jitteredResync() };
      }
    }

    const configMap = desiredConfigMap(ingestion, desired);
    const configMapName = configMap.metadata?.name as string;
    if (!configMapUpToDate(this.deps.configMaps.get(configMapName, ingestion.metadata.namespace), configMap)) {
      await this.deps.kube.applyConfigMap(configMap);
      log.debug("spec ConfigMap applied", { configMap: configMapName });
    }

    const client = this.deps.druidClient(target);
    const facts: StatusFacts = { ingestion, now, desired, druidEndpoint: target.baseUrl, configMapName };
    let observed: Observed;
    try {
      observed = await this.observe(client, ingestion, desired);
    } catch (error) {
      const failure = failureOf(error);
      await this.report(log, ingestion, { ...facts, failure });
      return failure.transient ? { error: new Error(failure.message) } : { requeueAfterMs: this.jitteredResync() };
    }
    facts.druidVersion = observed.druidVersion;
    facts.supervisor = observed.supervisor;
    facts.task = observed.task;

    const plan = planIngestion(ingestion, desired, observed);
    if (plan.failure) {
      await this.report(log, ingestion, { ...facts, failure: plan.failure });
      return {};
    }
    facts.adopted = plan.adopted;
    let outcome: Outcome = { executed: [] };
    if (plan.actions.length > 0) {
      log.info("applying to Druid", { actions: plan.actions.map((a) => a.kind), druid: target.baseUrl });
      outcome = await executePlan(plan.actions, client, this.deps.snapshots, observed.druidVersion);
      if (outcome.failed) log.warn("Druid call failed", { action: outcome.failed.action.kind, reason: outcome.failed.failure.reason, error: outcome.failed.failure.message });
    }
    facts.outcome = outcome;
    await this.report(log, ingestion, facts);

    if (outcome.failed) {
      return outcome.failed.failure.transient ? { error: new Error(outcome.failed.failure.message) } : { requeueAfterMs: this.jitteredResync() };
    }
    if (outcome.executed.length > 0) return { requeueAfterMs: this.deps.settings.settleMs };
    if (desired.kind === "task" && observed.task?.statusCode === "RUNNING") {
      // A running task is polled (tasks have no cluster-wide list); it stops when it finishes.
      return { requeueAfterMs: Math.min(this.jitteredResync(), 30_000) };
    }
    return { requeueAfterMs: this.jitteredResync() };
  }

  /**
   * For deletion, what is gone meanwhile is taken from what was last known: the Druid URL
   * recorded in status (the router Service may already be deleted) and deleted Secrets.
   */
  private resolveTarget(ingestion: DruidIngestion, forDeletion = false): DruidTarget {
    const { settings } = this.deps;
    const endpoint = resolveEndpoint(ingestion, this.deps.routerServices.list(ingestion.metadata.namespace), settings.defaultDruidUrl);
    const recorded = ingestion.status?.druidEndpoint;
    if (!endpoint.ok && !(forDeletion && recorded)) throw new Stop(endpoint.failure);
    const secrets: SecretLookup = forDeletion
      ? { get: (ns, name) => this.deps.secrets.get(ns, name) ?? this.deps.deletedSecrets?.get(ns, name) }
      : this.deps.secrets;
    const credentials = resolveCredentials(ingestion, secrets, settings.allowCrossNamespaceSecrets);
    if (!credentials.ok) throw new Stop(credentials.failure);
    return { baseUrl: endpoint.ok ? endpoint.value.url : (recorded as string), credentials: credentials.value };
  }

  private async observe(client: DruidClient, ingestion: DruidIngestion, desired: DesiredIngestion): Promise<Observed> {
    const status = ingestion.status ?? {};
    const id = desired.kind === "supervisor" ? desired.supervisorId : undefined;
    const reading = await this.deps.snapshots.supervisors(client, id);
    const observed: Observed = { druidVersion: reading.version };
    if (desired.kind === "supervisor") {
      observed.supervisor = reading.supervisors.get(desired.supervisorId);
    } else {
      // Tasks are not listed cluster-wide: ask for the recorded one while it may still change.
      const taskId = status.taskId;
      const terminal = status.taskStatus === "SUCCESS" || status.taskStatus === "FAILED";
      if (taskId && terminal) observed.task = { id: taskId, statusCode: status.taskStatus as string, runnerStatusCode: "NONE", errorMsg: undefined };
      else if (taskId) observed.task = await client.taskStatus(taskId);
    }
    const ds = desired.dataSource;
    if (ds && (desired.compaction || status.compactionHash)) observed.compaction = (await this.deps.snapshots.compaction(client, ds)).get(ds);
    if (ds && (desired.rules || status.rulesHash)) observed.rules = (await this.deps.snapshots.rules(client, ds)).get(ds) ?? [];
    return observed;
  }

  // --- deletion ---------------------------------------------------------------------------------

  private async finalize(log: Logger, ingestion: DruidIngestion): Promise<ProcessResult> {
    if (!(ingestion.metadata.finalizers ?? []).includes(FINALIZER)) return {};
    let desired: DesiredIngestion | undefined;
    try {
      desired = renderIngestion(ingestion);
    } catch {
      desired = undefined; // status still names what was created
    }
    const actions = planDeletion(ingestion, desired);
    const now = this.nowIso();
    let outcome: Outcome = { executed: [] };
    if (actions.length > 0) {
      let target: DruidTarget | undefined;
      try {
        target = this.resolveTarget(ingestion, true);
      } catch (error) {
        if (!(error instanceof Stop)) throw error;
        if (appliedSomething(ingestion.status)) {
          await this.reportDeletionBlocked(log, ingestion, now, error.failure);
          return { error: new Error(error.failure.message) };
        }
        // Druid was never reached for this resource (e.g. its Secret never existed): nothing to remove.
        log.info("nothing was ever applied to Druid; removing the finalizer", { reason: error.failure.reason });
        await this.removeFinalizer(ingestion);
        return {};
      }
      const terminate = actions.find((a) => a.kind === "terminateSupervisor");
      const owner = terminate && otherLiveClaim(ingestion, terminate.supervisorId, target.baseUrl, this.deps.allIngestions());
      if (owner) {
        // Another resource manages this supervisor (and its datasource's compaction/rules).
        log.info("leaving the supervisor to the resource that manages it", { supervisorId: terminate.supervisorId, owner: owner.key });
      } else {
        // Deletion submits nothing, so the Druid version (which only shapes submissions) is not needed.
        outcome = await executePlan(actions, this.deps.druidClient(target), this.deps.snapshots, "");
        if (outcome.failed) {
          await this.reportDeletionBlocked(log, ingestion, now, outcome.failed.failure, outcome);
          return { error: new Error(outcome.failed.failure.message) };
        }
      }
    }
    for (const event of eventsFor(ingestion.status, ingestion.status ?? {}, outcome, false)) await this.deps.events.record(ingestion, event);
    await this.removeFinalizer(ingestion);
    log.info("finalized", { druidActions: outcome.executed.map((a) => a.kind), deletionPolicy: ingestion.spec.deletionPolicy ?? "Delete" });
    return {};
  }

  private async reportDeletionBlocked(log: Logger, ingestion: DruidIngestion, now: string, failure: Failure, outcome?: Outcome): Promise<void> {
    const message = `cannot remove the ingestion from Druid, so the finalizer stays and the resource is kept: ${failure.message}. To delete the resource without touching Druid, set spec.deletionPolicy: Orphan`;
    log.warn("deletion blocked", { reason: failure.reason, error: failure.message });
    await this.report(log, ingestion, { ingestion, now, failure: { ...failure, message }, ...(outcome ? { outcome } : {}) });
  }

  // --- Kubernetes writes --------------------------------------------------------------------------

  private async addFinalizer(ingestion: DruidIngestion): Promise<void> {
    const { namespace, name, resourceVersion, finalizers } = ingestion.metadata;
    // `test` on resourceVersion: never overwrite a finalizer list we have not seen.
    const ops = finalizers
      ? [{ op: "test" as const, path: "/metadata/resourceVersion", value: resourceVersion }, { op: "add" as const, path: "/metadata/finalizers/-", value: FINALIZER }]
      : [{ op: "test" as const, path: "/metadata/resourceVersion", value: resourceVersion }, { op: "add" as const, path: "/metadata/finalizers", value: [FINALIZER] }];
    await this.deps.kube.patchIngestion(namespace, name, ops);
  }

  private async removeFinalizer(ingestion: DruidIngestion): Promise<void> {
    const { namespace, name, finalizers = [] } = ingestion.metadata;
    const index = finalizers.indexOf(FINALIZER);
    try {
      await this.deps.kube.patchIngestion(namespace, name, [
        { op: "test", path: `/metadata/finalizers/${index}`, value: FINALIZER },
        { op: "remove", path: `/metadata/finalizers/${index}` },
      ]);
    } catch (error) {
      if (isApiStatus(error, 404)) return; // already gone
      throw error;
    }
  }

  /** Patches status only when it changed, then records the transition's Events. */
  private async report(log: Logger, ingestion: DruidIngestion, facts: StatusFacts): Promise<void> {
    const next = nextStatus(facts);
    const previous = ingestion.status;
    if (!statusEquals(previous, next)) {
      try {
        await this.deps.kube.patchIngestionStatus(ingestion.metadata.namespace, ingestion.metadata.name, statusPatch(previous, next));
      } catch (error) {
        if (isApiStatus(error, 404)) return;
        throw error;
      }
    }
    for (const event of eventsFor(previous, next, facts.outcome, facts.adopted === true)) {
      log.info("event", { type: event.type, reason: event.reason, message: event.message });
      await this.deps.events.record(ingestion, event);
    }
  }
}

/** True when status records anything that this (or the druid-operator's) controller put into Druid. */
export function appliedSomething(status: DruidIngestionStatus | undefined): boolean {
  return Boolean(status && (status.specHash || status.compactionHash || status.rulesHash || status["currentIngestionSpec.json"]));
}

/** A JSON merge patch from `previous` to `next`: removed keys become null. */
export function statusPatch(previous: DruidIngestionStatus | undefined, next: DruidIngestionStatus): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next };
  for (const key of Object.keys(previous ?? {})) if (!(key in next)) patch[key] = null;
  return patch;
}
