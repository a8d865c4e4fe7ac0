// A TCP pass-through on loopback (one per controller replica, in front of kube-apiserver) that
// can black-hole its traffic: connections stay open and new ones are accepted, but no byte moves
// either way until it is restored (no RST, no FIN), so the client's watches and Lease calls hang
// as on a partitioned network. Bytes are never dropped: flow stops by pausing the sockets (the
// kernel buffers fill), and what was held is delivered on restore, so TLS streams stay intact.
import { connect, createServer, type Server, type Socket } from "node:net";

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  /** A side paused because the other side's write buffer is full. */
  waitingDrain: Set<Socket>;
  /** Chunks read during a black-hole (already in Node's buffers when it began), per destination. */
  held: Map<Socket, Buffer[]>;
}

export class TcpTunnel {
  readonly port: number;
  private readonly targetHost: string;
  private readonly targetPort: number;
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  private blackholed = false;

  private constructor(server: Server, port: number, targetHost: string, targetPort: number) {
    this.server = server;
    this.port = port;
    this.targetHost = targetHost;
    this.targetPort = targetPort;
  }

  static async start(target: { host: string; port: number }): Promise<TcpTunnel> {
    let tunnel: TcpTunnel | undefined;
    const server = createServer({ pauseOnConnect: true }, (socket) => tunnel?.accept(socket));
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
    });
    tunnel = new TcpTunnel(server, port, target.host, target.port);
    return tunnel;
  }

  get isBlackholed(): boolean {
    return this.blackholed;
  }

  get connections(): number {
    return this.pairs.size;
  }

  /** From now on no byte moves on any connection, old or new; nothing is closed. */
  blackhole(): void {
    this.blackholed = true;
    for (const pair of this.pairs) {
      pair.client.pause();
      pair.upstream?.pause();
    }
  }

  /** Traffic flows again; connections accepted meanwhile are connected upstream now. */
  restore(): void {
    this.blackholed = false;
    for (const pair of this.pairs) {
      if (!pair.upstream) this.connectUpstream(pair);
      else this.flow(pair);
    }
  }

  private accept(client: Socket): void {
    const pair: Pair = { client, upstream: undefined, waitingDrain: new Set(), held: new Map() };
    this.pairs.add(pair);
    client.on("error", () => this.close(pair));
    client.on("close", () => this.close(pair));
    if (!this.blackholed) this.connectUpstream(pair);
  }

  private connectUpstream(pair: Pair): void {
    const upstream = connect({ host: this.targetHost, port: this.targetPort });
    pair.upstream = upstream;
    upstream.on("error", () => this.close(pair));
    upstream.on("close", () => this.close(pair));
    this.relay(pair, pair.client, upstream);
    this.relay(pair, upstream, pair.client);
    upstream.once("connect", () => this.flow(pair));
  }

  private relay(pair: Pair, from: Socket, to: Socket): void {
    from.on("data", (chunk: Buffer) => {
      if (to.destroyed) return;
      if (this.blackholed) {
        from.pause();
        pair.held.set(to, [...(pair.held.get(to) ?? []), chunk]);
        return;
      }
      if (!to.write(chunk)) {
        pair.waitingDrain.add(from);
        from.pause();
        to.once("drain", () => {
          pair.waitingDrain.delete(from);
          this.flow(pair);
        });
      }
    });
    from.on("end", () => to.end());
  }

  private flow(pair: Pair): void {
    if (this.blackholed || !pair.upstream || pair.upstream.connecting) return;
    for (const [to, chunks] of pair.held) for (const chunk of chunks) to.write(chunk);
    pair.held.clear();
    for (const side of [pair.client, pair.upstream]) if (!pair.waitingDrain.has(side)) side.resume();
  }

  private close(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  }

  async stop(): Promise<void> {
    for (const pair of [...this.pairs]) this.close(pair);
    await new Promise((r) => this.server.close(r));
  }
}
