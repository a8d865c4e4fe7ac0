// Helm and kustomize for the chart's tests: helm built from stack/helm (its Go module), kubectl
// (with kustomize built in) from stack/kube, both by their cached build scripts, so a clean clone
// needs nothing installed by hand (the first call builds, later calls take milliseconds).
// HELM / KUBECTL in the environment name other binaries.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadAll } from "js-yaml";
import { REPO_ROOT } from "./stack.ts";

export const CHART = path.join(REPO_ROOT, "charts/druid-ingestion-controller");

// YAML documents are checked field by field; `any` keeps the assertions readable.
export type Doc = Record<string, any>;

const built = new Map<string, string>();
function builtBinary(script: string, name: string): string {
  let dir = built.get(script);
  if (dir === undefined) {
    const cached = execFileSync("bash", [path.join(REPO_ROOT, script), "--print"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
    if (!existsSync(path.join(cached, name))) {
      // Said once per test file, before the wait: a cold build takes minutes on a small machine.
      process.stderr.write(`[test] ${name} is not built yet: building it from Go with ${script} (first use on this machine; a few minutes on 2 cores; \`npm run stack:up\` builds it too). Set ${name === "helm" ? "HELM" : "KUBECTL"}=<binary> to use another.\n`);
    }
    dir = execFileSync("bash", [path.join(REPO_ROOT, script)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
    built.set(script, dir);
  }
  return path.join(dir, name);
}

export function helmBinary(): string {
  return process.env["HELM"] ?? builtBinary("stack/helm/build.sh", "helm");
}

export function kustomizeKubectl(): string {
  return process.env["KUBECTL"] ?? builtBinary("stack/kube/build.sh", "kubectl");
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(binary: string, args: string[], env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { cwd: REPO_ROOT, env: { PATH: process.env["PATH"] ?? "", ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(error);
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

/**
 * Runs helm with a private HOME-like state (no ~/.config/helm, no repositories), against
 * `kubeconfig` when given; never throws on a non-zero exit.
 */
export async function helm(args: string[], kubeconfig?: string): Promise<RunResult> {
  const state = mkdtempSync(path.join(tmpdir(), "dic-helm-"));
  try {
    const env: Record<string, string> = {
      HOME: state,
      HELM_CACHE_HOME: path.join(state, "cache"),
      HELM_CONFIG_HOME: path.join(state, "config"),
      HELM_DATA_HOME: path.join(state, "data"),
    };
    return await run(helmBinary(), kubeconfig ? ["--kubeconfig", kubeconfig, ...args] : args, env);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

export async function helmOk(args: string[], kubeconfig?: string): Promise<RunResult> {
  const result = await helm(args, kubeconfig);
  if (result.code !== 0) throw new Error(`helm ${args.join(" ")} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result;
}

export function parseManifests(yaml: string): Doc[] {
  return (loadAll(yaml) as Doc[]).filter((d) => d && typeof d === "object");
}

/** `--set`-style flags from a flat map (lists as {a,b}); values files are not needed for these tests. */
export function setFlags(values: Record<string, string>): string[] {
  return Object.entries(values).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
}

/** The chart's objects for `values`, with the CRD from crds/ (as `helm install` creates it). */
export async function helmTemplate(options: { release?: string; namespace: string; set?: Record<string, string>; setString?: Record<string, string> }): Promise<Doc[]> {
  const args = ["template", options.release ?? "druid-ingestion-controller", CHART, "--namespace", options.namespace, "--include-crds", ...setFlags(options.set ?? {})];
  for (const [k, v] of Object.entries(options.setString ?? {})) args.push("--set-string", `${k}=${v}`);
  return parseManifests((await helmOk(args)).stdout);
}

/** `kubectl kustomize <dir>`: what `kubectl apply -k <dir>` would apply. */
export async function kustomize(dir: string): Promise<Doc[]> {
  const result = await run(kustomizeKubectl(), ["kustomize", dir], { HOME: tmpdir() });
  if (result.code !== 0) throw new Error(`kubectl kustomize ${dir} exited ${result.code}:\n${result.stderr}`);
  return parseManifests(result.stdout);
}
