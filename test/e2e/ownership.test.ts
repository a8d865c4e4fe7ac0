// Ownership end to end: what a DruidIngestion may touch in Druid, proved against the real
// controller process, a real kube-apiserver and a real Druid Overlord. A resource owns exactly
// what status.applied names, on the endpoint it names; a change of target is a move (the old
// supervisor goes first, then the new one is created); a supervisor it did not create is left
// alone unless managementPolicy says otherwise; a fallback endpoint never replaces a recorded one.
// The stack has one Druid: two URLs of it (proxies, routers) are recognised as the same Druid
// (the record follows, Event EndpointChanged), so a move between them needs a new dataSource too.
// Each test works in its own namespace and datasources; the router-Service tests share the
// fixed namespace druid-routers (names made resolvable by stack/hosts.sh). Tests that count the
// requests a resource makes give it its own DruidProxy as spec.druidEndpoint; the controller's
// DRUID_DEFAULT_URL stays the stack's Druid, because the controller watches every namespace and
// records other resources on it too (an ephemeral URL there would strand them).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { ControllerProcess } from "../support/controller.ts";
import { DruidProbe, kafkaSupervisorSpec } from "../support/druid.ts";
import { cleanUpNamespaces, condition, Kube } from "../support/kube.ts";
import { DruidProxy } from "../support/proxy.ts";
import { freshRouterNamespace, removeRouterNamespace, ROUTER_NS, routerNamesResolve, ROUTERS, routerUrl as routerUrlOf, type Router } from "../support/routers.ts";
import { ensureStack, stackEnv } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";
import { isSynced, kafkaIngestion, namespaceWithAuthSecret, unique, waitForIngestion } from "../support/fixtures.ts";

ensureStack();
const env = stackEnv();
const kube = Kube.admin(env);
const druid = new DruidProbe(env);
const bootstrap = env.kafkaBootstrap ?? "127.0.0.1:9";
let controller: ControllerProcess;
const controllerEnv = { KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl };
const namespaces: string[] = [];
/** Supervisors made by hand (not by a resource): terminated in `after` whatever happened. */
const handMade = new Set<string>();
/** Proxies started by tests, stopped in `after` whatever happened. */
const proxies: DruidProxy[] = [];

const routerUrl = (router: Router): string => routerUrlOf(env, router);

const MOVED_SUFFIX = "(the resource now points elsewhere)";
/** The controller's RESYNC_PERIOD in tests (test/support/controller.ts); it also bounds how long Druid's supervisor list is reused. */
const RESYNC_MS = 5000;

/** A pass-through to the stack's Druid with a request log, stopped in `after`. */
async function proxy(): Promise<DruidProxy> {
  const p = await DruidProxy.start(env.druidUrl);
  proxies.push(p);
  return p;
}

async function namespaceWithSecret(prefix: string): Promise<string> {
  const ns = await namespaceWithAuthSecret(kube, env, prefix);
  namespaces.push(ns);
  return ns;
}

function manifest(name: string, dataSource: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return kafkaIngestion(name, dataSource, bootstrap, spec);
}

function specWith(dataSource: string, change: (spec: { ioConfig: Record<string, unknown>; tuningConfig: Record<string, unknown> }) => void): Record<string, unknown> {
  const body = kafkaSupervisorSpec(dataSource, bootstrap);
  change(body["spec"] as { ioConfig: Record<string, unknown>; tuningConfig: Record<string, unknown> });
  return body;
}

/** Waits for a status; a timeout says what the status and the controller's last logs were. */
async function waitForStatus(ns: string, name: string, what: string, ok: (i: DruidIngestion) => boolean, timeoutMs = 90_000, acting: ControllerProcess = controller): Promise<DruidIngestion> {
  return waitForIngestion(kube, ns, name, what, ok, { timeoutMs, logs: acting.logs });
}

async function waitForGone(ns: string, name: string, timeoutMs = 90_000): Promise<void> {
  await waitFor(`${ns}/${name} gone`, async () => !(await kube.getIngestion(ns, name)), timeoutMs);
}

/** The record's fields this file is about (status.applied may carry more, e.g. druidCluster). */
function assertApplied(actual: DruidIngestion["status"], expected: { druidEndpoint: string; endpointSource: string; supervisorId: string; dataSource: string; origin: string }, what = "status.applied"): void {
  const applied = actual?.applied as Record<string, unknown> | undefined;
  const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, applied?.[k]]));
  assert.deepEqual(picked, expected, `${what}: ${JSON.stringify(applied)}`);
}

/** Druid no longer lists the supervisor (a failure says its state, not its whole spec). */
async function assertGone(id: string, message = `supervisor ${id} is gone from Druid`): Promise<void> {
  const live = await druid.supervisor(id);
  assert.ok(live === undefined, `${message}: it is still there, ${live?.state}/${live?.detailedState}`);
}

