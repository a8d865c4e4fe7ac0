// Where the e2e tests and the tools (quickstart, bench, chaos) find Kubernetes and Druid: from
// the environment when given (any cluster and Druid: KUBECONFIG, DRUID_URL, DRUID_USER,
// DRUID_PASSWORD; DRUID_HTTPS_URL and DRUID_CA_FILE for the https tests), else the local real stack started by stack/up.sh, whose env files live in
// $DIC_STACK_DIR (default .stack/).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const STACK_DIR = process.env["DIC_STACK_DIR"] ?? path.join(REPO_ROOT, ".stack");

export interface StackEnv {
  kubeconfig: string;
  druidUrl: string;
  druidUser: string;
  druidPassword: string;
  /** Set when a Kafka broker is available to supervisors. */
  kafkaBootstrap: string | undefined;
  /** The same Druid over https (the local stack's Router: stack/druid/tls.sh), and the PEM CA that signed its certificate. */
  druidHttpsUrl: string | undefined;
  druidCaFile: string | undefined;
  /** True when the stack is this repo's local one (tests may stop and start its processes). */
  local: boolean;
}

function readEnvFile(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  if (!existsSync(file)) return values;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) values[m[1] as string] = (m[2] as string).replace(/^["']|["']$/g, "");
  }
  return values;
}

function localStackEnv(): Record<string, string> {
  return { ...readEnvFile(path.join(STACK_DIR, "kube.env")), ...readEnvFile(path.join(STACK_DIR, "druid.env")) };
}

/** Starts the local stack unless the environment names a cluster and a Druid (idempotent). */
export function ensureStack(): void {
  if (process.env["KUBECONFIG"] && process.env["DRUID_URL"]) return;
  execFileSync("bash", [path.join(REPO_ROOT, "stack/up.sh")], { stdio: ["ignore", "inherit", "inherit"] });
}

export function stackEnv(): StackEnv {
  const external = process.env["KUBECONFIG"] && process.env["DRUID_URL"];
  const source: Record<string, string | undefined> = external ? process.env : localStackEnv();
  const kubeconfig = source["KUBECONFIG"];
  const druidUrl = source["DRUID_URL"];
  if (!kubeconfig || !druidUrl) {
    throw new Error("no stack: set KUBECONFIG and DRUID_URL (and DRUID_USER/DRUID_PASSWORD), or run `npm run stack:up` first");
  }
  return {
    kubeconfig,
    druidUrl: druidUrl.replace(/\/+$/, ""),
    druidUser: source["DRUID_USER"] ?? "admin",
    druidPassword: source["DRUID_PASSWORD"] ?? "",
    kafkaBootstrap: source["KAFKA_BOOTSTRAP"] || undefined,
    druidHttpsUrl: source["DRUID_HTTPS_URL"]?.replace(/\/+$/, "") || undefined,
    druidCaFile: source["DRUID_CA_FILE"] || undefined,
    local: !external,
  };
}
