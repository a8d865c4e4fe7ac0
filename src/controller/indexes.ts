// In-memory indexes over the cached DruidIngestions, kept current by informer events, so that no
// reconcile and no Secret or Service event has to scan every resource:
// - ClaimIndex: which resources record (or are creating) a supervisor on an endpoint;
// - ReferenceIndex: which resources name a Secret, or a Druid cluster's router Service.
import { objectKey, type DruidIngestion } from "../api/druid-ingestion.ts";
import { claimKey, claimsOf, type Claim } from "./ownership.ts";

/** Resource key → the index keys it is filed under, and back. */
export class ReferenceIndex {
  private readonly keysOf = new Map<string, string[]>();
  private readonly users = new Map<string, Set<string>>();
  private readonly referencesOf: (ingestion: DruidIngestion) => string[];

  constructor(referencesOf: (ingestion: DruidIngestion) => string[]) {
    this.referencesOf = referencesOf;
  }

  update(ingestion: DruidIngestion): void {
    const resource = objectKey(ingestion.metadata.namespace, ingestion.metadata.name);
    this.remove(resource);
    const references = [...new Set(this.referencesOf(ingestion))];
    this.keysOf.set(resource, references);
    for (const reference of references) {
      let set = this.users.get(reference);
      if (!set) this.users.set(reference, (set = new Set()));
      set.add(resource);
    }
  }

  remove(resource: string): void {
    for (const reference of this.keysOf.get(resource) ?? []) {
      const set = this.users.get(reference);
      set?.delete(resource);
      if (set?.size === 0) this.users.delete(reference);
    }
    this.keysOf.delete(resource);
  }

  /** The resources filed under `reference`. */
  usersOf(reference: string): string[] {
    return [...(this.users.get(reference) ?? [])];
  }
}

export class ClaimIndex {
  private readonly claimsByResource = new Map<string, Claim[]>();
  private readonly byTarget = new Map<string, Map<string, Claim>>();

  update(ingestion: DruidIngestion): void {
    const resource = objectKey(ingestion.metadata.namespace, ingestion.metadata.name);
    this.remove(resource);
    const claims = claimsOf(ingestion);
    if (claims.length === 0) return;
    this.claimsByResource.set(resource, claims);
    for (const claim of claims) {
      const key = claimKey(claim.druidEndpoint, claim.supervisorId);
      let holders = this.byTarget.get(key);
      if (!holders) this.byTarget.set(key, (holders = new Map()));
      holders.set(resource, claim);
    }
  }

  remove(resource: string): void {
    for (const claim of this.claimsByResource.get(resource) ?? []) {
      const key = claimKey(claim.druidEndpoint, claim.supervisorId);
      const holders = this.byTarget.get(key);
      holders?.delete(resource);
      if (holders?.size === 0) this.byTarget.delete(key);
    }
    this.claimsByResource.delete(resource);
  }

  claimsOn(druidEndpoint: string, supervisorId: string): Claim[] {
    return [...(this.byTarget.get(claimKey(druidEndpoint, supervisorId))?.values() ?? [])];
  }
}
