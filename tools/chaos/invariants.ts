// The invariants a healed, converged run must satisfy, judged against Druid itself. Pure: views
// of the resources (from the API server), of Druid's supervisors (`GET /supervisor?full` straight
// at Druid) and of the reset requests that reached Druid (the proxy's log) in; violations out.
//   - every live resource has its supervisor (id = datasource), suspended as asked, with the
//     spec values the workload set;
//   - no orphan: no supervisor of the run's prefix that no live resource names (Druid 33 drops a
//     terminated supervisor from the list; its tombstone is only in /supervisor/history);
//   - each resetNonce resets at most once: resets that reached Druid per supervisor <= the
//     distinct nonces set on resources while they named it (a reset Druid refused with a 4xx did
//     nothing and does not count); a reset reported as ambiguous (condition ResetApplied=Unknown,
//     ResetOutcomeUnknown) instead of repeated is counted apart, not a violation;
//   - no deleted resource still there (held by a finalizer) once Druid is reachable;
//   - status tells the truth: applied.supervisorId, observedGeneration, status.state = Druid's
//     state, the Suspended condition = Druid's suspended flag (these two may lag one resync: the
//     caller confirms them with a second look).

export interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface ResourceView {
  key: string;
  generation: number;
  deleting: boolean;
  finalizers: string[];
  dataSource: string;
  suspend: boolean;
  resetNonce: string | undefined;
  maxRowsInMemory: number | undefined;
  dimensions: string[];
  topic: string | undefined;
  status: {
    observedGeneration: number | undefined;
    appliedSupervisorId: string | undefined;
    state: string | undefined;
    lastResetNonce: string | undefined;
    conditions: ConditionView[];
  };
}

export interface SupervisorView {
  id: string;
  state: string | undefined;
  detailedState: string | undefined;
  /** From the stored spec (the list's own flag lags in Druid 33). */
  suspended: boolean;
  dataSource: string | undefined;
  maxRowsInMemory: number | undefined;
  dimensions: string[];
  topic: string | undefined;
}

export interface ResetRequest {
  supervisorId: string;
  at: number;
  client: string | undefined;
  /** Druid's answer; undefined when the exchange broke before Druid answered. */
  druidStatus: number | undefined;
  /** What the controller was told. */
  answered: number | "cut" | "gone" | undefined;
  fault: string | undefined;
}

export interface CheckInput {
  prefix: string;
  resources: readonly ResourceView[];
  supervisors: readonly SupervisorView[];
  resets: readonly ResetRequest[];
  /** Per supervisor id, the resetNonce values that may each reset it once. */
  allowedResets: Readonly<Record<string, readonly string[]>>;
}

export type ViolationKind =
  | "convergence-timeout"
  | "missing-supervisor"
  | "suspend-mismatch"
  | "spec-mismatch"
  | "orphan-supervisor"
  | "double-reset"
  | "stuck-finalizer"
  | "status-supervisor-id"
  | "status-generation"
  | "status-state"
  | "status-suspended";

export interface Violation {
  kind: ViolationKind;
  /** The resource key or supervisor id the violation is about. */
  subject: string;
  message: string;
  resource?: ResourceView;
  supervisor?: SupervisorView;
  resets?: ResetRequest[];
  /** For a double reset: resets beyond the allowance. */
  excess?: number;
}

export interface AmbiguousReset {
  key: string;
  nonce: string | undefined;
  message: string;
}

export interface CheckResult {
  violations: Violation[];
  /** Live resources checked. */
  checked: number;
  ambiguousResets: AmbiguousReset[];
}

/** The status kinds that may lag Druid by one resync after convergence: confirmed by a second look. */
export const LAGGING_KINDS: ReadonlySet<ViolationKind> = new Set(["status-state", "status-suspended"]);

