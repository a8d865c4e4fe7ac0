import { strict as assert } from "node:assert";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { isBodyTimeout, LongWatch, longestWatchMs } from "./long-watch.ts";

/** A loopback "API server" whose watch endpoint the test scripts. */
async function server(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ kc: KubeConfig; close: () => Promise<void> }> {
  const srv = createServer(handle);
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as AddressInfo;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "u" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return {
    kc,
    close: () =>
      new Promise((resolve) => {
        srv.close(() => resolve());
        srv.closeAllConnections();
      }),
  };
}

function watchOnce(watch: LongWatch, onLine: (phase: string) => void = () => {}): Promise<unknown> {
  return new Promise((resolve) => void watch.watch("/api/v1/configmaps", { resourceVersion: "5" }, (phase) => onLine(phase), resolve));
}

test("asks for bookmarks and a server-side timeout of min to 2·min seconds, spread", async () => {
  const seen: URLSearchParams[] = [];
  const { kc, close } = await server((req, res) => {
    seen.push(new URL(req.url ?? "/", "http://x").searchParams);
    res.writeHead(200, { "content-type": "application/json" });
    res.end();
  });
  try {
    for (const r of [0, 0.5, 0.999]) await watchOnce(new LongWatch(kc, { random: () => r }));
    assert.deepEqual(
      seen.map((q) => [q.get("watch"), q.get("allowWatchBookmarks"), q.get("resourceVersion"), q.get("timeoutSeconds")]),
      [
        ["true", "true", "5", "300"],
        ["true", "true", "5", "450"],
        ["true", "true", "5", "599"],
      ],
    );
  } finally {
    await close();
  }
});

test("a watch the server ends at its timeout is reported as timed out (client-node reopens it at once); one ended early is not", async () => {
  let now = 0;
  const { kc, close } = await server((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write(`${JSON.stringify({ type: "BOOKMARK", object: { metadata: { resourceVersion: "6" } } })}\n`);
    now += advance;
    res.end();
  });
  let advance = 0;
  try {
    const phases: string[] = [];
    let activity = 0;
    const watch = new LongWatch(kc, { minTimeoutSeconds: 10, random: () => 0, now: () => now, onLine: () => activity++ });
    advance = 9_000; // ran most of its 10 s
    const full = await watchOnce(watch, (p) => phases.push(p));
    assert.equal((full as Error).name, "TimeoutError");
    assert.deepEqual(phases, ["BOOKMARK"]);
    assert.equal(activity, 1);
    advance = 100; // the server hung up at once
    const early = await watchOnce(watch);
    assert.ok(early === null || early === undefined, `an early clean end stays clean: ${String(early)}`);
  } finally {
    await close();
  }
});

test("a watch whose body stayed silent past undici's bodyTimeout is reported as timed out (reopened at once, no relist), not as a failure", async () => {
  // client-node's Watch reports undici's body timeout as fetch does: TypeError("terminated") with
  // the undici error as its cause. Stubbed here: a real one takes 300 s of silence.
  const parent = Object.getPrototypeOf(LongWatch.prototype) as { watch: (...args: unknown[]) => Promise<AbortController> };
  const original = parent.watch;
  let failure: unknown = new TypeError("terminated", { cause: Object.assign(new Error("Body Timeout Error"), { code: "UND_ERR_BODY_TIMEOUT" }) });
  parent.watch = async (_path: unknown, _params: unknown, _callback: unknown, done: unknown) => {
    (done as (err: unknown) => void)(failure);
    return new AbortController();
  };
  try {
    const kc = new KubeConfig();
    const timedOut = await watchOnce(new LongWatch(kc));
    assert.equal((timedOut as Error).name, "TimeoutError");
    failure = new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
    const refused = await watchOnce(new LongWatch(kc));
    assert.equal(refused, failure, "any other failure is passed on as it is");
  } finally {
    parent.watch = original;
  }
});

test("body timeouts are recognised through fetch's wrapping", () => {
  const cause = Object.assign(new Error("Body Timeout Error"), { code: "UND_ERR_BODY_TIMEOUT" });
  assert.equal(isBodyTimeout(new TypeError("terminated", { cause })), true);
  assert.equal(isBodyTimeout(new TypeError("terminated", { cause: new Error("other") })), false);
  assert.equal(isBodyTimeout(null), false);
});

test("the longest watch is twice the minimum timeout", () => {
  assert.equal(longestWatchMs(300), 600_000);
});
