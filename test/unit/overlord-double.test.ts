// The Overlord double alone, on 127.0.0.1: its traffic counts, its latency knob, 10,000
// supervisors, the Druid 34 `id` rule, the command line, and Jetty's error pages byte for byte. Whether it answers as Druid does is
// the contract suite's business (test/e2e/overlord-contract.test.ts).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { OverlordDouble, type OverlordDoubleOptions } from "../../tools/overlord-double.ts";
import { renderJettyError } from "../../tools/overlord-double/jetty-errors.ts";

const SUPERVISOR = "/druid/indexer/v1/supervisor";
const credentials = { username: "u", password: "p" };
const authorization = `Basic ${Buffer.from("u:p").toString("base64")}`;

const doubles: OverlordDouble[] = [];
after(async () => {
  for (const d of doubles) await d.stop();
});

async function start(options: OverlordDoubleOptions = {}): Promise<OverlordDouble> {
  const d = await OverlordDouble.start({ credentials, ...options });
  doubles.push(d);
  return d;
}

async function call(d: OverlordDouble, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }> {
  const headers: Record<string, string> = { authorization };
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await request(`${d.url}${path}`, { method: method as "GET", headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await r.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.statusCode, text, json };
}

function kafka(dataSource: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: "kafka", spec: { dataSchema: { dataSource }, ioConfig: { topic: dataSource } }, suspended: true, ...extra };
}

test("counts requests and bytes by method and route template, list variants apart, refusals included; resetStats starts over", async () => {
  const d = await start();
  await call(d, "POST", SUPERVISOR, kafka("a"));
  await call(d, "GET", `${SUPERVISOR}?full`);
  await call(d, "GET", `${SUPERVISOR}?full=true`);
  await call(d, "GET", `${SUPERVISOR}?state=true`);
  await call(d, "GET", SUPERVISOR);
  await call(d, "GET", `${SUPERVISOR}/a`);
  await call(d, "GET", `${SUPERVISOR}/nope`);
  await call(d, "POST", `${SUPERVISOR}/a/suspend`);
  await request(`${d.url}/status`).then((r) => r.body.dump());
  const stats = d.stats();
  assert.deepEqual(Object.keys(stats), [
    "GET /druid/indexer/v1/supervisor",
    "GET /druid/indexer/v1/supervisor/{id}",
    "GET /druid/indexer/v1/supervisor?full",
    "GET /druid/indexer/v1/supervisor?state=true",
    "GET /status",
    "POST /druid/indexer/v1/supervisor",
    "POST /druid/indexer/v1/supervisor/{id}/suspend",
  ]);
  assert.equal(stats["GET /druid/indexer/v1/supervisor?full"]?.requests, 2);
  assert.deepEqual(stats["GET /druid/indexer/v1/supervisor/{id}"]?.statuses, { "200": 1, "404": 1 });
  assert.deepEqual(stats["POST /druid/indexer/v1/supervisor/{id}/suspend"]?.statuses, { "400": 1 });
  assert.deepEqual(stats["GET /status"]?.statuses, { "401": 1 });
  const post = stats["POST /druid/indexer/v1/supervisor"];
  assert.equal(post?.requestBytes, JSON.stringify(kafka("a")).length);
  assert.equal(post?.responseBytes, JSON.stringify({ id: "a" }).length);
  d.resetStats();
  assert.deepEqual(d.stats(), {});
});

test("10,000 supervisors: every list answers all of them, single reads and writes stay quick", async () => {
  const d = await start();
  const count = 10_000;
  const started = performance.now();
  for (let i = 0; i < count; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => call(d, "POST", SUPERVISOR, kafka(`ds-${i + j}`))));
  }
  assert.equal(d.supervisorCount, count);
  const full = await call(d, "GET", `${SUPERVISOR}?full`);
  assert.equal((full.json as unknown[]).length, count);
  assert.equal(((await call(d, "GET", `${SUPERVISOR}?state=true`)).json as unknown[]).length, count);
  assert.equal(((await call(d, "GET", SUPERVISOR)).json as unknown[]).length, count);
  const reads = performance.now();
  for (let i = 0; i < 300; i++) {
    const id = `ds-${(i * 7919) % count}`;
    assert.equal((await call(d, "GET", `${SUPERVISOR}/${id}/status`)).status, 200);
    assert.equal((await call(d, "POST", `${SUPERVISOR}/${id}/resume`)).status, 200);
    assert.equal((await call(d, "POST", `${SUPERVISOR}/${id}/suspend`)).status, 200);
  }
  const perCallMs = (performance.now() - reads) / 900;
  // Loopback round trips take well under a millisecond; a per-item scan of 10,000 would not.
  assert.ok(perCallMs < 5, `${perCallMs.toFixed(2)} ms per single read or write`);
  assert.ok(performance.now() - started < 60_000);
});

