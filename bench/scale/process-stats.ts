// Resident memory and CPU time of a process, read from /proc (Linux), sampled on an interval so
// that the peak between two readings is not missed (VmHWM is the kernel's own high-water mark).
import { readFileSync } from "node:fs";

export interface ProcessReading {
  /** Resident set size now, bytes. */
  rss: number;
  /** Highest resident set size so far, bytes. */
  peakRss: number;
  /** User + system CPU time so far, seconds. */
  cpuSeconds: number;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

export function readProcess(pid: number): ProcessReading {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  // Fields after the command name (which may hold spaces) start after the last ")".
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return { rss: kib("VmRSS"), peakRss: kib("VmHWM"), cpuSeconds: (utime + stime) / CLOCK_TICKS };
}

/** Samples a process until stopped; keeps the samples of a window for the steady-state figure. */
export class ProcessSampler {
  private readonly pid: number;
  private readonly timer: NodeJS.Timeout;
  private samples: Array<{ at: number; reading: ProcessReading }> = [];
  last: ProcessReading;

  constructor(pid: number, intervalMs = 500) {
    this.pid = pid;
    this.last = readProcess(pid);
    this.timer = setInterval(() => {
      try {
        this.last = readProcess(this.pid);
        this.samples.push({ at: performance.now(), reading: this.last });
      } catch {
        // the process is gone; keep the last reading
      }
    }, intervalMs);
    this.timer.unref();
  }

  /** Forget samples so far (start of a window). */
  mark(): void {
    this.samples = [];
  }

  /** Median RSS over the samples since `mark`. */
  medianRss(): number {
    const values = this.samples.map((s) => s.reading.rss).sort((a, b) => a - b);
    return values.length === 0 ? this.last.rss : (values[Math.floor(values.length / 2)] as number);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
