// The one-shot requests a resource makes with a nonce: spec.resetNonce (a reset) and
// spec.resetOffsetsNonce (a move of the stored offsets). Each new value is acted on at most once.
// Druid keeps no record of either, so an intent naming the nonce is written to status (with a
// resourceVersion precondition) before the call; while it names the current nonce and the
// last-acted-on field does not, the outcome is unknown and nothing is sent again for that nonce.
// Pure: the planner, the status and the reconciler ask these, each request the same way.
import type { DruidIngestion, DruidIngestionSpec, DruidIngestionStatus, PendingReset } from "../api/druid-ingestion.ts";
import { OFFSETS_RESET_APPLIED, RESET_APPLIED } from "./conditions.ts";
import { createsSupervisor, isNonceReset, isOffsetsReset, type DruidAction } from "./model.ts";

export interface NonceRequest {
  /** The spec field holding the nonce. */
  readonly nonceField: "resetNonce" | "resetOffsetsNonce";
  /** The status field naming the last nonce acted on. */
  readonly lastField: "lastResetNonce" | "lastResetOffsetsNonce";
  /** The status field holding the intent written before the call. */
  readonly pendingField: "pendingReset" | "pendingResetOffsets";
  /** The condition that says what became of the nonce. */
  readonly condition: string;
  /** What is done, for messages ("reset", "offsets reset"). */
  readonly what: string;
  /** The plan's action that carries the nonce out: its intent is written before it is sent. */
  carries(action: DruidAction): boolean;
  /** An executed action after which the nonce has nothing left to do. */
  consumedBy(action: DruidAction): boolean;
  /** A failed action that means the nonce's request did not happen (or may have). */
  attempts(action: DruidAction): boolean;
}

export const RESET: NonceRequest = {
  nonceField: "resetNonce",
  lastField: "lastResetNonce",
  pendingField: "pendingReset",
  condition: RESET_APPLIED,
  what: "reset",
  carries: isNonceReset,
  // Any reset does it (resetOnResume's, a recreate's), as does a new run of a task; a supervisor
  // created anew has no offsets to reset.
  consumedBy: (a) => a.kind === "resetSupervisor" || a.kind === "submitTask" || createsSupervisor(a),
  attempts: (a) => a.kind === "resetSupervisor",
};

export const RESET_OFFSETS: NonceRequest = {
  nonceField: "resetOffsetsNonce",
  lastField: "lastResetOffsetsNonce",
  pendingField: "pendingResetOffsets",
  condition: OFFSETS_RESET_APPLIED,
  what: "offsets reset",
  carries: isOffsetsReset,
  // A supervisor created anew starts where its spec says: a nonce set before (a manifest applied
  // again to a new cluster) must not move it to offsets meant for another supervisor's run.
  consumedBy: (a) => isOffsetsReset(a) || createsSupervisor(a),
  attempts: isOffsetsReset,
};

export const NONCE_REQUESTS: readonly NonceRequest[] = [RESET, RESET_OFFSETS];

export function askedNonce(request: NonceRequest, spec: DruidIngestionSpec): string | undefined {
  const nonce = spec[request.nonceField];
  return nonce ? nonce : undefined;
}

/** The nonce the spec asks for, when it was not acted on yet. */
export function newNonce(request: NonceRequest, ingestion: DruidIngestion): string | undefined {
  const nonce = askedNonce(request, ingestion.spec);
  return nonce && nonce !== ingestion.status?.[request.lastField] ? nonce : undefined;
}

/**
 * The intent for `nonce` that was sent (or was about to be) without a confirmed outcome: a
 * timeout, a 5xx after the request reached Druid, a crash. Never sent again; status says so.
 */
export function unconfirmed(request: NonceRequest, status: DruidIngestionStatus | undefined, nonce: string | undefined): PendingReset | undefined {
  const pending = status?.[request.pendingField];
  return nonce && nonce !== status?.[request.lastField] && pending?.nonce === nonce ? pending : undefined;
}

/** The nonce a plan may act on: new, and not one whose earlier call has an unknown outcome. */
export function actionableNonce(request: NonceRequest, ingestion: DruidIngestion): string | undefined {
  const nonce = newNonce(request, ingestion);
  return nonce && !unconfirmed(request, ingestion.status, nonce) ? nonce : undefined;
}

/** The intents to record before a plan is carried out (empty when it carries no nonce out). */
export function intentsFor(actions: readonly DruidAction[], ingestion: DruidIngestion, druidEndpoint: string, now: string): Partial<Pick<DruidIngestionStatus, "pendingReset" | "pendingResetOffsets">> {
  const intents: Partial<Pick<DruidIngestionStatus, "pendingReset" | "pendingResetOffsets">> = {};
  for (const request of NONCE_REQUESTS) {
    const action = actions.find(request.carries);
    const nonce = askedNonce(request, ingestion.spec);
    if (action && "supervisorId" in action && nonce) intents[request.pendingField] = { nonce, supervisorId: action.supervisorId, druidEndpoint, since: now };
  }
  return intents;
}

/**
 * Status after a plan was carried out (in part): the nonces acted on are recorded, and an intent
 * is dropped unless its call failed in a way Druid may have acted on.
 */
export function settleNonces(next: DruidIngestionStatus, spec: DruidIngestionSpec, planned: readonly DruidAction[], executed: readonly DruidAction[], failed: { action: DruidAction; ambiguous: boolean } | undefined, consumesAll = false): void {
  for (const request of NONCE_REQUESTS) {
    const nonce = askedNonce(request, spec);
    if (nonce && (executed.some(request.consumedBy) || (consumesAll && !failed))) next[request.lastField] = nonce;
    const ambiguous = failed !== undefined && failed.ambiguous && request.carries(failed.action);
    if (planned.some(request.carries) && !ambiguous) delete next[request.pendingField];
  }
}

/** Intents for a nonce that is done with, or no longer asked for, are history. */
export function dropStaleIntents(next: DruidIngestionStatus, spec: DruidIngestionSpec): void {
  for (const request of NONCE_REQUESTS) {
    if (!unconfirmed(request, next, askedNonce(request, spec))) delete next[request.pendingField];
  }
}

export function hasIntent(status: DruidIngestionStatus): boolean {
  return NONCE_REQUESTS.some((r) => status[r.pendingField] !== undefined);
}

/**
 * The requests whose call Druid confirmed this reconcile while the status write reporting it lost
 * a race: each must be recorded on the resource as it is now, or it is reported as unknown.
 */
export function confirmedButUnwritten(previous: DruidIngestionStatus | undefined, next: DruidIngestionStatus, spec: DruidIngestionSpec): Array<{ request: NonceRequest; nonce: string }> {
  const confirmed: Array<{ request: NonceRequest; nonce: string }> = [];
  for (const request of NONCE_REQUESTS) {
    const nonce = askedNonce(request, spec);
    if (nonce && next[request.lastField] === nonce && previous?.[request.pendingField]?.nonce === nonce) confirmed.push({ request, nonce });
  }
  return confirmed;
}

/** The status as it is now with a confirmed call recorded; undefined when there is nothing (left) to record. */
export function withConfirmed(status: DruidIngestionStatus, request: NonceRequest, nonce: string): DruidIngestionStatus | undefined {
  if (!unconfirmed(request, status, nonce)) return undefined;
  const next: DruidIngestionStatus = { ...status, [request.lastField]: nonce };
  delete next[request.pendingField];
  return next;
}
