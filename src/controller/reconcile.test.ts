// The reconciler through its injected edges (test/support/fakes.ts): a Kubernetes store with
// resourceVersion preconditions and a Druid, sharing one call log so the order of writes across
// the two systems is asserted. One test per rule the reconciler promises.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { V1Secret, V1Service } from "@kubernetes/client-node";
import { CREDENTIALS_LABEL, FINALIZER, type DruidIngestion, type DruidIngestionSpec, type DruidIngestionStatus, type JsonObject } from "../api/druid-ingestion.ts";
import { createValidator } from "../api/schema.ts";
import type { DruidClient, DruidTarget } from "../druid/client.ts";
import type { LiveTask } from "../druid/decode.ts";
import { DruidError } from "../druid/errors.ts";
import { DruidSnapshots } from "../druid/snapshot.ts";
import { capturingLogger, FakeDruid, FakeKube, type CallLog } from "../../test/support/fakes.ts";
import { sha256Hex } from "./canonical-json.ts";
import { findCondition } from "./conditions.ts";
import { claimsOf, type Claim } from "./ownership.ts";
import type { ProcessResult } from "./queue.ts";
import { allowEndpoint, parseAllowedEndpoints, type Allowance } from "./endpoint-policy.ts";
import { Reconciler, type ReconcilerDeps, type ReconcilerSettings } from "./reconcile.ts";
import { REFERENCEABLE_KEYS_ANNOTATION } from "./secret-refs.ts";
import { renderIngestion } from "./render.ts";
import { SupervisorLagPoller } from "./lag-poller.ts";

const NS = "team";
const DEFAULT_URL = "http://druid-default:8888";
const validator = createValidator();

function kafka(dataSource: string, extra: JsonObject = {}): JsonObject {
  return { type: "kafka", spec: { dataSchema: { dataSource }, ioConfig: { topic: dataSource } }, ...extra };
}

function resource(name: string, spec: Partial<DruidIngestionSpec> = {}, dataSource = name): DruidIngestion {
  return {
    apiVersion: "druid.apache.org/v1alpha1",
    kind: "DruidIngestion",
    metadata: { name, namespace: NS, uid: `uid-${name}`, generation: 1, resourceVersion: "1", creationTimestamp: "2026-01-01T00:00:00Z" },
    spec: { druidCluster: "tiny", auth: { type: "basic-auth", secretRef: { name: "auth" } }, ingestion: { type: "kafka", nativeSpec: kafka(dataSource) }, ...spec },
  };
}

const authSecret: V1Secret = { metadata: { name: "auth", namespace: NS, labels: { [CREDENTIALS_LABEL]: "true" } }, data: { OperatorUserName: Buffer.from("admin").toString("base64"), OperatorPassword: Buffer.from("pw").toString("base64") } };

class World {
  readonly log: CallLog = [];
  /** Every line the reconciler logged. */
  readonly logLines: string[] = [];
  readonly kube = new FakeKube(this.log);
  readonly down = new Set<string>();
  /** One Druid cluster per URL, unless aliased: `alias(b, a)` makes URL b lead to a's cluster. */
  private readonly clusters = new Map<string, FakeDruid>();
  readonly druid = this.cluster(DEFAULT_URL);
  secrets: V1Secret[] = [authSecret];
  deletedSecrets: V1Secret[] = [];
  services: V1Service[] = [];
  now = new Date("2026-01-01T00:10:00Z");
  /** The monotonic clock the reconciler waits on for its own writes to show in the cache. */
  mono = 0;
  /** Set to serve reconciles a stale copy instead of the store's current object. */
  readFrom: (() => DruidIngestion) | undefined;
  readonly reconciler: Reconciler;
  /** What the reconciler was built with: another Reconciler on the same world (no memory of its own). */
  readonly deps: ReconcilerDeps;

  constructor(settings: Partial<ReconcilerSettings> = {}, snapshotMaxAgeMs = 0, deps: Partial<ReconcilerDeps> = {}) {
    const lookup = (list: () => V1Secret[]) => ({ get: (ns: string, name: string) => list().find((s) => s.metadata?.namespace === ns && s.metadata?.name === name) });
    this.kube.secrets = () => this.secrets;
    this.deps = {
      ingestions: { get: (name, namespace) => (this.readFrom?.() ?? this.kube.get(namespace, name)) as never },
      claimsOn: (endpoint, id) => this.claimsOn(endpoint, id),
      // The informer caches only the ConfigMaps labelled as the controller's.
      configMaps: { get: (name, namespace) => [this.kube.configMaps.get(`${namespace}/${name}`)].find((cm) => cm?.metadata?.labels?.["app.kubernetes.io/managed-by"] === "druid-ingestion-controller") },
      secrets: lookup(() => this.secrets),
      deletedSecrets: lookup(() => this.deletedSecrets),
      routerServices: { list: (ns) => this.services.filter((s) => s.metadata?.namespace === ns) },
      kube: this.kube,
      events: this.kube,
      druidClient: (target) => this.client(target),
      allowEndpoint: (url) => this.endpointPolicy(url),
      snapshots: new DruidSnapshots({ maxAgeMs: snapshotMaxAgeMs, now: () => this.now.getTime() }),
      validator,
      settings: { resyncMs: 60_000, settleMs: 3_000, allowCrossNamespaceSecrets: false, defaultDruidUrl: DEFAULT_URL, ...settings },
      logger: capturingLogger(this.logLines),
      now: () => this.now,
      monotonicNow: () => this.mono,
      random: () => 0.5,
      ...deps,
    };
    this.reconciler = new Reconciler(this.deps);
  }

  /** The administrator's allow-list (everything unless a test says otherwise). */
  endpointPolicy: (url: string) => Allowance = () => ({ ok: true, via: "AllowList" });

  /** A Druid client that, like the manager's, refuses every request to an endpoint no longer allowed. */
  private client(target: DruidTarget): DruidClient {
    const inner = this.cluster(target.baseUrl).client(target) as unknown as Record<string, unknown>;
    return new Proxy(inner, {
      get: (object, property) => {
        const value = object[property as string];
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          const allowance = this.endpointPolicy(target.baseUrl);
          if (!allowance.ok) {
            this.log.push(`druid:refused @${target.baseUrl}`);
            return Promise.reject(new DruidError("EndpointNotAllowed", `not sent: ${allowance.message}`, { notSent: true }));
          }
          return (value as (...a: unknown[]) => unknown).apply(object, args);
        };
      },
    }) as unknown as DruidClient;
  }

  cluster(url: string): FakeDruid {
    let cluster = this.clusters.get(url);
    if (!cluster) {
      cluster = new FakeDruid(this.log, this.down);
      cluster.now = () => this.now.toISOString();
      this.clusters.set(url, cluster);
    }
    return cluster;
  }

  alias(url: string, of: string): void {
    this.clusters.set(url, this.cluster(of));
  }

  private claimsOn(endpoint: string, id: string): Claim[] {
    return [...this.kube.objects.values()].flatMap((o) => claimsOf(o)).filter((c) => c.druidEndpoint === endpoint && c.supervisorId === id);
  }

  create(object: DruidIngestion): DruidIngestion {
    return this.kube.put(object);
  }

  async reconcile(name: string): Promise<ProcessResult> {
    return this.reconciler.reconcile(`${NS}/${name}`);
  }

  /** Reconciles until nothing is due soon (a settle or an immediate retry), at most `max` times. */
  async settle(name: string, max = 6): Promise<ProcessResult> {
    let result: ProcessResult = {};
    for (let i = 0; i < max; i++) {
      result = await this.reconcile(name);
      if ("error" in result || result.requeueAfterMs === undefined || result.requeueAfterMs >= 54_000) return result;
      this.now = new Date(this.now.getTime() + result.requeueAfterMs);
    }
    return result;
  }

  get(name: string): DruidIngestion {
    const o = this.kube.get(NS, name);
    if (!o) throw new Error(`${name} is gone`);
    return o;
  }

  status(name: string): DruidIngestionStatus {
    return this.get(name).status ?? {};
  }

  patchSpec(name: string, spec: Partial<DruidIngestionSpec>): void {
    const o = this.get(name);
    this.kube.put({ ...o, metadata: { ...o.metadata, generation: o.metadata.generation + 1 }, spec: { ...o.spec, ...spec } });
  }

  markDeleted(name: string): void {
    const o = this.get(name);
    this.kube.put({ ...o, metadata: { ...o.metadata, deletionTimestamp: "2026-01-01T01:00:00Z" } });
  }

  druidWrites(): string[] {
    return this.log.filter((l) => /^druid:(POST|DELETE)/.test(l));
  }
}

function cond(status: DruidIngestionStatus, type: string): string {
  const c = findCondition(status.conditions, type);
  return c ? `${c.status}/${c.reason}` : "absent";
}

function requeueOf(r: ProcessResult): string {
  return "error" in r ? "error" : r.requeueAfterMs === undefined ? "none" : String(r.requeueAfterMs);
}

const DEFAULT = DEFAULT_URL.replace(/\/$/, "");

test("create: finalizer before any Druid call, pending create (conditional) before the POST, record after", async () => {
  const w = new World();
  w.create(resource("orders"));
  const result = await w.reconcile("orders");
  const firstDruid = w.log.findIndex((l) => l.startsWith("druid:"));
  const finalizer = w.log.findIndex((l) => l.startsWith("kube:patch") && l.includes("add /metadata/finalizers"));
  const pending = w.log.findIndex((l) => l.startsWith("kube:status pendingCreate @"));
  const post = w.log.findIndex((l) => l.startsWith("druid:POST /supervisor orders"));
  assert.ok(finalizer >= 0 && finalizer < firstDruid, `finalizer first: ${w.log.join(" | ")}`);
  assert.ok(pending >= 0 && pending < post, `pending create recorded before the POST: ${w.log.join(" | ")}`);
  const status = w.status("orders");
  assert.deepEqual(status.applied, { druidEndpoint: DEFAULT, endpointSource: "ControllerDefault", druidCluster: "tiny", supervisorId: "orders", dataSource: "orders", origin: "Created" });
  assert.equal(status.pendingCreate, undefined);
  assert.equal(status.state, "PENDING", "state read after the POST");
  assert.equal(cond(status, "Ready"), "False/Pending");
  assert.equal(requeueOf(result), "3000", "look again after the settle delay");
  assert.ok(w.get("orders").metadata.finalizers?.includes(FINALIZER));
  assert.ok(w.kube.configMaps.has(`${NS}/orders-druid-spec`));
  assert.deepEqual(w.kube.events.map((e) => e.reason), ["Created"]);
});

test("idle: no write to Kubernetes or Druid, requeue at the resync", async () => {
  const w = new World();
  w.create(resource("orders"));
  await w.settle("orders");
  w.druid.supervisors.get("orders")!.state = "RUNNING";
  await w.reconcile("orders");
  const before = w.log.length;
  const rv = w.get("orders").metadata.resourceVersion;
  const result = await w.reconcile("orders");
  const since = w.log.slice(before);
  assert.deepEqual(since.filter((l) => !l.startsWith("druid:GET")), [], since.join(" | "));
  assert.equal(w.get("orders").metadata.resourceVersion, rv);
  assert.equal(requeueOf(result), "60000");
});

/** A resource "orders" whose supervisor Druid runs, reconciled to idle, with a 10-minute drift check. */
async function runningOrders(): Promise<World> {
  const w = new World({ driftCheckMs: 600_000 });
  w.create(resource("orders"));
  await w.settle("orders");
  w.druid.supervisors.get("orders")!.state = "RUNNING";
  await w.reconcile("orders");
  return w;
}

test("idle reconciles read only the cluster's state list; the stored spec is read once per drift-check period, and drift made in Druid is then corrected", async () => {
  const w = await runningOrders();
  // Someone edits the stored spec in Druid's console.
  const stored = w.druid.supervisors.get("orders")!;
  stored.spec = { ...stored.spec, editedInConsole: true };
  const before = w.log.length;
  await w.reconcile("orders");
  assert.deepEqual(w.log.slice(before).filter((l) => l.startsWith("druid:") && l !== "druid:GET /supervisor?state=true @http://druid-default:8888"), [], "no spec read while no check is due");
  // The supervisor was last read on its own when its state changed (mono 0): the check comes a period later.
  w.mono += 600_000;
  const due = w.log.length;
  await w.reconcile("orders");
  const since = w.log.slice(due);
  assert.ok(since.includes("druid:GET /supervisor/orders+status @http://druid-default:8888"), since.join(" | "));
  assert.ok(since.includes("druid:POST /supervisor orders @http://druid-default:8888"), `drift corrected: ${since.join(" | ")}`);
  assert.equal(w.kube.events.at(-1)?.reason, "DriftCorrected");
  await w.settle("orders");
  w.druid.supervisors.get("orders")!.state = "RUNNING";
  await w.reconcile("orders"); // the state changed: read on its own, which counts as a check
  const quiet = w.log.length;
  w.mono += 599_000;
  await w.reconcile("orders");
  assert.ok(!w.log.slice(quiet).some((l) => l.startsWith("druid:GET /supervisor/orders+status ")), "the next check is a period after the last read");
  w.mono += 1_000;
  const next = w.log.length;
  await w.reconcile("orders");
  assert.ok(w.log.slice(next).includes("druid:GET /supervisor/orders+status @http://druid-default:8888"));
  assert.equal(w.druidWrites().filter((l) => l.startsWith("druid:POST /supervisor orders")).length, 2, "created, then corrected once");
});

test("suspension is the stored spec's, not the state list's: a supervisor that never ran reports UNHEALTHY_SUPERVISOR while suspended (review of #11)", async () => {
  const w = new World({ driftCheckMs: 600_000 });
  w.create(resource("orders", { suspend: true }));
  await w.settle("orders");
  const stored = w.druid.supervisors.get("orders")!;
  stored.reportedState = "UNHEALTHY_SUPERVISOR";
  await w.settle("orders");
  // Idle: nothing is sent again and again (the list says suspended=false, state unhealthy).
  const quiet = w.druidWrites().length;
  for (let i = 0; i < 3; i++) {
    w.now = new Date(w.now.getTime() + 60_000);
    await w.reconcile("orders");
  }
  assert.deepEqual(w.druidWrites().slice(quiet), [], "no repeated suspend");
  // Resuming is acted on in the reconcile that sees the edit, not a drift period later.
  w.patchSpec("orders", { suspend: false });
  await w.reconcile("orders");
  assert.ok(w.druidWrites().slice(quiet).includes("druid:POST /supervisor/orders/resume @http://druid-default:8888"), w.druidWrites().join(" | "));
});

