// https to a real Druid (#13): the local stack's Router serves TLS with a certificate signed by a
// CA made at stack start (stack/druid/tls.sh; DRUID_HTTPS_URL and DRUID_CA_FILE in the stack's
// env). The controller finds it through a router Service whose port is named `https` (as the
// druid-operator labels it), through spec.druidEndpoint and through DRUID_DEFAULT_URL, trusting
// DRUID_CA_FILE; a CA that did not sign Druid's certificate (or the system roots) is refused with
// DruidTLSFailed before anything is sent, and a restart with the right CA recovers.
// Against another cluster and Druid, export DRUID_HTTPS_URL and DRUID_CA_FILE too (the router
// names of test/support/routers.ts must resolve to that Druid's TLS port, and its certificate
// name them). E2E_SKIP=tls opts out; without it, missing https or router names fail the run.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { ControllerProcess } from "../support/controller.ts";
import { isSynced, kafkaIngestion, namespaceWithAuthSecret, unique, waitForIngestion } from "../support/fixtures.ts";
import { cleanUpNamespaces, condition } from "../support/kube.ts";
import { freshRouterNamespace, removeRouterNamespace, ROUTER_NS, routerHttpsUrl, routerNamesUnresolved, ROUTERS } from "../support/routers.ts";
import { optedOut } from "../support/needs.ts";
import { e2eSetup } from "../support/e2e-setup.ts";
import { waitFor } from "../support/wait.ts";

const OPTED_OUT = optedOut().has("tls");
const { env, kube, druid, bootstrap } = e2eSetup();
const namespaces: string[] = [];
const controllers: ControllerProcess[] = [];
/** A CA of its own, made here: it signed nothing Druid presents. */
let pki = "";
let wrongCa = "";
let httpsUrl = "";
let caFile = "";
let httpsPort = 0;

/** Starts a controller (stopped in `after` if a test did not); RESYNC_PERIOD is 5s (tools/controller.ts). */
async function controller(extra: Record<string, string>): Promise<ControllerProcess> {
  const started = await ControllerProcess.start({ KUBECONFIG: env.kubeconfig, ...extra });
  controllers.push(started);
  return started;
}

async function stop(c: ControllerProcess): Promise<void> {
  assert.equal(await c.stop(), 0, `controller exit code; last logs:\n${c.tail()}`);
}

async function waitForStatus(ns: string, name: string, what: string, ok: (i: DruidIngestion) => boolean, acting: ControllerProcess): Promise<DruidIngestion> {
  return waitForIngestion(kube, ns, name, what, ok, { logs: acting.logs });
}

async function deleteAndWaitGone(ns: string, name: string): Promise<void> {
  await kube.deleteIngestion(ns, name);
  await waitFor(`${ns}/${name} gone`, async () => !(await kube.getIngestion(ns, name)), 90_000);
}

async function assertNotInDruid(dataSource: string, what: string): Promise<void> {
  const live = await druid.supervisor(dataSource);
  assert.equal(live, undefined, `${what}: supervisor ${dataSource} is in Druid (${live?.state})`);
}

before(async () => {
  if (OPTED_OUT) return;
  if (!env.druidHttpsUrl || !env.druidCaFile) {
    throw new Error("no https Druid: the stack's env has no DRUID_HTTPS_URL/DRUID_CA_FILE (start the local stack with its Router, STACK_SQL=1 and STACK_DRUID_TLS=1, or export both for your Druid); E2E_SKIP=tls opts out of this file");
  }
  const unresolved = await routerNamesUnresolved();
  if (unresolved !== undefined) throw new Error(`${unresolved}; E2E_SKIP=tls opts out of this file`);
  httpsUrl = env.druidHttpsUrl;
  caFile = env.druidCaFile;
  httpsPort = Number(new URL(httpsUrl).port || 443);
  pki = mkdtempSync(path.join(tmpdir(), "tls-e2e-"));
  wrongCa = path.join(pki, "wrong-ca.crt");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path.join(pki, "wrong-ca.key"), "-out", wrongCa, "-days", "1", "-subj", "/CN=a CA that signed nothing of Druid's"], { stdio: "ignore" });
  await kube.installCrd();
});