/** A reset request that may have changed Druid: not refused by Druid with a 4xx. */
export function resetMayHaveActed(r: ResetRequest): boolean {
  return r.druidStatus === undefined || r.druidStatus < 400 || r.druidStatus >= 500;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function checkInvariants(input: CheckInput): CheckResult {
  const violations: Violation[] = [];
  const ambiguousResets: AmbiguousReset[] = [];
  const byId = new Map(input.supervisors.map((s) => [s.id, s]));
  const live = input.resources.filter((r) => !r.deleting);
  const named = new Set(live.map((r) => r.dataSource));

  for (const r of input.resources.filter((x) => x.deleting)) {
    const left = byId.get(r.dataSource);
    violations.push({
      kind: "stuck-finalizer",
      subject: r.key,
      message: `deleted but still there, held by finalizers [${r.finalizers.join(", ")}]${left ? `; its supervisor ${left.id} is still in Druid (${left.state})` : ""}`,
      resource: r,
      ...(left ? { supervisor: left } : {}),
    });
  }

  for (const r of live) {
    const s = byId.get(r.dataSource);
    const ambiguous = r.status.conditions.find((c) => c.type === "ResetApplied" && c.status === "Unknown" && c.reason === "ResetOutcomeUnknown");
    if (ambiguous) ambiguousResets.push({ key: r.key, nonce: r.resetNonce, message: ambiguous.message });
    if (!s) {
      violations.push({ kind: "missing-supervisor", subject: r.key, message: `no supervisor ${r.dataSource} in Druid`, resource: r });
    } else {
      if (s.suspended !== r.suspend) {
        violations.push({ kind: "suspend-mismatch", subject: r.key, message: `spec.suspend=${r.suspend} but Druid's stored spec of ${s.id} has suspended=${s.suspended}`, resource: r, supervisor: s });
      }
      const diffs: string[] = [];
      if (s.dataSource !== r.dataSource) diffs.push(`dataSource ${JSON.stringify(s.dataSource)} != ${JSON.stringify(r.dataSource)}`);
      if (r.maxRowsInMemory !== undefined && s.maxRowsInMemory !== r.maxRowsInMemory) diffs.push(`tuningConfig.maxRowsInMemory ${s.maxRowsInMemory} != ${r.maxRowsInMemory}`);
      if (!sameList(s.dimensions, r.dimensions)) diffs.push(`dimensions [${s.dimensions.join(",")}] != [${r.dimensions.join(",")}]`);
      if (r.topic !== undefined && s.topic !== r.topic) diffs.push(`ioConfig.topic ${s.topic} != ${r.topic}`);
      if (diffs.length > 0) violations.push({ kind: "spec-mismatch", subject: r.key, message: `Druid's spec of ${s.id} differs from the resource (Druid != resource): ${diffs.join("; ")}`, resource: r, supervisor: s });
      if (r.status.state !== s.state) {
        violations.push({ kind: "status-state", subject: r.key, message: `status.state=${r.status.state ?? "(none)"} but Druid's ${s.id} is in state ${s.state}`, resource: r, supervisor: s });
      }
      const suspended = r.status.conditions.find((c) => c.type === "Suspended");
      if (suspended?.status !== (s.suspended ? "True" : "False")) {
        violations.push({
          kind: "status-suspended",
          subject: r.key,
          message: `condition Suspended=${suspended?.status ?? "(none)"} but Druid's stored spec of ${s.id} has suspended=${s.suspended}`,
          resource: r,
          supervisor: s,
        });
      }
    }
    if (r.status.appliedSupervisorId !== r.dataSource) {
      violations.push({ kind: "status-supervisor-id", subject: r.key, message: `status.applied.supervisorId=${r.status.appliedSupervisorId ?? "(none)"} but the supervisor is ${r.dataSource}`, resource: r, ...(s ? { supervisor: s } : {}) });
    }
    if (r.status.observedGeneration !== r.generation) {
      violations.push({ kind: "status-generation", subject: r.key, message: `status.observedGeneration=${r.status.observedGeneration ?? "(none)"} but generation=${r.generation}`, resource: r });
    }
  }

  const deletingNames = new Set(input.resources.filter((r) => r.deleting).map((r) => r.dataSource));
  for (const s of input.supervisors) {
    if (!s.id.startsWith(input.prefix) || named.has(s.id) || deletingNames.has(s.id)) continue;
    violations.push({ kind: "orphan-supervisor", subject: s.id, message: `supervisor ${s.id} (${s.suspended ? "suspended" : s.state}) is in Druid but no live resource names it`, supervisor: s });
  }

  const resetsById = new Map<string, ResetRequest[]>();
  for (const r of input.resets) resetsById.set(r.supervisorId, [...(resetsById.get(r.supervisorId) ?? []), r]);
  for (const [id, requests] of resetsById) {
    const acted = requests.filter(resetMayHaveActed);
    const allowed = input.allowedResets[id] ?? [];
    if (acted.length > allowed.length) {
      violations.push({
        kind: "double-reset",
        subject: id,
        message: `${acted.length} reset(s) of ${id} reached Druid but only ${allowed.length} distinct resetNonce value(s) were set while a resource named it [${allowed.join(", ")}]`,
        resets: requests,
        excess: acted.length - allowed.length,
        ...(byId.get(id) ? { supervisor: byId.get(id) as SupervisorView } : {}),
      });
    }
  }
  return { violations, checked: live.length, ambiguousResets };
}

/** The identity of a violation across checks (a double reset is new again when its excess grows). */
export function violationKey(v: Violation): string {
  return v.kind === "double-reset" ? `${v.kind}:${v.subject}:+${v.excess ?? 0}` : `${v.kind}:${v.subject}`;
}