test("a suspend made in Druid's console is seen at the next resync (the state changed), and undone", async () => {
  const w = await runningOrders();
  const stored = w.druid.supervisors.get("orders")!;
  stored.spec = { ...stored.spec, suspended: true };
  const before = w.druidWrites().length;
  w.now = new Date(w.now.getTime() + 60_000);
  await w.reconcile("orders");
  assert.deepEqual(w.druidWrites().slice(before), ["druid:POST /supervisor/orders/resume @http://druid-default:8888"]);
});

test("a spec edit reads the stored spec before the update (Druid-owned values are carried over)", async () => {
  const w = await runningOrders();
  w.patchSpec("orders", { ingestion: { type: "kafka", nativeSpec: kafka("orders", { extra: 1 }) } });
  const before = w.log.length;
  await w.reconcile("orders");
  const since = w.log.slice(before);
  const read = since.indexOf("druid:GET /supervisor/orders+status @http://druid-default:8888");
  const post = since.indexOf("druid:POST /supervisor orders @http://druid-default:8888");
  assert.ok(read >= 0 && read < post, since.join(" | "));
});

test("a supervisor on its way somewhere waits on the state poller (a resync as safety net), and stops waiting once it arrived", async () => {
  const calls: string[] = [];
  let pollerWorks = true;
  const stateWatch = {
    watch: (key: string, _client: DruidClient, supervisorId: string, seen: { state: string | undefined } | undefined) => {
      calls.push(`watch ${key} ${supervisorId} ${seen?.state}`);
      return pollerWorks;
    },
    unwatch: (key: string) => void calls.push(`unwatch ${key}`),
    reliesOnPoller: () => false,
    watching: () => false,
  };
  const w = new World({}, 0, { stateWatch });
  w.create(resource("orders", { suspend: true }));
  const created = await w.reconcile("orders"); // finalizer, then create (suspended)
  assert.equal(requeueOf(created), "60000", "the read-back after the create shows it SUSPENDED already: nothing to wait for");
  const orders = w.druid.supervisors.get("orders")!;
  orders.reportedState = "PENDING";
  w.now = new Date(w.now.getTime() + 3_000);
  const waiting = await w.reconcile("orders");
  assert.equal(calls.at(-1), `watch ${NS}/orders orders PENDING`);
  assert.equal(requeueOf(waiting), "60000", "the poller wakes it; its own look is the resync");
  pollerWorks = false;
  w.now = new Date(w.now.getTime() + 20_000);
  const fallback = await w.reconcile("orders");
  // The status changed when the PENDING state was reported, 20 s ago: half of that.
  assert.equal(requeueOf(fallback), "10000", "the poller's list fails: half the time spent so far, as without it");
  // Druid 33 shows a supervisor created suspended RUNNING before SUSPENDED: still on its way.
  pollerWorks = true;
  orders.reportedState = "RUNNING";
  w.now = new Date(w.now.getTime() + 1_000); // woken by the poller
  const suspending = await w.reconcile("orders");
  assert.equal(calls.at(-1), `watch ${NS}/orders orders RUNNING`);
  assert.equal(requeueOf(suspending), "60000");
  delete orders.reportedState; // SUSPENDED
  w.now = new Date(w.now.getTime() + 1_000); // woken by the poller
  await w.reconcile("orders");
  assert.equal(w.status("orders").state, "SUSPENDED");
  assert.equal(calls.at(-1), `unwatch ${NS}/orders`);
  // A resource deleted while its reconcile ran is not left waiting (its status write finds it gone).
  orders.reportedState = "PENDING";
  w.now = new Date(w.now.getTime() + 1_000);
  w.readFrom = () => { const o = w.kube.get(NS, "orders"); w.kube.objects.delete(`${NS}/orders`); w.readFrom = undefined; return o as DruidIngestion; };
  await w.reconcile("orders");
  assert.equal(calls.at(-1), `unwatch ${NS}/orders`, calls.slice(-3).join(" | "));
});

test("a create whose read-back shows PENDING is watched from the create on; an update still looks again after the settle delay", async () => {
  const calls: string[] = [];
  const stateWatch = {
    watch: (key: string, _client: DruidClient, _id: string, seen: { state: string | undefined } | undefined) => {
      calls.push(`watch ${key} ${seen?.state}`);
      return true;
    },
    unwatch: (key: string) => void calls.push(`unwatch ${key}`),
    reliesOnPoller: () => false,
    watching: () => false,
  };
  const w = new World({}, 0, { stateWatch });
  w.create(resource("orders"));
  const created = await w.reconcile("orders");
  assert.deepEqual(calls, [`unwatch ${NS}/orders`, `watch ${NS}/orders PENDING`], "a new wait from the create on, no second look of its own: the poller wakes it");
  assert.equal(requeueOf(created), "60000");
  assert.equal(w.status("orders").state, "PENDING");
  w.druid.supervisors.get("orders")!.state = "RUNNING";
  w.now = new Date(w.now.getTime() + 1_000); // woken
  await w.reconcile("orders");
  assert.equal(calls.at(-1), `unwatch ${NS}/orders`);
  w.patchSpec("orders", { ingestion: { type: "kafka", nativeSpec: kafka("orders", { tuningConfig: { type: "kafka", maxRowsInMemory: 1234 } }) } } as never);
  w.now = new Date(w.now.getTime() + 1_000);
  const updated = await w.reconcile("orders");
  assert.ok(w.druidWrites().some((l) => l.startsWith("druid:POST /supervisor orders")), w.druidWrites().join(" | "));
  assert.equal(requeueOf(updated), "3000", "an update may restart tasks: one look after the settle delay");
  // A suspend that Druid 33 still reports RUNNING (stored suspended): a new wait, handed to the poller.
  w.now = new Date(w.now.getTime() + 3_000);
  await w.reconcile("orders");
  w.druid.supervisors.get("orders")!.reportedState = "RUNNING";
  w.patchSpec("orders", { suspend: true });
  w.now = new Date(w.now.getTime() + 1_000);
  calls.length = 0;
  const suspending = await w.reconcile("orders");
  assert.ok(w.druidWrites().some((l) => l.startsWith("druid:POST /supervisor/orders/suspend")), w.druidWrites().join(" | "));
  assert.deepEqual(calls, [`unwatch ${NS}/orders`, `watch ${NS}/orders RUNNING`], "the wait starts at the write: unwatched first");
  assert.equal(requeueOf(suspending), "60000");
});

test("a resource the state poller serves reads the shared list; one it watches without serving reads alone", async () => {
  let relies = true;
  const stateWatch = { watch: () => relies, unwatch: () => {}, reliesOnPoller: () => relies, watching: () => true };
  const w = new World({}, 60_000, { stateWatch });
  w.create(resource("orders", { suspend: true }));
  w.create(resource("clicks"));
  await w.settle("clicks");
  await w.reconcile("orders"); // created suspended
  const orders = w.druid.supervisors.get("orders")!;
  orders.reportedState = "RUNNING"; // Druid 33: suspending
  w.now = new Date(w.now.getTime() + 3_001);
  await w.reconcile("orders"); // reads it alone (written since the shared list), watched
  w.now = new Date(w.now.getTime() + 61_000);
  await w.reconcile("clicks"); // the shared list, read again (the poller's, in production)
  w.now = new Date(w.now.getTime() + 5_000);
  const before = w.log.length;
  await w.reconcile("orders"); // its resync: the list is 5 s old
  const single = (from: number) => w.log.slice(from).filter((l) => l.startsWith("druid:GET /supervisor/orders+status")).length;
  assert.equal(single(before), 0, `served by the poller: the shared list will do (${w.log.slice(before).join(" | ")})`);
  relies = false; // lists fail, or too few wait on a big cluster
  const next = w.log.length;
  await w.reconcile("orders");
  assert.equal(single(next), 1, "watched but not served: it reads its supervisor fresh");
});

test("a supervisor created suspended is reported SUSPENDED once Druid says so, not a resync later (chaos seed 7)", async () => {
  // Ready is True (Suspended, as asked) while Druid still says PENDING: the state must still be
  // read fresh, not taken from a shared list read while it was PENDING.
  const w = new World({}, 60_000);
  w.create(resource("orders", { suspend: true }));
  w.create(resource("clicks"));
  await w.settle("clicks");
  await w.reconcile("orders"); // finalizer
  await w.reconcile("orders"); // create, suspended
  const orders = w.druid.supervisors.get("orders")!;
  orders.reportedState = "PENDING";
  w.now = new Date(w.now.getTime() + 61_000);
  await w.reconcile("clicks"); // the shared list, read again: "orders" PENDING in it
  const pending = await w.reconcile("orders");
  assert.equal(w.status("orders").state, "PENDING");
  assert.equal(cond(w.status("orders"), "Ready"), "True/Suspended");
  assert.ok("requeueAfterMs" in pending && pending.requeueAfterMs === 3_000, `looked at again soon: ${requeueOf(pending)}`);
  delete orders.reportedState; // Druid's first run: SUSPENDED
  w.now = new Date(w.now.getTime() + 3_001);
  await w.reconcile("orders");
  assert.equal(w.status("orders").state, "SUSPENDED");
});

test("a finalizer that cannot be set stops everything before Druid, visibly", async () => {
  const w = new World();
  w.create(resource("orders"));
  w.kube.failFinalizerWith = 403;
  const result = await w.reconcile("orders");
  assert.deepEqual(w.log.filter((l) => l.startsWith("druid:")), []);
  assert.equal(cond(w.status("orders"), "Synced"), "False/FinalizerPatchFailed");
  assert.match(findCondition(w.status("orders").conditions, "Synced")?.message ?? "", /finalizers are not allowed here.*nothing is created in Druid/);
  assert.deepEqual(w.kube.events.map((e) => `${e.type}:${e.reason}`), ["Warning:FinalizerPatchFailed"]);
  assert.equal(requeueOf(result), "error");
});

test("stop reasons and their requeue", async () => {
  const rows: Array<[string, (w: World) => void, string, string]> = [
    ["invalid JSON spec", (w) => w.create(resource("r", { ingestion: { type: "kafka", spec: "{broken" } })), "False/InvalidSpec", "none"],
    ["schema violation", (w) => w.create({ ...resource("r"), spec: { ingestion: { type: "kafka", nativeSpec: kafka("r") } } } as DruidIngestion), "False/SchemaInvalid", "none"],
    ["missing Secret", (w) => { w.secrets = []; w.create(resource("r")); }, "False/SecretNotFound", "60000"],
    ["Druid unreachable", (w) => { w.down.add(DEFAULT); w.create(resource("r")); }, "Unknown/DruidUnreachable", "error"],
    ["explicit id on Druid 33", (w) => w.create(resource("r", { ingestion: { type: "kafka", nativeSpec: kafka("r", { id: "r-eu" }) } })), "False/SupervisorIdUnsupported", "60000"],
  ];
  for (const [name, setup, ready, requeue] of rows) {
    const w = new World();
    setup(w);
    const result = await w.reconcile("r");
    assert.equal(cond(w.status("r"), "Ready"), ready, name);
    assert.equal(requeueOf(result), requeue, name);
    assert.deepEqual(w.druidWrites(), [], `${name}: nothing written to Druid`);
  }
});

test("a supervisor nobody recorded is left alone; deleting the resource leaves it", async () => {
  const w = new World();
  await w.druid.client({ baseUrl: DEFAULT, credentials: undefined }).submitSupervisor({ ...kafka("orders"), handMade: true });
  w.log.length = 0;
  w.create(resource("orders"));
  const result = await w.reconcile("orders");
  assert.equal(cond(w.status("orders"), "Synced"), "False/SupervisorExists");
  assert.deepEqual(w.druidWrites(), []);
  assert.equal(w.status("orders").applied, undefined);
  assert.equal(requeueOf(result), "60000");
  w.markDeleted("orders");
  await w.reconcile("orders");
  assert.deepEqual(w.druidWrites(), [], "not terminated");
  assert.ok(w.druid.supervisors.get("orders")?.spec["handMade"]);
  assert.equal(w.kube.get(NS, "orders"), undefined, "the resource is let go");
});

test("Adopt takes a hand-made supervisor over; Observe never writes", async () => {
  const adopt = new World();
  await adopt.druid.client({ baseUrl: DEFAULT, credentials: undefined }).submitSupervisor(kafka("orders"));
  adopt.create(resource("orders", { managementPolicy: "Adopt" }));
  await adopt.settle("orders");
  assert.equal(adopt.status("orders").applied?.origin, "Adopted");
  assert.ok(adopt.kube.events.some((e) => e.reason === "Adopted"));
  adopt.markDeleted("orders");
  await adopt.reconcile("orders");
  assert.equal(adopt.druid.supervisors.has("orders"), false, "adopted, so terminated on delete");

  const observe = new World();
  await observe.druid.client({ baseUrl: DEFAULT, credentials: undefined }).submitSupervisor(kafka("orders"));
  observe.log.length = 0;
  observe.create(resource("orders", { managementPolicy: "Observe", suspend: true }));
  await observe.settle("orders");
  assert.deepEqual(observe.druidWrites(), []);
  assert.equal(cond(observe.status("orders"), "Synced"), "Unknown/Observing");
  assert.equal(observe.status("orders").state, "PENDING");
  observe.markDeleted("orders");
  await observe.reconcile("orders");
  assert.deepEqual(observe.druidWrites(), []);
  assert.ok(observe.druid.supervisors.has("orders"));
});

test("a dataSource rename is a move: the old supervisor goes first, then the new one comes", async () => {
  const w = new World();
  w.create(resource("orders"));
  await w.settle("orders");
  w.log.length = 0;
  w.patchSpec("orders", { ingestion: { type: "kafka", nativeSpec: kafka("orders_v2") } });
  const first = await w.reconcile("orders");
  assert.deepEqual(w.druidWrites(), [`druid:POST /supervisor/orders/terminate @${DEFAULT}`]);
  assert.equal(w.status("orders").applied, undefined);
  assert.equal(cond(w.status("orders"), "Synced"), "False/Moving");
  assert.equal(requeueOf(first), "3000");
  await w.settle("orders");
  assert.deepEqual([...w.druid.supervisors.keys()], ["orders_v2"]);
  assert.equal(w.status("orders").applied?.supervisorId, "orders_v2");
  w.markDeleted("orders");
  await w.reconcile("orders");
  assert.deepEqual([...w.druid.supervisors.keys()], [], "nothing left behind");
});

