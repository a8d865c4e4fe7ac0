// The chaos command's pure parts: seeded randomness, fault plans, workload choices, options.
import { test } from "node:test";
import assert from "node:assert/strict";
import { planFaults } from "../../tools/chaos/faults.ts";
import { parseOptions, UsageError } from "../../tools/chaos/options.ts";
import { Prng } from "../../tools/chaos/prng.ts";
import { describeDruidBody, resetRequests, supervisorIdOfPath, supervisorView } from "../../tools/chaos/observe.ts";
import { apiserverAddress, kubeconfigVia } from "../../tools/chaos/rig.ts";
import { holderChanges, holdersAround, writesByNonHolder } from "../../tools/chaos/leadership.ts";
import { chooseOperation, keyOf, ResetAllowance, type Naming, type PooledResource } from "../../tools/chaos/workload.ts";

test("the PRNG is reproducible from its seed, forks are independent streams, ranges hold", () => {
  const a = new Prng(42);
  const b = new Prng(42);
  const seqA = Array.from({ length: 50 }, () => a.next());
  assert.deepEqual(seqA, Array.from({ length: 50 }, () => b.next()));
  assert.notDeepEqual(seqA, Array.from({ length: 50 }, () => new Prng(43).next()));
  assert.ok(seqA.every((x) => x >= 0 && x < 1));
  const f1 = new Prng(42).fork("x");
  const root = new Prng(42);
  root.next();
  assert.equal(root.fork("x").next(), f1.next(), "a fork depends on the seed only, not on draws so far");
  assert.notEqual(new Prng(42).fork("x").next(), new Prng(42).fork("y").next());
  const p = new Prng(7);
  for (let i = 0; i < 500; i++) {
    const n = p.int(3, 5);
    assert.ok(n >= 3 && n <= 5 && Number.isInteger(n));
  }
  const counts = { a: 0, b: 0, never: 0 };
  for (let i = 0; i < 2000; i++) counts[p.weighted([["a", 3], ["b", 1], ["never", 0]] as const) as keyof typeof counts]++;
  assert.equal(counts.never, 0);
  assert.ok(counts.a > counts.b * 2, JSON.stringify(counts));
});

test("a fault plan fits its round, has an outage, and holds freezes/black-holes longer than the lease", () => {
  for (let seed = 1; seed <= 30; seed++) {
    const plan = planFaults(new Prng(seed), 40_000, { leaseMs: 4000, apiserverRestartChance: 0.5 });
    assert.ok(plan.druid.length > 0);
    assert.ok(plan.druid.some((w) => w.kind === "outage"), `seed ${seed}`);
    for (let i = 0; i < plan.druid.length; i++) {
      const w = plan.druid[i];
      assert.ok(w && w.atMs + w.durationMs <= 40_000);
      const next = plan.druid[i + 1];
      if (w && next) assert.ok(next.atMs >= w.atMs + w.durationMs, "windows do not overlap");
    }
    for (const f of [...plan.freezes, ...plan.blackholes]) {
      assert.ok(f.durationMs > 4000);
      assert.ok(f.atMs + f.durationMs <= 40_000);
    }
    if (plan.apiserverRestartAtMs !== undefined) assert.ok(plan.apiserverRestartAtMs < 40_000);
  }
  assert.deepEqual(planFaults(new Prng(9), 40_000, { leaseMs: 4000, apiserverRestartChance: 0.5 }), planFaults(new Prng(9), 40_000, { leaseMs: 4000, apiserverRestartChance: 0.5 }));
  assert.equal(planFaults(new Prng(9), 40_000, { leaseMs: 4000, apiserverRestartChance: 0 }).apiserverRestartAtMs, undefined);
});

function pooled(name: string, over: Partial<PooledResource> = {}): PooledResource {
  return { namespace: "ns0", name, dataSource: `p-${name}`, suspend: true, resetNonce: undefined, maxRowsInMemory: 10000, dimensions: ["page"], uncertain: false, ...over };
}

function naming(): Naming {
  return { prefix: "p", namespaces: ["ns0", "ns1"], nextResource: 0, nextDataSource: 0, nextNonce: 0, deletedNames: [] };
}

