// Restarting the local stack's kube-apiserver: kill the process named by its pid file, then let
// stack/kube/up.sh start whatever is missing (it is idempotent; etcd keeps the data). Only for
// the repo's own local stack.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface StackControl {
  repoRoot: string;
  /** $DIC_STACK_DIR: where the stack keeps its pid files. */
  stackDir: string;
}

export function apiserverPidFile(stack: StackControl): string {
  return path.join(stack.stackDir, "kube", "kube-apiserver.pid");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function apiserverPid(stack: StackControl): number | undefined {
  const file = apiserverPidFile(stack);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

/** Runs stack/kube/up.sh (starts only what is not running). Rejects with its output on failure. */
export function kubeUp(stack: StackControl, timeoutMs = 240_000): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      "bash",
      [path.join(stack.repoRoot, "stack/kube/up.sh")],
      { env: { ...process.env, DIC_STACK_DIR: stack.stackDir }, timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 },
      (error, stdout, stderr) => (error ? reject(new Error(`stack/kube/up.sh failed: ${error.message}\n${stderr}${stdout}`)) : resolve()),
    );
  });
}

/** SIGKILL kube-apiserver, wait for it to be gone, start it again. Returns how long it was down. */
export async function restartApiserver(stack: StackControl): Promise<{ downMs: number }> {
  const pid = apiserverPid(stack);
  const started = Date.now();
  if (pid !== undefined) {
    process.kill(pid, "SIGKILL");
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
  }
  await kubeUp(stack);
  return { downMs: Date.now() - started };
}