test("an endpoint change whose old endpoint is down: nothing is created on the new one until the old is removed", async () => {
  const w = new World();
  const OLD = "http://druid-old:8888";
  const NEW = "http://druid-new:8888";
  w.create(resource("orders", { druidEndpoint: OLD }));
  await w.settle("orders");
  w.down.add(OLD);
  w.patchSpec("orders", { druidEndpoint: NEW });
  w.log.length = 0;
  const result = await w.reconcile("orders");
  assert.deepEqual(w.druidWrites(), [`druid:POST /supervisor/orders/terminate @${OLD}`], "only the attempt on the old one");
  assert.equal(w.status("orders").applied?.druidEndpoint, OLD);
  assert.equal(cond(w.status("orders"), "Synced"), "False/DruidUnreachable");
  assert.equal(requeueOf(result), "error");
  w.down.delete(OLD);
  await w.settle("orders");
  assert.equal(w.status("orders").applied?.druidEndpoint, NEW);
  assert.deepEqual(w.druidWrites(), [`druid:POST /supervisor/orders/terminate @${OLD}`, `druid:POST /supervisor/orders/terminate @${OLD}`, `druid:POST /supervisor orders @${NEW}`]);
  assert.equal(w.cluster(OLD).supervisors.size, 0, "nothing left on the old Druid");
  assert.ok(w.cluster(NEW).supervisors.has("orders"));
});

test("a new URL for the same Druid: the record follows it, nothing is terminated or created", async () => {
  const w = new World();
  const OLD = "http://druid-router.team.svc:8888";
  const NEW = "http://druid-router-2.team.svc:8888";
  w.alias(NEW, OLD);
  w.create(resource("orders", { druidEndpoint: OLD }));
  await w.settle("orders");
  w.patchSpec("orders", { druidEndpoint: NEW });
  w.log.length = 0;
  await w.settle("orders");
  assert.deepEqual(w.druidWrites(), []);
  assert.equal(w.status("orders").applied?.druidEndpoint, NEW);
  assert.equal(cond(w.status("orders"), "Synced"), "True/Synced");
  assert.ok(w.kube.events.some((e) => e.reason === "EndpointChanged"));
});

test("a new URL to another Druid that already has this id: stand down, the recorded one is kept", async () => {
  const w = new World();
  const OLD = "http://druid-a:8888";
  const NEW = "http://druid-b:8888";
  w.create(resource("orders", { druidEndpoint: OLD }));
  await w.settle("orders");
  await w.cluster(NEW).client({ baseUrl: NEW, credentials: undefined }).submitSupervisor(kafka("orders"));
  w.patchSpec("orders", { druidEndpoint: NEW });
  w.log.length = 0;
  await w.reconcile("orders");
  assert.deepEqual(w.druidWrites(), []);
  assert.equal(cond(w.status("orders"), "Synced"), "False/SupervisorExists");
  assert.equal(w.status("orders").applied?.druidEndpoint, OLD);
  w.down.add(OLD);
  await w.reconcile("orders");
  assert.equal(cond(w.status("orders"), "Synced"), "False/DruidUnreachable", "cannot tell while the old one is down");
  assert.match(findCondition(w.status("orders").conditions, "Synced")?.message ?? "", /cannot be told/);
});

test("with only the default URL left, what a router Service gave is kept (no fallback move, no Druid call)", async () => {
  const w = new World();
  w.services = [{ metadata: { name: "druid-tiny-routers", namespace: NS, labels: { druid_cr: "tiny", component: "router" } }, spec: { ports: [{ port: 8088 }] } }];
  w.create(resource("orders"));
  await w.settle("orders");
  const ROUTER = `http://druid-tiny-routers.${NS}.svc:8088`;
  assert.equal(w.status("orders").applied?.druidEndpoint, ROUTER);
  w.services = [];
  w.log.length = 0;
  await w.reconcile("orders");
  assert.equal(cond(w.status("orders"), "Synced"), "False/EndpointFallbackRefused");
  assert.deepEqual(w.log.filter((l) => l.startsWith("druid:")), [], "no call to either Druid");
  w.markDeleted("orders");
  await w.reconcile("orders");
  assert.deepEqual(w.druidWrites(), [`druid:POST /supervisor/orders/terminate @${ROUTER}`], "deletion goes to the recorded endpoint");
});

test("a pending create whose write lost the race (the cache was stale): no Druid write at all", async () => {
  const w = new World();
  const created = w.create({ ...resource("orders"), metadata: { ...resource("orders").metadata, finalizers: [FINALIZER] } });
  const stale = structuredClone(created);
  w.kube.put({ ...created, metadata: { ...created.metadata, labels: { touched: "yes" } } }); // a newer version exists
  w.readFrom = () => stale;
  const result = await w.reconcile("orders");
  assert.deepEqual(w.druidWrites(), [], "the pending create failed its precondition: nothing created");
  assert.equal(requeueOf(result), "error");
  w.readFrom = undefined;
  await w.settle("orders");
  assert.ok(w.druid.supervisors.has("orders"), "the next reconcile, on the fresh object, creates it");
});

test("a create whose outcome was lost is recognised as ours, not as someone else's", async () => {
  const w = new World();
  w.create(resource("orders"));
  w.druid.failAfterActing.set("POST /supervisor orders", new DruidError("DruidTimeout", "POST /supervisor: timed out"));
  const first = await w.reconcile("orders");
  assert.equal(requeueOf(first), "error");
  assert.ok(w.druid.supervisors.has("orders"), "Druid acted");
  assert.equal(w.status("orders").pendingCreate?.supervisorId, "orders", "the intent stays");
  assert.equal(w.status("orders").applied, undefined);
  await w.settle("orders");
  assert.equal(cond(w.status("orders"), "Synced"), "True/Synced", "taken as ours (not SupervisorExists)");
  assert.equal(w.status("orders").applied?.origin, "Created");
  assert.equal(w.status("orders").pendingCreate, undefined);
  w.markDeleted("orders");
  await w.reconcile("orders");
  assert.equal(w.druid.supervisors.size, 0);
});

test("deleting a resource whose only create was lost removes what the pending create names", async () => {
  const w = new World();
  w.create(resource("orders"));
  w.druid.failAfterActing.set("POST /supervisor orders", new DruidError("DruidTimeout", "POST /supervisor: timed out"));
  await w.reconcile("orders");
  w.markDeleted("orders");
  await w.reconcile("orders");
  assert.equal(w.druid.supervisors.size, 0, "no orphan");
  assert.equal(w.kube.get(NS, "orders"), undefined);
});

test("deletion: only the record, only on its endpoint; Orphan and Observe leave Druid; Druid down keeps the finalizer", async () => {
  const orphan = new World();
  orphan.create(resource("orders", { deletionPolicy: "Orphan" }));
  await orphan.settle("orders");
  orphan.markDeleted("orders");
  orphan.log.length = 0;
  await orphan.reconcile("orders");
  assert.deepEqual(orphan.druidWrites(), []);
  assert.equal(orphan.kube.get(NS, "orders"), undefined);

  const never = new World();
  never.secrets = [];
  never.create(resource("orders"));
  await never.reconcile("orders");
  never.markDeleted("orders");
  await never.reconcile("orders");
  assert.deepEqual(never.log.filter((l) => l.startsWith("druid:")), [], "nothing recorded: Druid is not even asked");
  assert.equal(never.kube.get(NS, "orders"), undefined);

  const down = new World();
  down.create(resource("orders"));
  await down.settle("orders");
  down.down.add(DEFAULT);
  down.markDeleted("orders");
  const result = await down.reconcile("orders");
  assert.equal(requeueOf(result), "error");
  assert.ok(down.get("orders").metadata.finalizers?.includes(FINALIZER));
  assert.match(findCondition(down.status("orders").conditions, "Synced")?.message ?? "", /finalizer stays.*deletionPolicy: Orphan/);
  down.down.delete(DEFAULT);
  await down.reconcile("orders");
  assert.equal(down.kube.get(NS, "orders"), undefined);
  assert.equal(down.druid.supervisors.size, 0);
});

test("deletion after the Secret is gone uses the recently deleted copy; a record from the druid-operator is honoured", async () => {
  const w = new World();
  w.create(resource("orders"));
  await w.settle("orders");
  w.deletedSecrets = w.secrets;
  w.secrets = [];
  w.markDeleted("orders");
  await w.reconcile("orders");
  assert.equal(w.druid.supervisors.size, 0);

  // The druid-operator used the router Service only; its record is found there, never on the default URL.
  const op = new World();
  const ROUTER = `http://druid-tiny-routers.${NS}.svc:8088`;
  await op.cluster(ROUTER).client({ baseUrl: ROUTER, credentials: undefined }).submitSupervisor(kafka("legacy"));
  op.log.length = 0;
  const body = kafka("legacy");
  op.create({ ...resource("legacy"), metadata: { ...resource("legacy").metadata, finalizers: [FINALIZER], deletionTimestamp: "2026-01-01T01:00:00Z" }, status: { taskId: "legacy", "currentIngestionSpec.json": JSON.stringify(body) } });
  const blocked = await op.reconcile("legacy");
  assert.equal(requeueOf(blocked), "error", "no router Service: the default URL is never taken for the druid-operator's Druid");
  assert.match(findCondition(op.status("legacy").conditions, "Synced")?.message ?? "", /only used the router Service/);
  assert.equal(op.cluster(ROUTER).supervisors.size, 1);
  assert.deepEqual(op.druidWrites(), []);
  op.services = [{ metadata: { name: "druid-tiny-routers", namespace: NS, labels: { druid_cr: "tiny", component: "router" } }, spec: { ports: [{ port: 8088 }] } }];
  assert.equal(op.status("legacy").taskId, "legacy", "a blocked deletion keeps the druid-operator's record");
  await op.reconcile("legacy");
  assert.equal(op.cluster(ROUTER).supervisors.size, 0, "the druid-operator's supervisor is terminated on delete");
});

test("two resources, one supervisor: the newer stands down, and its deletion leaves the supervisor", async () => {
  const w = new World();
  w.create(resource("a", {}, "shared"));
  await w.settle("a");
  const b = resource("b", {}, "shared");
  w.create({ ...b, metadata: { ...b.metadata, creationTimestamp: "2026-01-01T00:05:00Z" } });
  w.log.length = 0;
  await w.reconcile("b");
  assert.equal(cond(w.status("b"), "Synced"), "False/SupervisorConflict");
  assert.deepEqual(w.druidWrites(), []);
  w.markDeleted("b");
  await w.reconcile("b");
  assert.ok(w.druid.supervisors.has("shared"));
});

test("a ConfigMap that cannot be written never keeps Druid from being synced", async () => {
  const w = new World();
  w.kube.failConfigMapWith = 403;
  w.create(resource("orders"));
  await w.settle("orders");
  assert.ok(w.druid.supervisors.has("orders"));
  assert.equal(cond(w.status("orders"), "ConfigMapSynced"), "False/ConfigMapApplyFailed");
  assert.equal(cond(w.status("orders"), "Synced"), "True/Synced");
  assert.ok(w.kube.events.some((e) => e.type === "Warning" && e.reason === "ConfigMapApplyFailed"));
  w.kube.failConfigMapWith = undefined;
  await w.reconcile("orders");
  assert.equal(cond(w.status("orders"), "ConfigMapSynced"), "True/Applied");
});

test("tasks: recorded under Druid's id; a running run is polled; a finished one is not asked again", async () => {
  const w = new World();
  const spec = { ingestion: { type: "native-batch", nativeSpec: { type: "index_parallel", spec: { dataSchema: { dataSource: "wiki" } } } } };
  w.create(resource("load", spec));
  const first = await w.reconcile("load");
  const taskId = w.status("load").applied?.taskId as string;
  assert.match(taskId, /^druidingestion_team_load_[0-9a-f]{16}$/);
  assert.equal(requeueOf(first), "3000");
  const running = await w.reconcile("load");
  assert.equal(requeueOf(running), "30000", "a running task is polled");
  w.druid.tasks.get(taskId)!.statusCode = "SUCCESS";
  await w.reconcile("load");
  assert.equal(cond(w.status("load"), "Ready"), "True/Succeeded");
  w.log.length = 0;
  await w.reconcile("load");
  assert.deepEqual(w.log.filter((l) => l.includes("/task/")), [], "finished: Druid is not asked again");
});

// --- findings of the hostile review, one test each ------------------------------------------------

/** A resource reset once (resetNonce n1), with the cache serving the copy from before that reset's status write. */
async function resetSeenByAStaleCache(): Promise<World> {
  const w = new World();
  w.create(resource("orders"));
  await w.settle("orders");
  w.patchSpec("orders", { resetNonce: "n1" });
  const beforeReset = structuredClone(w.get("orders"));
  await w.reconcile("orders");
  assert.equal(w.status("orders").lastResetNonce, "n1");
  w.readFrom = () => beforeReset; // the informer has not delivered our write yet
  return w;
}

test("a reconcile on a cache that has not seen our own status write waits (no second reset)", async () => {
  const w = await resetSeenByAStaleCache();
  w.log.length = 0;
  const result = await w.reconcile("orders");
  assert.equal(w.log.length, 0, `nothing at all: no Druid call, no write: ${w.log.join(" | ")}`);
  assert.ok("requeueAfterMs" in result && (result.requeueAfterMs as number) < 1000);
  w.readFrom = undefined;
  await w.reconcile("orders");
  assert.equal(w.log.filter((l) => l.includes("/reset")).length, 0, "still exactly one reset");
});

test("a datasource rename moves the compaction config and rules; another team's on the new datasource are never overwritten", async () => {
  const w = new World();
  const batch = (ds: string) => ({ type: "index_parallel", spec: { dataSchema: { dataSource: ds } } });
  w.create(resource("load", { ingestion: { type: "native-batch", nativeSpec: batch("a1"), rules: [{ type: "loadForever" }] } }));
  await w.settle("load");
  assert.deepEqual(w.druid.rules.get("a1"), [{ type: "loadForever" }]);
  w.druid.rules.set("b2", [{ type: "loadByPeriod", period: "P1M" }]); // another team's
  w.patchSpec("load", { ingestion: { type: "native-batch", nativeSpec: batch("b2"), rules: [{ type: "dropForever" }] } });
  await w.settle("load");
  assert.equal(w.druid.rules.has("a1"), false, "the old datasource's rules were ours: removed");
  assert.deepEqual(w.druid.rules.get("b2"), [{ type: "loadByPeriod", period: "P1M" }], "the other team's rules are untouched");
  assert.equal(cond(w.status("load"), "RulesSynced"), "False/RulesExist");
});

test("a spec change after a create whose answer was lost: what that create made is removed first", async () => {
  const w = new World();
  w.create(resource("r", {}, "typo"));
  w.druid.failAfterActing.set("POST /supervisor typo", new DruidError("DruidTimeout", "timed out"));
  await w.reconcile("r");
  assert.ok(w.druid.supervisors.has("typo"));
  w.patchSpec("r", { ingestion: { type: "kafka", nativeSpec: kafka("orders") } });
  await w.settle("r");
  assert.deepEqual([...w.druid.supervisors.keys()], ["orders"], "the typo supervisor did not outlive its pending create");
  w.markDeleted("r");
  await w.reconcile("r");
  assert.equal(w.druid.supervisors.size, 0);
});

