// Runs the real controller (node src/main.ts) as a child process, as it runs in production,
// with its logs captured for assertions and for failure reports. Shared by the tests, the
// benchmarks and the quickstart.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { REPO_ROOT } from "./stack.ts";
import { waitFor } from "./wait.ts";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class ControllerProcess {
  readonly logs: string[] = [];
  readonly port: number;
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private readonly env: Record<string, string>;
  private readonly repoRoot: string;
  private readonly nodeArgs: readonly string[];

  private constructor(port: number, env: Record<string, string>, repoRoot: string, nodeArgs: readonly string[]) {
    this.port = port;
    this.env = env;
    this.repoRoot = repoRoot;
    this.nodeArgs = nodeArgs;
  }

  /**
   * Starts the controller (of this checkout unless `repoRoot` names another; with `nodeArgs`
   * before the script, e.g. V8 flags) and waits until /readyz answers 200.
   */
  static async start(env: Record<string, string>, { repoRoot = REPO_ROOT, nodeArgs = [] }: { repoRoot?: string; nodeArgs?: readonly string[] } = {}): Promise<ControllerProcess> {
    const port = await freePort();
    const controller = new ControllerProcess(port, env, repoRoot, nodeArgs);
    controller.launch();
    try {
      await waitFor("controller ready", async () => {
        if (controller.child?.exitCode !== null && controller.child?.exitCode !== undefined) throw new Error(`controller exited with ${controller.child.exitCode}: ${controller.tail()}`);
        const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        return r?.status === 200;
      }, 60_000, 200);
    } catch (error) {
      // Never ready: the caller gets no handle to stop it, so it is stopped here (a live child would keep the test process waiting).
      await controller.stop("SIGKILL", 5_000);
      throw new Error(`${(error as Error).message}; controller log tail: ${controller.tail()}`, { cause: error });
    }
    return controller;
  }

  private launch(): void {
    const child = spawn(process.execPath, [...this.nodeArgs, path.join(this.repoRoot, "src/main.ts")], {
      cwd: this.repoRoot,
      env: {
        PATH: process.env["PATH"] ?? "",
        HOME: process.env["HOME"] ?? "/tmp",
        LOG_LEVEL: "debug",
        RESYNC_PERIOD: "5s",
        SETTLE_DELAY: "1s",
        RETRY_BACKOFF_BASE: "500ms",
        RETRY_BACKOFF_MAX: "5s",
        DRUID_RETRIES: "1",
        DRUID_REQUEST_TIMEOUT: "10s",
        // The local Druid and the tests' fault proxies all listen on 127.0.0.1; anything else
        // (a capture server on "localhost") stays refused, as on a shared cluster.
        ALLOWED_DRUID_ENDPOINTS: "http://127.0.0.1:*",
        METRICS_BIND_ADDRESS: `127.0.0.1:${this.port}`,
        HEALTH_PROBE_BIND_ADDRESS: `127.0.0.1:${this.port}`,
        ...this.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) this.logs.push(line);
      if (this.logs.length > 20_000) this.logs.splice(0, this.logs.length - 20_000);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Sends a signal and waits for the exit code. */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 40_000): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child?.kill("SIGKILL"), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code ?? null;
  }

  async metrics(): Promise<string> {
    const r = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    return r.text();
  }

  /** Parsed JSON log lines. */
  entries(): Array<Record<string, unknown>> {
    return this.logs.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  tail(n = 40): string {
    return this.logs.slice(-n).join("\n");
  }
}

/** Sum of a Prometheus counter's samples whose labels include all of `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    // Label values may contain braces (endpoint="/supervisor/{id}"): match the last "} ".
    const match = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const found = Object.fromEntries([...(match[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) total += Number(match[2]);
  }
  return total;
}
