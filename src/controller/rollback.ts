// Last known good (opt-in, spec.rollback): which supervisor spec Druid ran well, when an update
// is rolled back to it, and what is applied while a generation is held back. Pure.
//
// A spec becomes the last known good once Druid has reported the supervisor RUNNING and healthy
// for the rollback window after the spec was applied (a resource whose apply time is not recorded,
// one from before this feature, counts as applied long ago). Within the window after an update,
// Druid refusing the spec (a 4xx on the submit) or reporting the supervisor unhealthy records a
// rollback for that generation. From then on, and as long as the resource keeps that generation,
// the controller applies the last known good instead of the resource's spec, so a generation is
// rolled back at most once and never flaps: the next edit of the resource (a new generation) is
// applied as usual, and may be rolled back once in its turn.
import type { DruidIngestion, DruidIngestionStatus, JsonObject, LastKnownGood, RollbackRecord } from "../api/druid-ingestion.ts";
import { parseDuration } from "../config.ts";
import type { LiveSupervisor } from "../druid/decode.ts";
import type { Failure } from "./model.ts";
import { dataSourceOf, type DesiredSupervisor } from "./render.ts";
import { sha256Hex } from "./canonical-json.ts";
import { secretRefsOf } from "./secret-refs.ts";

export const DEFAULT_ROLLBACK_WINDOW_MS = 600_000;
/** Status copies of a spec stay below this (as currentIngestionSpec.json). */
const MAX_SPEC_COPY_BYTES = 128 * 1024;

/** The rollback window when the resource asks for rollback; undefined when it does not (or the window does not parse: the CRD's pattern keeps that out). */
export function rollbackWindowMs(ingestion: DruidIngestion): number | undefined {
  const rollback = ingestion.spec.rollback;
  if (rollback?.enabled !== true) return undefined;
  if (rollback.window === undefined) return DEFAULT_ROLLBACK_WINDOW_MS;
  try {
    return parseDuration(rollback.window);
  } catch {
    return undefined;
  }
}

/** This generation was rolled back: its spec is held back. */
export function heldBack(ingestion: DruidIngestion): RollbackRecord | undefined {
  const record = ingestion.status?.rollback;
  return record !== undefined && record.generation === ingestion.metadata.generation && rollbackWindowMs(ingestion) !== undefined ? record : undefined;
}

/**
 * What is applied while the generation is held back: the last known good, for the same
 * supervisor and datasource (a rendered spec of the resource's kind). Undefined when there is
 * none, or it names another supervisor (then the resource's own spec is applied).
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
 * The rollback to record now, or undefined. `rejected`: the submit of the resource's spec that
 * Druid refused this reconcile (not one that may have reached it).
 */
export function rollbackDue(input: { ingestion: DruidIngestion; desired: DesiredSupervisor; live: LiveSupervisor | undefined; rejected?: Failure | undefined; now: string }): RollbackRecord | undefined {
  const { ingestion, desired, live, rejected, now } = input;
  const windowMs = rollbackWindowMs(ingestion);
  const status = ingestion.status ?? {};
  const good = status.lastKnownGood;
  const generation = ingestion.metadata.generation;
  if (windowMs === undefined || !good || good.specHash === desired.specHash || status.rollback?.generation === generation) return undefined;
  if (!lastKnownGoodDesired(desired, good)) return undefined;
  const base = { generation, fromSpecHash: desired.specHash, toSpecHash: good.specHash, time: now };
  const to = `the last known good spec (hash ${good.specHash.slice(0, 12)}, healthy as of ${good.recordedAt})`;
  const after = "; the resource's generation " + generation + " is not applied again: edit the resource to apply a fixed spec";
  if (rejected) {
    return { ...base, reason: "DruidRejected", message: `Druid refused generation ${generation}'s supervisor spec (${rejected.message}); ${to} is kept in Druid${after}` };
  }
  // Within the window after this spec was applied, Druid says it does not run well.
  if (status.specHash !== desired.specHash || elapsedMs(status.specAppliedTime, now) > windowMs) return undefined;
  if (!live || live.suspended || live.healthy !== false) return undefined;
  const state = `${live.state ?? "UNKNOWN"}${live.detailedState && live.detailedState !== live.state ? ` (${live.detailedState})` : ""}`;
  return { ...base, reason: "Unhealthy", message: `Druid reported supervisor ${desired.supervisorId} unhealthy, ${state}, ${Math.round(elapsedMs(status.specAppliedTime, now) / 1000)} s after generation ${generation}'s spec was applied (window ${Math.round(windowMs / 1000)} s); rolled back to ${to}${after}` };
}

/**
 * The last known good after a reconcile that leaves `desired` applied and Druid reporting `live`:
 * the applied spec once it has run RUNNING and healthy for the window, else the one there was.
 */
export function nextLastKnownGood(input: { ingestion: DruidIngestion; next: DruidIngestionStatus; desired: DesiredSupervisor; live: LiveSupervisor | undefined; now: string }): LastKnownGood | undefined {
  const { ingestion, next, desired, live, now } = input;
  const windowMs = rollbackWindowMs(ingestion);
  const previous = next.lastKnownGood;
  if (windowMs === undefined) return undefined;
  if (previous?.specHash === desired.specHash || next.specHash !== desired.specHash) return previous;
  if (!live || live.suspended || live.state !== "RUNNING" || live.healthy !== true) return previous;
  if (elapsedMs(next.specAppliedTime, now) < windowMs) return previous;
  if (Buffer.byteLength(desired.canonical, "utf8") > MAX_SPEC_COPY_BYTES) return previous;
  return { specHash: desired.specHash, spec: desired.canonical, recordedAt: now };
}

/** A last known good is still to be recorded for the applied spec: the idle shortcut must not hide the moment it is due. */
export function lastKnownGoodPending(ingestion: DruidIngestion): boolean {
  const status = ingestion.status;
  return rollbackWindowMs(ingestion) !== undefined && status?.specHash !== undefined && status.lastKnownGood?.specHash !== status.specHash && heldBack(ingestion) === undefined;
}
