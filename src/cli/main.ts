// druid-ingestion: check, preview and compare DruidIngestion resources with the controller's own
// code (the kubectl plugin `kubectl druid-ingestion` is the same program). Reads only.
//   validate FILE...   schema + CEL rules + the controller's render checks, offline
//   render FILE        the exact JSON the controller would POST, with its hash
//   diff FILE          what the controller would change in Druid, and whether tasks restart
//   status             the resources of a namespace with Druid's view side by side
// Exit codes: 0 fine / nothing to change; 1 invalid manifest, or (diff) Druid would be changed;
// 2 usage error, unreadable input, Druid or Kubernetes unreachable, or the controller would refuse.
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setClusterDomain } from "../druid/endpoint.ts";
import { homedir } from "node:os";
import path from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { DruidIngestion } from "../api/druid-ingestion.ts";
import { jsonEqual } from "../controller/canonical-json.ts";
import { desiredOf } from "../controller/desired.ts";
import { desiredId } from "../controller/render.ts";
import { Cluster, CliError, druidClients, resolveTarget, type DruidOptions } from "./access.ts";
import { checkIngestion, type Checked } from "./check.ts";
import { diffIngestion, hasChanges } from "./diff.ts";
import { isDruidIngestion, loadDocuments } from "./documents.ts";
import { formatCheck, formatDiff, formatRendered, formatStatus } from "./format.ts";
import { statusRows } from "./status.ts";
import { renderedRequests } from "./submission.ts";

export const USAGE = `druid-ingestion: check, preview and compare DruidIngestion resources (also: kubectl druid-ingestion)

Commands:
  validate FILE...   check manifests offline: the CRD schema with its CEL rules and the controller's own
                     render checks (FILE may be a directory or - for stdin)
  render FILE        the exact JSON the controller would POST to Druid, with its hash
  diff FILE          what the controller would change in Druid for FILE, and whether running tasks restart
  status             DruidIngestions with their status and Druid's view side by side

Options:
  -o, --output text|json     output format (default text)
  -n, --namespace NS         namespace of manifests without one, and of status (default: the kubeconfig's, else default)
  -A, --all-namespaces       status: every namespace
      --name NAME            render/diff: the DruidIngestion of that name when FILE holds several
      --kubeconfig FILE      kubeconfig (default: KUBECONFIG, else ~/.kube/config)
      --context NAME         kubeconfig context
      --no-cluster           diff: ask Druid only (--druid-url), not the cluster
      --druid-url URL        reach Druid here (e.g. a kubectl port-forward); without a cluster, the endpoint itself
      --druid-default-url URL  the controller's DRUID_DEFAULT_URL, for resources that name no Druid
      --druid-ca-file FILE   PEM CA bundle for https Druid (default: DRUID_CA_FILE, else the system roots)
      --allowed-druid-endpoints LIST  the controller's ALLOWED_DRUID_ENDPOINTS (default: that variable): a
                             spec.druidEndpoint outside it gets no request and no credential, as from the controller
      --allow-cross-namespace-secrets  the controller's ALLOW_CROSS_NAMESPACE_SECRETS (default: that variable, else false)

The controller's ROUTER_DISCOVERY and CLUSTER_DOMAIN are read from the environment too.
  -h, --help

Druid credentials: the Secret the resource names (read with your kubeconfig), or DRUID_USER and
DRUID_PASSWORD from the environment (never a flag). Nothing is written to Druid or Kubernetes.

Exit codes: 0 valid / nothing to change; 1 invalid manifest, or diff found changes;
2 usage error, unreadable input, Druid or Kubernetes unreachable, or the controller would refuse.`;

const OPTIONS = {
  output: { type: "string", short: "o", default: "text" },
  namespace: { type: "string", short: "n" },
  "all-namespaces": { type: "boolean", short: "A", default: false },
  name: { type: "string" },
  kubeconfig: { type: "string" },
  context: { type: "string" },
  "no-cluster": { type: "boolean", default: false },
  "druid-url": { type: "string" },
  "druid-default-url": { type: "string" },
  "druid-ca-file": { type: "string" },
  "allowed-druid-endpoints": { type: "string" },
  "allow-cross-namespace-secrets": { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} satisfies ParseArgsConfig["options"];

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  stdin: () => string;
  env: NodeJS.ProcessEnv;
}

