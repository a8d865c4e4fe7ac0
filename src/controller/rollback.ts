// Last known good (opt-in, spec.rollback): which supervisor spec Druid ran well, when an update
// is rolled back to it, and what is applied while a spec is held back. Pure.
//
// A spec becomes the last known good once Druid has reported the supervisor RUNNING and healthy
// without a break for the rollback window after the spec was applied (a resource whose apply time
// is not recorded, one from before this feature, counts as applied long ago). Within the window
// after an update made while the supervisor was healthy, Druid reporting it unhealthy records a
// rollback; so does Druid refusing (400) an update while it runs the last known good. From then
// on, as long as the resource asks for that same spec, the controller applies the last known good
// instead: a spec is rolled back at most once and never flaps (a suspend or resume does not
// change the spec, so it does not apply it again); the next change of the spec is applied as
// usual, and may be rolled back once in its turn.
import type { DruidIngestion, DruidIngestionStatus, JsonObject, LastKnownGood, RollbackRecord } from "../api/druid-ingestion.ts";
import { parseDuration } from "../config.ts";
import type { LiveSupervisor } from "../druid/decode.ts";
import { MAX_STATUS_COPY_BYTES, type Failure } from "./model.ts";
import { dataSourceOf, type DesiredSupervisor } from "./render.ts";
import { sha256Hex } from "./canonical-json.ts";
import { secretRefsOf } from "./secret-refs.ts";
import { supervisorSpecProblems, unsafeChanges } from "./spec-checks.ts";

export const DEFAULT_ROLLBACK_WINDOW_MS = 600_000;
export const MIN_ROLLBACK_WINDOW_MS = 10_000;
export const MAX_ROLLBACK_WINDOW_MS = 86_400_000;
/** After the window, the idle shortcut still yields this long, so a resync records the last known good (later, drift checks do). */
const RECORD_GRACE_MS = 120_000;

