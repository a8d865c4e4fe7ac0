// Kubernetes-style conditions: lastTransitionTime moves only when the status flips.
import type { Condition, ConditionStatus } from "../api/druid-ingestion.ts";

export const READY = "Ready";
export const SYNCED = "Synced";
export const SUSPENDED = "Suspended";
export const COMPACTION_SYNCED = "CompactionSynced";
export const RULES_SYNCED = "RulesSynced";
/** Whether the reset asked by spec.resetNonce happened (Unknown: it may or may not have). */
export const RESET_APPLIED = "ResetApplied";
/** Whether the offsets reset asked by spec.resetOffsetsNonce happened (Unknown: it may or may not have). */
export const OFFSETS_RESET_APPLIED = "OffsetsResetApplied";
/** Druid reports the supervisor healthy (its `healthy` flag); False names Druid's newest error. */
export const HEALTHY = "Healthy";
/** The owned ConfigMap holds the rendered spec (informational: never blocks Druid). */
export const CONFIGMAP_SYNCED = "ConfigMapSynced";

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export function setCondition(conditions: readonly Condition[], update: ConditionUpdate, generation: number, now: string): Condition[] {
  const previous = conditions.find((c) => c.type === update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    observedGeneration: generation,
    lastTransitionTime: previous && previous.status === update.status ? previous.lastTransitionTime : now,
    reason: update.reason,
    message: update.message,
  };
  return previous ? conditions.map((c) => (c.type === update.type ? next : c)) : [...conditions, next];
}

export function removeCondition(conditions: readonly Condition[], type: string): Condition[] {
  return conditions.filter((c) => c.type !== type);
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