class UsageError extends Error {}

type Values = ReturnType<typeof parse>["values"];

function parse(args: string[]) {
  return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
}

function druidOptions(values: Values, env: NodeJS.ProcessEnv): DruidOptions {
  const user = env["DRUID_USER"];
  const password = env["DRUID_PASSWORD"];
  if ((user === undefined) !== (password === undefined)) throw new UsageError("set both DRUID_USER and DRUID_PASSWORD, or neither");
  return {
    url: values["druid-url"],
    defaultUrl: values["druid-default-url"] ?? env["DRUID_DEFAULT_URL"],
    credentials: user !== undefined && password !== undefined ? { username: user, password } : undefined,
    caFile: values["druid-ca-file"] ?? env["DRUID_CA_FILE"],
    allowedEndpoints: values["allowed-druid-endpoints"] ?? env["ALLOWED_DRUID_ENDPOINTS"],
    allowCrossNamespaceSecrets: values["allow-cross-namespace-secrets"] || env["ALLOW_CROSS_NAMESPACE_SECRETS"] === "true",
    routerDiscovery: env["ROUTER_DISCOVERY"] !== "false",
  };
}

/** The cluster of --kubeconfig, KUBECONFIG or ~/.kube/config; none when nothing names one and it is not required. */
function clusterOf(values: Values, env: NodeJS.ProcessEnv, required: boolean): Cluster | undefined {
  const configured = Boolean(values.kubeconfig || env["KUBECONFIG"]) || existsSync(path.join(homedir(), ".kube", "config"));
  if (!configured && !required) return undefined;
  return Cluster.load(values.kubeconfig, values.context);
}

/** The one DruidIngestion render and diff work on. */
function single(checked: Checked[], name: string | undefined, file: string): Checked {
  const candidates = name === undefined ? checked : checked.filter((c) => (c.ok ? c.ingestion.metadata.name : c.name.split("/")[1]) === name);
  if (candidates.length === 1) return candidates[0] as Checked;
  const names = checked.map((c) => (c.ok ? c.ingestion.metadata.name : c.name.split("/")[1])).join(", ");
  if (candidates.length === 0) throw new UsageError(name === undefined ? `${file} holds no DruidIngestion` : `${file} holds no DruidIngestion named ${name} (it has: ${names || "none"})`);
  throw new UsageError(`${file} holds ${candidates.length} DruidIngestions (${names}): pick one with --name`);
}

function checkedIngestions(files: string[], namespace: string, io: Io): { checked: Array<{ source: string; result: Checked }>; unreadable: number } {
  const loaded = loadDocuments(files, io.stdin);
  for (const p of loaded.problems) io.err(`${p.source}: ${p.message}\n`);
  const checked = loaded.documents.filter((d) => isDruidIngestion(d.object)).map((d) => ({ source: d.source, result: checkIngestion(d.object, namespace) }));
  return { checked, unreadable: loaded.problems.length };
}