/** The rollback window when the resource asks for rollback; undefined when it does not (or asks for a window out of bounds: rollbackSpecProblem says so). */
export function rollbackWindowMs(ingestion: DruidIngestion): number | undefined {
  const rollback = ingestion.spec.rollback;
  if (rollback?.enabled !== true) return undefined;
  if (rollback.window === undefined) return DEFAULT_ROLLBACK_WINDOW_MS;
  try {
    const ms = parseDuration(rollback.window);
    return ms >= MIN_ROLLBACK_WINDOW_MS && ms <= MAX_ROLLBACK_WINDOW_MS ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** Why spec.rollback cannot be used as written (the resource is refused until it is fixed). */
export function rollbackSpecProblem(ingestion: DruidIngestion): string | undefined {
  const rollback = ingestion.spec.rollback;
  if (rollback?.enabled !== true || rollback.window === undefined || rollbackWindowMs(ingestion) !== undefined) return undefined;
  return `spec.rollback.window ${JSON.stringify(rollback.window)} must be a duration from 10s to 24h (e.g. 10m)`;
}

/** The resource asks for a spec that was rolled back: it is held back (the last known good is applied). */
export function heldBack(ingestion: DruidIngestion, desiredSpecHash: string): RollbackRecord | undefined {
  const record = ingestion.status?.rollback;
  return record !== undefined && record.fromSpecHash === desiredSpecHash && rollbackWindowMs(ingestion) !== undefined ? record : undefined;
}

/**
 * What is applied while a spec is held back: the last known good, for the same supervisor,
 * datasource and type, that passes the local checks (a rendered spec of the resource's kind).
 * Undefined when there is none, or it cannot stand in (then the resource's own spec is applied).
 */
export function lastKnownGoodDesired(desired: DesiredSupervisor, good: LastKnownGood | undefined): DesiredSupervisor | undefined {
  if (!good) return undefined;
  let body: JsonObject;
  try {
    body = JSON.parse(good.spec) as JsonObject;
  } catch {
    return undefined;
  }
  if (body === null || typeof body !== "object" || Array.isArray(body) || sha256Hex(good.spec) !== good.specHash) return undefined;
  const explicitId = typeof body["id"] === "string" && body["id"] !== "";
  const supervisorId = explicitId ? (body["id"] as string) : dataSourceOf(body);
  if (supervisorId !== desired.supervisorId || dataSourceOf(body) !== desired.dataSource || body["type"] !== desired.body["type"]) return undefined;
  if (supervisorSpecProblems(body).length > 0) return undefined;
  let secretRefs;
  try {
    secretRefs = secretRefsOf(body);
  } catch {
    return undefined;
  }
  return { ...desired, body, canonical: good.spec, specHash: good.specHash, secretRefs, explicitId };
}

const elapsedMs = (since: string | undefined, now: string): number => (since === undefined ? Number.POSITIVE_INFINITY : Date.parse(now) - Date.parse(since));

/**
 * The rollback to record now, or undefined. `rejected`: the update (a submit with cause Updated)
 * of the resource's spec that Druid refused this reconcile, certainly not applied.
 */
export function rollbackDue(input: { ingestion: DruidIngestion; desired: DesiredSupervisor; live: LiveSupervisor | undefined; rejected?: Failure | undefined; now: string }): RollbackRecord | undefined {
  const { ingestion, desired, live, rejected, now } = input;
  const windowMs = rollbackWindowMs(ingestion);
  const status = ingestion.status ?? {};
  const good = status.lastKnownGood;
  const generation = ingestion.metadata.generation;
  if (windowMs === undefined || !good || good.specHash === desired.specHash || status.rollback?.fromSpecHash === desired.specHash) return undefined;
  const standIn = lastKnownGoodDesired(desired, good);
  if (!standIn) return undefined;
  // Never across a stream or type change: Druid cannot carry the read position back.
  if (live?.spec && unsafeChanges(live.spec, standIn.body).length > 0) return undefined;
  const base = { generation, fromSpecHash: desired.specHash, toSpecHash: good.specHash, time: now };
  const to = `the last known good spec (hash ${good.specHash.slice(0, 12)}, healthy as of ${good.recordedAt})`;
  const after = `; this spec (hash ${desired.specHash.slice(0, 12)}) is not applied again: change the spec to apply a fixed one, or set spec.rollback.enabled false to apply it as it is`;
  if (rejected) {
    // Only a refusal of the spec itself (400), and only while Druid runs the last known good: a
    // rollback would otherwise replace a spec Druid accepted and runs.
    if (rejected.httpStatus !== 400 || status.specHash !== good.specHash) return undefined;
    return { ...base, reason: "DruidRejected", message: `Druid refused generation ${generation}'s supervisor spec (${rejected.message}); ${to} is kept in Druid${after}` };
  }
  // Within the window after this spec was applied to a healthy supervisor, Druid says it does not
  // run well. (Applied to one already unhealthy, it may be the fix: it is not judged by that.)
  if (status.specHash !== desired.specHash || status.specAppliedOnHealthy !== true || elapsedMs(status.specAppliedTime, now) > windowMs) return undefined;
  if (!live || live.suspended || live.healthy !== false) return undefined;
  const state = `${live.state ?? "UNKNOWN"}${live.detailedState && live.detailedState !== live.state ? ` (${live.detailedState})` : ""}`;
  return { ...base, reason: "Unhealthy", message: `Druid reported supervisor ${desired.supervisorId} unhealthy, ${state}, ${Math.round(elapsedMs(status.specAppliedTime, now) / 1000)} s after generation ${generation}'s spec was applied (window ${Math.round(windowMs / 1000)} s); rolled back to ${to}${after}` };
}

/**
 * The last known good after a reconcile that leaves `desired` applied and Druid reporting `live`:
 * the applied spec once Druid has reported it RUNNING and healthy, without a break (`healthySince`,
 * when the Healthy condition last turned True), for the window since it was applied; else the one
 * there was.
 */
export function nextLastKnownGood(input: { ingestion: DruidIngestion; next: DruidIngestionStatus; desired: DesiredSupervisor; live: LiveSupervisor | undefined; healthySince: string | undefined; now: string }): LastKnownGood | undefined {
  const { ingestion, next, desired, live, healthySince, now } = input;
  const windowMs = rollbackWindowMs(ingestion);
  const previous = next.lastKnownGood;
  if (windowMs === undefined) return undefined;
  if (previous?.specHash === desired.specHash || next.specHash !== desired.specHash) return previous;
  if (!live || live.suspended || live.state !== "RUNNING" || live.healthy !== true || healthySince === undefined) return previous;
  if (elapsedMs(next.specAppliedTime, now) < windowMs || elapsedMs(healthySince, now) < Math.min(windowMs, elapsedMs(next.specAppliedTime, now))) return previous;
  if (Buffer.byteLength(desired.canonical, "utf8") > MAX_STATUS_COPY_BYTES) return previous;
  return { specHash: desired.specHash, spec: desired.canonical, recordedAt: now };
}

/**
 * A last known good is about to be due for the applied spec: the idle shortcut must not hide the
 * first reconcile after the window (later, the periodic drift checks take the whole path).
 */
export function lastKnownGoodPending(ingestion: DruidIngestion, now: string): boolean {
  const status = ingestion.status;
  const windowMs = rollbackWindowMs(ingestion);
  if (windowMs === undefined || status?.specHash === undefined || status.lastKnownGood?.specHash === status.specHash || status.rollback?.toSpecHash === status.specHash) return false;
  return elapsedMs(status.specAppliedTime, now) <= windowMs + RECORD_GRACE_MS;
}
