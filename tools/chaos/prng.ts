// A small seeded pseudo-random generator (xorshift32 over a hashed seed): every choice the chaos
// command makes (workload operations, fault plans, fault decisions in the proxy, respawn delays)
// comes from one of these, so a run is reproducible from its --seed. Separate streams (`fork`)
// keep one part's choices from shifting when another part draws a different number of values.

/** A 32-bit integer hash (avalanche mix), used to turn seeds and labels into well-spread states. */
export function hash32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h;
}

function hashText(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

export class Prng {
  private state: number;
  readonly seed: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    // xorshift32 must never hold 0.
    this.state = hash32(this.seed ^ 0x9e3779b9) || 0x2545f491;
  }

  /** A float in [0, 1). */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.state = x;
    return hash32(x) / 4294967296;
  }

  /** An integer in [min, max] (both included). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A float in [min, max). */
  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** An item chosen with probability proportional to its weight (weights <= 0 never chosen). */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T | undefined {
    const total = items.reduce((sum, [, w]) => sum + Math.max(0, w), 0);
    if (total <= 0) return undefined;
    let r = this.next() * total;
    for (const [item, w] of items) {
      if (w <= 0) continue;
      r -= w;
      if (r < 0) return item;
    }
    return items.filter(([, w]) => w > 0).at(-1)?.[0];
  }

  /** An independent stream named `label`, derived from the seed only (not from draws so far). */
  fork(label: string): Prng {
    return new Prng(hash32(this.seed ^ hashText(label)));
  }
}
