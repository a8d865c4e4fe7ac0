// A KubeConfig whose calls share their connections. client-node 2.0 gives every request a new
// undici Agent (applySecurityAuthentication builds one per call), so every Kubernetes call and
// each watch reopen paid a TCP connect, a TLS handshake and a new SecureContext (the CA and
// client key parsed again): at 1,000 resources that was a third of the controller's CPU during
// convergence, and the sockets and contexts waiting to be collected were a third of its memory
// (bench/cpu-summary.ts on a --cpu-prof run; docs/BENCHMARKS.md). Here calls go through one
// keep-alive Agent per TLS identity (server, CA, client certificate and key, verification).
//
// What a shared pool changes, and how it is bounded:
// - HTTP/1.1, not HTTP/2 (which undici would negotiate, carrying every call on one connection):
//   a connection that dies silently holds only the call on it, not every call at once.
// - A call whose response headers do not come within HEADERS_TIMEOUT_MS fails and its socket is
//   destroyed (a watch's headers come at once; its body is bounded by LongWatch). Before, a dead
//   path failed at the handshake of the call's own connection (10 s connect timeout).
// - Connections are retired after CLIENT_TTL_MS, so they are spread again over API servers
//   behind a Service (HTTP/1.1 has no GOAWAY to do it).
// - The Lease is not renewed through this pool (see main.ts): a renewal never waits behind a
//   stale socket.
// - A rotated certificate (a file rewritten, an exec plugin's new pair) gets its own Agent; an
//   Agent no call has been given for RETIRE_AFTER_MS is closed once its calls, watches
//   included, have ended. Calls that read the old and the new material around a rotation each
//   find their Agent open.
import { createHash } from "node:crypto";
import type { AgentOptions, RequestOptions } from "node:https";
import { KubeConfig, type RequestContext } from "@kubernetes/client-node";
import { Agent } from "undici";

export const HEADERS_TIMEOUT_MS = 30_000;
export const CLIENT_TTL_MS = 10 * 60_000;
export const RETIRE_AFTER_MS = 5 * 60_000;

type ConnectOptions = Record<string, unknown>;

export interface PoolOptions {
  headersTimeoutMs?: number;
  clientTtlMs?: number;
  retireAfterMs?: number;
}

export class PooledKubeConfig extends KubeConfig {
  private readonly agents = new Map<string, { agent: Agent; handedOutAt: number }>();
  private readonly pool: Required<PoolOptions>;

  constructor(options: PoolOptions = {}) {
    super();
    this.pool = { headersTimeoutMs: HEADERS_TIMEOUT_MS, clientTtlMs: CLIENT_TTL_MS, retireAfterMs: RETIRE_AFTER_MS, ...options };
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    const cluster = this.getCurrentCluster();
    // Through a proxy, client-node's own dispatcher (its proxy agents carry their own TLS settings).
    if (cluster?.proxyUrl) return super.applySecurityAuthentication(context);
    // One pass over the credentials (token file, exec plugin, OIDC, client certificate files),
    // as client-node's applySecurityAuthentication makes, without the Agent it builds per call.
    const opts: RequestOptions = {};
    await this.applyToHTTPSOptions(opts);
    const user = this.getCurrentUser();
    if (user?.username) context.setHeaderParam("Authorization", `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}`);
    for (const [key, value] of Object.entries(opts.headers ?? {})) context.setHeaderParam(key, `${value}`);
    const tls: AgentOptions = { ca: opts.ca, cert: opts.cert, key: opts.key, pfx: opts.pfx, passphrase: opts.passphrase };
    if (opts.rejectUnauthorized !== undefined) tls.rejectUnauthorized = opts.rejectUnauthorized;
    if (opts.servername !== undefined) tls.servername = opts.servername;
    const built = this.createDispatcherOptions(cluster, tls);
    if (built.type === "agent") context.setDispatcher(this.agentFor(built.connect as ConnectOptions));
  }

  /** Closes every Agent now (calls in flight fail): for tests and tools that are done with it. */
  async destroy(): Promise<void> {
    const all = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(all.map(({ agent }) => agent.destroy()));
  }

  private agentFor(connect: ConnectOptions): Agent {
    const identity = identityOf(connect);
    const now = performance.now();
    let entry = this.agents.get(identity);
    if (!entry) {
      entry = { agent: new Agent({ connect, allowH2: false, headersTimeout: this.pool.headersTimeoutMs, clientTtl: this.pool.clientTtlMs }), handedOutAt: now };
      this.agents.set(identity, entry);
    }
    entry.handedOutAt = now;
    for (const [other, { agent, handedOutAt }] of this.agents) {
      if (other === identity || now - handedOutAt < this.pool.retireAfterMs) continue;
      this.agents.delete(other);
      void agent.close().catch(() => undefined);
    }
    return entry.agent;
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
