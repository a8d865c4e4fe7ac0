// Carries out a plan against one Druid endpoint, in order, stopping at the first failure. Makes
// no decisions. Every write goes through the snapshot's write bracket (so no reading that started
// before it ended is taken as fresh), and what Druid stored and reports is read back afterwards,
// so status says what Druid holds now, not what it held before this reconcile's writes. The
// values of a spec's Secret references are put into the body here, right before it is handed to
// the Druid client, and taken out of any error text Druid sends back.
import type { JsonObject } from "../api/druid-ingestion.ts";
import type { DruidClient } from "../druid/client.ts";
import { supportsSkipRestart } from "../druid/capabilities.ts";
import { DruidError } from "../druid/errors.ts";
import type { DruidSnapshots } from "../druid/snapshot.ts";
import type { WriteFence } from "../kube/fence.ts";
import { contentHash } from "./canonical-json.ts";
import { liveSupervisorSpecHash } from "./drift.ts";
import { emptyOutcome, failureOf, isAmbiguous, type DruidAction, type Failure, type Outcome } from "./model.ts";
import { storedRelativeTo } from "./ownership.ts";
import { withSecretValues, type ResolvedSecretRefs } from "./secret-refs.ts";

export interface ExecutionContext {
  client: DruidClient;
  snapshots: DruidSnapshots;
  /** Asked before every write: a replica that lost the Lease or is shutting down sends nothing. */
  fence: WriteFence;
  /** Shapes submissions (skipRestartIfUnmodified); not needed for removals. */
  druidVersion: string;
  /** Paths left out of the recorded hash of Druid's copy of the supervisor spec. */
  ignored: readonly string[];
  /**
   * When this resource recorded that it was about to create a task: a task id Druid already has
   * counts as this resource's earlier attempt only if Druid created it after this time.
   */
  pendingSince?: string | undefined;
  /** The values of the spec's Secret references; a submission that has one without a value is not sent. */
  specSecrets?: ResolvedSecretRefs;
}

/** A failure that is not a Druid error (a decision made on what Druid answered). */
class ActionRefused extends Error {
  readonly failure: Failure;
  constructor(failure: Failure) {
    super(failure.message);
    this.failure = failure;
  }
}

const ALREADY_EXISTS = /already exists|entryAlreadyExists/i;

/** The body to hand to Druid: the spec with its Secret references' values (refused, unsent, when one is missing). */
function submission(spec: JsonObject, context: ExecutionContext): JsonObject {
  try {
    return withSecretValues(spec, context.specSecrets);
  } catch (error) {
    throw new ActionRefused({ reason: "InternalError", message: (error as Error).message, transient: true });
  }
}

export async function executePlan(actions: readonly DruidAction[], context: ExecutionContext): Promise<Outcome> {
  const outcome = emptyOutcome();
  let touchedSupervisor: string | undefined;
  let submittedSupervisor = false;
  for (const action of actions) {
    try {
      context.fence.check(`${action.kind} on ${context.client.target.baseUrl}`);
      await executeAction(action, context, outcome);
      outcome.executed.push(action);
      if (action.kind === "submitSupervisor" || action.kind === "suspendSupervisor" || action.kind === "resumeSupervisor" || action.kind === "resetSupervisor" || action.kind === "resetOffsets" || action.kind === "resetToLatestAndBackfill") {
        touchedSupervisor = action.supervisorId;
        submittedSupervisor ||= action.kind === "submitSupervisor";
      }
    } catch (error) {
      const failed = error instanceof ActionRefused ? { action, failure: error.failure, ambiguous: false } : { action, failure: failureOf(error), ambiguous: isAmbiguous(error) };
      // Druid's text in it was cleaned of the spec's values by the client, before any reshaping.
      outcome.failed = failed;
      break;
    }
  }
  if (touchedSupervisor !== undefined) await readBackSupervisor(touchedSupervisor, submittedSupervisor, context, outcome);
  return outcome;
}

/** The supervisor's stored spec and state after our writes; a failed read only leaves them unknown. */
async function readBackSupervisor(id: string, submitted: boolean, context: ExecutionContext, outcome: Outcome): Promise<void> {
  try {
    const after = await context.client.supervisorWithState(id);
    context.snapshots.remember(context.client, id, after);
    if (!after) return;
    outcome.supervisorAfter = after;
    if (submitted && after.spec) outcome.druidSpecHash = liveSupervisorSpecHash(after.spec, context.ignored);
  } catch {
    // The next reconcile reads it again.
  }
}