test("a supervisor created by someone else since the shared list was read is not overwritten", async () => {
  const w = new World({}, 60_000);
  w.create(resource("early", {}, "early"));
  await w.settle("early"); // the shared list is now read (and young)
  await w.druid.client({ baseUrl: DEFAULT, credentials: undefined }).submitSupervisor({ ...kafka("orders"), handMade: true });
  w.log.length = 0;
  w.create(resource("orders"));
  await w.reconcile("orders");
  assert.equal(cond(w.status("orders"), "Synced"), "False/SupervisorExists");
  assert.deepEqual(w.druidWrites(), []);
});

test("an older resource with Adopt cannot take a supervisor another resource records", async () => {
  const w = new World();
  const newer = resource("owner", {}, "orders");
  w.create({ ...newer, metadata: { ...newer.metadata, creationTimestamp: "2026-06-01T00:00:00Z" } });
  await w.settle("owner");
  const older = resource("taker", { managementPolicy: "Adopt", ingestion: { type: "kafka", nativeSpec: kafka("orders", { evil: true }) } }, "orders");
  w.create({ ...older, metadata: { ...older.metadata, creationTimestamp: "2025-01-01T00:00:00Z" } });
  w.log.length = 0;
  await w.reconcile("taker");
  assert.equal(cond(w.status("taker"), "Synced"), "False/SupervisorConflict");
  assert.deepEqual(w.druidWrites(), []);
  await w.reconcile("owner");
  assert.equal(w.status("owner").applied?.supervisorId, "orders", "the owner keeps its record");
});

test("a router Service that merely appears does not move a resource running on the default URL", async () => {
  const w = new World();
  w.create(resource("orders"));
  await w.settle("orders");
  w.services = [{ metadata: { name: "druid-tiny-routers", namespace: NS, labels: { druid_cr: "tiny", component: "router" } }, spec: { ports: [{ port: 8088 }] } }];
  w.log.length = 0;
  await w.reconcile("orders");
  assert.equal(cond(w.status("orders"), "Synced"), "False/EndpointChangeRefused");
  assert.deepEqual(w.druidWrites(), []);
  w.patchSpec("orders", { druidEndpoint: `http://druid-tiny-routers.${NS}.svc:8088` });
  await w.settle("orders");
  assert.equal(w.status("orders").applied?.druidEndpoint, `http://druid-tiny-routers.${NS}.svc:8088`, "an explicit edit moves it");
});

