// An HTTP pass-through to Druid on loopback that a test or the chaos command can cut and restore
// (connection refused, without stopping the shared stack), slow down, make fail on purpose, and
// ask which requests went through it and what Druid answered. Node's http server does the parsing.
// Fault modes (all switchable at runtime through `faults`):
//   latency      each request held a random time in a range before it is forwarded;
//   errorBefore  a 5xx answered by the proxy itself: Druid never saw the request;
//   errorAfter   Druid acted and answered, the client is told 502/504 instead;
//   cutAfter     Druid acted and answered, the client's connection is destroyed instead;
//   outage       `stop()` / `restart()`: connections refused.
// Every request is logged with whether it reached Druid (`forwarded`) and Druid's status code, so
// a caller can tell what Druid really did from what the client was told.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export type InjectedFault = "latency" | "errorBefore" | "errorAfter" | "cutAfter";

/** One HTTP request seen on its way to Druid. */
export interface ProxiedRequest {
  method: string;
  /** Path and query, as sent (e.g. `/druid/indexer/v1/supervisor?full`). */
  path: string;
  at: number;
  /** Who sent it, when the proxy was given a way to tell (`identify`). */
  client?: string | undefined;
  /** What the request is about, when the proxy was given a way to tell from its body (`describeBody`). */
  subject?: string | undefined;
  /** The request reached Druid. */
  forwarded: boolean;
  /** Druid's status code, once it answered. */
  druidStatus?: number;
  /** What the client got: a status code, "cut" (connection destroyed) or "gone" (the client left first). */
  answered?: number | "cut" | "gone";
  /** The request could not be sent on or Druid's answer was lost (Druid itself unreachable). */
  error?: string;
  /** The fault injected into this request, if any (latency is noted with the other one). */
  fault?: InjectedFault;
  delayMs?: number;
  /** Milliseconds from arrival to the end of the exchange. */
  ms?: number;
}

export interface ProxyFaults {
  /** Every request is held a random time in [minMs, maxMs] before it is forwarded. */
  latency?: { minMs: number; maxMs: number } | undefined;
  /** With this probability a request is answered with one of `statuses` without reaching Druid. */
  errorBefore?: { probability: number; statuses: number[] } | undefined;
  /** With this probability Druid's answer is replaced by one of `statuses` (502, 504). */
  errorAfter?: { probability: number; statuses: number[] } | undefined;
  /** With this probability the client's connection is destroyed once Druid answered. */
  cutAfter?: { probability: number } | undefined;
}

export interface DruidProxyOptions {
  /** The port to listen on (default: a free one). */
  port?: number;
  /** Names the sender of a request from its connection (e.g. which process owns the peer socket). */
  identify?: (socket: Socket) => string | undefined;
  /** Names what a request is about from its method, path and body (bodies are read only when given). */
  describeBody?: (method: string, path: string, body: string) => string | undefined;
  /** Called once per request when its exchange is over. */
  onDone?: (entry: ProxiedRequest) => void;
  /** Source of randomness for fault decisions (default Math.random). */
  random?: () => number;
  /** Keep at most this many entries in memory (default: all). */
  maxEntries?: number;
}

export class DruidProxy {
  readonly url: string;
  readonly port: number;
  private readonly target: URL;
  private readonly options: DruidProxyOptions;
  private server: Server | undefined;
  private readonly log: ProxiedRequest[] = [];
  private readonly clientOf = new WeakMap<Socket, string | undefined>();
  /** Every request is held this long before it is forwarded, to make Druid slow. */
  delayMs = 0;
  /** Per request, how long to hold it (added to delayMs), e.g. to slow down creates only. */
  hold: ((method: string, path: string) => number) | undefined;
  /** Faults injected from now on (replace or mutate at any time). */
  faults: ProxyFaults = {};

