// A KubeConfig whose calls share their connections. client-node 2.0 gives every request a new
// undici Agent (applySecurityAuthentication builds one per call), so every Kubernetes call, the
// Lease renewals and each watch reopen included, paid a TCP connect, a TLS handshake and a new
// SecureContext (the CA and client key parsed again): at 1,000 resources that was a third of the
// controller's CPU during convergence and most of its garbage (bench/cpu-summary.ts on a
// --cpu-prof run). Here every call goes through one keep-alive Agent per TLS identity (server,
// CA, client certificate and key, verification settings); a rotated certificate (a file
// rewritten, an exec plugin's new pair) makes a new Agent and the old one is closed once its
// requests, watches included, have ended.
//
// The shared Agent speaks HTTP/1.1 (undici would negotiate HTTP/2 and carry every call on one
// connection): a connection that dies silently then stalls only the request on it, never the
// Lease renewal or the watches beside it, as with one connection per call before.
import { createHash } from "node:crypto";
import type { AgentOptions, RequestOptions } from "node:https";
import { KubeConfig, type RequestContext } from "@kubernetes/client-node";
import { Agent } from "undici";

type ConnectOptions = Record<string, unknown>;

export class PooledKubeConfig extends KubeConfig {
  private shared: { identity: string; agent: Agent } | undefined;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    // Headers (bearer token, exec credentials, basic auth) exactly as client-node sets them.
    await super.applySecurityAuthentication(context);
    if (context.getDispatcher() === undefined) return; // plain HTTP or no TLS material: the global dispatcher
    const cluster = this.getCurrentCluster();
    // Through a proxy, client-node's own dispatcher (its proxy agents carry their own TLS settings).
    if (cluster?.proxyUrl) return;
    const options = await this.tlsOptions();
    const built = this.createDispatcherOptions(cluster, options);
    if (built.type !== "agent") return;
    context.setDispatcher(this.agentFor(built.connect as ConnectOptions));
  }

  /** The shared Agents' connections close; calls made afterwards open new ones. */
  async close(): Promise<void> {
    const shared = this.shared;
    this.shared = undefined;
    await shared?.agent.close();
  }

  /** The TLS material client-node would use for this call (re-read each time: files may rotate). */
  private async tlsOptions(): Promise<AgentOptions> {
    const opts: RequestOptions = {};
    await this.applyToHTTPSOptions(opts);
    const tls: AgentOptions = { ca: opts.ca, cert: opts.cert, key: opts.key, pfx: opts.pfx, passphrase: opts.passphrase };
    if (opts.rejectUnauthorized !== undefined) tls.rejectUnauthorized = opts.rejectUnauthorized;
    if (opts.servername !== undefined) tls.servername = opts.servername;
    return tls;
  }

  private agentFor(connect: ConnectOptions): Agent {
    const identity = identityOf(connect);
    if (this.shared?.identity === identity) return this.shared.agent;
    const retired = this.shared?.agent;
    const agent = new Agent({ connect, allowH2: false });
    this.shared = { identity, agent };
    // In-flight calls and open watches finish on the old connections; nothing new goes there.
    void retired?.close().catch(() => undefined);
    return agent;
  }
}

/** A digest of the connection settings: equal settings, one Agent. Key material never leaves it. */
export function identityOf(connect: ConnectOptions): string {
  const hash = createHash("sha256");
  for (const key of Object.keys(connect).sort()) {
    const value = connect[key];
    if (value === undefined) continue;
    hash.update(`${key}\0`);
    const parts = Array.isArray(value) ? value : [value];
    for (const part of parts) hash.update(Buffer.isBuffer(part) || typeof part === "string" ? part : JSON.stringify(part)).update("\0");
    hash.update("\n");
  }
  return hash.digest("hex");
}
