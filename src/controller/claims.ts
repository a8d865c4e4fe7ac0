// Two resources naming the same supervisor on the same Druid would fight over it (each
// resubmitting its own spec) and the deletion of either would terminate the other's. The
// older resource (by creation time, then namespace/name) owns the supervisor; the newer one
// stands down with a condition saying who owns it. Pure.
import { objectKey, type DruidIngestion } from "../api/druid-ingestion.ts";

export interface Claim {
  key: string;
  createdAt: string;
  supervisorId: string;
  endpoint: string;
  deleting: boolean;
}

/** What a resource's status says it manages. */
export function claimOf(ingestion: DruidIngestion): Claim | undefined {
  const status = ingestion.status;
  // Only what was actually applied is claimed: a resource that never got through claims nothing.
  if (!status?.supervisorId || !status.druidEndpoint || !status.specHash) return undefined;
  // A resource that stood down for a conflict records no claim.
  if (status.conditions?.some((c) => c.type === "Synced" && c.reason === "SupervisorConflict")) return undefined;
  return {
    key: objectKey(ingestion.metadata.namespace, ingestion.metadata.name),
    createdAt: ingestion.metadata.creationTimestamp ?? "",
    supervisorId: status.supervisorId,
    endpoint: status.druidEndpoint,
    deleting: ingestion.metadata.deletionTimestamp !== undefined,
  };
}

function older(a: { createdAt: string; key: string }, b: { createdAt: string; key: string }): boolean {
  return a.createdAt !== b.createdAt ? a.createdAt < b.createdAt : a.key < b.key;
}

/** The older resource that owns `supervisorId` on `endpoint`, if it is not `self`. */
export function ownerOtherThan(self: DruidIngestion, supervisorId: string, endpoint: string, others: Iterable<DruidIngestion>): Claim | undefined {
  const me = { key: objectKey(self.metadata.namespace, self.metadata.name), createdAt: self.metadata.creationTimestamp ?? "" };
  let owner: Claim | undefined;
  for (const other of others) {
    const claim = other.status ? claimOf(other) : undefined;
    if (!claim || claim.key === me.key || claim.supervisorId !== supervisorId || claim.endpoint !== endpoint) continue;
    if (older(claim, me) && (!owner || older(claim, owner))) owner = claim;
  }
  return owner;
}

/** Any other live resource that manages `supervisorId` on `endpoint` (deletion must leave it alone). */
export function otherLiveClaim(self: DruidIngestion, supervisorId: string, endpoint: string, others: Iterable<DruidIngestion>): Claim | undefined {
  const key = objectKey(self.metadata.namespace, self.metadata.name);
  for (const other of others) {
    const claim = other.status ? claimOf(other) : undefined;
    if (claim && claim.key !== key && !claim.deleting && claim.supervisorId === supervisorId && claim.endpoint === endpoint) return claim;
  }
  return undefined;
}