test("a user's ConfigMap of the same name is never taken over; ours is created, then applied", async () => {
  const w = new World();
  w.kube.configMaps.set(`${NS}/orders-druid-spec`, { metadata: { name: "orders-druid-spec", namespace: NS }, data: { notes: "the team's own" } });
  w.create(resource("orders"));
  await w.settle("orders");
  assert.deepEqual(w.kube.configMaps.get(`${NS}/orders-druid-spec`)?.data, { notes: "the team's own" }, "left as it is");
  assert.equal(cond(w.status("orders"), "ConfigMapSynced"), "False/ConfigMapApplyFailed");
  assert.match(findCondition(w.status("orders").conditions, "ConfigMapSynced")?.message ?? "", /not this resource's, so it is left as it is/);
  assert.ok(w.druid.supervisors.has("orders"), "Druid is synced regardless");
  assert.ok(!w.log.some((l) => l.startsWith("kube:configmap orders-druid-spec")), "never applied over it");

  const fresh = new World();
  fresh.create(resource("orders"));
  await fresh.reconcile("orders");
  assert.ok(fresh.log.includes("kube:configmap create orders-druid-spec"));
  fresh.patchSpec("orders", { ingestion: { type: "kafka", nativeSpec: kafka("orders", { context: { a: 1 } }) } });
  await fresh.reconcile("orders");
  assert.ok(fresh.log.includes("kube:configmap patch orders-druid-spec"), "ours (owner uid): patched");
});

test("the ConfigMap loses a key the spec no longer renders; one left by a deleted resource of the same name is taken over", async () => {
  const w = new World();
  w.create(resource("orders", { ingestion: { type: "kafka", nativeSpec: kafka("orders"), rules: [{ type: "loadForever" }] } }));
  await w.settle("orders");
  assert.ok(w.kube.configMaps.get(`${NS}/orders-druid-spec`)?.data?.["rules.json"]);
  w.patchSpec("orders", { ingestion: { type: "kafka", nativeSpec: kafka("orders") } });
  await w.settle("orders");
  assert.deepEqual(Object.keys(w.kube.configMaps.get(`${NS}/orders-druid-spec`)?.data ?? {}), ["supervisor.json"], "rules.json removed");
  assert.equal(cond(w.status("orders"), "ConfigMapSynced"), "True/Applied");

  const again = new World();
  const old = structuredClone(w.kube.configMaps.get(`${NS}/orders-druid-spec`)!);
  old.metadata!.ownerReferences = [{ apiVersion: "druid.apache.org/v1alpha1", kind: "DruidIngestion", name: "orders", uid: "uid-of-a-deleted-one", controller: true }];
  again.kube.configMaps.set(`${NS}/orders-druid-spec`, old);
  again.create(resource("orders"));
  await again.settle("orders");
  assert.equal(again.kube.configMaps.get(`${NS}/orders-druid-spec`)?.metadata?.ownerReferences?.[0]?.uid, "uid-orders");
  assert.equal(cond(again.status("orders"), "ConfigMapSynced"), "True/Applied");
});

// --- findings of the second review ----------------------------------------------------------------

const ROUTER_SVC = (name: string, cluster = "tiny"): V1Service => ({ metadata: { name, namespace: NS, labels: { druid_cr: cluster, component: "router" } }, spec: { ports: [{ port: 8088 }] } });

function operatorResource(name: string, dataSource: string, type = "kafka", body: JsonObject = kafka(dataSource)): DruidIngestion {
  const r = resource(name, { ingestion: { type, nativeSpec: body } }, dataSource);
  return { ...r, metadata: { ...r.metadata, finalizers: [FINALIZER] }, status: { taskId: dataSource, "currentIngestionSpec.json": JSON.stringify(body) } };
}

test("a rename of a resource taken over from the druid-operator moves once, then creates (no loop)", async () => {
  const w = new World();
  const ROUTER = `http://druid-tiny-routers.${NS}.svc:8088`;
  w.services = [ROUTER_SVC("druid-tiny-routers")];
  await w.cluster(ROUTER).client({ baseUrl: ROUTER, credentials: undefined }).submitSupervisor(kafka("legacy"));
  w.create(operatorResource("legacy", "legacy"));
  w.patchSpec("legacy", { ingestion: { type: "kafka", nativeSpec: kafka("legacy_v2") } });
  w.log.length = 0;
  await w.settle("legacy", 8);
  assert.equal(w.log.filter((l) => l.includes("/terminate")).length, 1, w.log.join(" | "));
  assert.deepEqual([...w.cluster(ROUTER).supervisors.keys()], ["legacy_v2"]);
  assert.equal(w.status("legacy").applied?.supervisorId, "legacy_v2");
});

test("a type change of a druid-operator supervisor record: the supervisor goes, the task comes, nothing survives deletion", async () => {
  const w = new World();
  const ROUTER = `http://druid-tiny-routers.${NS}.svc:8088`;
  w.services = [ROUTER_SVC("druid-tiny-routers")];
  await w.cluster(ROUTER).client({ baseUrl: ROUTER, credentials: undefined }).submitSupervisor(kafka("legacy"));
  w.create(operatorResource("legacy", "legacy"));
  w.patchSpec("legacy", { ingestion: { type: "native-batch", nativeSpec: { type: "index_parallel", spec: { dataSchema: { dataSource: "legacy" } } } } });
  await w.settle("legacy", 8);
  assert.equal(w.cluster(ROUTER).supervisors.size, 0, "the supervisor recorded by the druid-operator is terminated");
  assert.ok(w.status("legacy").applied?.taskId);
  w.markDeleted("legacy");
  await w.reconcile("legacy");
  assert.equal(w.cluster(ROUTER).supervisors.size, 0);
  assert.equal([...w.cluster(ROUTER).tasks.values()].filter((t) => t.statusCode === "RUNNING").length, 0);
});

test("resolving a stale pending create never removes what another resource records", async () => {
  const w = new World();
  w.create(resource("r", {}, "typo"));
  w.druid.failNext.set("POST /supervisor typo", new DruidError("DruidTimeout", "timed out")); // Druid did not act
  await w.reconcile("r");
  assert.equal(w.status("r").pendingCreate?.supervisorId, "typo");
  const b = resource("b", {}, "typo");
  w.create({ ...b, metadata: { ...b.metadata, creationTimestamp: "2025-01-01T00:00:00Z" } });
  w.now = new Date(w.now.getTime() + 1000);
  await w.settle("b");
  assert.equal(w.status("b").applied?.supervisorId, "typo");
  w.patchSpec("r", { ingestion: { type: "kafka", nativeSpec: kafka("orders") } });
  await w.settle("r");
  assert.ok(w.druid.supervisors.has("typo"), "b's supervisor survives");
  assert.ok(w.druid.supervisors.has("orders"));
});

test("if the cache never shows our write, the resource is read from the API server instead of repeating a reset", async () => {
  const w = await resetSeenByAStaleCache();
  assert.ok("requeueAfterMs" in (await w.reconcile("orders")), "waits first");
  w.mono += 31_000;
  w.log.length = 0;
  await w.reconcile("orders");
  assert.ok(w.log.includes(`kube:get ${NS}/orders`), "read from the API server");
  assert.equal(w.log.filter((l) => l.includes("/reset")).length, 0, "no second reset");
});

test("a druid-operator record renamed onto another team's datasource leaves that team's rules alone", async () => {
  const w = new World();
  const ROUTER = `http://druid-tiny-routers.${NS}.svc:8088`;
  w.services = [ROUTER_SVC("druid-tiny-routers")];
  const druid = w.cluster(ROUTER);
  druid.version = "34.0.0";
  const body = kafka("a", { id: "sup" });
  await druid.client({ baseUrl: ROUTER, credentials: undefined }).submitSupervisor(body);
  druid.rules.set("b", [{ type: "loadForever" }]);
  w.create(operatorResource("op", "sup", "kafka", body));
  // Another datasource, the same topic (another topic would be refused: StreamChangeRefused).
  w.patchSpec("op", { ingestion: { type: "kafka", nativeSpec: { ...kafka("b", { id: "sup" }), spec: { dataSchema: { dataSource: "b" }, ioConfig: { topic: "a" } } }, rules: [{ type: "dropForever" }] } });
  await w.settle("op", 8);
  assert.deepEqual(druid.rules.get("b"), [{ type: "loadForever" }]);
  assert.equal(cond(w.status("op"), "RulesSynced"), "False/RulesExist");
});

test("discovery giving another URL by itself (another labelled Service) never moves; the same Druid is re-pointed", async () => {
  const w = new World();
  w.services = [ROUTER_SVC("b-routers")];
  const B = `http://b-routers.${NS}.svc:8088`;
  w.create(resource("orders"));
  await w.settle("orders");
  assert.equal(w.status("orders").applied?.druidEndpoint, B);
  // A Service that sorts first, to another Druid that happens to have the same id.
  const A = `http://a-routers.${NS}.svc:8088`;
  await w.cluster(A).client({ baseUrl: A, credentials: undefined }).submitSupervisor(kafka("orders"));
  w.services = [ROUTER_SVC("a-routers"), ROUTER_SVC("b-routers")];
  w.log.length = 0;
  await w.reconcile("orders");
  assert.equal(cond(w.status("orders"), "Synced"), "False/EndpointChangeRefused");
  assert.deepEqual(w.druidWrites(), []);
  assert.ok(w.cluster(B).supervisors.has("orders"));
  assert.equal(w.log.filter((l) => l.includes(A)).length, 0, "not even a read goes to the new URL (no credentials to whoever made that Service)");
  // Another name for the same Druid: refused too, until the resource says so; then followed.
  const ZERO = `http://0-routers.${NS}.svc:8088`;
  w.alias(ZERO, B);
  w.services = [ROUTER_SVC("0-routers"), ROUTER_SVC("b-routers")];
  await w.reconcile("orders");
  assert.equal(cond(w.status("orders"), "Synced"), "False/EndpointChangeRefused");
  assert.match(findCondition(w.status("orders").conditions, "Synced")?.message ?? "", /set spec.druidEndpoint: http:\/\/0-routers/);
  w.patchSpec("orders", { druidEndpoint: ZERO });
  w.log.length = 0;
  await w.settle("orders");
  assert.equal(w.status("orders").applied?.druidEndpoint, ZERO);
  assert.equal(cond(w.status("orders"), "Synced"), "True/Synced");
  assert.deepEqual(w.druidWrites(), [], "the same Druid: nothing restarted");
});

test("a lost create under an explicit id, then a datasource change: no wait on its own lock", async () => {
  const w = new World();
  w.druid.version = "34.0.0";
  w.create(resource("r", { ingestion: { type: "kafka", nativeSpec: kafka("a", { id: "sup" }), rules: [{ type: "loadForever" }] } }));
  w.druid.failAfterActing.set("POST /supervisor sup", new DruidError("DruidTimeout", "timed out")); // Druid acted
  await w.reconcile("r");
  w.patchSpec("r", { ingestion: { type: "kafka", nativeSpec: kafka("b", { id: "sup" }), rules: [{ type: "loadForever" }] } });
  const result = await w.settle("r");
  assert.notEqual(requeueOf(result), "1000");
  assert.equal(cond(w.status("r"), "Synced"), "True/Synced");
  assert.ok(w.druid.supervisors.has("sup"));
});

test("a druid-operator resource renamed: the rules it applied (its status keeps a copy) go with the old datasource", async () => {
  const w = new World();
  const ROUTER = `http://druid-tiny-routers.${NS}.svc:8088`;
  w.services = [ROUTER_SVC("druid-tiny-routers")];
  const druid = w.cluster(ROUTER);
  await druid.client({ baseUrl: ROUTER, credentials: undefined }).submitSupervisor(kafka("legacy"));
  druid.rules.set("legacy", [{ type: "loadForever" }]);
  const r = operatorResource("legacy", "legacy");
  w.create({ ...r, spec: { ...r.spec, ingestion: { ...r.spec.ingestion, rules: [{ type: "loadForever" }] } }, status: { ...r.status, rules: [{ type: "loadForever" }] } });
  w.patchSpec("legacy", { ingestion: { type: "kafka", nativeSpec: kafka("legacy_v2"), rules: [{ type: "loadForever" }] } });
  await w.settle("legacy", 8);
  assert.equal(druid.rules.has("legacy"), false);
  assert.deepEqual(druid.rules.get("legacy_v2"), [{ type: "loadForever" }]);
});

// --- resets and offset resets: at most once per nonce ------------------------------------------------

/** The two requests made with a nonce, each tested the same way (nonces.ts carries both). */
const NONCE_REQUESTS = [
  { what: "reset", field: "resetNonce", with: {}, route: "reset", last: "lastResetNonce", pending: "pendingReset", condition: "ResetApplied" },
  { what: "offsets reset", field: "resetOffsetsNonce", with: { resetOffsets: { partitions: { "0": 7 } } }, route: "resetOffsets", last: "lastResetOffsetsNonce", pending: "pendingResetOffsets", condition: "OffsetsResetApplied" },
] as const;

for (const r of NONCE_REQUESTS) {
  const sent = (w: World): number => w.log.filter((l) => l.startsWith(`druid:POST /supervisor/orders/${r.route} @`)).length;
  const asking = (nonce: string): Partial<DruidIngestionSpec> => ({ ...r.with, [r.field]: nonce });
  const runningWithNonce = async (nonce: string): Promise<World> => {
    const w = new World();
    w.create(resource("orders"));
    await w.settle("orders");
    w.druid.supervisors.get("orders")!.state = "RUNNING";
    w.patchSpec("orders", asking(nonce));
    return w;
  };

  test(`${r.what}: the intent is recorded (conditionally) before the POST, and the nonce after Druid's answer`, async () => {
    const w = await runningWithNonce("n1");
    w.log.length = 0;
    await w.reconcile("orders");
    const intent = w.log.findIndex((l) => new RegExp(`^kube:status .*${r.pending}.* @\\d+$`).test(l));
    const post = w.log.findIndex((l) => l.startsWith(`druid:POST /supervisor/orders/${r.route} @`));
    assert.ok(intent >= 0 && intent < post, `intent with a resourceVersion precondition before the call: ${w.log.join(" | ")}`);
    const status = w.status("orders");
    assert.equal(status[r.last], "n1");
    assert.equal(status[r.pending], undefined);
    assert.equal(cond(status, r.condition), "True/Reset");
    await w.settle("orders");
    assert.equal(sent(w), 1);
  });

  test(`${r.what}: one whose answer was lost (Druid acted, then 502) is never sent again; a new nonce sends it once more`, async () => {
    const w = await runningWithNonce("n1");
    w.druid.failAfterActing.set(`POST /supervisor/orders/${r.route}`, new DruidError("DruidUnavailable", `POST /${r.route}: HTTP 502: bad gateway`, { statusCode: 502 }));
    await w.reconcile("orders");
    assert.equal(sent(w), 1);
    let status = w.status("orders");
    assert.equal(status[r.pending]?.nonce, "n1");
    assert.equal(status[r.last], undefined);
    assert.equal(cond(status, r.condition), "Unknown/ResetOutcomeUnknown");
    assert.match(findCondition(status.conditions, r.condition)?.message ?? "", new RegExp(`new spec\\.${r.field}`));
    w.now = new Date(w.now.getTime() + 120_000);
    await w.settle("orders");
    await w.reconcile("orders");
    assert.equal(sent(w), 1, "not repeated, however often it is reconciled");
    assert.equal(cond(w.status("orders"), r.condition), "Unknown/ResetOutcomeUnknown");
    w.patchSpec("orders", asking("n2"));
    await w.settle("orders");
    assert.equal(sent(w), 2);
    status = w.status("orders");
    assert.equal(status[r.last], "n2");
    assert.equal(status[r.pending], undefined);
    assert.equal(cond(status, r.condition), "True/Reset");
  });

  test(`${r.what}: a crash between recording the intent and Druid's answer: reported unknown, not repeated`, async () => {
    const w = await runningWithNonce("n1");
    const o = w.get("orders");
    // What a controller killed right after the POST left behind: the intent, no last nonce.
    w.kube.put({ ...o, status: { ...o.status, [r.pending]: { nonce: "n1", supervisorId: "orders", druidEndpoint: DEFAULT, since: "2026-01-01T00:09:00Z" } } });
    w.log.length = 0;
    await w.settle("orders");
    assert.equal(sent(w), 0);
    assert.equal(cond(w.status("orders"), r.condition), "Unknown/ResetOutcomeUnknown");
  });

  test(`${r.what}: one that certainly did not reach Druid (refused, 400) is tried again`, async () => {
    const w = await runningWithNonce("n1");
    w.druid.failNext.set(`POST /supervisor/orders/${r.route}`, new DruidError("DruidRejected", `POST /${r.route}: HTTP 400: not now`, { statusCode: 400 }));
    await w.reconcile("orders");
    assert.equal(w.status("orders")[r.pending], undefined, "nothing happened: no intent left");
    assert.equal(cond(w.status("orders"), r.condition), "False/DruidRejected");
    await w.reconcile("orders");
    assert.equal(sent(w), 2);
    assert.equal(w.status("orders")[r.last], "n1");
  });

  test(`${r.what}: a confirmed one whose status write loses a race is still recorded (no false 'unknown')`, async () => {
    const w = await runningWithNonce("n1");
    let raced = false;
    w.kube.beforeStatusPatch = (_ns, _name, patch) => {
      if (!raced && patch[r.last] === "n1") {
        raced = true;
        const o = w.get("orders");
        w.kube.put({ ...o, metadata: { ...o.metadata, labels: { edited: "meanwhile" } } }); // another writer
      }
    };
    await w.reconcile("orders");
    assert.ok(raced);
    const status = w.status("orders");
    assert.equal(status[r.last], "n1");
    assert.equal(status[r.pending], undefined);
    await w.settle("orders");
    assert.equal(sent(w), 1);
    assert.match(cond(w.status("orders"), r.condition), /^True\//);
  });

  test(`${r.what}: the intent write fails on a stale copy (resourceVersion precondition): nothing is sent`, async () => {
    const w = await runningWithNonce("n1");
    const stale = structuredClone(w.get("orders"));
    const o = w.get("orders");
    w.kube.put({ ...o, metadata: { ...o.metadata, labels: { edited: "meanwhile" } } });
    w.readFrom = () => stale;
    await w.reconcile("orders");
    assert.equal(sent(w), 0);
    w.readFrom = undefined;
    await w.reconcile("orders");
    assert.equal(sent(w), 1);
  });
}

test("a reset and an offsets reset asked together: the full reset first, the offsets on top at the next reconcile, both recorded", async () => {
  const w = new World();
  w.create(resource("orders"));
  await w.settle("orders");
  w.druid.supervisors.get("orders")!.state = "RUNNING";
  w.patchSpec("orders", { resetNonce: "n1", resetOffsetsNonce: "o1", resetOffsets: { partitions: { "0": 7 } } });
  w.log.length = 0;
  await w.reconcile("orders");
  assert.deepEqual(w.druidWrites().map((l) => l.split(" ")[1]), ["/supervisor/orders/reset"]);
  assert.equal(cond(w.status("orders"), "OffsetsResetApplied"), "Unknown/WaitingForSupervisor");
  await w.settle("orders");
  assert.deepEqual(w.druidWrites().map((l) => l.split(" ")[1]), ["/supervisor/orders/reset", "/supervisor/orders/resetOffsets"]);
  assert.deepEqual(w.druid.offsetResets, [{ id: "orders", metadata: { type: "kafka", partitions: { type: "end", stream: "orders", partitionSequenceNumberMap: { "0": 7 } } } }]);
  const status = w.status("orders");
  assert.equal(status.lastResetNonce, "n1");
  assert.equal(status.lastResetOffsetsNonce, "o1");
  assert.equal(cond(status, "ResetApplied"), "True/Reset");
  assert.equal(cond(status, "OffsetsResetApplied"), "True/Reset");
  assert.match(findCondition(status.conditions, "OffsetsResetApplied")?.message ?? "", /partition 0 → 7/);
  assert.ok(w.kube.events.some((e) => e.reason === "OffsetsReset" && /partition 0 → 7/.test(e.message)), JSON.stringify(w.kube.events));
});

test("an offsets reset Druid cannot take holds nothing else back: the suspend goes, the condition and a Warning say why", async () => {
  const w = new World();
  w.create(resource("orders"));
  await w.settle("orders");
  w.druid.supervisors.get("orders")!.state = "RUNNING";
  w.patchSpec("orders", { suspend: true, resetOffsetsNonce: "o1", resetOffsets: { latestAndBackfill: {} } });
  await w.settle("orders");
  assert.equal(w.druid.supervisors.get("orders")!.spec["suspended"], true);
  const status = w.status("orders");
  assert.equal(cond(status, "Synced"), "True/Synced");
  assert.equal(cond(status, "OffsetsResetApplied"), "False/ResetToLatestAndBackfillUnsupported");
  assert.ok(w.kube.events.some((e) => e.type === "Warning" && e.reason === "ResetToLatestAndBackfillUnsupported"));
  assert.deepEqual(w.druid.offsetResets, []);
});

test("a create whose answer was lost, confirmed later: the nonces it carried are consumed, not sent to the new supervisor", async () => {
  const w = new World();
  w.create(resource("orders", { resetNonce: "n1", resetOffsetsNonce: "o1", resetOffsets: { partitions: { "0": 7 } } }));
  w.druid.failAfterActing.set("POST /supervisor orders", new DruidError("DruidTimeout", "POST /supervisor: timed out"));
  await w.reconcile("orders");
  w.druid.supervisors.get("orders")!.state = "RUNNING";
  await w.settle("orders");
  assert.deepEqual(w.druidWrites().filter((l) => l.includes("/reset")), []);
  assert.equal(w.status("orders").lastResetNonce, "n1");
  assert.equal(w.status("orders").lastResetOffsetsNonce, "o1");
});

test("an offsets nonce set when the resource is first applied moves nothing (a manifest applied again to a new cluster)", async () => {
  const w = new World();
  w.create(resource("orders", { resetOffsetsNonce: "o1", resetOffsets: { partitions: { "0": 7 } } }));
  await w.settle("orders");
  assert.deepEqual(w.druid.offsetResets, []);
  assert.equal(w.status("orders").lastResetOffsetsNonce, "o1");
  assert.equal(cond(w.status("orders"), "OffsetsResetApplied"), "True/Done");
});

// --- last known good (spec.rollback, #12) ------------------------------------------------------------

const withBootstrap = (bootstrap: string): Partial<DruidIngestionSpec> => ({ ingestion: { type: "kafka", nativeSpec: kafka("orders", { spec: { dataSchema: { dataSource: "orders" }, ioConfig: { topic: "orders", consumerProperties: { "bootstrap.servers": bootstrap } } } }) } });
const bootstrapInDruid = (w: World): unknown => (((w.druid.supervisors.get("orders")?.spec["spec"] as JsonObject)["ioConfig"] as JsonObject)["consumerProperties"] as JsonObject)["bootstrap.servers"];

/** Running healthy on a good spec for longer than the window: it is the last known good. */
async function runningWithLastKnownGood(): Promise<World> {
  const w = new World();
  w.create(resource("orders", { rollback: { enabled: true, window: "60s" }, ...withBootstrap("good:9092") }));
  await w.settle("orders");
  w.druid.supervisors.get("orders")!.state = "RUNNING";
  w.now = new Date(w.now.getTime() + 61_000);
  await w.reconcile("orders");
  assert.equal(w.status("orders").lastKnownGood?.specHash, w.status("orders").specHash);
  return w;
}

test("last known good: a supervisor unhealthy within the window after an update is put back on the last known good spec, once; a suspend does not bring the bad spec back", async () => {
  const w = await runningWithLastKnownGood();
  const good = w.status("orders").lastKnownGood!;
  w.patchSpec("orders", withBootstrap("bad:9092"));
  await w.settle("orders");
  assert.equal(bootstrapInDruid(w), "bad:9092");
  const orders = w.druid.supervisors.get("orders")!;
  orders.state = "RUNNING";
  orders.unhealthy = { detailedState: "UNABLE_TO_CONNECT_TO_STREAM", errors: [{ timestamp: "2026-01-01T00:11:00Z", exceptionClass: "org.apache.kafka.common.KafkaException", message: "no brokers" }] };
  w.now = new Date(w.now.getTime() + 20_000);
  await w.settle("orders");
  assert.equal(bootstrapInDruid(w), "good:9092", "the last known good spec is back in Druid");
  let status = w.status("orders");
  assert.equal(status.rollback?.reason, "Unhealthy");
  assert.equal(status.rollback?.generation, 2);
  assert.equal(status.specHash, good.specHash);
  assert.equal(cond(status, "Synced"), "False/RolledBack");
  assert.match(findCondition(status.conditions, "Synced")?.message ?? "", /unhealthy, RUNNING \(UNABLE_TO_CONNECT_TO_STREAM\).*rolled back to the last known good spec.*this spec \(hash [0-9a-f]{12}\) is not applied again/);
  assert.ok(w.kube.events.some((e) => e.type === "Warning" && e.reason === "RolledBack"), JSON.stringify(w.kube.events));
  // Unhealthy again on the good spec (the brokers are down): no flapping, nothing more is sent.
  const writes = w.druidWrites().length;
  w.now = new Date(w.now.getTime() + 30_000);
  await w.settle("orders");
  assert.equal(w.druidWrites().length, writes);
  // Suspended and resumed (new generations, the same spec): still the last known good.
  w.patchSpec("orders", { suspend: true });
  await w.settle("orders");
  assert.equal(bootstrapInDruid(w), "good:9092");
  assert.equal(w.druid.supervisors.get("orders")!.spec["suspended"], true);
  w.patchSpec("orders", { suspend: false });
  await w.settle("orders");
  assert.equal(bootstrapInDruid(w), "good:9092");
  assert.equal(cond(w.status("orders"), "Synced"), "False/RolledBack");
  // The next change of the spec is applied as usual.
  w.druid.supervisors.get("orders")!.unhealthy = undefined;
  w.patchSpec("orders", withBootstrap("fixed:9092"));
  await w.settle("orders");
  assert.equal(bootstrapInDruid(w), "fixed:9092");
  status = w.status("orders");
  assert.equal(cond(status, "Synced"), "True/Synced");
  assert.equal(status.rollback?.generation, 2, "the record of the last rollback stays");
});

test("last known good: an update Druid refuses leaves the last known good running; a supervisor lost on the way is created again from it", async () => {
  const w = await runningWithLastKnownGood();
  w.patchSpec("orders", withBootstrap("bad:9092"));
  w.druid.failNext.set("POST /supervisor orders", new DruidError("DruidRejected", "POST /druid/indexer/v1/supervisor: HTTP 400: Could not resolve type id 'jsn'", { statusCode: 400 }));
  await w.reconcile("orders");
  assert.equal(w.status("orders").rollback?.reason, "DruidRejected");
  assert.equal(bootstrapInDruid(w), "good:9092");
  // Druid dropped the supervisor while refusing the update (apache/druid#18827).
  w.druid.supervisors.delete("orders");
  await w.settle("orders");
  assert.equal(bootstrapInDruid(w), "good:9092", "created again from the last known good, not from the refused spec");
  const status = w.status("orders");
  assert.equal(cond(status, "Synced"), "False/RolledBack");
  assert.match(findCondition(status.conditions, "Synced")?.message ?? "", /Druid refused generation 2's supervisor spec \(.*Could not resolve type id/);
  assert.equal(w.log.filter((l) => l.startsWith("druid:POST /supervisor orders")).length, 3, "create, the refused update, the create from the last known good");
});

test("last known good: without spec.rollback nothing is recorded or rolled back", async () => {
  const w = new World();
  w.create(resource("orders", withBootstrap("good:9092")));
  await w.settle("orders");
  w.druid.supervisors.get("orders")!.state = "RUNNING";
  w.now = new Date(w.now.getTime() + 700_000);
  await w.reconcile("orders");
  assert.equal(w.status("orders").lastKnownGood, undefined);
  w.patchSpec("orders", withBootstrap("bad:9092"));
  await w.settle("orders");
  w.druid.supervisors.get("orders")!.unhealthy = { detailedState: "UNABLE_TO_CONNECT_TO_STREAM", errors: [] };
  await w.settle("orders");
  assert.equal(bootstrapInDruid(w), "bad:9092");
  assert.equal(w.status("orders").rollback, undefined);
});

// --- security (#10) ---------------------------------------------------------------------------

function allowOnly(w: World, list: string): void {
  const allowed = parseAllowedEndpoints(list);
  w.endpointPolicy = (url) => allowEndpoint(url, { allowed, defaultUrl: DEFAULT_URL, discovery: true, namespace: NS, routerService: (ns, name) => w.services.find((s) => s.metadata?.namespace === ns && s.metadata?.name === name) });
}

test("a spec.druidEndpoint the administrator did not allow: refused before the Secret is read or anything is sent", async () => {
  const w = new World();
  allowOnly(w, "https://*.druid.example.com");
  w.create(resource("orders", { druidEndpoint: "https://capture.attacker.io:8443" }));
  await w.settle("orders");
  assert.deepEqual(w.log.filter((l) => l.startsWith("druid:") || l.startsWith("kube:secretExists")), []);
  const synced = findCondition(w.status("orders").conditions, "Synced");
  assert.equal(synced?.reason, "EndpointNotAllowed");
  assert.match(synced?.message ?? "", /https:\/\/capture\.attacker\.io:8443 is not an allowed Druid endpoint.*ALLOWED_DRUID_ENDPOINTS/);
  // Allowed by the administrator: it works.
  allowOnly(w, "https://*.attacker.io:8443");
  await w.settle("orders");
  assert.ok(w.druidWrites().some((l) => l.startsWith("druid:POST /supervisor orders @https://capture.attacker.io:8443")), w.druidWrites().join(" | "));
});

test("an endpoint taken off the allow-list: no request at all goes there, deletion included (the finalizer says why)", async () => {
  const w = new World();
  allowOnly(w, "https://druid.example.com");
  w.create(resource("orders", { druidEndpoint: "https://druid.example.com" }));
  await w.settle("orders");
  assert.equal(w.status("orders").applied?.druidEndpoint, "https://druid.example.com");
  allowOnly(w, "");
  const before = w.log.length;
  w.markDeleted("orders");
  await w.reconcile("orders");
  const since = w.log.slice(before);
  assert.ok(since.some((l) => l.startsWith("druid:refused")), since.join(" | "));
  assert.ok(!since.some((l) => /^druid:(GET|POST)/.test(l)), since.join(" | "));
  assert.ok(w.get("orders").metadata.finalizers?.includes(FINALIZER));
  assert.match(findCondition(w.status("orders").conditions, "Synced")?.message ?? "", /not an allowed Druid endpoint.*deletionPolicy: Orphan/s);
});

test("a Secret that did not opt in is never used: the reason names the label command; labelling it lets the resource through", async () => {
  const w = new World();
  const unlabelled: V1Secret = { ...authSecret, metadata: { name: "auth", namespace: NS } };
  w.secrets = [unlabelled];
  w.create(resource("orders"));
  await w.settle("orders");
  assert.deepEqual(w.druidWrites(), []);
  assert.ok(!w.log.some((l) => l.startsWith("druid:")), "no Druid call without usable credentials");
  assert.ok(w.log.includes(`kube:secretExists ${NS}/auth`));
  const synced = findCondition(w.status("orders").conditions, "Synced");
  assert.equal(synced?.reason, "SecretNotOptedIn");
  assert.match(synced?.message ?? "", /kubectl label secret -n team auth druid\.apache\.org\/credentials=true/);
  w.secrets = [authSecret];
  await w.settle("orders");
  assert.ok(w.druidWrites().some((l) => l.startsWith("druid:POST /supervisor orders")));
});

// --- Secret references in the spec ---------------------------------------------------------------

const jaas = (password: string): string => `org.apache.kafka.common.security.plain.PlainLoginModule required username="druid" password="${password}";`;

function kafkaSecret(password: string, opts: { labelled?: boolean; resourceVersion?: string } = {}): V1Secret {
  return {
    metadata: { name: "kafka-sasl", namespace: NS, uid: "uid-kafka-sasl", resourceVersion: opts.resourceVersion ?? "1", labels: opts.labelled === false ? {} : { [CREDENTIALS_LABEL]: "true" }, annotations: { [REFERENCEABLE_KEYS_ANNOTATION]: "jaas, other" } },
    data: { jaas: Buffer.from(jaas(password)).toString("base64") },
  };
}

function saslKafka(dataSource: string, key = "jaas"): JsonObject {
  return { type: "kafka", spec: { dataSchema: { dataSource }, ioConfig: { topic: dataSource, consumerProperties: { "bootstrap.servers": "k:9092", "sasl.jaas.config": { secretKeyRef: { name: "kafka-sasl", key } } } } } };
}

function withKafkaSecret(w: World, secret: V1Secret): void {
  w.secrets = [...w.secrets.filter((s) => s.metadata?.name !== "kafka-sasl"), secret];
}

/** Everything the controller wrote or said about the resource, but what it sent to Druid. */
function everythingShown(w: World, name: string): string {
  return JSON.stringify([w.get(name), [...w.kube.configMaps.values()], w.kube.events, w.logLines]);
}

function storedJaas(w: World, supervisorId: string): unknown {
  const spec = w.druid.supervisors.get(supervisorId)?.spec as { spec: { ioConfig: { consumerProperties: Record<string, unknown> } } } | undefined;
  return spec?.spec.ioConfig.consumerProperties["sasl.jaas.config"];
}

function druidPosts(w: World): string[] {
  return w.druidWrites().filter((l) => l.startsWith("druid:POST /supervisor orders") || l.startsWith("druid:POST /task"));
}

test("Secret references: the body POSTed to Druid has the value; the ConfigMap, status, Events and logs keep the reference", async () => {
  const w = new World();
  withKafkaSecret(w, kafkaSecret("s3cr3t-one"));
  w.create(resource("orders", { ingestion: { type: "kafka", nativeSpec: saslKafka("orders") } }));
  await w.settle("orders");
  assert.equal(storedJaas(w, "orders"), jaas("s3cr3t-one"));
  const configMap = w.kube.configMaps.get(`${NS}/orders-druid-spec`);
  assert.match(configMap?.data?.["supervisor.json"] ?? "", /"sasl.jaas.config":\{"secretKeyRef":\{"key":"jaas","name":"kafka-sasl"\}\}/);
  const status = w.status("orders");
  assert.match(status["currentIngestionSpec.json"] ?? "", /secretKeyRef/);
  assert.equal(cond(status, "Synced"), "True/Synced");
  assert.doesNotMatch(everythingShown(w, "orders"), /s3cr3t/);
  // The hash is the spec's, references as references: nothing derived from a value.
  const rendered = renderIngestion(w.get("orders"));
  assert.equal(status.specHash, rendered.specHash);
  assert.equal(configMap?.metadata?.annotations?.["ingestion.druid.apache.org/spec-hash"], status.specHash);
  assert.ok(status.driftIgnorePaths?.includes("/spec/ioConfig/consumerProperties/sasl.jaas.config"), "Druid's copy is hashed without the value");
});

test("a spec without Secret references keeps its plain hash in status and ConfigMap", async () => {
  const w = new World();
  w.create(resource("orders"));
  await w.settle("orders");
  const expected = sha256Hex(renderIngestion(w.get("orders")).canonical);
  assert.equal(w.status("orders").specHash, expected);
  assert.equal(w.kube.configMaps.get(`${NS}/orders-druid-spec`)?.metadata?.annotations?.["ingestion.druid.apache.org/spec-hash"], expected);
  assert.equal(w.status("orders").driftIgnorePaths, undefined);
});

/** "orders" running, with its SASL login referenced from a Secret holding `password`. */
async function runningWithKafkaSecret(password: string): Promise<World> {
  const w = new World();
  withKafkaSecret(w, kafkaSecret(password));
  w.create(resource("orders", { ingestion: { type: "kafka", nativeSpec: saslKafka("orders") } }));
  await w.settle("orders");
  w.druid.supervisors.get("orders")!.state = "RUNNING";
  await w.settle("orders");
  return w;
}

test("rotating a referenced value updates the supervisor exactly once; a Secret edited otherwise (labels, another key, a resync) never", async () => {
  const w = await runningWithKafkaSecret("s3cr3t-one");
  const first = w.status("orders");
  assert.equal(druidPosts(w).length, 1);

  // external-secrets, Reflector, kubectl label: a new resourceVersion, the same value.
  withKafkaSecret(w, kafkaSecret("s3cr3t-one", { resourceVersion: "2" }));
  w.now = new Date(w.now.getTime() + 61_000);
  await w.settle("orders");
  assert.equal(druidPosts(w).length, 1, "the same value: no POST");
  assert.equal(w.status("orders").specHash, first.specHash);

  withKafkaSecret(w, kafkaSecret("s3cr3t-two", { resourceVersion: "3" }));
  w.now = new Date(w.now.getTime() + 61_000);
  await w.settle("orders");
  w.druid.supervisors.get("orders")!.state = "RUNNING";
  w.now = new Date(w.now.getTime() + 61_000);
  await w.settle("orders");
  assert.equal(druidPosts(w).length, 2, `one update: ${druidPosts(w).join(" | ")}`);
  assert.equal(storedJaas(w, "orders"), jaas("s3cr3t-two"));
  assert.deepEqual(w.kube.events.map((e) => e.reason), ["Created", "Updated"]);
  const after = w.status("orders");
  assert.equal(after.specHash, first.specHash, "no hash holds anything of a value");
  assert.doesNotMatch(everythingShown(w, "orders"), /s3cr3t/);
});

test("a referenced Secret that is not usable stops before Druid with the reason, from its metadata only", async () => {
  const rows: Array<[string, (w: World) => void, string, RegExp]> = [
    ["not labelled", (w) => withKafkaSecret(w, kafkaSecret("s3cr3t", { labelled: false })), "False/SecretNotOptedIn", /kubectl label secret -n team kafka-sasl druid\.apache\.org\/credentials=true/],
    ["missing", () => {}, "False/SecretNotFound", /Secret team\/kafka-sasl not found: create it with the key jaas/],
    ["without the key", (w) => withKafkaSecret(w, kafkaSecret("s3cr3t")), "False/SecretKeyMissing", /Secret team\/kafka-sasl has no key other \(referenced by the secretKeyRef at spec\.ioConfig\.consumerProperties\["sasl\.jaas\.config"\]\)/],
  ];
  for (const [name, setup, ready, message] of rows) {
    const w = new World();
    setup(w);
    w.create(resource("orders", { ingestion: { type: "kafka", nativeSpec: saslKafka("orders", name === "without the key" ? "other" : "jaas") } }));
    await w.settle("orders");
    const status = w.status("orders");
    assert.equal(cond(status, "Ready"), ready, name);
    assert.equal(cond(status, "Synced"), ready, name);
    assert.match(findCondition(status.conditions, "Synced")?.message ?? "", message, name);
    assert.deepEqual(w.druidWrites(), [], `${name}: nothing POSTed`);
    assert.doesNotMatch(everythingShown(w, "orders"), /s3cr3t/, name);
  }
});

test("a value edited in Druid by hand (or a reference sent unresolved by someone else) is corrected, once", async () => {
  const w = await runningWithKafkaSecret("s3cr3t-one");
  const stored = w.druid.supervisors.get("orders")!.spec as { spec: { ioConfig: { consumerProperties: Record<string, unknown> } } };
  stored.spec.ioConfig.consumerProperties["sasl.jaas.config"] = { secretKeyRef: { name: "kafka-sasl", key: "jaas" } };
  w.now = new Date(w.now.getTime() + 61_000); // the next resync's reading
  await w.settle("orders");
  assert.equal(storedJaas(w, "orders"), jaas("s3cr3t-one"));
  assert.deepEqual(w.kube.events.map((e) => e.reason), ["Created", "Updated"]);
  w.now = new Date(w.now.getTime() + 61_000);
  await w.settle("orders");
  assert.equal(druidPosts(w).length, 2, "then idle");
  // A property Druid dropped (or turned into something else) cannot be compared: no POST loop.
  delete stored.spec.ioConfig.consumerProperties["sasl.jaas.config"];
  const dropped = w.druid.supervisors.get("orders")!.spec as typeof stored;
  delete dropped.spec.ioConfig.consumerProperties["sasl.jaas.config"];
  for (let i = 0; i < 3; i++) {
    w.now = new Date(w.now.getTime() + 61_000);
    await w.settle("orders");
  }
  assert.equal(druidPosts(w).length, 2, "nothing to compare: nothing sent");
});

test("a Druid 400 that echoes the value: the client is given the values and Druid's text is cleaned of them", async () => {
  const w = new World();
  withKafkaSecret(w, kafkaSecret("s3cr3t-one"));
  w.create(resource("orders", { ingestion: { type: "kafka", nativeSpec: saslKafka("orders") } }));
  const echo = `Cannot construct instance of KafkaSupervisorIOConfig from ${JSON.stringify({ "sasl.jaas.config": jaas("s3cr3t-one") })}`;
  w.druid.failNext.set("POST /supervisor orders", new DruidError("DruidRejected", `POST /druid/indexer/v1/supervisor: HTTP 400: ${echo}`, { statusCode: 400, druidMessage: echo }));
  await w.reconcile("orders");
  const status = w.status("orders");
  assert.equal(cond(status, "Synced"), "False/DruidRejected");
  assert.match(status.message ?? "", /\[redacted\]/);
  assert.ok(w.kube.events.some((e) => e.reason === "DruidRejected" && e.message.includes("[redacted]")));
  assert.ok(w.logLines.some((l) => l.includes("Druid call failed")));
  assert.doesNotMatch(everythingShown(w, "orders"), /s3cr3t/);
});

test("deletion never needs the spec's Secret references: an unusable one does not block it", async () => {
  const w = new World();
  withKafkaSecret(w, kafkaSecret("s3cr3t-one"));
  w.create(resource("orders", { ingestion: { type: "kafka", nativeSpec: saslKafka("orders") } }));
  await w.settle("orders");
  assert.ok(w.druid.supervisors.has("orders"));
  w.secrets = w.secrets.filter((s) => s.metadata?.name !== "kafka-sasl");
  w.markDeleted("orders");
  await w.reconcile("orders");
  assert.equal(w.druid.supervisors.has("orders"), false, "terminated");
  assert.equal(w.kube.get(NS, "orders"), undefined, "finalizer removed");
});

/** A native-batch "batch" whose S3 key is referenced from a Secret, submitted. */
async function batchWithKafkaSecret(): Promise<{ w: World; task: (LiveTask & { payload: JsonObject }) | undefined }> {
  const w = new World();
  withKafkaSecret(w, kafkaSecret("s3cr3t-one"));
  const batch: JsonObject = { type: "index_parallel", spec: { dataSchema: { dataSource: "batch" }, ioConfig: { type: "index_parallel", inputSource: { type: "s3", properties: { secretAccessKey: { secretKeyRef: { name: "kafka-sasl", key: "jaas" } } } } } } };
  w.create(resource("batch", { ingestion: { type: "native-batch", nativeSpec: batch } }));
  await w.settle("batch");
  const [task] = [...w.druid.tasks.values()];
  return { w, task };
}

test("a task gets the value in its payload; a rotated value does not start a new run", async () => {
  const { w, task } = await batchWithKafkaSecret();
  const payload = task?.payload as { spec: { ioConfig: { inputSource: { properties: { secretAccessKey: string } } } } };
  assert.equal(payload.spec.ioConfig.inputSource.properties.secretAccessKey, jaas("s3cr3t-one"));
  assert.equal(w.status("batch").specHash, sha256Hex(renderIngestion(w.get("batch")).canonical), "a task's hash is its spec's");
  withKafkaSecret(w, kafkaSecret("s3cr3t-two", { resourceVersion: "2" }));
  await w.settle("batch");
  assert.equal(w.druid.tasks.size, 1, "no new run");
  // Druid's own text about the task (its errorMsg) is cleaned too, of the values known now.
  Object.assign(task as object, { statusCode: "FAILED", errorMsg: `S3 refused the key ${jaas("s3cr3t-two")}` });
  await w.settle("batch");
  assert.equal(cond(w.status("batch"), "Ready"), "False/TaskFailed");
  assert.match(findCondition(w.status("batch").conditions, "Ready")?.message ?? "", /S3 refused the key \[redacted\]/);
  assert.doesNotMatch(everythingShown(w, "batch"), /s3cr3t/);
});

test("deleting after the Secret went in a namespace teardown uses its last copy; after its label was removed, it is revoked", async () => {
  for (const [how, stillThere] of [["deleted", false], ["unlabelled", true]] as const) {
    const w = new World();
    w.create(resource("orders"));
    await w.settle("orders");
    // The label-selected watch reports both as a deletion, with the labelled copy.
    w.deletedSecrets = [authSecret];
    w.secrets = stillThere ? [{ ...authSecret, metadata: { name: "auth", namespace: NS } }] : [];
    w.markDeleted("orders");
    await w.reconcile("orders");
    const terminated = w.druidWrites().some((l) => l.startsWith("druid:POST /supervisor/orders/terminate"));
    assert.equal(terminated, !stillThere, how);
    if (stillThere) {
      assert.ok(w.get("orders").metadata.finalizers?.includes(FINALIZER), "kept until the Secret is labelled again, or deletionPolicy: Orphan");
      assert.match(findCondition(w.status("orders").conditions, "Synced")?.message ?? "", /SecretNotOptedIn|not among the Secrets labelled.*deletionPolicy: Orphan/s);
    }
  }
});

test("under Observe (no Secret values read) a task's message that may quote them is not shown", async () => {
  const { w, task } = await batchWithKafkaSecret();
  w.patchSpec("batch", { managementPolicy: "Observe" });
  Object.assign(task as object, { statusCode: "FAILED", errorMsg: `S3 refused the key ${jaas("s3cr3t-one")}` });
  w.now = new Date(w.now.getTime() + 61_000);
  await w.settle("batch");
  assert.match(findCondition(w.status("batch").conditions, "Ready")?.message ?? "", /message is not shown/);
  assert.doesNotMatch(everythingShown(w, "batch"), /s3cr3t/);
});

test("a resync that finds nothing changed since the last idle reconcile reads only Druid's list; any change takes the whole path (#11)", async () => {
  let shortcuts = 0;
  const w = new World({ driftCheckMs: 600_000 }, 0, { onIdleShortcut: () => shortcuts++ });
  w.create(resource("orders"));
  await w.settle("orders");
  w.druid.supervisors.get("orders")!.state = "RUNNING";
  await w.reconcile("orders"); // the state changed: status written, no memo
  await w.reconcile("orders"); // idle, nothing written: the memo
  assert.equal(shortcuts, 0);
  const listOnly = (l: string) => l !== `druid:GET /supervisor?state=true @${DEFAULT}` && l !== `druid:GET /status @${DEFAULT}`;
  /**
   * One resync; whether it took the shortcut, and what it sent anywhere but Druid's state list.
   * After a shortcut, a reconciler without memos (the whole path) must come to the same end:
   * the same requeue, and nothing written anywhere.
   */
  const resync = async (): Promise<{ shortcut: boolean; calls: string[] }> => {
    const [count, before] = [shortcuts, w.log.length];
    w.now = new Date(w.now.getTime() + 60_000);
    const result = await w.reconcile("orders");
    assert.ok(!("error" in result), `no error: ${w.logLines.slice(-3).join(" | ")}`);
    const seen = { shortcut: shortcuts > count, calls: w.log.slice(before).filter(listOnly) };
    if (seen.shortcut) {
      const [rv, events, from] = [w.get("orders").metadata.resourceVersion, w.kube.events.length, w.log.length];
      const whole = await new Reconciler({ ...w.deps, onIdleShortcut: () => assert.fail("a new reconciler has no memo") }).reconcile(`${NS}/orders`);
      assert.deepEqual(whole, result, "the whole path ends the same way");
      assert.deepEqual(w.log.slice(from).filter((l) => !l.startsWith("druid:GET") && !l.startsWith("kube:get")), [], "and writes nothing");
      assert.equal(w.get("orders").metadata.resourceVersion, rv);
      assert.equal(w.kube.events.length, events);
    }
    return seen;
  };
  const quiet = await resync();
  assert.deepEqual(quiet, { shortcut: true, calls: [] });
  assert.equal((await resync()).shortcut, true, "and again");

  // Each change below is seen by the first resync after it; the one after that is quiet again.
  const changes: Array<[string, () => void, (calls: string[]) => void]> = [
    ["a spec edit", () => w.patchSpec("orders", { ingestion: { type: "kafka", nativeSpec: kafka("orders", { extra: 1 }) } }), (calls) => assert.ok(calls.includes(`druid:POST /supervisor orders @${DEFAULT}`), calls.join(" | "))],
    ["a rotated Secret", () => { w.secrets = [{ ...authSecret, metadata: { ...authSecret.metadata, resourceVersion: "7" } }]; }, () => {}],
    ["a router Service in the namespace", () => { w.services = [{ metadata: { name: "router", namespace: NS, resourceVersion: "3" } }]; }, () => {}],
    ["the spec ConfigMap deleted by hand", () => { w.kube.configMaps.delete(`${NS}/orders-druid-spec`); }, () => assert.ok(w.kube.configMaps.has(`${NS}/orders-druid-spec`), "recreated")],
    ["a state change in Druid's list", () => { w.druid.supervisors.get("orders")!.state = "UNHEALTHY_TASKS"; }, () => assert.equal(w.status("orders").state, "UNHEALTHY_TASKS")],
    ["a suspend in Druid's console", () => { const s = w.druid.supervisors.get("orders")!; s.state = "RUNNING"; s.spec = { ...s.spec, suspended: true }; }, (calls) => assert.ok(calls.includes(`druid:POST /supervisor/orders/resume @${DEFAULT}`), calls.join(" | "))],
    ["a drift check due", () => { w.mono += 600_000; }, (calls) => assert.ok(calls.includes(`druid:GET /supervisor/orders+status @${DEFAULT}`), calls.join(" | "))],
    ["a Druid upgrade (the same states listed)", () => { w.druid.version = "34.0.0"; }, () => assert.equal(w.status("orders").druidVersion, "34.0.0")],
    [
      "a ConfigMap that could not be written",
      () => {
        w.kube.failConfigMapWith = 403;
        w.kube.configMaps.delete(`${NS}/orders-druid-spec`);
      },
      () => {
        assert.equal(cond(w.status("orders"), "ConfigMapSynced"), "False/ConfigMapApplyFailed");
        w.kube.failConfigMapWith = undefined; // the next resync writes it: a failed write is no end to keep
      },
    ],
    ["the suspended flag forgotten (a list that left the supervisor out), with drift in the stored spec", () => { w.deps.snapshots.remember(w.druid.client({ baseUrl: DEFAULT, credentials: { username: "admin", password: "pw" } }) as never, "orders", undefined); const s = w.druid.supervisors.get("orders")!; s.spec = { ...s.spec, editedInConsole: true }; }, (calls) => assert.ok(calls.includes(`druid:POST /supervisor orders @${DEFAULT}`), calls.join(" | "))],
  ];
  for (const [what, change, check] of changes) {
    change();
    let seen = await resync();
    assert.equal(seen.shortcut, false, what);
    check(seen.calls);
    // Settle whatever the change started (a write is looked at again), until a quiet resync.
    for (let i = 0; i < 5 && !seen.shortcut; i++) {
      if (w.druid.supervisors.get("orders")!.state !== "UNHEALTHY_TASKS") w.druid.supervisors.get("orders")!.state = "RUNNING";
      seen = await resync();
    }
    assert.equal(seen.shortcut, true, `quiet again after ${what}`);
  }

  // Druid unreachable: the whole path runs and says so.
  w.down.add(DEFAULT);
  const [count] = [shortcuts];
  w.now = new Date(w.now.getTime() + 60_000);
  const down = await w.reconcile("orders");
  assert.equal(shortcuts, count);
  assert.equal(requeueOf(down), "error");
  assert.equal(cond(w.status("orders"), "Ready"), "Unknown/DruidUnreachable");
});

test("a resync still sees an older resource that comes to record the same supervisor, and stands down (#11)", async () => {
  let shortcuts = 0;
  const w = new World({}, 0, { onIdleShortcut: () => shortcuts++ });
  w.create(resource("orders"));
  await w.settle("orders");
  w.druid.supervisors.get("orders")!.state = "RUNNING";
  await w.reconcile("orders");
  await w.reconcile("orders");
  await w.reconcile("orders");
  assert.equal(shortcuts, 1);
  // An older resource restored from a backup, status included, records the same supervisor.
  const elder = resource("elder", {}, "orders");
  w.create({ ...elder, metadata: { ...elder.metadata, creationTimestamp: "2025-01-01T00:00:00Z" }, status: { ...w.status("orders"), conditions: [] } });
  await w.reconcile("orders");
  assert.equal(shortcuts, 1, "the claims changed");
  assert.equal(cond(w.status("orders"), "Synced"), "False/SupervisorConflict");
});

test("a compaction config or rules changed in Druid by hand are still corrected at the next resync (#11)", async () => {
  let shortcuts = 0;
  const w = new World({}, 0, { onIdleShortcut: () => shortcuts++ });
  const resync = async () => {
    w.now = new Date(w.now.getTime() + 60_000);
    await w.reconcile("orders");
  };
  w.create(resource("orders", { ingestion: { type: "kafka", nativeSpec: kafka("orders"), compaction: { skipOffsetFromLatest: "PT1H" }, rules: [{ type: "loadForever" }] } }));
  await w.settle("orders");
  w.druid.supervisors.get("orders")!.state = "RUNNING";
  for (let i = 0; i < 3; i++) await resync();
  assert.equal(shortcuts, 1);
  w.druid.compaction.set("orders", { dataSource: "orders", skipOffsetFromLatest: "P1D" });
  const before = w.druidWrites().length;
  await resync();
  assert.deepEqual(w.druidWrites().slice(before), [`druid:POST /compaction orders @${DEFAULT}`]);
  for (let i = 0; i < 3; i++) await resync();
  w.druid.rules.set("orders", [{ type: "dropForever" }]);
  const quiet = w.druidWrites().length;
  await resync();
  assert.deepEqual(w.druidWrites().slice(quiet), [`druid:POST /rules/orders @${DEFAULT}`]);
  assert.equal(shortcuts, 3, "the quiet resyncs between the changes took the shortcut");
});

test("a supervisor Druid lists unhealthy: Healthy False with Druid's newest error, once as a Warning Event; recovery is an Event too (#12)", async () => {
  const w = await runningOrders();
  assert.equal(cond(w.status("orders"), "Healthy"), "True/Healthy");
  const healthReads = () => w.log.filter((l) => l.startsWith("druid:GET /supervisor/orders/status (health)")).length;
  const orders = w.druid.supervisors.get("orders")!;
  orders.state = "UNHEALTHY_SUPERVISOR";
  orders.unhealthy = {
    detailedState: "UNABLE_TO_CONNECT_TO_STREAM",
    errors: [
      { timestamp: "2026-01-01T00:01:00.000Z", exceptionClass: "org.apache.kafka.common.errors.TimeoutException", message: "older" },
      { timestamp: "2026-01-01T00:02:00.000Z", exceptionClass: "org.apache.kafka.common.errors.TimeoutException", message: "Timeout expired while fetching topic metadata (password=pw)" },
    ],
  };
  const resync = async () => {
    w.now = new Date(w.now.getTime() + 60_000);
    await w.reconcile("orders");
  };
  await resync();
  const status = w.status("orders");
  const healthy = findCondition(status.conditions, "Healthy");
  assert.equal(`${healthy?.status}/${healthy?.reason}`, "False/UnableToConnectToStream");
  assert.match(healthy?.message ?? "", /UNHEALTHY_SUPERVISOR \(UNABLE_TO_CONNECT_TO_STREAM\).*TimeoutException: Timeout expired while fetching topic metadata/);
  assert.doesNotMatch(JSON.stringify(status), /password=pw/, "the login's password never reaches status");
  assert.equal(status.recentErrors?.length, 2);
  assert.equal(status.recentErrors?.[0]?.timestamp, "2026-01-01T00:02:00.000Z", "newest first");
  const warnings = () => w.kube.events.filter((e) => e.reason === "UnableToConnectToStream");
  assert.equal(warnings().length, 1);
  assert.equal(warnings()[0]?.type, "Warning");
  assert.equal(healthReads(), 1);
  // Still unhealthy, same state: no second read, no second Event.
  await resync();
  await resync();
  assert.equal(healthReads(), 1);
  assert.equal(warnings().length, 1);
  // Recovered.
  delete orders.unhealthy;
  orders.state = "RUNNING";
  await resync();
  assert.equal(cond(w.status("orders"), "Healthy"), "True/Healthy");
  assert.equal(w.status("orders").recentErrors, undefined);
  assert.equal(w.kube.events.at(-1)?.reason, "Healthy");
  assert.equal(healthReads(), 1);
});

test("Healthy follows the supervisor only: a task has none, and a supervisor not listed yet is Unknown (#12)", async () => {
  const w = new World();
  w.create(resource("orders"));
  await w.reconcile("orders"); // finalizer + create: read back PENDING, healthy
  assert.equal(cond(w.status("orders"), "Healthy"), "True/Healthy");
  const batch = { type: "index_parallel", spec: { dataSchema: { dataSource: "b" } } };
  w.create(resource("load", { ingestion: { type: "native-batch", nativeSpec: batch } }));
  await w.settle("load");
  assert.equal(cond(w.status("load"), "Healthy"), "absent");
});

test("health while nothing is observed is Unknown; a failed read of the errors is said and tried again; a supervisor that is not ours is not asked (#12)", async () => {
  let shortcuts = 0;
  const w = new World({ driftCheckMs: 600_000 }, 0, { onIdleShortcut: () => shortcuts++ });
  w.create(resource("orders"));
  await w.settle("orders");
  const orders = w.druid.supervisors.get("orders")!;
  orders.state = "RUNNING";
  await w.reconcile("orders");
  const healthReads = () => w.log.filter((l) => l.startsWith("druid:GET /supervisor/orders/status (health)")).length;
  const resync = async () => {
    w.now = new Date(w.now.getTime() + 60_000);
    return w.reconcile("orders");
  };
  // The errors cannot be read: said so, and asked again at the next resync (no idle shortcut meanwhile).
  orders.state = "UNHEALTHY_SUPERVISOR";
  orders.unhealthy = { detailedState: "UNABLE_TO_CONNECT_TO_STREAM", errors: [{ timestamp: "2026-01-01T00:02:00.000Z", exceptionClass: "E", message: "no brokers" }] };
  w.druid.failNext.set("GET /supervisor/orders/status (health)", new DruidError("DruidUnavailable", "503"));
  await resync();
  assert.match(findCondition(w.status("orders").conditions, "Healthy")?.message ?? "", /could not be read/);
  const before = shortcuts;
  await resync();
  await resync();
  assert.equal(healthReads(), 2, "asked again once");
  assert.match(findCondition(w.status("orders").conditions, "Healthy")?.message ?? "", /its newest error: E: no brokers$/);
  assert.equal(shortcuts, before, "no shortcut while the errors were unread");
  await resync();
  assert.equal(shortcuts, before + 1, "the shortcut once they are known and written");
  // Druid unreachable: an unhealthy supervisor stays reported unhealthy (no alert restarts, no
  // second Warning once Druid answers, no second read of the same errors).
  const warnings = () => w.kube.events.filter((e) => e.reason === "UnableToConnectToStream").length;
  const [warned, read] = [warnings(), healthReads()];
  w.down.add(DEFAULT);
  await resync();
  assert.equal(cond(w.status("orders"), "Healthy"), "False/UnableToConnectToStream");
  assert.equal(w.status("orders").recentErrors?.length, 1);
  w.down.delete(DEFAULT);
  await resync();
  assert.equal(cond(w.status("orders"), "Healthy"), "False/UnableToConnectToStream");
  assert.deepEqual([warnings(), healthReads()], [warned, read]);
  // A healthy one is not vouched for while Druid cannot be seen (the gauge drops the series).
  delete orders.unhealthy;
  orders.state = "RUNNING";
  await resync();
  assert.equal(cond(w.status("orders"), "Healthy"), "True/Healthy");
  w.down.add(DEFAULT);
  await resync();
  assert.equal(cond(w.status("orders"), "Healthy"), "Unknown/NotObserved");
  assert.equal(w.status("orders").healthy, undefined);
  w.down.delete(DEFAULT);
  await resync();
  assert.equal(cond(w.status("orders"), "Healthy"), "True/Healthy");
  orders.state = "UNHEALTHY_SUPERVISOR";
  orders.unhealthy = { detailedState: "UNABLE_TO_CONNECT_TO_STREAM", errors: [{ timestamp: "2026-01-01T00:05:00.000Z", exceptionClass: "E", message: "no brokers" }] };
  // A newer resource naming the same supervisor stands down and never asks for its errors.
  await resync();
  const reads = healthReads();
  const other = resource("copy", {}, "orders");
  w.create({ ...other, metadata: { ...other.metadata, creationTimestamp: "2026-06-01T00:00:00Z" } });
  for (let i = 0; i < 3; i++) {
    w.now = new Date(w.now.getTime() + 60_000);
    await w.reconcile("copy");
  }
  assert.equal(cond(w.status("copy"), "Synced"), "False/SupervisorConflict");
  assert.equal(healthReads(), reads);
});

/** "orders" running, with a lag poller reading it every minute (its rounds run by hand). */
async function runningWithLag(): Promise<{ w: World; lag: SupervisorLagPoller; shortcuts: () => number; woken: string[]; lagRead: (records: number) => Promise<void> }> {
  let shortcuts = 0;
  const woken: string[] = [];
  let w: World | undefined;
  const lag = new SupervisorLagPoller({
    periodMs: 60_000,
    concurrency: 1,
    statusLag: (key) => {
      const o = w?.kube.get(NS, key.split("/")[1]!);
      return o ? { lag: o.status?.lag } : undefined;
    },
    wake: (key) => woken.push(key),
    now: () => w!.now,
    timers: { set: () => 0, clear: () => {} },
  });
  lag.start();
  w = new World({ lagPeriodMs: 60_000, driftCheckMs: 600_000 }, 0, { onIdleShortcut: () => shortcuts++, lagPoller: lag });
  w.create(resource("orders"));
  await w.settle("orders");
  w.druid.supervisors.get("orders")!.state = "RUNNING";
  await w.reconcile("orders");
  const world = w;
  /** Druid reports `records` behind; the poller reads it and the resource is reconciled. */
  const lagRead = async (records: number): Promise<void> => {
    world.druid.supervisors.get("orders")!.lag = records;
    await lag.round();
    await world.reconcile("orders");
  };
  return { w, lag, shortcuts: () => shortcuts, woken, lagRead };
}

test("lag: a running supervisor is read by the lag poller; its first reading reaches status at the next reconcile, even one that would end at the idle shortcut (#12)", async () => {
  const { w, lag, shortcuts, woken } = await runningWithLag();
  assert.equal(lag.tracked, 1);
  await w.reconcile("orders");
  await w.reconcile("orders");
  assert.equal(shortcuts(), 1, "nothing read yet: the shortcut holds");
  w.druid.supervisors.get("orders")!.lag = 25_000;
  await lag.round();
  assert.ok(w.log.includes("druid:GET /supervisor/orders/status (health) @http://druid-default:8888"));
  assert.deepEqual(woken, [`${NS}/orders`]);
  assert.deepEqual([...lag.samples()], [{ namespace: NS, name: "orders", supervisor: "orders", records: 25_000 }]);
  await w.reconcile("orders");
  assert.equal(shortcuts(), 1, "a lag worth writing takes the whole path");
  assert.deepEqual(w.status("orders").lag, { records: 25_000, lastUpdateTime: w.now.toISOString().replace(/\.\d{3}Z$/, "Z") });
  // Jitter a minute later: the gauge follows, status does not (no write, the shortcut holds again).
  w.now = new Date(w.now.getTime() + 60_000);
  w.druid.supervisors.get("orders")!.lag = 26_000;
  await lag.round();
  const rv = w.get("orders").metadata.resourceVersion;
  await w.reconcile("orders");
  await w.reconcile("orders");
  assert.equal(w.get("orders").metadata.resourceVersion, rv, "jitter is not written");
  assert.equal(w.status("orders").lag?.records, 25_000);
  assert.equal([...lag.samples()][0]?.records, 26_000);
  assert.ok(shortcuts() >= 2);
  // Caught up a minute later: written.
  w.now = new Date(w.now.getTime() + 60_000);
  w.druid.supervisors.get("orders")!.lag = 0;
  await lag.round();
  await w.reconcile("orders");
  assert.equal(w.status("orders").lag?.records, 0);
});

test("lag: a suspended supervisor is no longer read, and status.lag goes (#12)", async () => {
  const { w, lag, lagRead } = await runningWithLag();
  await lagRead(7);
  assert.equal(w.status("orders").lag?.records, 7);
  w.patchSpec("orders", { suspend: true });
  await w.settle("orders");
  assert.equal(w.status("orders").state, "SUSPENDED");
  assert.equal(w.status("orders").lag, undefined);
  assert.equal(lag.tracked, 0);
  assert.deepEqual([...lag.samples()], []);
});

test("lag: a deleted resource is no longer read (#12)", async () => {
  const { w, lag } = await runningWithLag();
  w.markDeleted("orders");
  await w.settle("orders");
  assert.equal(lag.tracked, 0);
});

test("unsafe change: another topic is refused (nothing sent) until unsafeChangePolicy Recreate; then suspend, reset, terminate, create, and a crash midway finishes the job (#12)", async () => {
  const w = await runningOrders();
  const moved = { type: "kafka", spec: { dataSchema: { dataSource: "orders" }, ioConfig: { topic: "orders-v2" } } };
  w.patchSpec("orders", { ingestion: { type: "kafka", nativeSpec: moved } });
  w.log.length = 0;
  await w.settle("orders");
  assert.deepEqual(w.druidWrites(), [], "refused: nothing sent");
  assert.equal(cond(w.status("orders"), "Synced"), "False/StreamChangeRefused");
  assert.match(findCondition(w.status("orders").conditions, "Synced")?.message ?? "", /\/spec\/ioConfig\/topic from "orders" to "orders-v2"/);
  assert.equal((w.druid.supervisors.get("orders")!.spec["spec"] as JsonObject)["ioConfig"] !== undefined, true);

  w.patchSpec("orders", { unsafeChangePolicy: "Recreate" });
  const writes = () => w.druidWrites().map((l) => l.replace(/ @.*/, ""));
  w.log.length = 0;
  await w.reconcile("orders");
  assert.deepEqual(writes(), ["druid:POST /supervisor/orders/suspend"], "suspended first, nothing else");
  // Its tasks are still publishing: it waits (nothing sent), saying why.
  w.druid.supervisors.get("orders")!.tasks = 1;
  w.log.length = 0;
  await w.reconcile("orders");
  assert.deepEqual(writes(), []);
  assert.equal(cond(w.status("orders"), "Synced"), "False/Recreating");
  assert.match(findCondition(w.status("orders").conditions, "Synced")?.message ?? "", /1 of its tasks are still reading or publishing/);
  w.druid.supervisors.get("orders")!.tasks = 0;
  w.druid.failNext.set("POST /supervisor/orders/terminate", new DruidError("DruidUnavailable", "HTTP 503", { statusCode: 503 }));
  w.log.length = 0;
  await w.reconcile("orders");
  assert.deepEqual(writes(), ["druid:POST /supervisor/orders/reset", "druid:POST /supervisor/orders/terminate"], "stopped at the failed terminate (503)");
  assert.ok(w.druid.supervisors.has("orders"));
  assert.equal(w.status("orders").applied?.supervisorId, "orders", "the record still names it");
  w.log.length = 0;
  await w.settle("orders");
  assert.deepEqual(writes(), ["druid:POST /supervisor/orders/reset", "druid:POST /supervisor/orders/terminate", "druid:POST /supervisor orders"], "still suspended, no task: reset, terminate, create");
  assert.deepEqual(((w.druid.supervisors.get("orders")!.spec["spec"] as JsonObject)["ioConfig"] as JsonObject)["topic"], "orders-v2");
  assert.equal(cond(w.status("orders"), "Synced"), "True/Synced");
  assert.ok(w.kube.events.some((e) => e.reason === "Terminated" && /to create it anew/.test(e.message)));
  assert.ok(w.kube.events.some((e) => e.reason === "Recreated" && /anew with the new spec/.test(e.message)), "not 'was missing'");
});

test("lag: a supervisor that keeps running while a change is refused is still read; status.lag goes with a recreate (#12)", async () => {
  const { w, lag, lagRead } = await runningWithLag();
  await lagRead(5_000);
  assert.equal(w.status("orders").lag?.records, 5_000);
  w.patchSpec("orders", { ingestion: { type: "kafka", nativeSpec: { type: "kafka", spec: { dataSchema: { dataSource: "orders" }, ioConfig: { topic: "orders-v2" } } } } });
  await w.settle("orders");
  assert.equal(cond(w.status("orders"), "Synced"), "False/StreamChangeRefused");
  assert.equal(lag.tracked, 1, "refused, but the old supervisor still runs: its lag is still read");
  w.patchSpec("orders", { unsafeChangePolicy: "Recreate" });
  await w.settle("orders", 10);
  assert.equal(cond(w.status("orders"), "Synced"), "True/Synced");
  assert.equal(w.status("orders").lag, undefined, "the recreated supervisor's lag is not the old one's");
});

test("lag: an older CRD that drops status.lag is said once; then lag stays in the gauges, and nothing waits for or repeats a write that cannot happen (#12)", async () => {
  const { w, lag, shortcuts, woken } = await runningWithLag();
  w.kube.prunedStatusFields = ["lag"];
  await w.reconcile("orders");
  await w.reconcile("orders");
  const before = shortcuts();
  w.druid.supervisors.get("orders")!.lag = 300;
  await lag.round();
  assert.equal(woken.length, 1, "a first reading is worth a write: woken");
  const rv = w.get("orders").metadata.resourceVersion;
  const first = await w.reconcile("orders");
  assert.equal(w.get("orders").metadata.resourceVersion, rv, "the API server changed nothing");
  assert.equal(w.logLines.filter((l) => l.includes("drops status.lag")).length, 1);
  const next = await w.reconcile("orders");
  assert.notEqual(requeueOf(next), "200", "no wait for a write the cache will never show");
  assert.equal(requeueOf(first), requeueOf(next));
  w.druid.supervisors.get("orders")!.lag = 90_000;
  w.now = new Date(w.now.getTime() + 120_000);
  await lag.round();
  await w.reconcile("orders");
  assert.ok(shortcuts() > before, "the idle shortcut holds again");
  assert.equal([...lag.samples()][0]?.records, 90_000, "the gauge still follows");
  assert.equal(w.logLines.filter((l) => l.includes("drops status.lag")).length, 1, "said once");
});
