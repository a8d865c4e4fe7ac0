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
import { MAX_ECHOED_CHARS } from "./error-text.ts";
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

type ClientOpts = { password?: string; retries?: number; timeoutMs?: number; ca?: string; caFile?: string; observe?: (o: DruidRequestObservation) => void; maxBytes?: number; maxListBytes?: () => number; signal?: AbortSignal; beforeWrite?: (what: string) => void; refuseEndpoint?: (url?: string) => string | undefined; beforeConnect?: () => void };

function client(url: string, opts: ClientOpts = {}): DruidClient {
  return new DruidClient(
    { baseUrl: url, credentials: opts.password === undefined ? undefined : { username: "admin", password: opts.password } },
    {
      dispatcher: createDruidDispatcher({ connectTimeoutMs: 1000, ...(opts.ca ? { ca: opts.ca } : {}), ...(opts.beforeConnect ? { beforeConnect: opts.beforeConnect } : {}) }),
      requestTimeoutMs: opts.timeoutMs ?? 2000,
      retries: opts.retries ?? 2,
      retryMinTimeoutMs: 5,
      ...(opts.caFile ? { caFile: opts.caFile } : {}),
      maxResponseBytes: opts.maxBytes ?? 1024 * 1024,
      ...(opts.maxListBytes ? { maxListResponseBytes: opts.maxListBytes } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.beforeWrite ? { beforeWrite: opts.beforeWrite } : {}),
      ...(opts.refuseEndpoint ? { refuseEndpoint: opts.refuseEndpoint } : {}),
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
    assert.deepEqual(await client(druid.url).listSupervisorStates(), []);
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
  // What Druid 33 answers a wrong password: Jetty's HTML page, described rather than quoted.
  const page = "<html><body><h2>HTTP ERROR 401 User authentication failed.</h2></body></html>";
  const druid = await serve((_req, _b, res) => res.writeHead(401, { "content-type": "text/html;charset=iso-8859-1" }).end(page));
  try {
    await assert.rejects(client(druid.url, { password: "hunter2" }).listSupervisorStates(), (e: unknown) => {
      assert.ok(e instanceof DruidError && e.reason === "DruidUnauthorized");
      assert.match(e.message, new RegExp(`HTTP 401 with a ${page.length}-byte text/html reply that is not a Druid error reply \\(check the username and password in the auth Secret\\)$`));
      assert.doesNotMatch(e.message, /hunter2|aHVudGVyMg/);
      return true;
    });
  } finally {
    await druid.close();
  }
});

test("a server that is not Druid: its replies are described, never quoted, whatever the status", async () => {
  const secret = "AKIAFAKE-wJalrXUtnFEMI-hunter3";
  const page = `<html><head><title>Metadata</title></head><body><pre>AccessKeyId: ${secret}</pre></body></html>`;
  const druid = await serve((req, _b, res) => {
    if (req.url === "/status") return res.writeHead(200, { "content-type": "text/html" }).end(page);
    if (req.url?.endsWith("?state=true")) return json(res, 200, { Code: "Success", SecretAccessKey: secret, Token: secret });
    if (req.url?.endsWith("/suspend")) return res.writeHead(400, { "content-type": "text/html" }).end(`<p>is already suspended ${secret}</p>`);
    if (req.url?.includes("/rules/")) return json(res, 400, { message: secret, detail: { password: secret } });
    res.writeHead(502, { "content-type": "text/html" }).end(page);
  });
  const failure = async (call: Promise<unknown>): Promise<DruidError> => {
    try {
      await call;
    } catch (e) {
      assert.ok(e instanceof DruidError);
      assert.ok(!e.message.includes(secret) && !e.message.includes("AKIAFAKE") && !/Metadata|AccessKeyId/.test(e.message), e.message);
      assert.equal(e.druidMessage, undefined);
      return e;
    }
    assert.fail("expected a DruidError");
  };
  try {
    const c = client(druid.url, { retries: 0 });
    const gateway = await failure(c.resetSupervisor("wiki"));
    assert.equal(gateway.message, `POST /druid/indexer/v1/supervisor/wiki/reset: HTTP 502 with a ${page.length}-byte text/html reply that is not a Druid error reply`);
    const otherJson = await failure(c.getRules("wiki"));
    assert.match(otherJson.message, /^GET \/druid\/coordinator\/v1\/rules\/wiki: HTTP 400 with a \d+-byte application\/json reply that is not a Druid error reply$/);
    const html = await failure(c.version());
    assert.equal(html.reason, "DruidBadResponse");
    assert.equal(html.message, `GET /status: unexpected response: a ${page.length}-byte text/html reply that is not JSON`);
    const shape = await failure(c.listSupervisorStates());
    assert.equal(shape.reason, "DruidBadResponse");
    assert.equal(shape.message, "GET /druid/indexer/v1/supervisor?state=true: unexpected response: supervisor list: expected a JSON array, got an object with keys Code, SecretAccessKey, Token");
    const notAlready = await failure(c.suspendSupervisor("wiki"));
    assert.equal(notAlready.reason, "DruidRejected", "only Druid's own reply says the supervisor is already suspended");
  } finally {
    await druid.close();
  }
});

test("Druid's own error text is echoed bounded, one line, without the request's credentials", async () => {
  const long = `${"spec problem; ".repeat(60)}the end`;
  const druid = await serve((req, _b, res) => {
    if (req.url?.includes("/task/")) return json(res, 200, { task: "t", status: { id: "t", statusCode: "FAILED", errorMsg: "as admin:hunter2 via Authorization: Basic YWRtaW46aHVudGVyMg==" } });
    if (req.url?.endsWith("/reset")) return json(res, 500, { error: "druidException", errorCode: "internal", errorMessage: long });
    json(res, 400, { error: "druidException", errorCode: "invalidInput", errorMessage: "auth failed for admin with password hunter2 at <b>http://admin:hunter2@druid:8088</b>\nnext line" });
  });
  try {
    const c = client(druid.url, { password: "hunter2", retries: 0 });
    await assert.rejects(c.submitSupervisor({}, false), (e: unknown) => {
      assert.ok(e instanceof DruidError);
      assert.equal(e.message, "POST /druid/indexer/v1/supervisor: HTTP 400: auth failed for [redacted] with password [redacted] at http://***@druid:8088 next line");
      assert.equal(e.druidMessage, "auth failed for [redacted] with password [redacted] at http://***@druid:8088 next line");
      return true;
    });
    await assert.rejects(c.resetSupervisor("wiki"), (e: unknown) => {
      assert.ok(e instanceof DruidError && e.druidMessage !== undefined);
      assert.equal(Array.from(e.druidMessage).length, MAX_ECHOED_CHARS);
      assert.match(e.druidMessage, /^spec problem; .*….* the end$/);
      return true;
    });
    const task = await c.taskStatus("t");
    assert.equal(task?.errorMsg, "as [redacted] via Authorization: [redacted]");
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

test("resetOffsets posts the partition map once (never repeated once it may have reached Druid); Druid's refusal is its own words", async () => {
  const metadata = { type: "kafka", partitions: { type: "end", stream: "orders", partitionSequenceNumberMap: { "0": 20 } } };
  let answer = 200;
  const druid = await serve((_req, _b, res) => (answer === 200 ? json(res, 200, { id: "orders" }) : answer === 400 ? json(res, 400, { error: "druidException", errorCode: "invalidInput", errorMessage: "Stream[other] doesn't exist in the supervisor[orders]. Supervisor is consuming stream[orders]." }) : res.writeHead(answer).end()));
  try {
    await client(druid.url).resetOffsets("orders", metadata);
    assert.deepEqual(druid.requests.map((r) => [r.method, r.url, JSON.parse(r.body)]), [["POST", "/druid/indexer/v1/supervisor/orders/resetOffsets", metadata]]);
    answer = 503;
    await assert.rejects(client(druid.url).resetOffsets("orders", metadata), (e: unknown) => e instanceof DruidError && e.reason === "DruidUnavailable" && !e.notSent);
    assert.equal(druid.requests.length, 2, "a 503 may mean Druid acted: not repeated");
    answer = 400;
    await assert.rejects(client(druid.url).resetOffsets("orders", metadata), (e: unknown) => e instanceof DruidError && !e.transient && /consuming stream\[orders\]/.test(e.message));
  } finally {
    await druid.close();
  }
});

test("resetToLatestAndBackfill (Druid 38) passes backfillTaskCount and gives the backfill supervisor's id; a 2xx without it is still done (never sent again)", async () => {
  let body: unknown = { id: "orders", backfillSupervisorId: "orders_backfill_abc" };
  const druid = await serve((_req, _b, res) => json(res, 200, body));
  try {
    assert.equal(await client(druid.url).resetToLatestAndBackfill("orders", 2), "orders_backfill_abc");
    assert.equal(await client(druid.url).resetToLatestAndBackfill("orders", undefined), "orders_backfill_abc");
    assert.deepEqual(druid.requests.map((r) => [r.method, r.url]), [
      ["POST", "/druid/indexer/v1/supervisor/orders/resetToLatestAndBackfill?backfillTaskCount=2"],
      ["POST", "/druid/indexer/v1/supervisor/orders/resetToLatestAndBackfill"],
    ]);
    body = { id: "orders" };
    assert.equal(await client(druid.url).resetToLatestAndBackfill("orders", undefined), undefined);
  } finally {
    await druid.close();
  }
});

test("connection refused is transient and retried; a hung Druid times out", async () => {
  const refused = client("http://127.0.0.1:1", { retries: 1 });
  await assert.rejects(refused.listSupervisorStates(), (e: unknown) => e instanceof DruidError && e.reason === "DruidUnreachable" && e.transient && e.notSent);
  const hung = await serve(() => {
    /* never answers */
  });
  try {
    await assert.rejects(client(hung.url, { timeoutMs: 200, retries: 0 }).listSupervisorStates(), (e: unknown) => e instanceof DruidError && e.reason === "DruidTimeout" && e.transient);
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
    await assert.rejects(client(trickle.url, { timeoutMs: 300, retries: 0, observe: (o) => seen.push(o) }).listSupervisorStates(), (e: unknown) => e instanceof DruidError && e.reason === "DruidTimeout" && /whole body/.test(e.message));
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
    json(res, 200, req.url?.endsWith("?state=true") ? [] : { spec: big });
  });
  try {
    const small = client(druid.url, { maxBytes: 64 * 1024, retries: 0 });
    await assert.rejects(small.getSupervisor("wiki"), (e: unknown) => e instanceof DruidError && e.reason === "DruidResponseTooLarge" && /DRUID_MAX_RESPONSE_SIZE/.test(e.message));
    await assert.rejects(small.getSupervisor("chunked"), (e: unknown) => e instanceof DruidError && e.reason === "DruidResponseTooLarge");
    assert.deepEqual(await small.listSupervisorStates(), [], "a small list passes");
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
    await assert.rejects(client(hung.url, { signal: aborter.signal }).listSupervisorStates(), (e: unknown) => e instanceof DruidError && e.reason === "DruidCallAborted" && e.notSent, "nothing new is sent");
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
  run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out", "other-ca.crt", "-days", "2", "-subj", "/CN=another-ca");
});
after(() => rmSync(pki, { recursive: true, force: true }));

/** An https Druid double (certificate for IP 127.0.0.1 signed by ca.crt) counting connections and requests. */
async function serveHttps(): Promise<{ port: number; connections: () => number; requests: () => number; close: () => Promise<void> }> {
  let connections = 0;
  let requests = 0;
  const server = createHttpsServer({ key: readFileSync(path.join(pki, "server.key")), cert: readFileSync(path.join(pki, "server.crt")) }, (_req, res) => {
    requests++;
    json(res, 200, { version: "33.0.0" });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, connections: () => connections, requests: () => requests, close: () => new Promise((r) => server.close(() => r())) };
}

test("https: trusted with the CA bundle, refused without it", async () => {
  const druid = await serveHttps();
  const url = `https://127.0.0.1:${druid.port}`;
  try {
    assert.equal(await client(url, { ca: readFileSync(path.join(pki, "ca.crt"), "utf8") }).version(), "33.0.0");
    await assert.rejects(client(url, { retries: 0 }).version(), (e: unknown) => e instanceof DruidError && e.reason === "DruidTLSFailed" && /certificate/i.test(e.message));
  } finally {
    await druid.close();
  }
});

test("https with a CA that did not sign Druid's certificate: DruidTLSFailed naming the URL, the code and DRUID_CA_FILE; nothing sent, not retried", async () => {
  const druid = await serveHttps();
  const url = `https://127.0.0.1:${druid.port}`;
  const caFile = path.join(pki, "other-ca.crt");
  try {
    const wrong = client(url, { password: "s3cret-pw", ca: readFileSync(caFile, "utf8"), caFile });
    for (const call of [() => wrong.version(), () => wrong.submitSupervisor({ type: "kafka" }, true)]) {
      await assert.rejects(call(), (e: unknown) => {
        assert.ok(e instanceof DruidError);
        assert.equal(e.reason, "DruidTLSFailed");
        assert.equal(e.notSent, true);
        assert.equal(e.transient, false);
        assert.match(e.message, new RegExp(`TLS with ${url.replace(/[.]/g, "\\.")} failed \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate\\)`));
        assert.ok(e.message.includes(`not signed by a CA in DRUID_CA_FILE=${caFile}`), e.message);
        assert.match(e.message, /set DRUID_CA_FILE to a PEM bundle holding the CA that signed it, and restart the controller/);
        assert.doesNotMatch(e.message, /--use-system-ca|s3cret-pw/);
        return true;
      });
    }
    // Two calls, one connection each: no retry of a handshake that cannot succeed, no request.
    assert.equal(druid.connections(), 2);
    assert.equal(druid.requests(), 0);
    await assert.rejects(client(url, { retries: 0 }).version(), (e: DruidError) => e.reason === "DruidTLSFailed" && e.message.includes("the system's root CAs (DRUID_CA_FILE is not set)"));
  } finally {
    await druid.close();
  }
});

test("https: a certificate for another name, and an https URL on a plain http port, say so", async () => {
  const druid = await serveHttps();
  const plain = await serve((_req, _body, res) => json(res, 200, { version: "33.0.0" }));
  const ca = readFileSync(path.join(pki, "ca.crt"), "utf8");
  try {
    await assert.rejects(client(`https://localhost:${druid.port}`, { ca, retries: 0 }).version(), (e: DruidError) =>
      e.reason === "DruidTLSFailed" && e.message.includes(`TLS with https://localhost:${druid.port} failed (ERR_TLS_CERT_ALTNAME_INVALID`) && e.message.includes("Druid's certificate does not name localhost"));
    const https = plain.url.replace("http:", "https:");
    await assert.rejects(client(https, { ca, retries: 0 }).version(), (e: DruidError) =>
      e.reason === "DruidTLSFailed" && e.message.includes(`TLS with ${https} failed (ERR_SSL_WRONG_VERSION_NUMBER: wrong version number)`) && /must lead to Druid's TLS port/.test(e.message));
    assert.equal(druid.requests() + plain.requests.length, 0);
  } finally {
    await druid.close();
    await plain.close();
  }
});

test("an endpoint that is not allowed gets no request at all", async () => {
  const druid = await serve((_req, _body, res) => json(res, 200, { id: "wiki" }));
  try {
    const refused = client(druid.url, { password: "s3cret", refuseEndpoint: () => "not on the list" });
    await assert.rejects(refused.submitSupervisor({ type: "kafka" }, true), (e: DruidError) => e.reason === "EndpointNotAllowed" && e.notSent && /not on the list/.test(e.message));
    await assert.rejects(refused.version(), (e: DruidError) => e.reason === "EndpointNotAllowed");
    assert.equal(druid.requests.length, 0);
  } finally {
    await druid.close();
  }
});

test("a non-leader Overlord's redirect: followed to an allowed origin without credentials, refused to any other before anything is sent", async () => {
  const leader = await serve((_req, _body, res) => json(res, 200, { id: "wiki" }));
  const follower = await serve((req, _body, res) => res.writeHead(307, { location: `${leader.url}${req.url}` }).end());
  const sameOrigin = await serve((req, _body, res) => (req.url?.startsWith("/moved") ? json(res, 200, { id: "wiki" }) : res.writeHead(307, { location: `/moved${req.url}` }).end()));
  try {
    const asked: Array<string | undefined> = [];
    const allowing = client(follower.url, { password: "s3cret", refuseEndpoint: (url) => void asked.push(url) });
    assert.equal(await allowing.submitSupervisor({ type: "kafka" }, true), "wiki");
    assert.deepEqual(asked, [undefined, leader.url], "the base URL, then the redirect's origin");
    assert.equal(leader.requests.length, 1);
    assert.equal(leader.requests[0]?.method, "POST", "307 keeps the method");
    assert.equal(leader.requests[0]?.body, follower.requests[0]?.body, "and the body");
    assert.equal(leader.requests[0]?.auth, undefined, "no credentials to another origin");

    const refusing = client(follower.url, { password: "s3cret", refuseEndpoint: (url) => (url === undefined ? undefined : `${url} is not allowed`) });
    await assert.rejects(refusing.submitSupervisor({ type: "kafka" }, true), (e: DruidError) => e.reason === "EndpointNotAllowed" && /redirected \(HTTP 307\) to http:\/\/127\.0\.0\.1:\d+, not followed/.test(e.message));
    assert.equal(leader.requests.length, 1, "nothing more reached the other origin");

    // Not a leader redirect (the path changes): not followed, wherever it leads.
    await assert.rejects(client(sameOrigin.url, { password: "s3cret", refuseEndpoint: () => undefined }).submitSupervisor({ type: "kafka" }, true), (e: DruidError) => e.reason === "DruidBadResponse" && /to another path; not followed/.test(e.message));
    assert.equal(sameOrigin.requests.length, 1);
  } finally {
    await Promise.all([leader.close(), follower.close(), sameOrigin.close()]);
  }
});

test("a spec's secret values are cleaned out of Druid's error text before it is reshaped (joined lines, the middle cut)", async () => {
  const value = 'PlainLoginModule required\n  username="fred" password="Tr0ub4dor  &3xyz";';
  const echo = `${"x".repeat(180)} Cannot construct consumer with sasl.jaas.config value ${value} ${"y".repeat(150)}`;
  const druid = await serve((_req, _body, res) => json(res, 400, { error: "druidException", errorCode: "invalidInput", errorMessage: echo }));
  try {
    const error = await client(druid.url, { password: "s3cret" }).submitSupervisor({ type: "kafka" }, true, [value]).then(() => undefined, (e: DruidError) => e);
    assert.ok(error instanceof DruidError && error.reason === "DruidRejected");
    assert.doesNotMatch(`${error.message} ${error.druidMessage}`, /Tr0ub|4dor|fred/);
  } finally {
    await druid.close();
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
    assert.equal(error.earlierAttemptMayHaveActed, true);
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

test("a connection that comes up after this replica lost the Lease carries nothing (chaos seed 7: paused while connecting, resumed after the takeover)", async () => {
  const druid = await serve((_req, _body, res) => json(res, 200, { id: "wiki" }));
  let leader = true;
  const fenced = client(druid.url, { password: "pw", beforeConnect: () => { if (!leader) throw new Error("this replica does not hold the leader Lease"); } });
  try {
    leader = false; // the write was decided while leading; the socket connects after the step-down
    const error = await fenced.submitSupervisor({ type: "kafka" }, true).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof DruidError && error.reason === "DruidCallAborted" && error.notSent, String(error));
    assert.match(error.message, /does not hold the leader Lease/);
    assert.equal(druid.requests.length, 0, "no byte of the request reached Druid");
    leader = true;
    assert.equal(await fenced.submitSupervisor({ type: "kafka" }, true), "wiki");
  } finally {
    await druid.close();
  }
});

test("a supervisor's recent errors are cleaned of the login and of the spec's secret values, every field bounded; 404 is no supervisor (#12)", async () => {
  const druid = await serve((req, _b, res) => {
    if (req.url?.includes("/gone/")) return json(res, 404, { error: "[gone] does not exist" });
    json(res, 200, {
      id: "s",
      payload: {
        state: "UNHEALTHY_SUPERVISOR",
        detailedState: "UNABLE_TO_CONNECT_TO_STREAM",
        healthy: false,
        suspended: false,
        recentErrors: [
          { timestamp: "2026-01-01T00:00:00Z", exceptionClass: "E", message: 'SASL as admin:hunter2 with jaas password="kafka-secret-1" failed', streamException: true },
          // Whatever answers at the URL may write any text in any field.
          { timestamp: "\u001b[31m not a time", exceptionClass: `\u001b[31mpassword=hunter2 ${"A".repeat(200_000)}`, message: "m" },
        ],
      },
    });
  });
  try {
    const c = client(druid.url, { password: "hunter2", retries: 0 });
    const health = await c.supervisorHealth("s", ["kafka-secret-1"]);
    assert.equal(health?.recentErrors.length, 2);
    assert.doesNotMatch(JSON.stringify(health), /hunter2|kafka-secret-1|\\u001b/);
    assert.match(health?.recentErrors.find((e) => e.exceptionClass === "E")?.message ?? "", /SASL as \[redacted\]/);
    const odd = health?.recentErrors.find((e) => e.message === "m");
    assert.equal(odd?.timestamp, undefined, "a timestamp that is not one is left out");
    assert.ok(Array.from(odd?.exceptionClass ?? "").length <= MAX_ECHOED_CHARS, "the class is bounded like the message");
    assert.equal(druid.requests.at(-1)?.url, "/druid/indexer/v1/supervisor/s/status");
    assert.equal(await c.supervisorHealth("gone"), undefined);
  } finally {
    await druid.close();
  }
});

test("compaction configs go to the store Druid acts on: the Overlord's when compaction supervisors are on (Druid 37), the Coordinator's otherwise or when the Overlord does not know the path (#12)", async () => {
  for (const [enabled, base] of [
    ["true", "/druid/indexer/v1/compaction/config/datasources"],
    ["false", "/druid/coordinator/v1/config/compaction"],
    [404, "/druid/coordinator/v1/config/compaction"],
  ] as const) {
    const druid = await serve((req, _body, res) => {
      if (req.url === "/druid/indexer/v1/compaction/isSupervisorEnabled") return typeof enabled === "number" ? res.writeHead(404).end() : json(res, 200, enabled === "true");
      if (req.method === "GET" && req.url === base) return json(res, 200, { compactionConfigs: [{ dataSource: "wiki", skipOffsetFromLatest: "PT1H" }] });
      if (req.method === "GET") return json(res, 200, { dataSource: "wiki" });
      return json(res, 200, { success: true });
    });
    try {
      const c = client(druid.url);
      assert.deepEqual([...(await c.listCompactionConfigs()).keys()], ["wiki"]);
      await c.getCompactionConfig("wiki");
      await c.submitCompactionConfig({ dataSource: "wiki", skipOffsetFromLatest: "PT1H" });
      await c.deleteCompactionConfig("wiki");
      const calls = druid.requests.map((r) => `${r.method} ${r.url}`);
      assert.deepEqual(calls, [
        "GET /druid/indexer/v1/compaction/isSupervisorEnabled",
        `GET ${base}`,
        `GET ${base}/wiki`,
        `POST ${base === "/druid/coordinator/v1/config/compaction" ? base : `${base}/wiki`}`,
        `DELETE ${base}/wiki`,
      ], `isSupervisorEnabled=${enabled}: asked once, then every call to one store`);
    } finally {
      await druid.close();
    }
  }
});
