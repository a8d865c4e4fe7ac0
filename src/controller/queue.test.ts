import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { KeyBackoff, WorkQueue, type ProcessResult } from "./queue.ts";

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const fastBackoff = { baseMs: 5, maxMs: 40 };

test("KeyBackoff doubles per failure, caps, and forgets", () => {
  const b = new KeyBackoff({ baseMs: 100, maxMs: 1000 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => b.next("a")), [100, 200, 400, 800, 1000, 1000]);
  assert.equal(b.next("other"), 100);
  b.forget("a");
  assert.equal(b.next("a"), 100);
});

test("a key added many times while waiting is processed once", async () => {
  const seen: string[] = [];
  const q = new WorkQueue({ concurrency: 1, backoff: fastBackoff, handler: async (k) => { seen.push(k); return {}; } });
  for (let i = 0; i < 5; i++) { q.add("a"); q.add("b"); }
  q.start();
  await sleep(20);
  assert.deepEqual(seen, ["a", "b"]);
});

test("one key is never processed twice at once; an add during processing replays once after", async () => {
  const gate = deferred();
  let running = 0, maxRunning = 0, calls = 0;
  const q = new WorkQueue({
    concurrency: 4, backoff: fastBackoff,
    handler: async () => {
      calls++; running++; maxRunning = Math.max(maxRunning, running);
      if (calls === 1) await gate.promise;
      running--;
      return {};
    },
  });
  q.start();
  q.add("a");
  await sleep(5);
  q.add("a"); q.add("a"); q.add("a");
  await sleep(5);
  assert.equal(calls, 1, "held while the first run is in progress");
  gate.resolve();
  await sleep(20);
  assert.equal(calls, 2);
  assert.equal(maxRunning, 1);
});

test("concurrency bounds parallel work across keys", async () => {
  let running = 0, maxRunning = 0;
  const q = new WorkQueue({
    concurrency: 3, backoff: fastBackoff,
    handler: async () => { running++; maxRunning = Math.max(maxRunning, running); await sleep(10); running--; return {}; },
  });
  q.start();
  for (let i = 0; i < 10; i++) q.add(`k${i}`);
  await sleep(80);
  assert.equal(maxRunning, 3);
});

test("failures are retried with growing per-key delays; success resets", async () => {
  const times: number[] = [];
  const q = new WorkQueue({
    concurrency: 1, backoff: { baseMs: 10, maxMs: 1000 },
    handler: async (): Promise<ProcessResult> => { times.push(Date.now()); return times.length < 4 ? { error: new Error("boom") } : {}; },
  });
  q.start();
  q.add("a");
  await sleep(200);
  assert.equal(times.length, 4);
  const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
  assert.ok(gaps[0]! >= 9 && gaps[1]! >= 19 && gaps[2]! >= 39, `gaps ${gaps}`);
});

test("a thrown error counts as a failure and is reported", async () => {
  const crashes: string[] = [];
  let calls = 0;
  const q = new WorkQueue({
    concurrency: 1, backoff: fastBackoff, onHandlerCrash: (k) => crashes.push(k),
    handler: async () => { calls++; if (calls === 1) throw new Error("bug"); return {}; },
  });
  q.start();
  q.add("a");
  await sleep(50);
  assert.deepEqual(crashes, ["a"]);
  assert.equal(calls, 2);
});

test("requeueAfter schedules the key again; an immediate add supersedes the delayed one", async () => {
  let calls = 0;
  const q = new WorkQueue({ concurrency: 1, backoff: fastBackoff, handler: async () => { calls++; return { requeueAfterMs: calls === 1 ? 30 : 10_000 }; } });
  q.start();
  q.add("a");
  await sleep(60);
  assert.equal(calls, 2, "requeued after 30 ms");
  q.add("a");
  await sleep(20);
  assert.equal(calls, 3);
  await q.shutDown(10);
});

test("addAfter keeps the earliest due time", async () => {
  let calls = 0;
  const q = new WorkQueue({ concurrency: 1, backoff: fastBackoff, handler: async () => { calls++; return {}; } });
  q.start();
  q.addAfter("a", 20);
  q.addAfter("a", 5000);
  await sleep(50);
  assert.equal(calls, 1);
  await q.shutDown(10);
});

test("shutDown stops new work and waits for in-flight keys up to the deadline", async () => {
  const gate = deferred();
  let finished = 0;
  const q = new WorkQueue({ concurrency: 2, backoff: fastBackoff, handler: async () => { await gate.promise; finished++; return {}; } });
  q.start();
  q.add("a");
  await sleep(5);
  const done = q.shutDown(1000);
  q.add("b");
  setTimeout(() => gate.resolve(), 20);
  assert.deepEqual(await done, []);
  assert.equal(finished, 1);
});

test("shutDown returns keys still running at the deadline", async () => {
  const q = new WorkQueue({ concurrency: 1, backoff: fastBackoff, handler: () => new Promise(() => {}) });
  q.start();
  q.add("stuck");
  await sleep(5);
  assert.deepEqual(await q.shutDown(20), ["stuck"]);
});
