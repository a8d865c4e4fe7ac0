import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { DruidIngestion } from "../api/druid-ingestion.ts";
import { capturingLogger } from "../../test/support/fakes.ts";
import { EventRecorder, QUEUE_LIMIT } from "./events.ts";

const ingestion = { metadata: { namespace: "ns", name: "orders", uid: "u1", resourceVersion: "5" } } as DruidIngestion;

function api() {
  const calls: string[] = [];
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  let fail = false;
  return {
    calls,
    hold: () => {
      gate = new Promise((r) => (release = r));
    },
    release: () => release(),
    failNext: () => {
      fail = true;
    },
    client: {
      async createEvent(_ns: string, body: { reason?: string }) {
        calls.push(`create ${body.reason}`);
        await gate;
        if (fail) {
          fail = false;
          throw new Error("boom");
        }
        return body as never;
      },
      async patchEvent(_ns: string, name: string, patch: { count: number }) {
        calls.push(`patch ${name.split(".")[0]} count=${patch.count}`);
        await gate;
        return {} as never;
      },
    },
  };
}

test("recording does not wait for the API server; events go out in order; a repeat bumps the count", async () => {
  const fake = api();
  const recorder = new EventRecorder(fake.client, capturingLogger([]), "me");
  fake.hold();
  let returned = false;
  await recorder.record(ingestion, { type: "Normal", reason: "Created", message: "made it" }).then(() => (returned = true));
  assert.equal(returned, true, "record returned while the create is still held");
  await recorder.record(ingestion, { type: "Normal", reason: "Created", message: "made it" });
  await recorder.record(ingestion, { type: "Warning", reason: "DruidUnavailable", message: "503" });
  fake.release();
  await recorder.flush();
  assert.deepEqual(fake.calls, ["create Created", "patch orders count=2", "create DruidUnavailable"]);
});

test("a failed create is forgotten: the next same event creates again", async () => {
  const fake = api();
  const lines: string[] = [];
  const recorder = new EventRecorder(fake.client, capturingLogger(lines), "me");
  fake.failNext();
  await recorder.record(ingestion, { type: "Normal", reason: "Created", message: "x" });
  await recorder.flush();
  await recorder.record(ingestion, { type: "Normal", reason: "Created", message: "x" });
  await recorder.flush();
  assert.deepEqual(fake.calls, ["create Created", "create Created"]);
  assert.ok(lines.some((l) => l.includes("could not record event")));
});

test("beyond the queue limit events are dropped, with a warning", async () => {
  const fake = api();
  const lines: string[] = [];
  const recorder = new EventRecorder(fake.client, capturingLogger(lines), "me");
  fake.hold();
  for (let i = 0; i < QUEUE_LIMIT + 5; i++) await recorder.record({ metadata: { ...ingestion.metadata, uid: `u${i}` } } as DruidIngestion, { type: "Normal", reason: "Created", message: "x" });
  fake.release();
  await recorder.flush();
  // The first one was taken off the queue at once (it is the one being sent).
  assert.equal(fake.calls.length, QUEUE_LIMIT + 1);
  assert.ok(lines.some((l) => l.includes("dropping")));
});

test("one resource gets a burst of 25 Events, then one per 5 minutes; others are not affected", async (t) => {
  t.mock.timers.enable({ apis: ["Date"], now: 1_000_000 });
  const fake = api();
  const recorder = new EventRecorder(fake.client, capturingLogger([]), "me");
  const noisy = (i: number) => recorder.record(ingestion, { type: "Warning", reason: "DruidUnavailable", message: `attempt ${i}` });
  for (let i = 0; i < 30; i++) await noisy(i);
  await recorder.record({ metadata: { ...ingestion.metadata, name: "other", uid: "u2" } } as DruidIngestion, { type: "Normal", reason: "Created", message: "x" });
  await recorder.flush();
  assert.equal(fake.calls.filter((c) => c === "create DruidUnavailable").length, 25);
  assert.equal(fake.calls.filter((c) => c === "create Created").length, 1);
  t.mock.timers.tick(5 * 60_000);
  await noisy(100);
  await noisy(101);
  await recorder.flush();
  assert.equal(fake.calls.filter((c) => c === "create DruidUnavailable").length, 26, "one more after 5 minutes");
});
