// The controller's Prometheus text, parsed enough to subtract two scrapes and break a counter
// down by some of its labels (requests by verb, bytes by endpoint).
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = (pair[2] as string).replace(/\\(.)/g, "$1");
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** after − before of a counter, summed per combination of `by` labels (joined with " "). */
export function counterDelta(before: Sample[], after: Sample[], name: string, by: string[], where: Record<string, string> = {}): Map<string, number> {
  const sum = (samples: Sample[]): Map<string, number> => {
    const totals = new Map<string, number>();
    for (const s of samples) {
      if (s.name !== name || !Object.entries(where).every(([k, v]) => s.labels[k] === v)) continue;
      const key = by.map((l) => s.labels[l] ?? "").join(" ");
      totals.set(key, (totals.get(key) ?? 0) + s.value);
    }
    return totals;
  };
  const a = sum(after);
  const b = sum(before);
  const delta = new Map<string, number>();
  for (const [key, value] of a) {
    const d = value - (b.get(key) ?? 0);
    if (d !== 0) delta.set(key, d);
  }
  return new Map([...delta].sort(([x], [y]) => x.localeCompare(y)));
}

export function total(map: ReadonlyMap<string, number>, keep: (key: string) => boolean = () => true): number {
  let n = 0;
  for (const [k, v] of map) if (keep(k)) n += v;
  return n;
}
