// The chaos command's network pieces on loopback, against a tiny HTTP/TCP server standing for
// Druid and kube-apiserver: the fault proxy's modes and log, the tunnel's black-hole, and the
// /proc lookup that tells which process owns a connection.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createServer as createHttpServer, type Server } from "node:http";
import { connect, createServer as createTcpServer, type Socket } from "node:net";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { DruidProxy } from "../../tools/druid-proxy.ts";
import { clientSocketInode, parseProcNetTcp, socketOwner } from "../../tools/chaos/socket-owner.ts";
import { TcpTunnel } from "../../tools/chaos/tcp-tunnel.ts";

const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

/** A stand-in for Druid that counts what it received. */
async function fakeDruid(): Promise<{ url: string; received: string[] }> {
  const received: string[] = [];
  const server: Server = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push(`${req.method} ${req.url} ${body}`);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "x" }));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  closers.push(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, received };
}

async function post(url: string, path: string, body: string): Promise<number | "error"> {
  try {
    const r = await fetch(`${url}${path}`, { method: "POST", body, headers: { "content-type": "application/json" } });
    await r.text();
    return r.status;
  } catch {
    return "error";
  }
}

test("the proxy forwards and logs who, what, whether Druid saw it and what it answered", async () => {
  const druid = await fakeDruid();
  const proxy = await DruidProxy.start(druid.url, { describeBody: (_m, _p, body) => (JSON.parse(body) as { id: string }).id, identify: () => "me" });
  closers.push(() => proxy.stop());
  assert.equal(await post(proxy.url, "/druid/indexer/v1/supervisor", '{"id":"ds1"}'), 200);
  const [entry] = proxy.requests();
  assert.equal(entry?.forwarded, true);
  assert.equal(entry?.druidStatus, 200);
  assert.equal(entry?.answered, 200);
  assert.equal(entry?.client, "me");
  assert.equal(entry?.subject, "ds1");
  assert.deepEqual(druid.received, ['POST /druid/indexer/v1/supervisor {"id":"ds1"}']);
});

test("5xx before forwarding: Druid never sees it; 502 after: Druid acted, the client is told it failed; cut after: no answer at all", async () => {
  const druid = await fakeDruid();
  const proxy = await DruidProxy.start(druid.url);
  closers.push(() => proxy.stop());

  proxy.faults = { errorBefore: { probability: 1, statuses: [503] } };
  assert.equal(await post(proxy.url, "/a", "{}"), 503);
  assert.equal(druid.received.length, 0);
  assert.deepEqual([proxy.requests()[0]?.forwarded, proxy.requests()[0]?.fault], [false, "errorBefore"]);

  proxy.faults = { errorAfter: { probability: 1, statuses: [502] } };
  assert.equal(await post(proxy.url, "/b", "{}"), 502);
  assert.equal(druid.received.length, 1);
  const b = proxy.requests()[1];
  assert.deepEqual([b?.forwarded, b?.druidStatus, b?.answered, b?.fault], [true, 200, 502, "errorAfter"]);

  proxy.faults = { cutAfter: { probability: 1 } };
  assert.equal(await post(proxy.url, "/c", "{}"), "error");
  assert.equal(druid.received.length, 2);
  const c = proxy.requests()[2];
  assert.deepEqual([c?.forwarded, c?.druidStatus, c?.answered, c?.fault], [true, 200, "cut", "cutAfter"]);

  proxy.faults = { latency: { minMs: 150, maxMs: 150 } };
  const started = Date.now();
  assert.equal(await post(proxy.url, "/d", "{}"), 200);
  assert.ok(Date.now() - started >= 140);
  assert.equal(proxy.requests()[3]?.delayMs, 150);

  proxy.faults = {};
  await proxy.stop();
  assert.equal(await post(proxy.url, "/e", "{}"), "error", "outage: connection refused");
  await proxy.restart();
  assert.equal(await post(proxy.url, "/f", "{}"), 200, "listens again on the same URL");
});

test("fault decisions follow the given random source", async () => {
  const druid = await fakeDruid();
  const draws = [0.1, 0.9];
  const proxy = await DruidProxy.start(druid.url, { random: () => draws.shift() ?? 0.5 });
  closers.push(() => proxy.stop());
  proxy.faults = { errorBefore: { probability: 0.5, statuses: [500] } };
  // first request: 0.1 < 0.5 → injected (status pick draws 0.9 → the only status)
  assert.equal(await post(proxy.url, "/x", "{}"), 500);
  // second request: 0.5 is not < 0.5 → forwarded
  assert.equal(await post(proxy.url, "/y", "{}"), 200);
});

/** An echo server standing for kube-apiserver. */
async function echoServer(): Promise<{ port: number }> {
  const server = createTcpServer((s) => s.pipe(s));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  closers.push(() => new Promise((r) => server.close(r)));
  return { port: (server.address() as { port: number }).port };
}

async function roundTrip(socket: Socket, text: string, timeoutMs: number): Promise<string | undefined> {
  socket.write(text);
  const got = once(socket, "data").then(([b]) => (b as Buffer).toString());
  return Promise.race([got, sleep(timeoutMs).then(() => undefined)]);
}

test("the tunnel passes bytes; black-holed, it holds them (no close, no reset) and delivers them on restore", async () => {
  const echo = await echoServer();
  const tunnel = await TcpTunnel.start({ host: "127.0.0.1", port: echo.port });
  closers.push(() => tunnel.stop());
  const old = connect({ host: "127.0.0.1", port: tunnel.port });
  await once(old, "connect");
  assert.equal(await roundTrip(old, "one", 1000), "one");

  tunnel.blackhole();
  let closed = false;
  old.on("close", () => (closed = true));
  assert.equal(await roundTrip(old, "two", 300), undefined, "an open connection freezes");
  const fresh = connect({ host: "127.0.0.1", port: tunnel.port });
  await once(fresh, "connect");
  assert.equal(await roundTrip(fresh, "three", 300), undefined, "a new connection is accepted but goes nowhere");
  assert.equal(closed, false);

  const late = once(old, "data").then(([b]) => (b as Buffer).toString());
  const lateFresh = once(fresh, "data").then(([b]) => (b as Buffer).toString());
  tunnel.restore();
  assert.equal(await late, "two", "held bytes are delivered, in order");
  assert.equal(await lateFresh, "three");
  old.destroy();
  fresh.destroy();
});

test("/proc/net/tcp rows give the client socket's inode; the owner is found among candidate pids", async () => {
  const table = [
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0",
    "   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 20 4 30 10 -1",
  ].join("\n");
  const rows = parseProcNetTcp(table);
  assert.deepEqual(rows.map((r) => [r.localPort, r.remotePort, r.inode]), [[8080, 0, 1111], [50000, 8080, 2222]]);
  assert.equal(clientSocketInode(rows, 50000, 8080), 2222);
  assert.equal(clientSocketInode(rows, 50001, 8080), undefined);

  // Live: a connection from this very process is owned by this pid.
  const server = createTcpServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  closers.push(() => new Promise((r) => server.close(r)));
  const accepted = once(server, "connection");
  const client = connect({ host: "127.0.0.1", port: (server.address() as { port: number }).port });
  const [socket] = (await accepted) as [Socket];
  assert.equal(socketOwner(socket, () => [{ name: "other", pid: 1 }, { name: "self", pid: process.pid }]), "self");
  client.destroy();
  socket.destroy();
});