/** The values the spec's references resolved to: Druid's error text is cleaned of them before anything else touches it. */
function secretValues(context: ExecutionContext): string[] {
  return [...(context.specSecrets?.values.values() ?? [])];
}

async function executeAction(action: DruidAction, context: ExecutionContext, outcome: Outcome): Promise<void> {
  const { client, snapshots } = context;
  switch (action.kind) {
    case "submitSupervisor": {
      const body = submission(action.spec, context);
      const id = await snapshots.write(client, "supervisors", action.supervisorId, () => client.submitSupervisor(body, supportsSkipRestart(context.druidVersion), secretValues(context)));
      if (id !== action.supervisorId) {
        throw new DruidError("DruidBadResponse", `Druid created supervisor "${id}" where "${action.supervisorId}" was expected; check the spec's dataSource and id`);
      }
      return;
    }
    case "suspendSupervisor":
      return snapshots.write(client, "supervisors", action.supervisorId, () => client.suspendSupervisor(action.supervisorId, secretValues(context)));
    case "resumeSupervisor":
      return snapshots.write(client, "supervisors", action.supervisorId, () => client.resumeSupervisor(action.supervisorId, secretValues(context)));
    case "resetSupervisor":
      return snapshots.write(client, "supervisors", action.supervisorId, () => client.resetSupervisor(action.supervisorId, secretValues(context)));
    case "resetOffsets":
      return snapshots.write(client, "supervisors", action.supervisorId, () => client.resetOffsets(action.supervisorId, action.metadata, secretValues(context)));
    case "resetToLatestAndBackfill": {
      const backfill = await snapshots.write(client, "supervisors", action.supervisorId, () => client.resetToLatestAndBackfill(action.supervisorId, action.backfillTaskCount, secretValues(context)));
      if (backfill !== undefined) outcome.backfillSupervisorId = backfill;
      return;
    }
    case "terminateSupervisor":
      await snapshots.write(client, "supervisors", action.supervisorId, () => client.terminateSupervisor(action.supervisorId, secretValues(context)));
      return;
    case "submitTask":
      outcome.submittedTaskId = await submitTask(action, context);
      return;
    case "shutdownTask":
      return client.shutdownTask(action.taskId);
    case "submitCompaction": {
      await snapshots.write(client, "compaction", action.dataSource, () => client.submitCompactionConfig(action.config));
      const stored = await client.getCompactionConfig(action.dataSource);
      if (stored) outcome.druidCompactionHash = contentHash(stored);
      return;
    }
    case "deleteCompaction":
      await snapshots.write(client, "compaction", action.dataSource, () => client.deleteCompactionConfig(action.dataSource));
      return;
    case "submitRules":
      await snapshots.write(client, "rules", action.dataSource, () => client.submitRules(action.dataSource, action.rules));
      outcome.druidRulesHash = contentHash(await client.getRules(action.dataSource));
      return;
    case "clearRules":
      await snapshots.write(client, "rules", action.dataSource, () => client.submitRules(action.dataSource, []));
      return;
  }
}

/**
 * Task ids are chosen before submitting, so "already exists" means either an earlier attempt of
 * this very run got through (fine: that is the task) or the id was used before (an explicit id
 * reused): told apart by when Druid created the task.
 */
async function submitTask(action: Extract<DruidAction, { kind: "submitTask" }>, context: ExecutionContext): Promise<string> {
  const { client } = context;
  const spec = submission(action.spec, context);
  try {
    return action.sql ? await client.submitSqlTask(spec, secretValues(context)) : await client.submitTask(spec, secretValues(context));
  } catch (error) {
    if (!(error instanceof DruidError) || !ALREADY_EXISTS.test(error.druidMessage ?? "")) throw error;
  }
  const existing = await client.taskStatus(action.taskId, secretValues(context));
  if (storedRelativeTo(existing?.createdTime, context.pendingSince) === "before") {
    throw new ActionRefused({
      reason: "TaskIdInUse",
      message: `Druid already has a task with id "${action.taskId}" (created ${existing?.createdTime}, before this resource asked for it), so this spec was not run; a task id can be used once: change or remove the spec's id`,
    });
  }
  return action.taskId;
}
