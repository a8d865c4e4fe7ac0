// The processes and pass-throughs of a run: the Druid fault proxy (one URL for both replicas:
// the URL is recorded in each resource's status), a TCP tunnel to kube-apiserver per replica
// (its own kubeconfig points there), and the two controller replicas with a Lease of the run's.
import { chmodSync, readFileSync, rmSync, writeFileSync, createWriteStream } from "node:fs";
import path from "node:path";
import { dump as dumpYaml, load as loadYaml } from "js-yaml";
import { DruidProxy } from "../druid-proxy.ts";
import type { StackEnv } from "../stack.ts";
import type { Journal } from "./journal.ts";
import { describeDruidBody } from "./observe.ts";
import type { Prng } from "./prng.ts";
import { Replica } from "./replica.ts";
import { socketOwner } from "./socket-owner.ts";
import { TcpTunnel } from "./tcp-tunnel.ts";

export const REPLICA_NAMES = ["chaos-a", "chaos-b"] as const;

/** The controller settings of the chaos replicas (short Lease and periods, so faults bite quickly). */
export const CONTROLLER_SETTINGS = {
  LEADER_ELECT: "true",
  LEADER_ELECTION_NAMESPACE: "default",
  LEASE_DURATION: "4s",
  RENEW_DEADLINE: "3s",
  RETRY_PERIOD: "1s",
  RESYNC_PERIOD: "5s",
  SETTLE_DELAY: "1s",
  RETRY_BACKOFF_BASE: "500ms",
  RETRY_BACKOFF_MAX: "5s",
  DRUID_REQUEST_TIMEOUT: "5s",
  DRUID_RETRIES: "1",
  SHUTDOWN_TIMEOUT: "15s",
  LOG_LEVEL: "info",
} as const;

export const LEASE_MS = 4000;

export interface RigOptions {
  env: StackEnv;
  repoRoot: string;
  runDir: string;
  leaseName: string;
  namespaces: readonly string[];
  journal: Journal;
  /** Fault decisions of the proxy. */
  proxyPrng: Prng;
  /** Respawn delays. */
  respawnPrng: Prng;
}

export interface Rig {
  proxy: DruidProxy;
  tunnels: Map<string, TcpTunnel>;
  replicas: Replica[];
  kubeconfigs: string[];
  stop(): Promise<void>;
}

interface KubeconfigFile {
  clusters?: Array<{ name: string; cluster: { server: string } }>;
  [key: string]: unknown;
}

/** The API server's host and port, from the kubeconfig's first cluster. */
export function apiserverAddress(kubeconfigText: string): { host: string; port: number } {
  const config = loadYaml(kubeconfigText) as KubeconfigFile;
  const server = config.clusters?.[0]?.cluster.server;
  if (!server) throw new Error("the kubeconfig has no cluster server");
  const url = new URL(server);
  return { host: url.hostname, port: Number(url.port || 443) };
}

/** The same kubeconfig with every cluster's server at https://127.0.0.1:<port>. */
export function kubeconfigVia(kubeconfigText: string, port: number): string {
  const config = loadYaml(kubeconfigText) as KubeconfigFile;
  for (const c of config.clusters ?? []) c.cluster.server = `https://127.0.0.1:${port}`;
  return dumpYaml(config);
}

export async function startRig(o: RigOptions): Promise<Rig> {
  const replicas: Replica[] = [];
  const requestLog = createWriteStream(path.join(o.runDir, "druid-requests.jsonl"), { flags: "a" });
  const proxy = await DruidProxy.start(o.env.druidUrl, {
    identify: (socket) => socketOwner(socket, () => replicas.map((r) => ({ name: r.name, pid: r.pid }))),
    describeBody: describeDruidBody,
    onDone: (entry) => requestLog.write(`${JSON.stringify(entry)}\n`),
    random: () => o.proxyPrng.next(),
  });
  const kubeconfigText = readFileSync(o.env.kubeconfig, "utf8");
  const apiserver = apiserverAddress(kubeconfigText);
  if (apiserver.host !== "127.0.0.1" && apiserver.host !== "localhost") {
    // The tunnel's kubeconfig names 127.0.0.1: the server certificate must hold it (the local stack's does).
    o.journal.record("warning", { message: `kube-apiserver is ${apiserver.host}: its certificate may not name 127.0.0.1` });
  }
  const tunnels = new Map<string, TcpTunnel>();
  const kubeconfigs: string[] = [];
  for (const name of REPLICA_NAMES) {
    const tunnel = await TcpTunnel.start(apiserver);
    tunnels.set(name, tunnel);
    const file = path.join(o.runDir, `kubeconfig-${name}`);
    writeFileSync(file, kubeconfigVia(kubeconfigText, tunnel.port), { mode: 0o600 });
    chmodSync(file, 0o600);
    kubeconfigs.push(file);
    const port = await freeLoopbackPort();
    replicas.push(
      new Replica({
        name,
        repoRoot: o.repoRoot,
        logFile: path.join(o.runDir, `${name}.log`),
        journal: o.journal,
        respawnDelayMs: () => o.respawnPrng.int(300, 2000),
        env: {
          PATH: process.env["PATH"] ?? "",
          HOME: process.env["HOME"] ?? "/tmp",
          KUBECONFIG: file,
          DRUID_DEFAULT_URL: proxy.url,
          LEADER_ELECTION_ID: o.leaseName,
          POD_NAME: name,
          WATCH_NAMESPACE: o.namespaces.join(","),
          METRICS_BIND_ADDRESS: `127.0.0.1:${port}`,
          HEALTH_PROBE_BIND_ADDRESS: `127.0.0.1:${port}`,
          ...CONTROLLER_SETTINGS,
        },
      }),
    );
  }
  for (const r of replicas) r.start();
  return {
    proxy,
    tunnels,
    replicas,
    kubeconfigs,
    async stop() {
      await Promise.all(replicas.map((r) => r.shutdown()));
      for (const t of tunnels.values()) await t.stop();
      await proxy.stop();
      await new Promise<void>((resolve) => requestLog.end(resolve));
      for (const file of kubeconfigs) rmSync(file, { force: true });
    },
  };
}

async function freeLoopbackPort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
