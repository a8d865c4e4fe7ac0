// The controller's shared vocabulary: the Druid actions a plan is made of, the failure value every
// stage stops with, and the outcome of carrying a plan out. Lower layers (plan, execute, status,
// ownership) import from here and never from each other for these words.
import type { JsonObject } from "../api/druid-ingestion.ts";
import { DruidError } from "../druid/errors.ts";
import { FenceClosedError } from "../kube/fence.ts";
import type { LiveSupervisor } from "../druid/decode.ts";

export type SubmitCause = "Created" | "Recreated" | "Updated" | "DriftCorrected";
export type ResetCause = "ResetNonce" | "ResetOnResume" | "Recreate";
/** Why something is removed from Druid: the resource is deleted, its target moved elsewhere, or it is recreated (unsafeChangePolicy Recreate). */
export type RemoveCause = "Deleted" | "Moved" | "Recreate";

export type DruidAction =
  | { kind: "submitSupervisor"; supervisorId: string; spec: JsonObject; cause: SubmitCause; /** The last step of a recreate for another stream or type (unsafeChangePolicy). */ anew?: boolean }
  | { kind: "suspendSupervisor"; supervisorId: string }
  | { kind: "resumeSupervisor"; supervisorId: string }
  | { kind: "resetSupervisor"; supervisorId: string; cause: ResetCause }
  /** spec.resetOffsets.partitions: Druid's DataSourceMetadata body for POST /resetOffsets. */
  | { kind: "resetOffsets"; supervisorId: string; metadata: JsonObject }
  /** spec.resetOffsets.latestAndBackfill (Druid 38+). */
  | { kind: "resetToLatestAndBackfill"; supervisorId: string; backfillTaskCount?: number }
  | { kind: "terminateSupervisor"; supervisorId: string; cause: RemoveCause }
  | { kind: "submitTask"; taskId: string; spec: JsonObject; sql: boolean; cause: SubmitCause }
  | { kind: "shutdownTask"; taskId: string; cause: RemoveCause | "Replaced" }
  | { kind: "submitCompaction"; dataSource: string; config: JsonObject; cause: SubmitCause }
  | { kind: "deleteCompaction"; dataSource: string; cause: RemoveCause | "Unmanaged" }
  | { kind: "submitRules"; dataSource: string; rules: JsonObject[]; cause: SubmitCause }
  | { kind: "clearRules"; dataSource: string; cause: RemoveCause | "Unmanaged" };

export type ActionKind = DruidAction["kind"];

/** A submit that makes a new supervisor (none was there, or one was terminated to make room): it starts from nothing. */
export function createsSupervisor(action: DruidAction): boolean {
  return action.kind === "submitSupervisor" && (action.cause === "Created" || action.cause === "Recreated");
}

/** The reset asked by a new spec.resetNonce (recorded as an intent before it is sent). */
export function isNonceReset(action: DruidAction): action is Extract<DruidAction, { kind: "resetSupervisor" }> {
  return action.kind === "resetSupervisor" && action.cause === "ResetNonce";
}

/** A move of the stored offsets asked by a new spec.resetOffsetsNonce (recorded as an intent before it is sent). */
export function isOffsetsReset(action: DruidAction): action is Extract<DruidAction, { kind: "resetOffsets" | "resetToLatestAndBackfill" }> {
  return action.kind === "resetOffsets" || action.kind === "resetToLatestAndBackfill";
}

/** Status copies of a spec (currentIngestionSpec.json, rules, the last known good) are left out above this size, so the object stays far below etcd's limit. */
export const MAX_STATUS_COPY_BYTES = 128 * 1024;

/** A stage that could not go on: a machine reason and a message a user can act on. */
export interface Failure {
  reason: string;
  message: string;
  /** Transient failures (Druid unreachable) leave Ready Unknown instead of False and back off. */
  transient?: boolean;
  /** The HTTP status Druid answered with, when it answered. */
  httpStatus?: number;
}

export interface Outcome {
  /** Actions Druid confirmed, in order. */
  executed: DruidAction[];
  /** The action that failed, if any (later actions were not tried). */
  failed?: { action: DruidAction; failure: Failure; ambiguous: boolean };
  /** Hashes of Druid's copies read back right after an apply. */
  druidSpecHash?: string;
  druidCompactionHash?: string;
  druidRulesHash?: string;
  /** The supervisor as Druid reports it after this reconcile's writes (state, health). */
  supervisorAfter?: LiveSupervisor;
  /** The id Druid gave a submitted task (SQL tasks: `query-...`). */
  submittedTaskId?: string;
  /** The supervisor Druid started to read what resetToLatestAndBackfill skipped. */
  backfillSupervisorId?: string;
}

export function emptyOutcome(): Outcome {
  return { executed: [] };
}

/** Maps anything thrown by a Druid call to a Failure (DruidErrors keep their reason). */
export function failureOf(error: unknown): Failure {
  if (error instanceof DruidError) return { reason: error.reason, message: error.message, transient: error.transient, ...(error.statusCode === undefined ? {} : { httpStatus: error.statusCode }) };
  if (error instanceof FenceClosedError) return { reason: error.reason, message: error.message, transient: true };
  return { reason: "InternalError", message: error instanceof Error ? error.message : String(error), transient: true };
}

const AMBIGUOUS: ReadonlySet<string> = new Set(["DruidTimeout", "DruidUnreachable", "DruidUnavailable", "DruidServerError", "DruidCallAborted", "DruidResponseTooLarge"]);

/**
 * True when a failed write may nevertheless have been carried out by Druid (timeout, 5xx, a
 * dropped connection after the request was sent): its effect must be confirmed by reading.
 */
export function isAmbiguous(error: unknown): boolean {
  if (error instanceof FenceClosedError) return false; // refused before anything was sent
  if (!(error instanceof DruidError)) return true;
  if (error.notSent) return false;
  // A retry that failed for a reason of its own (TLS, a refused redirect) after an attempt that may have acted.
  if (error.earlierAttemptMayHaveActed) return true;
  return AMBIGUOUS.has(error.reason);
}
