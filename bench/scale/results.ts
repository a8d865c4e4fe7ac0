// What one benchmark size measured, and the targets judged against it. Pure.
export interface SizeResult {
  resources: number;
  druid: "real" | "double";
  druidVersion: string;
  concurrency: number;
  resyncSeconds: number;
  createSeconds: number;
  /** First create → every resource Synced and reporting SUSPENDED. */
  convergeSeconds: number;
  perResourceP50Ms: number;
  perResourceP99Ms: number;
  baseline: { postSeconds: number; settledSeconds?: number; kubeWritesSeconds: number; deleteSeconds: number };
  converge: { kube: Record<string, number>; druidRequests: Record<string, number>; druidBytes: Record<string, number> };
  idle: {
    seconds: number;
    resyncs: number;
    cpuSecondsPerResync: number;
    cpuPercentOfCore: number;
    /** Reconciles in the idle window, and how many of them ended at the idle shortcut (absent in older results). */
    reconciles?: number;
    idleShortcuts?: number;
    kube: Record<string, number>;
    kubeWrites: number;
    watchRequestsPer5MinPerWatch: number;
    watches: number;
    druidRequests: Record<string, number>;
    druidBytes: Record<string, number>;
    druidBytesPerResync: number;
  };
  rss: { peakMiB: number; steadyMiB: number };
  applyToPostMs: { samples: number; p50: number; p99: number };
  deleteSeconds: number;
  leftInDruid: number;
}

export interface TargetVerdict {
  target: string;
  met: boolean;
  measured: string;
}

const KUBE_WRITE_VERBS = new Set(["create", "update", "patch", "delete", "deletecollection"]);

export function kubeWrites(byVerbResource: Record<string, number>): number {
  return Object.entries(byVerbResource).reduce((n, [key, v]) => n + (KUBE_WRITE_VERBS.has(key.split(" ")[0] ?? "") ? v : 0), 0);
}

/** The targets that apply at this size. */
export function verdicts(r: SizeResult): TargetVerdict[] {
  const out: TargetVerdict[] = [];
  const baseline = baselineSeconds(r);
  out.push({ target: "convergence ≤ 1.2× the direct baseline (POSTs until Druid shows SUSPENDED + unavoidable Kubernetes writes)", met: r.convergeSeconds <= 1.2 * baseline, measured: `${r.convergeSeconds.toFixed(1)} s vs ${baseline.toFixed(1)} s (${(r.convergeSeconds / baseline).toFixed(2)}×)` });
  if (r.resources === 1000) {
    out.push({ target: "RSS at 1,000 ≤ 90 MiB steady", met: r.rss.steadyMiB <= 90, measured: `${r.rss.steadyMiB.toFixed(0)} MiB` });
    out.push({ target: "idle at 1,000: CPU ≤ 1 % of a core", met: r.idle.cpuPercentOfCore <= 1, measured: `${r.idle.cpuPercentOfCore.toFixed(2)} %` });
    out.push({ target: "idle at 1,000: 0 Kubernetes writes", met: r.idle.kubeWrites === 0, measured: String(r.idle.kubeWrites) });
    out.push({ target: "idle at 1,000: ≤ 1 Kubernetes request per watch per 5 minutes", met: r.idle.watchRequestsPer5MinPerWatch <= 1, measured: r.idle.watchRequestsPer5MinPerWatch.toFixed(2) });
  }
  if (r.resources === 10_000) {
    out.push({ target: "RSS at 10,000 ≤ 250 MiB", met: r.rss.steadyMiB <= 250, measured: `${r.rss.steadyMiB.toFixed(0)} MiB steady, ${r.rss.peakMiB.toFixed(0)} MiB peak` });
    out.push({ target: "apply→POST p50 ≤ 50 ms with 10,000 idle resources", met: r.applyToPostMs.p50 <= 50, measured: `p50 ${r.applyToPostMs.p50.toFixed(0)} ms, p99 ${r.applyToPostMs.p99.toFixed(0)} ms` });
  }
  return out;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** The direct baseline's convergence: Druid's own time to take the POSTs and settle, then the Kubernetes writes. */
export function baselineSeconds(r: Pick<SizeResult, "baseline">): number {
  return (r.baseline.settledSeconds ?? r.baseline.postSeconds) + r.baseline.kubeWritesSeconds;
}
