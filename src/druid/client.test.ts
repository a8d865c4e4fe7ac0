// The Druid client against loopback HTTP(S) servers scripted per test: what is sent (auth,
// content type), what is retried, how failures are classified, and https with a CA bundle.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createDruidDispatcher, DruidClient, type DruidRequestObservation } from "./client.ts";
import { DruidError } from "./errors.ts";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ url: string; close: () => Promise<void>; requests: Array<{ method: string; url: string; auth: string | undefined; type: string | undefined; body: string }> }> {
  const requests: Array<{ method: string; url: string; auth: string | undefined; type: string | undefined; body: string }> = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", auth: req.headers.authorization, type: req.headers["content-type"], body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

type ClientOpts = { password?: string; retries?: number; timeoutMs?: number; ca?: string; observe?: (o: DruidRequestObservation) => void; maxBytes?: number; maxListBytes?: () => number; signal?: AbortSignal; beforeWrite?: (what: string) => void };

function client(url: string, opts: ClientOpts = {}): DruidClient {
  return new DruidClient(
    { baseUrl: url, credentials: opts.password === undefined ? undefined : { username: "admin", password: opts.password } },
    {
      dispatcher: createDruidDispatcher({ connectTimeoutMs: 1000, ...(opts.ca ? { ca: opts.ca } : {}) }),
      requestTimeoutMs: opts.timeoutMs ?? 2000,
      retries: opts.retries ?? 2,
      retryMinTimeoutMs: 5,
      maxResponseBytes: opts.maxBytes ?? 1024 * 1024,
      ...(opts.maxListBytes ? { maxListResponseBytes: opts.maxListBytes } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.beforeWrite ? { beforeWrite: opts.beforeWrite } : {}),
      ...(opts.observe ? { observe: opts.observe } : {}),
    },
  );
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
};

test("sends basic auth and JSON, names the route in metrics, decodes the id", async () => {
  const druid = await serve((_req, _body, res) => json(res, 200, { id: "wiki" }));
  const seen: DruidRequestObservation[] = [];
  try {
    const id = await client(druid.url, { password: "s3cret", observe: (o) => seen.push(o) }).submitSupervisor({ type: "kafka" }, true);
    assert.equal(id, "wiki");
    const [r] = druid.requests;
    assert.equal(r?.method, "POST");
    assert.equal(r?.url, "/druid/indexer/v1/supervisor?skipRestartIfUnmodified=true");
    assert.equal(r?.auth, `Basic ${Buffer.from("admin:s3cret").toString("base64")}`);
    assert.equal(r?.type, "application/json");
    assert.deepEqual(JSON.parse(r?.body ?? ""), { type: "kafka" });
    assert.deepEqual(seen.map((o) => `${o.method} ${o.route} ${o.code}`), ["POST /druid/indexer/v1/supervisor 200"]);
  } finally {
    await druid.close();
  }
});

test("a 503 from a non-leader is retried, then succeeds", async () => {
  let calls = 0;
  const druid = await serve((_req, _body, res) => (++calls < 3 ? res.writeHead(503).end() : json(res, 200, [])));
  try {
    assert.deepEqual(await client(druid.url).listSupervisors(), []);
    assert.equal(calls, 3);
  } finally {
    await druid.close();
  }
});

test("a 400 is not retried and carries Druid's own message (both body shapes)", async () => {
  for (const body of [{ error: "Cannot construct instance of KafkaSupervisorSpec, problem: dataSchema" }, { error: "druidException", errorCode: "invalidInput", errorMessage: "Cannot construct instance of KafkaSupervisorSpec, problem: dataSchema" }]) {
    const druid = await serve((_req, _b, res) => json(res, 400, body));
    try {
      await assert.rejects(client(druid.url).submitSupervisor({}, false), (e: unknown) => e instanceof DruidError && e.reason === "DruidRejected" && !e.transient && /HTTP 400: Cannot construct instance of KafkaSupervisorSpec, problem: dataSchema$/.test(e.message));
      assert.equal(druid.requests.length, 1);
    } finally {
      await druid.close();
    }
  }
});

test("401 says to check the Secret and never echoes the password", async () => {
  const druid = await serve((_req, _b, res) => res.writeHead(401, { "content-type": "text/html" }).end("<html><body><h2>HTTP ERROR 401 User authentication failed.</h2></body></html>"));
  try {
    await assert.rejects(client(druid.url, { password: "hunter2" }).listSupervisors(), (e: unknown) => {
      assert.ok(e instanceof DruidError && e.reason === "DruidUnauthorized");
      assert.match(e.message, /HTTP 401: HTTP ERROR 401 User authentication failed\. \(check the username and password in the auth Secret\)/);
      assert.doesNotMatch(e.message, /hunter2|aHVudGVyMg/);
      return true;
    });
  } finally {
    await druid.close();
  }
});

test("suspend/resume that are already done count as success; terminate and compaction delete report 404 as gone", async () => {
  const druid = await serve((req, _b, res) => {
    if (req.url?.endsWith("/suspend")) return json(res, 400, { error: "[wiki] is already suspended" });
    if (req.url?.endsWith("/resume")) return json(res, 400, { error: "[wiki] is already running" });
    res.writeHead(404, { "content-type": "text/plain" }).end("Cannot find any supervisor with id: [wiki]");
  });
  try {
    const c = client(druid.url);
    await c.suspendSupervisor("wiki");
    await c.resumeSupervisor("wiki");
    assert.equal(await c.terminateSupervisor("wiki"), false);
    assert.equal(await c.getSupervisor("wiki"), undefined);
    assert.equal(await c.deleteCompactionConfig("wiki"), false);
  } finally {
    await druid.close();
  }
});

test("reset is not repeated when the first attempt may have reached Druid", async () => {
  let calls = 0;
  const druid = await serve((_req, _b, res) => {
    calls++;
    res.writeHead(502).end("bad gateway");
  });
  try {
    await assert.rejects(client(druid.url).resetSupervisor("wiki"), (e: unknown) => e instanceof DruidError && e.reason === "DruidUnavailable");
    assert.equal(calls, 1, "a 502 with a body may mean the reset happened behind the proxy");
  } finally {
    await druid.close();
  }
});

test("connection refused is transient and retried; a hung Druid times out", async () => {
  const refused = client("http://127.0.0.1:1", { retries: 1 });
  await assert.rejects(refused.listSupervisors(), (e: unknown) => e instanceof DruidError && e.reason === "DruidUnreachable" && e.transient && e.notSent);
  const hung = await serve(() => {
    /* never answers */
  });
  try {
    await assert.rejects(client(hung.url, { timeoutMs: 200, retries: 0 }).listSupervisors(), (e: unknown) => e instanceof DruidError && e.reason === "DruidTimeout" && e.transient);
  } finally {
    await hung.close();
  }
});

test("a reset is never repeated after any 503 (Druid may have acted behind a proxy); an idempotent call is", async () => {
  let calls = 0;
  const druid = await serve((_req, _b, res) => {
    calls++;
    res.writeHead(503).end();
  });
  try {
    await assert.rejects(client(druid.url).resetSupervisor("wiki"), (e: unknown) => e instanceof DruidError && e.reason === "DruidUnavailable" && !e.notSent);
    assert.equal(calls, 1);
  } finally {
    await druid.close();
  }
});

test("a Druid that trickles its answer is cut at the total deadline (headers and body), not held forever", async () => {
  const trickle = await serve((_req, _b, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write("[");
    const timer = setInterval(() => res.write(" "), 50); // never idle long enough for an idle timeout
    res.on("close", () => clearInterval(timer));
  });
  const seen: DruidRequestObservation[] = [];
  try {
    const started = performance.now();
    await assert.rejects(client(trickle.url, { timeoutMs: 300, retries: 0, observe: (o) => seen.push(o) }).listSupervisors(), (e: unknown) => e instanceof DruidError && e.reason === "DruidTimeout" && /whole body/.test(e.message));
    assert.ok(performance.now() - started < 5_000, "bounded by the deadline");
    assert.deepEqual(seen.map((o) => o.code), ["timeout"]);
  } finally {
    await trickle.close();
  }
});

test("a response over the cap is refused, whether announced or streamed; lists get the larger list cap", async () => {
  const big = "x".repeat(200 * 1024);
  const druid = await serve((req, _b, res) => {
    if (req.url?.includes("chunked")) {
      res.writeHead(200, { "content-type": "application/json" }); // no Content-Length: streamed
      res.write('{"a":"');
      res.write(big);
      res.end('"}');
      return;
    }
    json(res, 200, req.url?.endsWith("?full") ? [] : { spec: big });
  });
  try {
    const small = client(druid.url, { maxBytes: 64 * 1024, retries: 0 });
    await assert.rejects(small.getSupervisor("wiki"), (e: unknown) => e instanceof DruidError && e.reason === "DruidResponseTooLarge" && /DRUID_MAX_RESPONSE_SIZE/.test(e.message));
    await assert.rejects(small.getSupervisor("chunked"), (e: unknown) => e instanceof DruidError && e.reason === "DruidResponseTooLarge");
    assert.deepEqual(await small.listSupervisors(), [], "a small list passes");
    const sized = client(druid.url, { maxBytes: 64 * 1024, maxListBytes: () => 1024 * 1024, retries: 0 });
    await assert.rejects(sized.getSupervisor("wiki"), (e: unknown) => e instanceof DruidError && e.reason === "DruidResponseTooLarge", "the list cap is for lists only");
  } finally {
    await druid.close();
  }
});

test("aborting (lease lost, shutdown) stops a call in flight and its retries", async () => {
  let calls = 0;
  const hung = await serve(() => {
    calls++;
  });
  const aborter = new AbortController();
  try {
    const pending = client(hung.url, { timeoutMs: 10_000, retries: 3, signal: aborter.signal }).submitSupervisor({ type: "kafka" }, true);
    setTimeout(() => aborter.abort(new Error("this replica lost the leader Lease")), 100);
    await assert.rejects(pending, (e: unknown) => e instanceof DruidError && e.reason === "DruidCallAborted" && /leader Lease/.test(e.message));
    assert.equal(calls, 1, "not retried after the abort");
    await assert.rejects(client(hung.url, { signal: aborter.signal }).listSupervisors(), (e: unknown) => e instanceof DruidError && e.reason === "DruidCallAborted" && e.notSent, "nothing new is sent");
    assert.equal(calls, 1);
  } finally {
    await hung.close();
  }
});

test("a write's retry asks the fence again: a replica that lost the Lease meanwhile sends nothing more (still ambiguous)", async () => {
  let calls = 0;
  const druid = await serve((_req, _b, res) => {
    calls++;
    res.writeHead(503).end();
  });
  let holds = true;
  try {
    const c = client(druid.url, {
      retries: 3,
      beforeWrite: () => {
        if (!holds) throw new Error("this replica does not hold the leader Lease");
        holds = false; // the Lease is lost while the first attempt is out
      },
    });
    await assert.rejects(c.submitSupervisor({ type: "kafka" }, true), (e: unknown) => e instanceof DruidError && e.reason === "DruidCallAborted" && !e.notSent && /leader Lease/.test(e.message));
    assert.equal(calls, 1, "the retry was refused before sending");
  } finally {
    await druid.close();
  }
});

// --- https with a private CA -------------------------------------------------------------------

let pki: string;
before(() => {
  pki = mkdtempSync(path.join(tmpdir(), "druid-ca-"));
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: pki, stdio: "ignore" });
  run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test-ca");
  run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  execFileSync("sh", ["-c", "printf 'subjectAltName=IP:127.0.0.1' > san.ext"], { cwd: pki });
  run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.ext");
});
after(() => rmSync(pki, { recursive: true, force: true }));

