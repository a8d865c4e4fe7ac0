// An HTTP pass-through to Druid on loopback that a test can cut and restore (connection refused,
// without stopping the shared stack), slow down, and ask which requests went through it, so a
// test can say which calls reached which endpoint. Node's http server does the parsing.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** One HTTP request seen on its way to Druid. */
export interface ProxiedRequest {
  method: string;
  /** Path and query, as sent (e.g. `/druid/indexer/v1/supervisor?full`). */
  path: string;
  at: number;
}

export class DruidProxy {
  readonly url: string;
  private readonly port: number;
  private readonly target: URL;
  private server: Server | undefined;
  private readonly log: ProxiedRequest[] = [];
  /** Every request is held this long before it is forwarded, to make Druid slow. */
  delayMs = 0;
  /** Per request, how long to hold it (added to delayMs), e.g. to slow down creates only. */
  hold: ((method: string, path: string) => number) | undefined;

  private constructor(target: string, port: number) {
    this.target = new URL(target);
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(target: string): Promise<DruidProxy> {
    const probe = createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, "127.0.0.1", () => resolve((probe.address() as { port: number }).port)));
    await new Promise((r) => probe.close(r));
    const proxy = new DruidProxy(target, port);
    await proxy.restart();
    return proxy;
  }

  async restart(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => this.forward(req, res));
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.server = server;
  }

  /** The requests forwarded since the start (or the last `resetRequests`), oldest first. */
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

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    this.log.push({ method, path, at: Date.now() });
    const send = (): void => {
      if (res.destroyed) return; // cut while held
      const upstream = request({ host: this.target.hostname, port: Number(this.target.port), method, path, headers: { ...req.headers, host: this.target.host } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    };
    const wait = this.delayMs + (this.hold?.(method, path) ?? 0);
    if (wait > 0) setTimeout(send, wait);
    else send();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}
