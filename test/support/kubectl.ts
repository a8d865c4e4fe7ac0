// kubectl for e2e tests: the stack's own build (STACK_KUBECTL in $DIC_STACK_DIR/kube.env,
// kubectl v1.36.3 with kustomize built in), or KUBECTL / `kubectl` on PATH for any other cluster.
// Also writes kubeconfig files for child processes that must run as a given identity.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Kube } from "./kube.ts";
import { REPO_ROOT } from "./stack.ts";

export function kubectlBinary(): string {
  if (process.env["KUBECTL"]) return process.env["KUBECTL"];
  const envFile = path.join(process.env["DIC_STACK_DIR"] ?? path.join(REPO_ROOT, ".stack"), "kube.env");
  if (existsSync(envFile)) {
    const m = /^export STACK_KUBECTL=(.+)$/m.exec(readFileSync(envFile, "utf8"));
    if (m && existsSync(m[1] as string)) return m[1] as string;
  }
  return "kubectl";
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl against `kubeconfig` (never the ambient ~/.kube/config); never throws on a non-zero exit. */
export function kubectl(kubeconfig: string, args: string[], options: { input?: string; cwd?: string } = {}): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      kubectlBinary(),
      ["--kubeconfig", kubeconfig, ...args],
      { cwd: options.cwd ?? REPO_ROOT, env: { PATH: process.env["PATH"] ?? "", HOME: tmpdir() }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") return reject(error);
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like kubectl(), but a non-zero exit is an error that shows kubectl's output. */
export async function kubectlOk(kubeconfig: string, args: string[], options: { input?: string; cwd?: string } = {}): Promise<KubectlResult> {
  const result = await kubectl(kubeconfig, args, options);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result;
}

/** Writes `kube`'s configuration (cluster, user, token) to a private temp file for a child process. */
export function writeKubeconfig(kube: Kube, name = "kubeconfig"): string {
  const dir = mkdtempSync(path.join(tmpdir(), "dic-kubeconfig-"));
  const file = path.join(dir, name);
  writeFileSync(file, kube.kc.exportConfig(), { mode: 0o600 });
  return file;
}