export async function run(argv: string[], io: Io): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv));
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === "help") {
    if (command === undefined && !values.help) {
      io.err(`${USAGE}\n`);
      return 2;
    }
    io.out(`${USAGE}\n`);
    return 0;
  }
  const output = values.output;
  if (output !== "text" && output !== "json") {
    io.err(`--output must be text or json, not ${output}\n`);
    return 2;
  }
  const json = output === "json";
  if (io.env["CLUSTER_DOMAIN"]) setClusterDomain(io.env["CLUSTER_DOMAIN"]);
  const print = (text: string, value: unknown): void => io.out(json ? `${JSON.stringify(value, null, 2)}\n` : text);
  try {
    switch (command) {
      case "validate": {
        if (rest.length === 0) throw new UsageError("validate needs at least one FILE (or - for stdin)");
        const { checked, unreadable } = checkedIngestions(rest, values.namespace ?? "default", io);
        if (checked.length === 0 && unreadable === 0) io.err(`no DruidIngestion found in ${rest.join(" ")}\n`);
        print(checked.map((c) => formatCheck(c.source, c.result)).join(""), checked.map((c) => ({ source: c.source, valid: c.result.ok, ...(c.result.ok ? { resource: `${c.result.ingestion.metadata.namespace}/${c.result.ingestion.metadata.name}`, kind: c.result.desired.kind, id: desiredId(c.result.desired), specHash: c.result.desired.specHash } : { resource: c.result.name, reason: c.result.reason, problems: c.result.problems }) })));
        if (unreadable > 0) return 2;
        return checked.length > 0 && checked.every((c) => c.result.ok) ? 0 : 1;
      }
      case "render": {
        if (rest.length !== 1) throw new UsageError("render takes one FILE (or -)");
        const { checked, unreadable } = checkedIngestions(rest, values.namespace ?? "default", io);
        if (unreadable > 0) return 2;
        const one = single(checked.map((c) => c.result), values.name, rest[0] as string);
        if (!one.ok) {
          io.err(formatCheck(rest[0] as string, one));
          return 1;
        }
        const rendered = renderedRequests(one.ingestion, one.desired);
        print(formatRendered(rendered), rendered);
        return 0;
      }
      case "diff": {
        if (rest.length !== 1) throw new UsageError("diff takes one FILE (or -)");
        const options = druidOptions(values, io.env);
        const cluster = values["no-cluster"] ? undefined : clusterOf(values, io.env, !options.url);
        const namespace = values.namespace ?? cluster?.defaultNamespace() ?? "default";
        const { checked, unreadable } = checkedIngestions(rest, namespace, io);
        if (unreadable > 0) return 2;
        const one = single(checked.map((c) => c.result), values.name, rest[0] as string);
        if (!one.ok) {
          io.err(formatCheck(rest[0] as string, one));
          return 1;
        }
        // In the cluster, the resource's own metadata and status decide (ownership, the spec last
        // applied, a held-back spec); the manifest's spec is what would be applied.
        let ingestion: DruidIngestion = one.ingestion;
        let assumeOwned = true;
        if (cluster) {
          const live = await cluster.getIngestion(ingestion.metadata.namespace, ingestion.metadata.name);
          if (live) {
            const generation = (live.metadata.generation ?? 1) + (jsonEqual(live.spec, ingestion.spec) ? 0 : 1);
            const { status: _none, ...fromFile } = ingestion;
            ingestion = { ...fromFile, metadata: { ...live.metadata, generation }, ...(live.status ? { status: live.status } : {}) };
          }
          assumeOwned = false;
        }
        const wanted = desiredOf(ingestion);
        if (!wanted.ok) throw new CliError(`${wanted.failure.reason}: ${wanted.failure.message}`);
        const target = await resolveTarget(ingestion, cluster, options);
        if (!target.ok) {
          print(`${ingestion.metadata.namespace}/${ingestion.metadata.name}: the controller would not reach Druid: ${target.failure.reason}: ${target.failure.message}\n`, { resource: `${ingestion.metadata.namespace}/${ingestion.metadata.name}`, refused: target.failure });
          return 2;
        }
        const clients = druidClients(options);
        const client = clients(target.value.dialUrl, target.value.credentials);
        const report = await diffIngestion({ ingestion, desired: wanted.desired, target: target.value, client, cluster, assumeOwned, clients });
        if (wanted.heldBack) report.notes.push(`spec rolled back (generation ${wanted.heldBack.generation}): the last known good spec is what would be applied; change the spec, or set rollback.enabled: false, to apply it anyway`);
        print(formatDiff(report), report);
        return report.refused ? 2 : hasChanges(report) ? 1 : 0;
      }
      case "status": {
        if (rest.length > 0) throw new UsageError("status takes no FILE");
        const options = druidOptions(values, io.env);
        const cluster = clusterOf(values, io.env, true) as Cluster;
        const namespace = values["all-namespaces"] ? undefined : values.namespace ?? cluster.defaultNamespace();
        const rows = await statusRows(cluster, namespace, options);
        print(formatStatus(rows, namespace), rows);
        return rows.some((r) => r.druid?.error !== undefined) ? 2 : 0;
      }
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\nrun with --help for usage\n`);
      return 2;
    }
    if (error instanceof CliError) {
      io.err(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/** The process's entry (bin/druid-ingestion.js): the exit code for `argv`. */
export function main(argv: string[]): Promise<number> {
  return run(argv, {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    stdin: () => readFileSync(0, "utf8"),
    env: process.env,
  }).catch((error: unknown) => {
    process.stderr.write(`druid-ingestion: ${(error as Error).stack ?? String(error)}\n`);
    return 2;
  });
}

// Run as a script (node src/cli/main.ts); the launcher calls main() itself.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
