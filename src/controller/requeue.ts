// When to look at a resource again: the one requeue decision of a reconcile, pure. The work
// queue does the waiting and the per-key backoff; this only says which kind of wait.
import type { LiveSupervisor, LiveTask } from "../druid/decode.ts";
import type { Failure } from "./model.ts";
import type { ProcessResult } from "./queue.ts";
import { isTransitional } from "./status.ts";

/** How a reconcile ended, as far as timing goes. */
export type Ending =
  /** Nothing can change until the resource is edited (invalid schema or spec, paused, gone). */
  | { kind: "waitForEdit" }
  /** A stage stopped, or a Druid call failed. */
  | { kind: "failed"; failure: Failure }
  /** The status write lost a race with another write: look again at once, with backoff. */
  | { kind: "conflict" }
  /** Druid was changed (or a move removed the old side): report the resulting state soon. */
  | { kind: "changed" }
  /** Nothing to change; Druid's state as read. */
  | {
      kind: "idle";
      supervisor?: LiveSupervisor | undefined;
      task?: LiveTask | undefined;
      sinceTransitionMs?: number;
      /** The state poller will wake the resource when Druid lists its supervisor elsewhere. */
      watched?: boolean;
    };

export interface RequeueSettings {
  resyncMs: number;
  settleMs: number;
}

/** A running task is polled (tasks have no cluster-wide list) at most this far apart. */
export const TASK_POLL_MAX_MS = 30_000;

export function requeueAfter(ending: Ending, settings: RequeueSettings, random: () => number = Math.random): ProcessResult {
  const resync = Math.round(settings.resyncMs * (0.9 + random() * 0.2));
  switch (ending.kind) {
    case "waitForEdit":
      return {};
    case "failed":
      return ending.failure.transient ? { error: new Error(`${ending.failure.reason}: ${ending.failure.message}`) } : { requeueAfterMs: resync };
    case "conflict":
      return { error: new Error("the resource changed while it was reconciled") };
    case "changed":
      return { requeueAfterMs: settings.settleMs };
    case "idle": {
      if (ending.task?.statusCode === "RUNNING") return { requeueAfterMs: Math.min(resync, TASK_POLL_MAX_MS) };
      if (ending.supervisor !== undefined && isTransitional(ending.supervisor)) {
        // The poller wakes it on a change; its own look is only the safety net.
        if (ending.watched) return { requeueAfterMs: resync };
        // Starting or stopping: look again soon, then less and less often (half the time spent so far).
        const since = ending.sinceTransitionMs ?? 0;
        return { requeueAfterMs: Math.min(resync, Math.max(settings.settleMs, Math.round(since / 2))) };
      }
      return { requeueAfterMs: resync };
    }
  }
}