after(async () => {
  if (OPTED_OUT) return;
  // Whatever a failed test left behind is finalized by a controller that trusts the right CA.
  const watched = [];
  for (const ns of [ROUTER_NS, ...namespaces]) if (await kube.namespaceExists(ns)) watched.push(ns);
  const cleaner = await controller({ WATCH_NAMESPACE: watched.join(",") || "default", DRUID_CA_FILE: caFile, DRUID_DEFAULT_URL: httpsUrl, ALLOWED_DRUID_ENDPOINTS: `https://localhost:${httpsPort}` });
  const left = [...(await cleanUpNamespaces(kube, namespaces)), ...(await removeRouterNamespace(kube))];
  for (const c of controllers) await c.stop();
  if (pki) rmSync(pki, { recursive: true, force: true });
  assert.deepEqual(left, [], `every resource was finalized; last logs:\n${cleaner.tail()}`);
});

describe("https to a real Druid", { timeout: 600_000, skip: OPTED_OUT ? "E2E_SKIP=tls: the https tests are opted out" : false }, () => {
  test("router discovery picks the port named https; with DRUID_CA_FILE the supervisor is created, recorded on the https URL, and terminated on deletion", async () => {
    await freshRouterNamespace(kube, env, { httpsPort });
    const acting = await controller({ WATCH_NAMESPACE: ROUTER_NS, DRUID_CA_FILE: caFile });
    const ds = unique("tls-router");
    const url = routerHttpsUrl(ROUTERS.a, httpsPort);
    await kube.createIngestion(ROUTER_NS, kafkaIngestion("tls-router", ds, bootstrap, { druidCluster: ROUTERS.a.cluster }));
    const synced = await waitForStatus(ROUTER_NS, "tls-router", `synced through ${url}`, (i) => isSynced(i) && i.status?.druidEndpoint === url, acting);
    assert.equal(synced.status?.applied?.druidEndpoint, url);
    assert.equal(synced.status?.applied?.endpointSource, "RouterService");
    assert.equal(synced.status?.applied?.supervisorId, ds);
    assert.ok(synced.status?.druidVersion, "the version was read through https");
    const live = await druid.supervisor(ds);
    assert.ok(live, `supervisor ${ds} is in Druid`);
    assert.ok(!acting.logs.join("\n").includes(env.druidPassword), "the Druid password is in no log line");

    await deleteAndWaitGone(ROUTER_NS, "tls-router");
    await assertNotInDruid(ds, "after deletion");
    await stop(acting);
  });

  test("an explicit https spec.druidEndpoint and an https DRUID_DEFAULT_URL work with DRUID_CA_FILE", async () => {
    const ns = await namespaceWithAuthSecret(kube, env, "tls");
    namespaces.push(ns);
    const explicit = `https://localhost:${httpsPort}`;
    const acting = await controller({ WATCH_NAMESPACE: ns, DRUID_CA_FILE: caFile, DRUID_DEFAULT_URL: httpsUrl, ALLOWED_DRUID_ENDPOINTS: `https://localhost:${httpsPort}` });
    const explicitDs = unique("tls-explicit");
    const defaultDs = unique("tls-default");
    await kube.createIngestion(ns, kafkaIngestion("tls-explicit", explicitDs, bootstrap, { druidEndpoint: explicit }));
    await kube.createIngestion(ns, kafkaIngestion("tls-default", defaultDs, bootstrap));
    const viaEndpoint = await waitForStatus(ns, "tls-explicit", `synced through ${explicit}`, (i) => isSynced(i) && i.status?.druidEndpoint === explicit, acting);
    assert.equal(viaEndpoint.status?.applied?.endpointSource, "DruidEndpoint");
    const viaDefault = await waitForStatus(ns, "tls-default", `synced through ${httpsUrl}`, (i) => isSynced(i) && i.status?.druidEndpoint === httpsUrl, acting);
    assert.equal(viaDefault.status?.applied?.endpointSource, "ControllerDefault");
    assert.ok(await druid.supervisor(explicitDs), `supervisor ${explicitDs} is in Druid`);
    assert.ok(await druid.supervisor(defaultDs), `supervisor ${defaultDs} is in Druid`);

    await deleteAndWaitGone(ns, "tls-explicit");
    await deleteAndWaitGone(ns, "tls-default");
    await assertNotInDruid(explicitDs, "after deletion");
    await assertNotInDruid(defaultDs, "after deletion");
    await stop(acting);
  });

  test("a CA that did not sign Druid's certificate, or the system roots: DruidTLSFailed names the URL, the code and DRUID_CA_FILE, nothing reaches Druid; a restart with the right CA recovers", async (t) => {
    await freshRouterNamespace(kube, env, { httpsPort });
    const ds = unique("tls-wrong");
    const url = routerHttpsUrl(ROUTERS.a, httpsPort);
    let acting = await controller({ WATCH_NAMESPACE: ROUTER_NS, DRUID_CA_FILE: wrongCa });
    await kube.createIngestion(ROUTER_NS, kafkaIngestion("tls-wrong", ds, bootstrap, { druidCluster: ROUTERS.a.cluster }));
    const refused = await waitForStatus(ROUTER_NS, "tls-wrong", "DruidTLSFailed", (i) => condition(i, "Synced")?.reason === "DruidTLSFailed", acting);
    const message = condition(refused, "Synced")?.message ?? "";
    t.diagnostic(`Synced: ${message}`);
    // The dialed origin: the Service's full name (what the certificate must name), on the https port.
    assert.match(message, new RegExp(`TLS with https://router-a\\.${ROUTER_NS}\\.svc(\\.cluster\\.local)?:${httpsPort} failed \\((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY): `), message);
    assert.ok(message.includes(`not signed by a CA in DRUID_CA_FILE=${wrongCa}`), message);
    assert.match(message, /set DRUID_CA_FILE to a PEM bundle holding the CA that signed it, and restart the controller/);
    assert.match(message, /Nothing was sent/);
    assert.equal(condition(refused, "Ready")?.status, "False", "a certificate does not fix itself: Ready=False, not Unknown");
    const warning = await waitFor("a Warning Event DruidTLSFailed", async () => (await kube.events(ROUTER_NS, "tls-wrong")).find((e) => e.type === "Warning" && e.reason === "DruidTLSFailed"));
    assert.ok(warning.message.includes(wrongCa), warning.message);
    // Several resyncs later (RESYNC_PERIOD is 5s in tests), still nothing in Druid and nothing recorded.
    await sleep(12_000);
    await assertNotInDruid(ds, "with the wrong CA");
    const still = await kube.getIngestion(ROUTER_NS, "tls-wrong");
    assert.equal(still?.status?.applied, undefined, "nothing recorded as applied");
    assert.equal(still?.status?.pendingCreate, undefined, "no create was even attempted");
    await stop(acting);

    // No DRUID_CA_FILE: the system roots, said so.
    acting = await controller({ WATCH_NAMESPACE: ROUTER_NS });
    const roots = await waitForStatus(ROUTER_NS, "tls-wrong", "DruidTLSFailed against the system roots", (i) => (condition(i, "Synced")?.message ?? "").includes("the system's root CAs (DRUID_CA_FILE is not set)"), acting);
    assert.equal(condition(roots, "Synced")?.reason, "DruidTLSFailed");
    t.diagnostic(`Synced: ${condition(roots, "Synced")?.message}`);
    await assertNotInDruid(ds, "with the system roots");
    await stop(acting);

    // The right CA: the same resource, unchanged, syncs.
    acting = await controller({ WATCH_NAMESPACE: ROUTER_NS, DRUID_CA_FILE: caFile });
    const recovered = await waitForStatus(ROUTER_NS, "tls-wrong", `synced through ${url}`, (i) => isSynced(i) && i.status?.druidEndpoint === url, acting);
    assert.equal(recovered.status?.applied?.supervisorId, ds);
    assert.ok(await druid.supervisor(ds), `supervisor ${ds} is in Druid`);
    const everything = JSON.stringify({ status: recovered.status, events: await kube.events(ROUTER_NS, "tls-wrong") }) + controllers.flatMap((c) => c.logs).join("\n");
    assert.ok(!everything.includes(env.druidPassword), "the Druid password is in no status, Event or log line");
    await deleteAndWaitGone(ROUTER_NS, "tls-wrong");
    await assertNotInDruid(ds, "after deletion");
    await stop(acting);
  });
});