const reasonOf = (i: DruidIngestion | undefined, type = "Synced"): string | undefined => condition(i, type)?.reason;

/** The spec versions Druid keeps for an id, newest first (a terminate adds a `noop` tombstone). */
async function history(id: string): Promise<Array<{ version: string; type: string; spec: Record<string, unknown> }>> {
  const r = await druid.call("GET", `/druid/indexer/v1/supervisor/${encodeURIComponent(id)}/history`);
  if (r.status === 404) return [];
  assert.equal(r.status, 200, `history of ${id}: ${r.text}`);
  return (r.json as Array<{ version: string; spec: Record<string, unknown> }>).map((h) => ({ version: h.version, type: String(h.spec["type"]), spec: h.spec }));
}

/** Druid's stored spec of a supervisor (GET /supervisor/{id}), or undefined. */
async function storedSpec(id: string): Promise<Record<string, unknown> | undefined> {
  const r = await druid.call("GET", `/druid/indexer/v1/supervisor/${encodeURIComponent(id)}`);
  return r.status === 200 ? (r.json as Record<string, unknown>) : undefined;
}

/**
 * POSTs a supervisor as someone else would (console, another tool), straight to Druid. The
 * controller reuses its list of a Druid's supervisors for one resync period; a test whose
 * resource uses a new endpoint (its own proxy) makes it read a fresh one.
 */
async function makeByHand(body: Record<string, unknown>): Promise<string> {
  const r = await druid.call("POST", "/druid/indexer/v1/supervisor", body);
  assert.equal(r.status, 200, `hand-made supervisor: ${r.text}`);
  const id = (r.json as { id: string }).id;
  handMade.add(id);
  return id;
}

async function events(ns: string, name: string): Promise<Array<{ reason: string; message: string; type: string; count: number }>> {
  return kube.events(ns, name);
}

function eventsText(list: Array<{ reason: string; message: string }>): string {
  return list.map((e) => `${e.reason}: ${e.message}`).join("\n");
}

/** A supervisor create/update as logged by a proxy (no id in the path; Druid takes it from the spec). */
const CREATE = /^POST \/druid\/indexer\/v1\/supervisor(\?|$)/;

/** POSTs that would change a supervisor (create/update, suspend, resume, reset, terminate). */
function supervisorWrites(proxy: DruidProxy): string[] {
  return proxy.requests({ method: "POST", path: /^\/druid\/indexer\/v1\/supervisor/ }).map((r) => `${r.method} ${r.path}`);
}

// --- the router Services ----------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------

before(async () => {
  await kube.installCrd();
  controller = await ControllerProcess.start(controllerEnv);
});

after(async () => {
  const left = await cleanUpNamespaces(kube, namespaces);
  const leftInRouters = await removeRouterNamespace(kube).catch((e: Error) => [`${ROUTER_NS}: ${e.message}`]);
  const code = await controller?.stop();
  for (const p of proxies) await p.stop();
  for (const id of handMade) await druid.terminate(id).catch(() => undefined);
  assert.deepEqual([...left, ...leftInRouters], [], "every resource was finalized");
  assert.equal(code, 0, `controller exit code; last logs:\n${controller?.tail()}`);
});