test("latency knob: reads and writes wait their own delay, settable while running", async () => {
  const d = await start({ latencyMs: { write: 80 } });
  let t = performance.now();
  await call(d, "POST", SUPERVISOR, kafka("slow"));
  assert.ok(performance.now() - t >= 75, "the write waited");
  t = performance.now();
  await call(d, "GET", SUPERVISOR);
  assert.ok(performance.now() - t < 75, "reads did not");
  d.setLatency({ read: 80, write: 0 });
  t = performance.now();
  await call(d, "GET", SUPERVISOR);
  assert.ok(performance.now() - t >= 75, "now reads wait");
});

test("the supervisor id: the datasource on Druid 33 whatever the body says; the body's top-level id from 34", async () => {
  const d33 = await start();
  assert.deepEqual((await call(d33, "POST", SUPERVISOR, kafka("ds", { id: "custom" }))).json, { id: "ds" });
  const d34 = await start({ druidVersion: "34.0.0" });
  assert.deepEqual((await call(d34, "POST", SUPERVISOR, kafka("ds", { id: "custom" }))).json, { id: "custom" });
  assert.deepEqual((await call(d34, "POST", SUPERVISOR, kafka("ds"))).json, { id: "ds" });
  assert.deepEqual(((await call(d34, "GET", "/status")).json as { version: string }).version, "34.0.0");
});

test("as a command: prints its URL, serves with basic auth, stops on SIGTERM", async () => {
  const script = fileURLToPath(new URL("../../tools/overlord-double.ts", import.meta.url));
  const child = spawn(process.execPath, [script, "--port", "0", "--user", "u", "--password", "p"], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
    assert.match(line, /^http:\/\/127\.0\.0\.1:\d+$/);
    const ok = await request(`${line}/status`, { headers: { authorization } });
    assert.equal(ok.statusCode, 200);
    assert.equal(((await ok.body.json()) as { version: string }).version, "33.0.0");
    const refused = await request(`${line}/status`);
    assert.equal(refused.statusCode, 401);
    await refused.body.dump();
  } finally {
    child.kill("SIGTERM");
  }
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 0);
});

test("Jetty's 401 page for wrong credentials, byte for byte as the stack's Druid 33 wrote it, in the format the Accept header asks for", () => {
  const error = { status: 401, message: "User authentication failed.", url: "/druid/indexer/v1/supervisor" };
  assert.deepEqual(renderJettyError(error, "application/json"), {
    contentType: "application/json",
    body: '{\n"servlet":"default",\n"message":"User authentication failed.",\n"url":"/druid/indexer/v1/supervisor",\n"status":"401"\n}',
  });
  assert.deepEqual(renderJettyError(error, "text/plain"), {
    contentType: "text/plain;charset=iso-8859-1",
    body: "HTTP ERROR 401 User authentication failed.\nURI: /druid/indexer/v1/supervisor\nSTATUS: 401\nMESSAGE: User authentication failed.\nSERVLET: default\n",
  });
  const html =
    '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>\n<title>Error 401 User authentication failed.</title>\n</head>\n' +
    "<body><h2>HTTP ERROR 401 User authentication failed.</h2>\n<table>\n<tr><th>URI:</th><td>/druid/indexer/v1/supervisor</td></tr>\n<tr><th>STATUS:</th><td>401</td></tr>\n" +
    "<tr><th>MESSAGE:</th><td>User authentication failed.</td></tr>\n<tr><th>SERVLET:</th><td>default</td></tr>\n</table>\n\n</body>\n</html>\n";
  for (const accept of ["*/*", undefined, "text/html,application/json"]) {
    assert.deepEqual(renderJettyError(error, accept), { contentType: "text/html;charset=iso-8859-1", body: html }, String(accept));
  }
  assert.equal(Buffer.byteLength(html), 444, "the Content-Length Druid sent");
});

test("Jetty's 500 page for a body Jackson could not parse: its causes in HashMap order, values escaped as XML", () => {
  const cause = "com.fasterxml.jackson.core.JsonParseException: Unexpected character ('n' (code 110))";
  const page = renderJettyError({ status: 500, message: `javax.servlet.ServletException: ${cause}`, url: "/druid/indexer/v1/supervisor", causes: [`javax.servlet.ServletException: ${cause}`, cause] }, "application/json");
  const body = JSON.parse(page.body) as Record<string, string>;
  assert.deepEqual(Object.keys(body), ["cause1", "servlet", "cause0", "message", "url", "status"]);
  assert.equal(body["cause1"], "com.fasterxml.jackson.core.JsonParseException: Unexpected character (&apos;n&apos; (code 110))");
  assert.equal(body["status"], "500");
});
