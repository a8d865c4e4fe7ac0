import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, configWarnings, loadConfig, parseBindAddress, parseDuration } from "./config.ts";

test("durations in Go syntax", () => {
  assert.equal(parseDuration("10s"), 10_000);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.throws(() => parseDuration("10"), /not a duration/);
  assert.throws(() => parseDuration("ten seconds"), /not a duration/);
});

test("bind addresses", () => {
  assert.deepEqual(parseBindAddress(":8383"), { host: "0.0.0.0", port: 8383 });
  assert.deepEqual(parseBindAddress("127.0.0.1:9"), { host: "127.0.0.1", port: 9 });
  assert.throws(() => parseBindAddress("8383"));
});

test("defaults", () => {
  const c = loadConfig([], {});
  assert.equal(c.watchNamespaces, undefined);
  assert.equal(c.resyncMs, 60_000);
  assert.equal(c.concurrency, 4);
  assert.equal(c.leaderElect, false);
  assert.equal(c.leaseNamespace, "default");
});

test("env and flags; flags win", () => {
  const c = loadConfig(["--resync-period=30s", "--watch-namespace", "a, b"], { RESYNC_PERIOD: "5m", MAX_CONCURRENT_RECONCILES: "8", DRUID_DEFAULT_URL: "http://127.0.0.1:8081/", POD_NAMESPACE: "ops" });
  assert.equal(c.resyncMs, 30_000);
  assert.deepEqual(c.watchNamespaces, ["a", "b"]);
  assert.equal(c.concurrency, 8);
  assert.equal(c.defaultDruidUrl, "http://127.0.0.1:8081");
  assert.equal(c.leaseNamespace, "ops");
});

test("every bad value is reported at once, naming the setting", () => {
  assert.throws(
    () => loadConfig([], { RESYNC_PERIOD: "often", MAX_CONCURRENT_RECONCILES: "0", DRUID_DEFAULT_URL: "http://u:p@x", LOG_LEVEL: "loud", WATCH_NAMESPACE: "Bad_NS" }),
    (e: unknown) =>
      e instanceof ConfigError &&
      /RESYNC_PERIOD/.test(e.message) && /MAX_CONCURRENT_RECONCILES/.test(e.message) && /DRUID_DEFAULT_URL .*must not contain credentials/.test(e.message) &&
      /LOG_LEVEL/.test(e.message) && /WATCH_NAMESPACE/.test(e.message),
  );
  assert.throws(() => loadConfig(["--no-such-flag"], {}), /Known flags/);
  assert.throws(() => loadConfig([], { LEADER_ELECT: "true", RENEW_DEADLINE: "20s" }), /LEASE_DURATION > RENEW_DEADLINE/);
  // 0 would requeue a supervisor Druid shows PENDING at once, in a loop.
  assert.throws(() => loadConfig([], { SETTLE_DELAY: "0s" }), /SETTLE_DELAY: must be at least 100ms/);
  assert.equal(loadConfig([], { SETTLE_DELAY: "100ms" }).settleMs, 100);
});

test("a SHUTDOWN_TIMEOUT shorter than one Druid call with its retries is warned about, not refused (upgrades keep running)", () => {
  const old = loadConfig([], { SHUTDOWN_TIMEOUT: "25s", DRUID_REQUEST_TIMEOUT: "30s" });
  const warnings = configWarnings(old);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] as string, /SHUTDOWN_TIMEOUT \(25s\) is shorter than one Druid call with its retries \(98s/);
  assert.deepEqual(configWarnings(loadConfig([], {})), [], "the defaults fit: 45s > 3 × 10s + 2 × 4s");
});
