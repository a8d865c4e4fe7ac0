// The event-loop lag series every Node exporter is known by (nodejs_eventloop_lag_*), sampled
// every EVENT_LOOP_SAMPLING_MS. prom-client samples every 10 ms, which wakes an idle controller
// 100 times a second: 0.28 s of CPU per minute with no resource at all, a third of the idle cost
// at 1,000 resources. Node's histogram records the whole time between two samples, the sampling
// interval included; it is taken off here, so the series read as lag, as prom-client's (10 ms
// interval, 10 ms off) nearly do.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Gauge, type Registry } from "prom-client";

export const EVENT_LOOP_SAMPLING_MS = 100;

/** The names prom-client's default metrics use for the event-loop lag (replaced by these). */
export const EVENT_LOOP_LAG_SERIES = ["", "_min", "_max", "_mean", "_stddev", "_p50", "_p90", "_p99"].map((s) => `nodejs_eventloop_lag${s}_seconds`);

/** Nanoseconds between two samples, less the sampling interval: seconds of lag. */
export function lagSeconds(betweenSamplesNs: number, samplingMs: number): number {
  return Number.isFinite(betweenSamplesNs) ? Math.max(0, betweenSamplesNs - samplingMs * 1e6) / 1e9 : 0;
}

export function registerEventLoopLag(registry: Registry, samplingMs = EVENT_LOOP_SAMPLING_MS): void {
  const histogram = monitorEventLoopDelay({ resolution: samplingMs });
  histogram.enable();
  const registers = [registry];
  const lag = (ns: number): number => (histogram.count > 0 ? lagSeconds(ns, samplingMs) : 0);
  const gauge = (suffix: string, help: string, value: () => number): Gauge =>
    new Gauge({
      name: `nodejs_eventloop_lag${suffix}_seconds`,
      help,
      registers,
      collect() {
        this.set(value());
      },
    });
  // Measured at each scrape: how long a setImmediate waits (reported at the next scrape).
  let lastImmediateLag = 0;
  gauge("", "Lag of event loop in seconds (a setImmediate's wait, measured at the previous scrape).", () => {
    const start = process.hrtime.bigint();
    setImmediate(() => {
      lastImmediateLag = Number(process.hrtime.bigint() - start) / 1e9;
    });
    return lastImmediateLag;
  });
  // The histogram's series are read together, then the histogram starts over (as prom-client's).
  let snapshot = { min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p99: 0 };
  gauge("_min", "The minimum recorded event loop delay since the last scrape.", () => {
    snapshot = { min: lag(histogram.min), max: lag(histogram.max), mean: lag(histogram.mean), stddev: histogram.count > 0 ? histogram.stddev / 1e9 : 0, p50: lag(histogram.percentile(50)), p90: lag(histogram.percentile(90)), p99: lag(histogram.percentile(99)) };
    histogram.reset();
    return snapshot.min;
  });
  gauge("_max", "The maximum recorded event loop delay since the last scrape.", () => snapshot.max);
  gauge("_mean", "The mean of the recorded event loop delays since the last scrape.", () => snapshot.mean);
  gauge("_stddev", "The standard deviation of the recorded event loop delays since the last scrape.", () => snapshot.stddev);
  gauge("_p50", "The 50th percentile of the recorded event loop delays since the last scrape.", () => snapshot.p50);
  gauge("_p90", "The 90th percentile of the recorded event loop delays since the last scrape.", () => snapshot.p90);
  gauge("_p99", "The 99th percentile of the recorded event loop delays since the last scrape.", () => snapshot.p99);
}
