// One controller replica (`node src/main.ts`) as a Deployment would run it: started again a
// short while after it exits (the controller exits with 1 when it loses leadership), killed or
// frozen on purpose by the fault injector. Output goes to one log file per replica, with a line
// marking each start.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import path from "node:path";
import type { Journal } from "./journal.ts";

export type ReplicaState = "running" | "stopped" | "exited";

export interface ReplicaOptions {
  name: string;
  repoRoot: string;
  env: Record<string, string>;
  logFile: string;
  journal: Journal;
  /** Delay before starting again after an exit, ms (drawn per exit). */
  respawnDelayMs: () => number;
}

export class Replica {
  readonly name: string;
  private readonly options: ReplicaOptions;
  private readonly log: WriteStream;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private respawnTimer: NodeJS.Timeout | undefined;
  private frozen = false;
  private closing = false;
  starts = 0;

  constructor(options: ReplicaOptions) {
    this.name = options.name;
    this.options = options;
    this.log = createWriteStream(options.logFile, { flags: "a" });
  }

  get pid(): number | undefined {
    return this.state === "exited" ? undefined : this.child?.pid;
  }

  get state(): ReplicaState {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return "exited";
    return this.frozen ? "stopped" : "running";
  }

  get respawnPending(): boolean {
    return this.respawnTimer !== undefined;
  }

  start(): void {
    clearTimeout(this.respawnTimer);
    this.respawnTimer = undefined;
    if (this.state !== "exited" || this.closing) return;
    this.starts++;
    this.frozen = false;
    const child = spawn(process.execPath, [path.join(this.options.repoRoot, "src/main.ts")], {
      cwd: this.options.repoRoot,
      env: this.options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    this.log.write(`=== chaos: start #${this.starts} of ${this.name}, pid ${child.pid} at ${new Date().toISOString()}\n`);
    this.options.journal.record("replica-start", { replica: this.name, pid: child.pid, start: this.starts });
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.frozen = false;
        this.log.write(`=== chaos: ${this.name} pid ${child.pid} exited (code ${code}, signal ${signal}) at ${new Date().toISOString()}\n`);
        this.options.journal.record("replica-exit", { replica: this.name, pid: child.pid, code, signal });
        if (!this.closing) {
          const delay = this.options.respawnDelayMs();
          this.respawnTimer = setTimeout(() => this.start(), delay);
        }
        resolve();
      });
    });
  }

  /** SIGKILL (no chance to release the Lease). False when it was not running. */
  kill(): boolean {
    if (this.state === "exited" || !this.child) return false;
    this.child.kill("SIGKILL");
    return true;
  }

  /** SIGSTOP: the process is frozen (its Lease expires, its connections stay open). */
  freeze(): boolean {
    if (this.state !== "running" || !this.child) return false;
    this.child.kill("SIGSTOP");
    this.frozen = true;
    return true;
  }

  thaw(): void {
    if (!this.frozen || !this.child) return;
    this.child.kill("SIGCONT");
    this.frozen = false;
  }

  /** Running now: thawed, or started at once if it exited (no waiting for the respawn delay). */
  ensureRunning(): void {
    this.thaw();
    if (this.state === "exited") this.start();
  }

  /** SIGTERM (graceful: drains and releases the Lease), SIGKILL after the timeout; no restart. */
  async shutdown(timeoutMs = 25_000): Promise<void> {
    this.closing = true;
    clearTimeout(this.respawnTimer);
    this.respawnTimer = undefined;
    if (this.state !== "exited" && this.child) {
      this.thaw();
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child?.kill("SIGKILL"), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => this.log.end(resolve));
  }

  /** For process exit handlers: no waiting. */
  killNow(): void {
    this.closing = true;
    clearTimeout(this.respawnTimer);
    if (this.child && this.state !== "exited") {
      this.child.kill("SIGCONT");
      this.child.kill("SIGKILL");
    }
  }
}
