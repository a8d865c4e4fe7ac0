// How far behind a stream supervisor is, and when that is worth a status write. Pure.
//
// The gauges show every reading as it comes; status (and so the printer column) follows at most
// once a lag period when the lag moved a lot, and at most once every STATUS_REFRESH_PERIODS
// periods when it only jitters. A resource whose lag does not change is never written.
import type { SupervisorLag } from "../api/druid-ingestion.ts";
import type { SupervisorHealth } from "../druid/decode.ts";

/** What one read of a supervisor's status report says about its lag (either may be absent). */
export interface LagReading {
  /** Kafka: records behind, summed over partitions. */
  records?: number;
  /** Kinesis (and Kafka where Druid computes it): milliseconds behind. */
  millis?: number;
}

/** A jitter alone reaches status at most once per this many lag periods. */
export const STATUS_REFRESH_PERIODS = 10;
/** Below these differences a change is jitter, whatever its ratio. */
export const SIGNIFICANT_RECORDS = 1_000;
export const SIGNIFICANT_MILLIS = 10_000;

/** The lag in a status report; undefined when Druid reports none (no task has reported offsets). */
export function lagOf(health: Pick<SupervisorHealth, "aggregateLag" | "aggregateLagMillis">): LagReading | undefined {
  const reading: LagReading = {};
  // Druid reports -1 (or nothing) while it does not know.
  if (health.aggregateLag !== undefined && health.aggregateLag >= 0) reading.records = Math.round(health.aggregateLag);
  if (health.aggregateLagMillis !== undefined && health.aggregateLagMillis >= 0) reading.millis = Math.round(health.aggregateLagMillis);
  return reading.records === undefined && reading.millis === undefined ? undefined : reading;
}

export function sameLag(a: LagReading | undefined, b: LagReading | undefined): boolean {
  return a?.records === b?.records && a?.millis === b?.millis;
}

/** Twice or half as far behind, and by more than the jitter floor; or a value appearing or going. */
function movedMuch(from: number | undefined, to: number | undefined, floor: number): boolean {
  if (from === undefined || to === undefined) return from !== to;
  const low = Math.min(from, to);
  const diff = Math.abs(from - to);
  return diff >= floor && diff >= low;
}

/**
 * The status' lag after a reading: the previous one (the same object) when nothing is worth a
 * write, a new one otherwise; none once Druid reports none (null). `periodMs` is the lag period: a large move is written once it has
 * passed since the last write, any other change once STATUS_REFRESH_PERIODS of them have.
 */
export function nextStatusLag(previous: SupervisorLag | undefined, reading: LagReading | null | undefined, now: Date, periodMs: number): SupervisorLag | undefined {
  if (reading === undefined) return previous; // no reading yet (a restart, a failed read): the last one written stands
  if (reading === null) return undefined; // Druid reports none
  const fresh = (): SupervisorLag => ({ ...reading, lastUpdateTime: now.toISOString().replace(/\.\d{3}Z$/, "Z") });
  if (previous === undefined) return fresh();
  if (sameLag(previous, reading)) return previous;
  const since = now.getTime() - Date.parse(previous.lastUpdateTime);
  // A clock set back, or a time that does not parse: write, so the time is right again.
  if (!Number.isFinite(since) || since < 0) return fresh();
  const much = movedMuch(previous.records, reading.records, SIGNIFICANT_RECORDS) || movedMuch(previous.millis, reading.millis, SIGNIFICANT_MILLIS);
  if (much && since >= periodMs) return fresh();
  if (since >= STATUS_REFRESH_PERIODS * periodMs) return fresh();
  return previous;
}