describe("DruidIngestion ownership", { timeout: 600_000 }, () => {
  // Each test asserts what Druid holds (and which calls went where) before the status record,
  // and waits only on status fields older controllers also write (supervisorId, druidEndpoint),
  // so that on a controller without these guarantees it fails on the behaviour, not a field.

  test("dataSource rename → the old supervisor is terminated, then the new one created; deletion leaves nothing", async () => {
    const ns = await namespaceWithSecret("rename");
    const oldDs = unique("rename-old");
    const newDs = unique("rename-new");
    await kube.createIngestion(ns, manifest("ing", oldDs));
    const first = await waitForStatus(ns, "ing", "synced on the old datasource", (i) => isSynced(i) && i.status?.supervisorId === oldDs);
    assert.ok(await druid.supervisor(oldDs), "the old supervisor runs");

    await kube.patchIngestion(ns, "ing", { spec: { ingestion: { nativeSpec: kafkaSupervisorSpec(newDs, bootstrap) } } });
    const moved = await waitForStatus(ns, "ing", "synced on the new datasource", (i) => isSynced(i) && i.metadata.generation === 2 && i.status?.supervisorId === newDs);

    // What Druid holds: only the new supervisor; the old one terminated (a tombstone), not suspended.
    await assertGone(oldDs, "the old supervisor is gone from Druid's list");
    assert.equal(await druid.terminate(oldDs), 404, "Druid says the old one does not exist");
    const oldHistory = await history(oldDs);
    assert.equal(oldHistory[0]?.type, "noop", `the old one was terminated: ${JSON.stringify(oldHistory.map((h) => h.type))}`);
    assert.ok(!oldHistory.some((h) => h.spec["suspended"] === true), "never merely suspended");
    const live = await druid.supervisor(newDs);
    assert.ok(live, "the new supervisor runs");
    assert.notEqual(live.state, "SUSPENDED");
    const newHistory = await history(newDs);
    assert.equal(newHistory.length, 1, "the new one was created once");
    assert.ok((oldHistory[0]?.version ?? "") <= (newHistory.at(-1)?.version ?? ""), "terminated before the new one was created");

    const list = await events(ns, "ing");
    assert.ok(list.some((e) => e.reason === "Terminated" && e.message.includes(oldDs) && e.message.endsWith(MOVED_SUFFIX)), eventsText(list));
    assert.ok(list.some((e) => e.reason === "Created" && e.message.includes(newDs)), eventsText(list));
    assert.ok(list.some((e) => e.reason === "Moving" && e.type === "Normal"), `a Moving step was reported:\n${eventsText(list)}`);

    assertApplied(first.status, { druidEndpoint: env.druidUrl, endpointSource: "ControllerDefault", supervisorId: oldDs, dataSource: oldDs, origin: "Created" });
    assertApplied(moved.status, { druidEndpoint: env.druidUrl, endpointSource: "ControllerDefault", supervisorId: newDs, dataSource: newDs, origin: "Created" });
    assert.equal(moved.status?.taskId, newDs);
    assert.equal(moved.status?.druidEndpoint, env.druidUrl);
    assert.equal(moved.status?.pendingCreate, undefined, "no create left pending");

    await kube.deleteIngestion(ns, "ing");
    await waitForGone(ns, "ing");
    await assertGone(newDs, "the new supervisor is terminated on deletion");
    await assertGone(oldDs, "and the old one stays gone");
  });

  // Both proxies lead to the one Druid of the stack. A move needs a target the new endpoint does
  // not already show, so this test renames the datasource together with the endpoint change; the
  // next test changes only the URL (the controller then recognises the same Druid).
  test("druidEndpoint change with a new dataSource: nothing moves while the old endpoint is down; then terminate via the old, create via the new", async () => {
    const ns = await namespaceWithSecret("endpoint");
    const oldProxy = await proxy();
    const newProxy = await proxy();
    try {
      await endpointMove(ns, oldProxy, newProxy);
    } finally {
      await oldProxy.restart(); // so that cleanup can reach what the resource records
    }
  });

  async function endpointMove(ns: string, oldProxy: DruidProxy, newProxy: DruidProxy): Promise<void> {
    const oldDs = unique("endpoint-old");
    const newDs = unique("endpoint-new");
    await kube.createIngestion(ns, manifest("ing", oldDs, { druidEndpoint: oldProxy.url }));
    const first = await waitForStatus(ns, "ing", "synced via the old proxy", (i) => isSynced(i) && i.status?.druidEndpoint === oldProxy.url);
    assert.ok(supervisorWrites(oldProxy).some((w) => CREATE.test(w)), `created through the old proxy:\n${oldProxy.describeRequests()}`);
    const oldHistory = (await history(oldDs)).length;

    // The old endpoint is unreachable: the recorded supervisor cannot be removed, so nothing moves.
    await oldProxy.stop();
    newProxy.resetRequests();
    await kube.patchIngestion(ns, "ing", { spec: { druidEndpoint: newProxy.url, ingestion: { nativeSpec: kafkaSupervisorSpec(newDs, bootstrap) } } });
    const oldPort = new URL(oldProxy.url).port;
    const blocked = await waitForStatus(ns, "ing", "generation 2 blocked on the old endpoint (or synced)", (i) => {
      const c = condition(i, "Synced");
      return i.status?.observedGeneration === 2 && ((c?.reason === "DruidUnreachable" && c.message.includes(`:${oldPort}`)) || c?.status === "True");
    });
    await sleep(RESYNC_MS + 1000); // more than a resync period and a few retries
    assert.deepEqual(supervisorWrites(newProxy), [], `no POST reached the new endpoint:\n${newProxy.describeRequests()}`);
    await assertGone(newDs, "the new one is not created");
    assert.ok(await druid.supervisor(oldDs), "the old supervisor is untouched");
    assert.equal((await history(oldDs)).length, oldHistory, "no write to the old supervisor");
    const stuck = await kube.getIngestion(ns, "ing");
    assert.equal(reasonOf(stuck), "DruidUnreachable", condition(stuck, "Synced")?.message);
    assert.match(condition(blocked, "Synced")?.message ?? "", /cannot reach Druid/);
    assert.equal(stuck?.status?.druidEndpoint, oldProxy.url);
    assert.equal(stuck?.status?.supervisorId, oldDs);
    const stuckRecord = stuck?.status?.applied;
    assert.equal(stuckRecord?.druidEndpoint, oldProxy.url, `still recorded on the old endpoint: ${JSON.stringify(stuckRecord)}`);
    assert.equal(stuckRecord?.supervisorId, oldDs, "still recording the old supervisor");

    // The old endpoint is back: terminate via the old, then create via the new.
    newProxy.resetRequests();
    oldProxy.resetRequests();
    await oldProxy.restart();
    const moved = await waitForStatus(ns, "ing", "synced via the new proxy", (i) => isSynced(i) && i.status?.druidEndpoint === newProxy.url && i.status.supervisorId === newDs, 120_000);
    assert.deepEqual(supervisorWrites(oldProxy), [`POST /druid/indexer/v1/supervisor/${oldDs}/terminate`], `only the terminate went to the old endpoint:\n${oldProxy.describeRequests()}`);
    const newWrites = supervisorWrites(newProxy);
    assert.ok(newWrites.some((w) => CREATE.test(w)), `the create went to the new endpoint:\n${newProxy.describeRequests()}`);
    assert.ok(!newWrites.some((w) => w.endsWith("/terminate")), `no terminate via the new endpoint:\n${newProxy.describeRequests()}`);
    await assertGone(oldDs, "the old supervisor is gone");
    assert.equal((await history(oldDs))[0]?.type, "noop", "terminated, not suspended");
    assert.ok(await druid.supervisor(newDs), "the new supervisor runs");
    assert.ok(((await history(oldDs))[0]?.version ?? "") <= ((await history(newDs)).at(-1)?.version ?? ""), "terminated before the new one was created");
    const list = await events(ns, "ing");
    assert.ok(list.some((e) => e.reason === "Terminated" && e.message.includes(oldDs) && e.message.endsWith(MOVED_SUFFIX)), eventsText(list));
    assert.ok(list.some((e) => e.reason === "Created" && e.message.includes(newDs)), eventsText(list));
    assertApplied(first.status, { druidEndpoint: oldProxy.url, endpointSource: "DruidEndpoint", supervisorId: oldDs, dataSource: oldDs, origin: "Created" });
    assertApplied(moved.status, { druidEndpoint: newProxy.url, endpointSource: "DruidEndpoint", supervisorId: newDs, dataSource: newDs, origin: "Created" });

    // Deletion acts on the record only: through the new endpoint.
    oldProxy.resetRequests();
    newProxy.resetRequests();
    await kube.deleteIngestion(ns, "ing");
    await waitForGone(ns, "ing");
    await assertGone(newDs, "terminated on deletion");
    assert.deepEqual(oldProxy.requests(), [], `nothing went to the old endpoint:\n${oldProxy.describeRequests()}`);
    assert.deepEqual(supervisorWrites(newProxy), [`POST /druid/indexer/v1/supervisor/${newDs}/terminate`], `the terminate went through the new endpoint:\n${newProxy.describeRequests()}`);

    // Checked last, so the rest of the scenario runs whatever it says: while the move was blocked,
    // the record should have named the old supervisor's datasource, not the one asked for.
    assert.equal(stuckRecord?.dataSource, oldDs, `while the move was blocked, status.applied named what Druid held: ${JSON.stringify(stuckRecord)}`);
  }

  test("druidEndpoint change to another URL of the same Druid: not while the old URL is down; then the record follows, nothing restarts", async () => {
    const ns = await namespaceWithSecret("sameurl");
    const ds = unique("sameurl");
    const oldProxy = await proxy();
    const newProxy = await proxy();
    try {
      await kube.createIngestion(ns, manifest("ing", ds, { druidEndpoint: oldProxy.url }));
      await waitForStatus(ns, "ing", "synced via the old proxy", (i) => isSynced(i) && i.status?.druidEndpoint === oldProxy.url);
      const historyBefore = (await history(ds)).length;

      await oldProxy.stop();
      newProxy.resetRequests();
      await kube.patchIngestion(ns, "ing", { spec: { druidEndpoint: newProxy.url } });
      const oldPort = new URL(oldProxy.url).port;
      await waitForStatus(ns, "ing", "generation 2 blocked on the old URL (or synced)", (i) => {
        const c = condition(i, "Synced");
        return i.status?.observedGeneration === 2 && ((c?.reason === "DruidUnreachable" && c.message.includes(`:${oldPort}`)) || c?.status === "True");
      });
      await sleep(RESYNC_MS + 1000);
      assert.deepEqual(supervisorWrites(newProxy), [], `no POST reached the new URL:\n${newProxy.describeRequests()}`);
      assert.equal((await history(ds)).length, historyBefore, "no write to Druid");
      const stuck = await kube.getIngestion(ns, "ing");
      assert.equal(stuck?.status?.druidEndpoint, oldProxy.url, `not re-pointed while the old URL cannot confirm it is the same Druid; Synced: ${reasonOf(stuck)}: ${condition(stuck, "Synced")?.message}`);
      assert.equal(stuck?.status?.applied?.druidEndpoint, oldProxy.url);
      assert.equal(reasonOf(stuck), "DruidUnreachable");

      newProxy.resetRequests();
      oldProxy.resetRequests();
      await oldProxy.restart();
      const repointed = await waitForStatus(ns, "ing", "synced, recorded on the new proxy", (i) => isSynced(i) && i.status?.druidEndpoint === newProxy.url, 120_000);
      assert.deepEqual([...supervisorWrites(oldProxy), ...supervisorWrites(newProxy)], [], `no write through either URL:\nold:\n${oldProxy.describeRequests()}\nnew:\n${newProxy.describeRequests()}`);
      assert.equal((await history(ds)).length, historyBefore, "nothing restarted in Druid");
      assert.ok(await druid.supervisor(ds));
      const list = await events(ns, "ing");
      assert.ok(!list.some((e) => e.reason === "Terminated"), eventsText(list));
      assert.ok(list.some((e) => e.reason === "EndpointChanged" && e.message.includes(newProxy.url)), eventsText(list));
      assertApplied(repointed.status, { druidEndpoint: newProxy.url, endpointSource: "DruidEndpoint", supervisorId: ds, dataSource: ds, origin: "Created" });

      oldProxy.resetRequests();
      newProxy.resetRequests();
      await kube.deleteIngestion(ns, "ing");
      await waitForGone(ns, "ing");
      await assertGone(ds, "terminated on deletion");
      assert.deepEqual(oldProxy.requests(), [], `nothing went to the old URL:\n${oldProxy.describeRequests()}`);
      assert.deepEqual(supervisorWrites(newProxy), [`POST /druid/indexer/v1/supervisor/${ds}/terminate`], newProxy.describeRequests());
    } finally {
      await oldProxy.restart();
    }
  });

  test("druidCluster change router-a → router-b: a move with a new dataSource; the same supervisor under the other router is re-pointed", async (t) => {
    if (!(await routerNamesResolve(t))) return;
    await freshRouterNamespace(kube, env);
    const oldDs = unique("router-old");
    const newDs = unique("router-new");
    await kube.createIngestion(ROUTER_NS, manifest("move", oldDs, { druidCluster: ROUTERS.a.cluster }));
    const first = await waitForStatus(ROUTER_NS, "move", "synced via router-a", (i) => isSynced(i) && i.status?.druidEndpoint === routerUrl(ROUTERS.a));
    assert.ok(await druid.supervisor(oldDs));

    // router-a → router-b with a new datasource: a move.
    await kube.patchIngestion(ROUTER_NS, "move", { spec: { druidCluster: ROUTERS.b.cluster, ingestion: { nativeSpec: kafkaSupervisorSpec(newDs, bootstrap) } } });
    const moved = await waitForStatus(ROUTER_NS, "move", "synced via router-b", (i) => isSynced(i) && i.metadata.generation === 2 && i.status?.druidEndpoint === routerUrl(ROUTERS.b), 120_000);
    await assertGone(oldDs, "the old supervisor is gone");
    const oldHistory = await history(oldDs);
    assert.equal(oldHistory[0]?.type, "noop", "terminated");
    assert.ok(await druid.supervisor(newDs), "the new one runs");
    assert.ok((oldHistory[0]?.version ?? "") <= ((await history(newDs)).at(-1)?.version ?? ""), "terminated before the new one was created");
    let list = await events(ROUTER_NS, "move");
    assert.ok(list.some((e) => e.reason === "Terminated" && e.message.includes(oldDs) && e.message.endsWith(MOVED_SUFFIX)), eventsText(list));
    assert.ok(list.some((e) => e.reason === "Created" && e.message.includes(newDs)), eventsText(list));
    assertApplied(first.status, { druidEndpoint: routerUrl(ROUTERS.a), endpointSource: "RouterService", supervisorId: oldDs, dataSource: oldDs, origin: "Created" });
    assertApplied(moved.status, { druidEndpoint: routerUrl(ROUTERS.b), endpointSource: "RouterService", supervisorId: newDs, dataSource: newDs, origin: "Created" });

    // Back to router-a, same datasource: the same Druid under another URL, so the record follows
    // and nothing is restarted (no terminate, no create).
    const historyBefore = (await history(newDs)).length;
    await kube.patchIngestion(ROUTER_NS, "move", { spec: { druidCluster: ROUTERS.a.cluster } });
    const repointed = await waitForStatus(ROUTER_NS, "move", "synced, recorded on router-a", (i) => isSynced(i) && i.metadata.generation === 3 && i.status?.druidEndpoint === routerUrl(ROUTERS.a));
    assert.equal((await history(newDs)).length, historyBefore, "nothing restarted");
    list = await events(ROUTER_NS, "move");
    assert.ok(!list.some((e) => e.reason === "Terminated" && e.message.includes(newDs)), eventsText(list));
    assert.ok(list.some((e) => e.reason === "EndpointChanged" && e.message.includes(routerUrl(ROUTERS.a))), eventsText(list));
    assertApplied(repointed.status, { druidEndpoint: routerUrl(ROUTERS.a), endpointSource: "RouterService", supervisorId: newDs, dataSource: newDs, origin: "Created" });

    await kube.deleteIngestion(ROUTER_NS, "move");
    await waitForGone(ROUTER_NS, "move");
    await assertGone(newDs);
  });

  test("router Service briefly missing with DRUID_DEFAULT_URL set: no fallback, no Druid call; deletion waits for the router, then uses it", async (t) => {
    if (!(await routerNamesResolve(t))) return;
    await freshRouterNamespace(kube, env);
    // This test's own controller, watching only druid-routers, with a logged default endpoint
    // (a default that exists only during this test must not be recorded by resources elsewhere).
    // The file's controller stands aside meanwhile: two controllers would fight.
    const fallback = await proxy();
    assert.equal(await controller.stop(), 0, `file controller exit code; last logs:\n${controller.tail()}`);
    let own: ControllerProcess | undefined;
    try {
      own = await ControllerProcess.start({ KUBECONFIG: env.kubeconfig, WATCH_NAMESPACE: ROUTER_NS, DRUID_DEFAULT_URL: fallback.url });
      await fallbackRefused(own, fallback);
    } finally {
      const code = await own?.stop();
      controller = await ControllerProcess.start(controllerEnv);
      assert.equal(code, 0, `this test's controller exit code; last logs:\n${own?.tail()}`);
    }
  });

  async function fallbackRefused(own: ControllerProcess, fallback: DruidProxy): Promise<void> {
    const ds = unique("fallback");
    fallback.resetRequests();
    await kube.createIngestion(ROUTER_NS, manifest("fallback", ds, { druidCluster: ROUTERS.a.cluster }));
    const applied = await waitForStatus(ROUTER_NS, "fallback", "synced via router-a", (i) => isSynced(i) && i.status?.druidEndpoint === routerUrl(ROUTERS.a), 90_000, own);
    assert.deepEqual(fallback.requests(), [], `the default endpoint was never used:\n${fallback.describeRequests()}`);
    const historyBefore = (await history(ds)).length;

    await kube.core.deleteNamespacedService({ namespace: ROUTER_NS, name: ROUTERS.a.name });
    await waitForStatus(ROUTER_NS, "fallback", "EndpointFallbackRefused (or any call to the default)", (i) => reasonOf(i) === "EndpointFallbackRefused" || fallback.requests().length > 0, 60_000, own);
    await sleep(RESYNC_MS + 2000); // more than a resync period
    assert.deepEqual(fallback.requests(), [], `no request went to the default endpoint:\n${fallback.describeRequests()}`);
    const live = await druid.supervisor(ds);
    assert.ok(live, "the supervisor is untouched");
    assert.notEqual(live.state, "SUSPENDED");
    assert.equal((await history(ds)).length, historyBefore, "no write to Druid");
    const still = await kube.getIngestion(ROUTER_NS, "fallback");
    assert.equal(reasonOf(still), "EndpointFallbackRefused");
    assert.equal(condition(still, "Synced")?.status, "False");
    assert.match(condition(still, "Synced")?.message ?? "", new RegExp(`${ds}.*router-a\\.${ROUTER_NS}\\.svc`));
    assert.equal(still?.status?.druidEndpoint, routerUrl(ROUTERS.a), "the record keeps router-a");
    assert.equal(still?.status?.applied?.druidEndpoint, routerUrl(ROUTERS.a));
    assert.equal(applied.status?.applied?.endpointSource, "RouterService");

    // Deleting the resource: nothing is sent to the recorded router URL while no router Service
    // stands behind it (the name could be anyone's by then: in a cluster it does not even
    // resolve, here /etc/hosts keeps it resolving); the finalizer waits and says so.
    await kube.deleteIngestion(ROUTER_NS, "fallback");
    const waiting = await waitForStatus(ROUTER_NS, "fallback", "deletion waits: EndpointNotAllowed", (i) => reasonOf(i) === "EndpointNotAllowed", 60_000, own);
    assert.match(condition(waiting, "Synced")?.message ?? "", /not an allowed Druid endpoint.*deletionPolicy: Orphan/s);
    assert.ok(await druid.supervisor(ds), "not terminated through an unverified URL");
    // The router Service back: the deletion completes through it.
    await kube.core.createNamespacedService({
      namespace: ROUTER_NS,
      body: { metadata: { name: ROUTERS.a.name, labels: { druid_cr: ROUTERS.a.cluster, component: "router" } }, spec: { ports: [{ port: Number(new URL(env.druidUrl).port), targetPort: Number(new URL(env.druidUrl).port), protocol: "TCP" }] } },
    });
    await waitForGone(ROUTER_NS, "fallback");
    await assertGone(ds, "terminated on deletion");
    assert.deepEqual(fallback.requests(), [], `deletion did not use the default endpoint:\n${fallback.describeRequests()}`);
  }

  test("a supervisor made by hand is left alone: a resource with a spec Druid rejects, or a valid one, POSTs nothing and its deletion keeps it", async () => {
    const ns = await namespaceWithSecret("handmade");
    const ds = unique("handmade");
    const via = await proxy();
    await makeByHand(specWith(ds, (s) => (s.tuningConfig["maxRowsInMemory"] = 5555)));
    const specBefore = await storedSpec(ds);
    const historyBefore = (await history(ds)).length;
    assert.equal(historyBefore, 1);

    // A spec Druid would answer with 400 that the local checks (spec-checks.ts) let through: an
    // input format Druid does not know. (A period like "not-a-period" is now refused before any call.)
    const rejected = specWith(ds, (s) => (s.ioConfig["inputFormat"] = { type: "not-a-format" }));
    await kube.createIngestion(ns, manifest("invalid", ds, { druidEndpoint: via.url, ingestion: { type: "kafka", nativeSpec: rejected } }));
    const stood = await waitForStatus(ns, "invalid", "Synced=False", (i) => i.status?.observedGeneration === 1 && condition(i, "Synced")?.status === "False");
    await sleep(RESYNC_MS + 1000);
    assert.deepEqual(supervisorWrites(via), [], `nothing POSTed (Synced: ${reasonOf(stood)}: ${condition(stood, "Synced")?.message}):\n${via.describeRequests()}`);
    assert.equal(reasonOf(stood), "SupervisorExists", condition(stood, "Synced")?.message);
    assert.match(condition(stood, "Synced")?.message ?? "", /managementPolicy: Adopt/);
    assert.ok(via.requests({ method: "GET" }).length > 0, "Druid was read through this endpoint");
    assert.equal((await kube.getIngestion(ns, "invalid"))?.status?.applied, undefined, "nothing recorded");
    await kube.deleteIngestion(ns, "invalid");
    await waitForGone(ns, "invalid");
    let live = await druid.supervisor(ds);
    assert.ok(live, "the hand-made supervisor survives the deletion");
    assert.notEqual(live.state, "SUSPENDED");
    assert.equal((await history(ds)).length, historyBefore, "its spec history is unchanged");
    assert.deepEqual(await storedSpec(ds), specBefore, "its spec is unchanged");
    assert.deepEqual(supervisorWrites(via), [], `the deletion POSTed nothing:\n${via.describeRequests()}`);

    // The same with a valid spec (differing from the hand-made one): still left alone.
    await kube.createIngestion(ns, manifest("valid", ds, { druidEndpoint: via.url }));
    const exists = await waitForStatus(ns, "valid", "a Synced condition for generation 1", (i) => i.status?.observedGeneration === 1 && condition(i, "Synced") !== undefined);
    await sleep(RESYNC_MS + 1000);
    assert.deepEqual(supervisorWrites(via), [], `nothing POSTed (Synced: ${reasonOf(exists)}):\n${via.describeRequests()}`);
    assert.equal((await history(ds)).length, historyBefore);
    assert.equal(reasonOf(exists), "SupervisorExists", condition(exists, "Synced")?.message);
    assert.equal((await kube.getIngestion(ns, "valid"))?.status?.applied, undefined, "nothing recorded");
    assert.ok(!(await events(ns, "valid")).some((e) => ["Created", "Updated", "DriftCorrected", "Adopted"].includes(e.reason)));
    await kube.deleteIngestion(ns, "valid");
    await waitForGone(ns, "valid");
    live = await druid.supervisor(ds);
    assert.ok(live, "the hand-made supervisor survives");
    assert.notEqual(live.state, "SUSPENDED");
    assert.equal((await history(ds)).length, historyBefore);
    assert.deepEqual(await storedSpec(ds), specBefore);
    assert.deepEqual(supervisorWrites(via), [], via.describeRequests());
  });

  test("a supervisor made by hand just after the controller read Druid's list (one resync period) is not overwritten either", async () => {
    const ns = await namespaceWithSecret("warm");
    const via = await proxy();
    // Another resource on the same endpoint keeps the controller's shared supervisor list warm.
    await kube.createIngestion(ns, manifest("other", unique("warm-other"), { druidEndpoint: via.url }));
    await waitForStatus(ns, "other", "synced", isSynced);
    via.resetRequests();
    await waitFor("the controller reads the supervisor list", async () => via.requests({ method: "GET", path: "/druid/indexer/v1/supervisor?state=true" }).length > 0, 30_000, 50);

    const ds = unique("late");
    await makeByHand(specWith(ds, (s) => (s.tuningConfig["maxRowsInMemory"] = 5555)));
    const specBefore = await storedSpec(ds);
    via.resetRequests();
    await kube.createIngestion(ns, manifest("late", ds, { druidEndpoint: via.url }));
    const decided = await waitForStatus(ns, "late", "a Synced condition for generation 1", (i) => i.status?.observedGeneration === 1 && condition(i, "Synced") !== undefined);
    await sleep(RESYNC_MS + 1000);
    const creates = via.requests({ method: "POST", path: /^\/druid\/indexer\/v1\/supervisor(\?|$)/ });
    assert.equal(creates.length, 0, `nothing POSTed (Synced: ${reasonOf(decided)}: ${condition(decided, "Synced")?.message}; events: ${eventsText(await events(ns, "late"))}):\n${via.describeRequests()}`);
    assert.deepEqual(await storedSpec(ds), specBefore, "the hand-made spec is unchanged");
    assert.equal(reasonOf(await kube.getIngestion(ns, "late")), "SupervisorExists");

    await kube.deleteIngestion(ns, "late");
    await waitForGone(ns, "late");
    assert.ok(await druid.supervisor(ds), "the hand-made supervisor survives the deletion");
    await kube.deleteIngestion(ns, "other");
    await waitForGone(ns, "other");
  });

  test("managementPolicy Adopt takes a hand-made supervisor over; deleting the resource then terminates it", async () => {
    const ns = await namespaceWithSecret("adopt");
    const ds = unique("adopt");
    const via = await proxy();
    await makeByHand(specWith(ds, (s) => (s.tuningConfig["maxRowsInMemory"] = 5555)));
    const historyBefore = (await history(ds)).length;
    await kube.createIngestion(ns, manifest("ing", ds, { druidEndpoint: via.url, managementPolicy: "Adopt" }));
    const adopted = await waitForStatus(ns, "ing", "synced", (i) => isSynced(i) && i.status?.supervisorId === ds);
    await waitFor("Druid runs the resource's spec", async () => ((await storedSpec(ds))?.["spec"] as { tuningConfig?: { maxRowsInMemory?: number } })?.tuningConfig?.maxRowsInMemory === 10000);
    assert.equal((await history(ds)).length, historyBefore + 1, "converged with one POST");
    const list = await events(ns, "ing");
    assert.ok(list.some((e) => e.reason === "Adopted" && e.message.includes(ds)), eventsText(list));
    assert.ok(!list.some((e) => e.reason === "Created"), `taken over, not created:\n${eventsText(list)}`);
    assertApplied(adopted.status, { druidEndpoint: via.url, endpointSource: "DruidEndpoint", supervisorId: ds, dataSource: ds, origin: "Adopted" });

    via.resetRequests();
    await kube.deleteIngestion(ns, "ing");
    await waitForGone(ns, "ing");
    await assertGone(ds, "adopted, so terminated on deletion");
    assert.deepEqual(supervisorWrites(via), [`POST /druid/indexer/v1/supervisor/${ds}/terminate`], via.describeRequests());
    handMade.delete(ds);
  });

  test("managementPolicy Observe reports Druid's state and never writes; deletion leaves the supervisor", async () => {
    const ns = await namespaceWithSecret("observe");
    const ds = unique("observe");
    const via = await proxy();
    await makeByHand(specWith(ds, (s) => (s.tuningConfig["maxRowsInMemory"] = 5555)));
    const specBefore = await storedSpec(ds);
    const historyBefore = (await history(ds)).length;
    await kube.createIngestion(ns, manifest("ing", ds, { druidEndpoint: via.url, managementPolicy: "Observe" }));
    const observing = await waitForStatus(ns, "ing", "a Synced condition and Druid's state", (i) => i.status?.observedGeneration === 1 && condition(i, "Synced") !== undefined && i.status.state !== undefined);
    await sleep(RESYNC_MS + 1000);
    assert.deepEqual(supervisorWrites(via), [], `nothing POSTed (Synced: ${reasonOf(observing)}):\n${via.describeRequests()}`);
    assert.equal((await history(ds)).length, historyBefore, "nothing written to Druid");
    assert.deepEqual(await storedSpec(ds), specBefore);
    assert.ok(via.requests({ method: "GET" }).length > 0, "Druid was read");
    assert.equal(reasonOf(observing), "Observing", condition(observing, "Synced")?.message);
    assert.equal(condition(observing, "Synced")?.status, "Unknown");
    assert.match(condition(observing, "Synced")?.message ?? "", /never changed/);
    const live = await druid.supervisor(ds);
    assert.ok(live);
    assert.notEqual(reasonOf(observing, "Ready"), "NotFound", "Ready comes from Druid's supervisor");
    assert.ok(["Running", "Idle", "Pending", "Unhealthy", "Stopping"].includes(reasonOf(observing, "Ready") ?? ""), condition(observing, "Ready")?.message);

    await kube.deleteIngestion(ns, "ing");
    await waitForGone(ns, "ing");
    const after = await druid.supervisor(ds);
    assert.ok(after, "Observe: deletion leaves the supervisor");
    assert.notEqual(after.state, "SUSPENDED");
    assert.equal((await history(ds)).length, historyBefore);
    assert.deepEqual(supervisorWrites(via), [], via.describeRequests());
  });
});
