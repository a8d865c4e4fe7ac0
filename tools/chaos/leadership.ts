// The Lease holder over time (from the journal's `leader` events) and the Druid writes made by a
// replica that did not hold the Lease: the design's "one writer" rule. The holder is sampled a
// few times per second, so a write counts as the holder's when that replica held the Lease at any
// moment within `toleranceMs` of it. A change of holder takes effect when the Lease says it was
// acquired (its acquireTime, stamped by the acquiring replica on this machine's clock), but never
// before the sampler last saw the previous holder: while the API server restarts, the sampler is
// blind for seconds, and a takeover in that time would otherwise be dated late (crediting the old
// holder, which stops being credited at the real handover, and blaming the new one).
import type { ProxiedRequest } from "../druid-proxy.ts";
import type { JournalEvent } from "./journal.ts";

export interface HolderChange {
  at: number;
  holder: string;
}

export function holderChanges(journal: readonly JournalEvent[]): HolderChange[] {
  let previous = Number.NEGATIVE_INFINITY;
  return journal
    .filter((e) => e.kind === "leader")
    .map((e) => {
      // The Lease changed hands after the sampler last saw the previous holder and no later than
      // it saw the new one: acquireTime is believed only within that range (a takeover stamps
      // when its round began, possibly before the old holder's last sighting). Journal order is
      // the order the sampler saw, and is kept.
      const acquired = e["acquiredAt"];
      const lastSeenBefore = e["previousSeenAt"];
      let at = typeof acquired === "number" && acquired <= e.at ? acquired : e.at;
      if (typeof lastSeenBefore === "number") at = Math.max(at, lastSeenBefore);
      at = Math.max(at, previous);
      previous = at;
      return { at, holder: String(e["holder"]) };
    });
}

/** Every holder in effect at some moment of [at - toleranceMs, at + toleranceMs]. */
export function holdersAround(changes: readonly HolderChange[], at: number, toleranceMs: number): Set<string> {
  const holders = new Set<string>();
  let before: HolderChange | undefined;
  for (const c of changes) {
    if (c.at <= at - toleranceMs) before = c;
    else if (c.at <= at + toleranceMs) holders.add(c.holder);
  }
  if (before) holders.add(before.holder);
  return holders;
}

/** A request that may change Druid (anything but GET), sent on to Druid. */
export function isDruidWrite(e: ProxiedRequest): boolean {
  return e.method !== "GET" && e.forwarded;
}

/** Druid writes by a known replica that did not hold the Lease around that time. */
export function writesByNonHolder(log: readonly ProxiedRequest[], changes: readonly HolderChange[], toleranceMs = 1000): ProxiedRequest[] {
  return log.filter((e) => isDruidWrite(e) && e.client !== undefined && !holdersAround(changes, e.at, toleranceMs).has(e.client));
}
