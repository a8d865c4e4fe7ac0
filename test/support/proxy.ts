// A TCP pass-through to Druid that a test can cut and restore, to make Druid unreachable
// from the controller's point of view (connection refused) without stopping the shared stack.
import { createConnection, createServer, type Server, type Socket } from "node:net";

export class DruidProxy {
  readonly url: string;
  private readonly port: number;
  private readonly target: URL;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

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
    const server = createServer((client) => {
      const upstream = createConnection({ host: this.target.hostname, port: Number(this.target.port) });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((r) => server.close(r));
  }
}