test("https: trusted with the CA bundle, refused without it", async () => {
  const server = createHttpsServer({ key: readFileSync(path.join(pki, "server.key")), cert: readFileSync(path.join(pki, "server.crt")) }, (_req, res) => json(res, 200, { version: "33.0.0" }));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    assert.equal(await client(url, { ca: readFileSync(path.join(pki, "ca.crt"), "utf8") }).version(), "33.0.0");
    await assert.rejects(client(url, { retries: 0 }).version(), (e: unknown) => e instanceof DruidError && e.reason === "DruidUnreachable" && /certificate/i.test(e.message));
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test("a write cut after Druid received it, then retried against a Druid gone down, is not 'certainly not sent' (chaos seed 7, orphan d320)", async () => {
  // Attempt 1 reaches the server, which acts and drops the connection; the server then goes away,
  // so the retry is refused. The call's outcome is unknown, not "never sent".
  let closed = false;
  const druid = await serve((req, _body, res) => {
    res.socket?.destroy();
    if (!closed) {
      closed = true;
      void druid.close();
    }
  });
  try {
    const error = await client(druid.url, { retries: 2 }).submitSupervisor({ type: "kafka" }, true).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof DruidError, String(error));
    assert.equal(druid.requests.length, 1, "the first attempt reached the server");
    assert.equal(error.reason, "DruidUnreachable");
    assert.equal(error.notSent, false, error.message);
    assert.match(error.message, /an earlier attempt may have reached Druid/);
  } finally {
    await druid.close().catch(() => undefined);
  }
});

test("a call no attempt of which was sent stays 'not sent'", async () => {
  const druid = await serve(() => undefined);
  await druid.close();
  const error = await client(druid.url, { retries: 2 }).submitSupervisor({ type: "kafka" }, true).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof DruidError && error.notSent, String(error));
});