test("workload: an empty pool is filled first; names and datasources never repeat; at most maxRunning ask to run", () => {
  const prng = new Prng(3);
  const n = naming();
  const pool = new Map<string, PooledResource>();
  const seen = new Set<string>();
  for (let i = 0; i < 400; i++) {
    const op = chooseOperation(pool, n, { poolSize: 6, maxRunning: 2 }, prng);
    assert.ok(op);
    if (i === 0) assert.equal(op.kind, "create");
    if (op.kind === "create" || op.kind === "rename") {
      assert.ok(!seen.has(op.dataSource), "a datasource name is used once");
      seen.add(op.dataSource);
    }
    // Apply to the model as the workload does on success.
    if (op.kind === "create") pool.set(keyOf(op), pooled(op.name, { namespace: op.namespace, dataSource: op.dataSource, suspend: op.suspend }));
    else if (op.kind === "delete") {
      pool.delete(op.key);
      n.deletedNames.push(op.key);
    } else {
      const r = pool.get(op.key) as PooledResource;
      if (op.kind === "resume") r.suspend = false;
      if (op.kind === "suspend") r.suspend = true;
      if (op.kind === "rename") r.dataSource = op.dataSource;
      if (op.kind === "editSpec" && op.field === "maxRowsInMemory") {
        assert.notEqual(op.value, r.maxRowsInMemory, "an edit changes the value");
        r.maxRowsInMemory = op.value;
      }
    }
    assert.ok([...pool.values()].filter((r) => !r.suspend).length <= 2, "at most two running");
    assert.ok(pool.size <= 6);
  }
});

test("workload choices are reproducible from the seed", () => {
  const run = (): string[] => {
    const prng = new Prng(11);
    const n = naming();
    const pool = new Map([["ns0/a", pooled("a")], ["ns0/b", pooled("b", { suspend: false })]]);
    return Array.from({ length: 20 }, () => JSON.stringify(chooseOperation(pool, n, { poolSize: 2, maxRunning: 2 }, prng)));
  };
  assert.deepEqual(run(), run());
});

test("the reset allowance collects distinct nonces per supervisor", () => {
  const a = new ResetAllowance();
  a.allow("ds1", "n1");
  a.allow("ds1", "n1");
  a.allow("ds1", "n2");
  a.allow("ds2", undefined);
  assert.deepEqual(a.toRecord(), { ds1: ["n1", "n2"] });
});

test("options: defaults, ranges, refusals", () => {
  const d = parseOptions([]);
  assert.equal(d.minutes, 5);
  assert.equal(d.seed, 1);
  assert.deepEqual(d.roundSeconds, { min: 25, max: 75 });
  const o = parseOptions(["--minutes", "0.5", "--seed", "7", "--max-rounds", "2", "--report", "r.json", "--round-seconds", "10-20"]);
  assert.deepEqual([o.minutes, o.seed, o.maxRounds, o.report, o.roundSeconds], [0.5, 7, 2, "r.json", { min: 10, max: 20 }]);
  assert.throws(() => parseOptions(["--minutes", "0"]), UsageError);
  assert.throws(() => parseOptions(["--seed", "x"]), UsageError);
  assert.throws(() => parseOptions(["--round-seconds", "20-10"]), UsageError);
  assert.throws(() => parseOptions(["--bogus"]), UsageError);
});

test("observing: supervisor ids from paths, resets from the proxy log, what a POST is about, Druid's ?full entries", () => {
  assert.equal(supervisorIdOfPath("/druid/indexer/v1/supervisor/ds%2D1/reset"), "ds-1");
  assert.equal(supervisorIdOfPath("/druid/indexer/v1/supervisor?full"), undefined);
  const resets = resetRequests([
    { method: "POST", path: "/druid/indexer/v1/supervisor/a/reset", at: 1, forwarded: true, druidStatus: 200, answered: 502, fault: "errorAfter" },
    { method: "POST", path: "/druid/indexer/v1/supervisor/a/reset", at: 2, forwarded: false, answered: 503, fault: "errorBefore" },
    { method: "POST", path: "/druid/indexer/v1/supervisor/a/resetOffsets", at: 3, forwarded: true, druidStatus: 200 },
  ]);
  assert.deepEqual(resets.map((r) => [r.supervisorId, r.druidStatus, r.answered]), [["a", 200, 502]]);
  assert.equal(describeDruidBody("POST", "/druid/indexer/v1/supervisor", JSON.stringify({ type: "kafka", spec: { dataSchema: { dataSource: "ds" } } })), "ds");
  assert.equal(describeDruidBody("POST", "/druid/indexer/v1/task", JSON.stringify({ id: "t1", spec: {} })), "t1");
  assert.equal(describeDruidBody("GET", "/druid/indexer/v1/supervisor", ""), undefined);
  const view = supervisorView({
    id: "ds",
    state: "SUSPENDED",
    spec: { suspended: true, spec: { dataSchema: { dataSource: "ds", dimensionsSpec: { dimensions: [{ type: "string", name: "page" }] } }, tuningConfig: { maxRowsInMemory: 5 }, ioConfig: { topic: "t" } } },
  });
  assert.deepEqual(view, { id: "ds", state: "SUSPENDED", detailedState: undefined, suspended: true, dataSource: "ds", maxRowsInMemory: 5, dimensions: ["page"], topic: "t" });
});

