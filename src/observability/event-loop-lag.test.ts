import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { EVENT_LOOP_LAG_SERIES, lagSeconds, registerEventLoopLag } from "./event-loop-lag.ts";
import { ControllerMetrics } from "./metrics.ts";

const value = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);

test("Node's delay between samples less the sampling interval is the lag", () => {
  assert.equal(lagSeconds(100_200_000, 100), 0.0002);
  assert.equal(lagSeconds(99_000_000, 100), 0, "a sample a little early is no lag");
  assert.equal(lagSeconds(1_350_000_000, 100), 1.25);
  assert.equal(lagSeconds(Number.NaN, 100), 0);
});

test("a blocked event loop shows in the lag series", async () => {
  const registry = new Registry();
  registerEventLoopLag(registry, 20);
  await new Promise((r) => setTimeout(r, 100));
  await registry.metrics(); // a scrape starts the histogram over
  await new Promise((r) => setTimeout(r, 60)); // sampling again
  const until = Date.now() + 250;
  while (Date.now() < until); // blocked for 250 ms
  await new Promise((r) => setTimeout(r, 60));
  const text = await registry.metrics();
  assert.ok(value(text, "nodejs_eventloop_lag_max_seconds") >= 0.2, text);
});

test("the controller's registry has every nodejs_eventloop_lag series once, as prom-client names them", async () => {
  const text = await new ControllerMetrics().registry.metrics();
  for (const name of EVENT_LOOP_LAG_SERIES) assert.equal(text.split("\n").filter((l) => l.startsWith(`${name} `)).length, 1, name);
});
