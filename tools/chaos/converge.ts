// After healing, wait (bounded) until every resource of the run has converged: Synced=True for
// its current generation, and every deleted resource gone. A timeout is itself a violation,
// reported with what each pending resource says about itself.
import { setTimeout as sleep } from "node:timers/promises";
import type { DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { isSynced } from "../ingestions.ts";
import type { Kube } from "../kube.ts";
import type { Violation } from "./invariants.ts";
import { listRunIngestions, resourceView } from "./observe.ts";

export interface Convergence {
  converged: boolean;
  ms: number;
  /** Resources not converged at the end (empty when converged). */
  pending: DruidIngestion[];
  /** Resources that took longer than 15 s, with how long and why (their last pending reason). */
  slow: Array<{ key: string; seconds: number; reason: string }>;
}

/** Why a resource counts as not converged, in one line. */
export function pendingReason(i: DruidIngestion): string {
  if (i.metadata.deletionTimestamp) return `deleting since ${i.metadata.deletionTimestamp}, finalizers [${(i.metadata.finalizers ?? []).join(", ")}]`;
  const synced = i.status?.conditions?.find((c) => c.type === "Synced");
  return `Synced=${synced?.status ?? "(none)"} ${synced?.reason ?? ""}: ${synced?.message ?? ""} (observedGeneration ${i.status?.observedGeneration ?? "-"} / generation ${i.metadata.generation})`;
}

export async function waitConverged(kube: Kube, namespaces: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<Convergence> {
  const started = Date.now();
  let pending: DruidIngestion[] = [];
  const lastPending = new Map<string, { at: number; reason: string }>();
  const slow = (): Convergence["slow"] =>
    [...lastPending]
      .map(([key, p]) => ({ key, seconds: Math.round((p.at - started) / 1000), reason: p.reason }))
      .filter((s) => s.seconds >= 15)
      .sort((a, b) => b.seconds - a.seconds);
  for (;;) {
    try {
      const all = await listRunIngestions(kube, namespaces);
      pending = all.filter((i) => i.metadata.deletionTimestamp !== undefined || !isSynced(i));
      for (const i of pending) lastPending.set(`${i.metadata.namespace}/${i.metadata.name}`, { at: Date.now(), reason: pendingReason(i) });
      if (pending.length === 0) return { converged: true, ms: Date.now() - started, pending, slow: slow() };
    } catch {
      // the API server is coming back
    }
    if (Date.now() - started > timeoutMs || signal?.aborted) return { converged: false, ms: Date.now() - started, pending, slow: slow() };
    await sleep(1000);
  }
}

export function convergenceViolations(c: Convergence): Violation[] {
  return c.pending.map((i) => ({
    kind: "convergence-timeout" as const,
    subject: `${i.metadata.namespace}/${i.metadata.name}`,
    message: `not converged after ${Math.round(c.ms / 1000)} s: ${pendingReason(i)}`,
    resource: resourceView(i),
  }));
}