  private constructor(target: string, port: number, options: DruidProxyOptions) {
    this.target = new URL(target);
    this.port = port;
    this.options = options;
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(target: string, options: DruidProxyOptions = {}): Promise<DruidProxy> {
    let port = options.port;
    if (port === undefined) {
      const probe = createServer();
      port = await new Promise<number>((resolve) => probe.listen(0, "127.0.0.1", () => resolve((probe.address() as { port: number }).port)));
      await new Promise((r) => probe.close(r));
    }
    const proxy = new DruidProxy(target, port, options);
    await proxy.restart();
    return proxy;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Listens again after `stop()` (the end of an outage). */
  async restart(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => this.handle(req, res));
    if (this.options.identify) {
      const identify = this.options.identify;
      server.on("connection", (socket: Socket) => this.clientOf.set(socket, identify(socket)));
    }
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
  }

  /** The requests seen since the start (or the last `resetRequests`), oldest first. */
  requests(filter?: { method?: string; path?: RegExp | string }): ProxiedRequest[] {
    return this.log.filter((r) => {
      if (filter?.method && r.method !== filter.method) return false;
      if (filter?.path instanceof RegExp) return filter.path.test(r.path);
      if (typeof filter?.path === "string") return r.path.includes(filter.path);
      return true;
    });
  }

  /** "METHOD path" per request, for assertion messages. */
  describeRequests(): string {
    return this.log.map((r) => `${r.method} ${r.path}`).join("\n");
  }

  resetRequests(): void {
    this.log.length = 0;
  }

  private random(): number {
    return (this.options.random ?? Math.random)();
  }

  private pick(statuses: readonly number[]): number {
    return statuses[Math.floor(this.random() * statuses.length)] ?? 500;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const entry: ProxiedRequest = { method: req.method ?? "GET", path: req.url ?? "/", at: Date.now(), forwarded: false };
    if (this.options.identify) entry.client = this.clientOf.get(req.socket);
    this.log.push(entry);
    const max = this.options.maxEntries;
    if (max !== undefined && this.log.length > max) this.log.splice(0, this.log.length - max);
    let finished = false;
    const finish = (answered: ProxiedRequest["answered"]): void => {
      if (finished) return;
      finished = true;
      entry.answered = answered;
      entry.ms = Date.now() - entry.at;
      this.options.onDone?.(entry);
    };
    res.on("close", () => finish(res.writableFinished ? res.statusCode : "gone"));

    // Fault decisions are drawn when the request arrives, in a fixed order (reproducible per seed).
    const faults = this.faults;
    const latency = faults.latency ? faults.latency.minMs + this.random() * Math.max(0, faults.latency.maxMs - faults.latency.minMs) : 0;
    const before = faults.errorBefore && this.random() < faults.errorBefore.probability ? this.pick(faults.errorBefore.statuses) : undefined;
    const after = faults.errorAfter && this.random() < faults.errorAfter.probability ? this.pick(faults.errorAfter.statuses) : undefined;
    const cut = faults.cutAfter !== undefined && this.random() < faults.cutAfter.probability;
    const wait = this.delayMs + (this.hold?.(entry.method, entry.path) ?? 0) + Math.round(latency);
    if (latency > 0) {
      entry.fault = "latency";
      entry.delayMs = Math.round(latency);
    }

    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (this.options.describeBody) entry.subject = this.options.describeBody(entry.method, entry.path, body.toString("utf8"));
      const go = (): void => {
        if (res.destroyed || req.socket.destroyed) return finish("gone"); // the client left while held: never forwarded
        if (before !== undefined) {
          entry.fault = "errorBefore";
          res.writeHead(before, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: `injected by the proxy: HTTP ${before} (not forwarded to Druid)` }));
          return;
        }
        this.forward(entry, req, res, body, { after, cut, finish });
      };
      if (wait > 0) setTimeout(go, wait);
      else go();
    });
  }

  private forward(
    entry: ProxiedRequest,
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    { after, cut, finish }: { after: number | undefined; cut: boolean; finish: (answered: ProxiedRequest["answered"]) => void },
  ): void {
    const headers = { ...req.headers, host: this.target.host };
    delete headers["transfer-encoding"];
    headers["content-length"] = String(body.length);
    entry.forwarded = true;
    const upstream = request({ host: this.target.hostname, port: Number(this.target.port), method: entry.method, path: entry.path, headers }, (answer) => {
      entry.druidStatus = answer.statusCode ?? 0;
      if (after === undefined && !cut) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      // Druid acted: read its whole answer, then lie about it.
      answer.resume();
      answer.on("end", () => {
        if (cut) {
          entry.fault = "cutAfter";
          finish("cut");
          res.destroy();
          return;
        }
        entry.fault = "errorAfter";
        res.writeHead(after as number, { "content-type": "text/html" });
        res.end(`<html><body>injected by the proxy: HTTP ${after} after Druid answered ${answer.statusCode}</body></html>`);
      });
    });
    upstream.on("error", (error) => {
      entry.error = error.message;
      finish("cut");
      res.destroy();
    });
    upstream.end(body);
  }

  /** Stops listening and drops every open connection: new connections are refused. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}
