// When each resource next reads its supervisor's stored spec to look for drift. Specs are not in
// the cluster-wide state list, so each resource reads its own, once per period; a resource seen
// for the first time (a restart, a new resource) is given a random phase, so that N resources
// spread their reads over the period instead of all asking at once. Only a reading that really
// carried the spec counts as a check. Memory only: a restart just draws new phases.
export class DriftSchedule {
  private readonly periodMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  /** Resource key → when its spec was last read (or its drawn phase). */
  private readonly lastRead = new Map<string, number>();

  constructor(periodMs: number, now: () => number = () => performance.now(), random: () => number = Math.random) {
    this.periodMs = periodMs;
    this.now = now;
    this.random = random;
  }

  /** A drift check is due for this resource. */
  due(key: string): boolean {
    let last = this.lastRead.get(key);
    if (last === undefined) {
      last = this.now() - this.random() * this.periodMs;
      this.lastRead.set(key, last);
    }
    return this.now() - last >= this.periodMs;
  }

  /** The resource's supervisor spec was just read. */
  checked(key: string): void {
    this.lastRead.set(key, this.now());
  }

  forget(key: string): void {
    this.lastRead.delete(key);
  }
}

/** What a reconcile knows when deciding whether it needs Druid's stored spec of its supervisor. */
export interface SpecNeed {
  /** The drift check is due (DriftSchedule). */
  driftCheckDue: boolean;
  /** The resource's spec differs from the one last applied: an update follows, which keeps Druid-owned values from the stored spec. */
  specChanged: boolean;
  /** The resource was edited since status was last written (a suspend or resume changes no spec hash). */
  edited: boolean;
  /** The list shows another state than status last reported: something happened (a suspend or resume made in Druid, among others). */
  stateChanged: boolean;
  /** No comparable hash of Druid's copy is recorded yet (none, or another set of ignored paths). */
  baselineMissing: boolean;
  /** The spec references Secret values: a rotation is found by comparing them with Druid's copy. */
  referencesSecrets: boolean;
}

export function needsStoredSpec(need: SpecNeed): boolean {
  return need.driftCheckDue || need.specChanged || need.edited || need.stateChanged || need.baselineMissing || need.referencesSecrets;
}