test("a replica's kubeconfig is the stack's with the server at its tunnel", () => {
  const text = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:36443\n    certificate-authority-data: QUJD\ncurrent-context: x\n";
  assert.deepEqual(apiserverAddress(text), { host: "127.0.0.1", port: 36443 });
  const via = kubeconfigVia(text, 40000);
  assert.match(via, /server: https:\/\/127\.0\.0\.1:40000/);
  assert.match(via, /certificate-authority-data: QUJD/);
});

test("one writer: Druid writes by a replica that did not hold the Lease around that time", () => {
  const changes = [
    { at: 1000, holder: "a" },
    { at: 10_000, holder: "b" },
  ];
  const write = (client: string, at: number, method = "POST") => ({ method, path: "/druid/indexer/v1/supervisor", at, client, forwarded: true });
  assert.deepEqual([...holdersAround(changes, 9500, 1000)].sort(), ["a", "b"]);
  assert.deepEqual([...holdersAround(changes, 5000, 1000)], ["a"]);
  const log = [write("a", 5000), write("a", 9800), write("a", 12_000), write("b", 12_000), write("a", 13_000, "GET"), { ...write("a", 14_000), forwarded: false }];
  assert.deepEqual(writesByNonHolder(log, changes).map((e) => [e.client, e.at]), [["a", 12_000]]);
});

test("one writer: a takeover the sampler saw late (API server restarting) takes effect at the Lease's acquireTime", () => {
  // seed 7, 45 minutes: b held the Lease and was frozen; a took it over at 5479 as the API server
  // went down for a restart; the sampler saw it only at 8287.
  const journal = [
    { at: 1000, kind: "leader", holder: "b", transitions: 42, acquiredAt: 990 },
    { at: 8287, kind: "leader", holder: "a", transitions: 43, acquiredAt: 5479, previousSeenAt: 5400 },
    // A stamp later than the sighting is not believed.
    { at: 20_000, kind: "leader", holder: "b", transitions: 44, acquiredAt: 25_000, previousSeenAt: 19_800 },
  ];
  const changes = holderChanges(journal);
  assert.deepEqual(changes, [
    { at: 990, holder: "b" },
    { at: 5479, holder: "a" },
    { at: 20_000, holder: "b" },
  ]);
  const write = (client: string, at: number) => ({ method: "POST", path: "/druid/indexer/v1/supervisor", at, client, forwarded: true });
  const log = [write("a", 5523), write("a", 6244), write("b", 7000), write("b", 6400)];
  assert.deepEqual(writesByNonHolder(log, changes).map((e) => [e.client, e.at]), [["b", 7000]], "the new holder's writes are its own; the old holder is no longer credited a second past the handover");
  // Without acquireTime (older journals) the sighting dates the change.
  assert.deepEqual(holderChanges([{ at: 8287, kind: "leader", holder: "a" }]), [{ at: 8287, holder: "a" }]);
});

test("one writer: a takeover stamp is believed only after the previous holder was last seen, and the sampler's order is kept (review of fd022dc)", () => {
  // a's round began (its stamp) before the sampler last saw b holding: a is credited only from then.
  const changes = holderChanges([
    { at: 1000, kind: "leader", holder: "b", acquiredAt: 990 },
    { at: 12_200, kind: "leader", holder: "a", acquiredAt: 5000, previousSeenAt: 11_900 },
  ]);
  assert.deepEqual(changes, [{ at: 990, holder: "b" }, { at: 11_900, holder: "a" }]);
  const write = (client: string, at: number) => ({ method: "POST", path: "/druid/indexer/v1/supervisor", at, client, forwarded: true });
  assert.deepEqual(writesByNonHolder([write("a", 6000)], changes).map((e) => e.at), [6000], "a candidate writing before the Lease was its own is flagged");
  // b released (stamped R), a's round began before R: the order seen is kept, a holds after.
  const released = holderChanges([
    { at: 1000, kind: "leader", holder: "b", acquiredAt: 990 },
    { at: 10_000, kind: "leader", holder: "", acquiredAt: 9_000, previousSeenAt: 8_800 },
    { at: 10_500, kind: "leader", holder: "a", acquiredAt: 8_900, previousSeenAt: 10_000 },
  ]);
  assert.deepEqual(released.map((c) => c.holder), ["b", "", "a"]);
  assert.deepEqual(writesByNonHolder([write("a", 15_000), write("a", 60_000)], released), [], "a's writes after it took over are its own");
});
