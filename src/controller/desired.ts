// What a resource asks Druid to run, as every consumer sees it: the controller's reconcile and
// the CLI (validate, render, diff) both start here. Pure: the rendered spec, refused with the
// reason a user can act on, and, while a spec is rolled back, the last known good in its place.
import type { DruidIngestion, RollbackRecord } from "../api/druid-ingestion.ts";
import { ignoredPaths } from "./drift.ts";
import type { Failure } from "./model.ts";
import { renderIngestion, RenderError, type DesiredIngestion } from "./render.ts";
import { heldBack, lastKnownGoodDesired, rollbackSpecProblem } from "./rollback.ts";

export type DesiredOutcome =
  | {
      ok: true;
      desired: DesiredIngestion;
      /** The resource's spec is rolled back: `desired` is the last known good. */
      heldBack?: RollbackRecord;
      /** The resource's spec is rolled back, but the last known good cannot stand in: `desired` is the resource's own spec. */
      heldBackUnusable?: RollbackRecord;
    }
  | { ok: false; failure: Failure };

export function desiredOf(ingestion: DruidIngestion): DesiredOutcome {
  let desired: DesiredIngestion;
  try {
    desired = renderIngestion(ingestion);
  } catch (error) {
    if (!(error instanceof RenderError)) throw error;
    return { ok: false, failure: { reason: error.reason, message: error.message } };
  }
  const rollbackProblem = rollbackSpecProblem(ingestion);
  if (rollbackProblem) return { ok: false, failure: { reason: "InvalidSpec", message: rollbackProblem } };
  const held = desired.kind === "supervisor" ? heldBack(ingestion, desired.specHash) : undefined;
  if (held && desired.kind === "supervisor") {
    const good = lastKnownGoodDesired(desired, ingestion.status?.lastKnownGood);
    return good ? { ok: true, desired: good, heldBack: held } : { ok: true, desired, heldBackUnusable: held };
  }
  return { ok: true, desired };
}

/**
 * Paths left out of the hash of Druid's copy: the resource's own, Druid's, and where the spec
 * references Secret values (a rotated value changes desired.specHash instead, so it is sent once).
 */
export function ignoredPathsOf(ingestion: DruidIngestion, desired: DesiredIngestion): string[] {
  return desired.kind === "supervisor" ? ignoredPaths(desired.body, [...(ingestion.spec.driftIgnorePaths ?? []), ...desired.secretRefs.map((r) => r.pointer)]) : [];
}
