// A TCP pass-through to Druid that a test can cut and restore, to make Druid unreachable
// from the controller's point of view (connection refused) without stopping the shared stack.
import { createConnection, createServer, type Server, type Socket } from "node:net";

export class DruidProxy {
  readonly url: string;
  private readonly port: number;
  private readonly target: URL;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Added before each new connection is forwarded, to make Druid slow. */
  delayMs = 0;

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
    const server = createServer((client) => this.forward(client));
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.server = server;
  }

  private forward(client: Socket): void {
    const upstream = createConnection({ host: this.target.hostname, port: Number(this.target.port) });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
      s.on("error", () => s.destroy());
    }
    // Each request's bytes are held for delayMs (timers of equal delay fire in order).
    client.on("data", (chunk) => {
      if (this.delayMs <= 0) upstream.write(chunk);
      else setTimeout(() => upstream.destroyed || upstream.write(chunk), this.delayMs);
    });
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((r) => server.close(r));
  }
}
