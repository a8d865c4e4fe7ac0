// The multi-tenant security model (#10) on the real stack: a namespace user can neither make the
// controller call a URL of their choosing nor make it read a Secret that was not meant for it,
// and the controller does not even cache such Secrets.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { loadAll } from "js-yaml";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { CREDENTIALS_LABEL, type DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { ControllerProcess } from "../support/controller.ts";
import { DruidProbe } from "../support/druid.ts";
import { isSynced, kafkaIngestion, unique } from "../support/fixtures.ts";
import { cleanUpNamespaces, condition, Kube } from "../support/kube.ts";
import { ensureStack, REPO_ROOT, stackEnv } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

ensureStack();
const env = stackEnv();
const kube = Kube.admin(env);
const druid = new DruidProbe(env);
const bootstrap = env.kafkaBootstrap ?? "127.0.0.1:9";
let controller: ControllerProcess;
let namespace: string;
const namespaces: string[] = [];

/** A loopback server that records whatever reaches it (it must stay empty). */
class CaptureServer {
  readonly requests: Array<{ method: string; url: string; authorization: string | undefined }> = [];
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      this.requests.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization });
      res.writeHead(200, { "content-type": "application/json" }).end("[]");
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.port = (this.server?.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const capture = new CaptureServer();

async function waitForStatus(ns: string, name: string, what: string, ok: (i: DruidIngestion) => boolean, timeoutMs = 60_000): Promise<DruidIngestion> {
  return waitFor(`${ns}/${name}: ${what}`, async () => {
    const current = await kube.getIngestion(ns, name);
    return current && ok(current) ? current : false;
  }, timeoutMs);
}

const credentials = { OperatorUserName: env.druidUser, OperatorPassword: env.druidPassword };

before(async () => {
  await kube.installCrd();
  await capture.start();
  // One watched namespace holding Secrets that did not opt in (as a real namespace does: tokens,
  // Helm releases, database passwords) and one that did.
  namespace = await kube.createNamespace("sec");
  namespaces.push(namespace);
  for (let i = 0; i < 3; i++) await kube.createSecret(namespace, `unrelated-${i}`, { password: `unrelated-secret-${i}` }, { optIn: false });
  await kube.createSecret(namespace, "druid-auth", credentials);
  controller = await ControllerProcess.start({ KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl, WATCH_NAMESPACE: namespace });
});

after(async () => {
  const left = await cleanUpNamespaces(kube, namespaces);
  const code = await controller?.stop();
  await capture.stop();
  assert.deepEqual(left, [], "every resource was finalized");
  assert.equal(code, 0, `controller exit code; last logs:\n${controller?.tail()}`);
});

describe("security model", { timeout: 300_000 }, () => {
  test("only Secrets labelled druid.apache.org/credentials=true are cached", () => {
    const synced = controller.logs.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l["message"] === "cache synced" && l["informer"] === `secrets/${namespace}`);
    assert.ok(synced, "the Secret cache reported its size");
    assert.equal(synced["objects"], 1, "four Secrets in the namespace, one opted in");
    assert.ok(!controller.logs.join("\n").includes("unrelated-secret"), "no value of the others anywhere in the logs");
  });

  test("a druidEndpoint the administrator did not allow receives nothing, credentials least of all", async () => {
    const url = `http://localhost:${capture.port}`;
    await kube.createIngestion(namespace, kafkaIngestion("ssrf", unique("ssrf"), bootstrap, { druidEndpoint: url }));
    const refused = await waitForStatus(namespace, "ssrf", "refused", (i) => condition(i, "Synced")?.reason === "EndpointNotAllowed");
    assert.match(condition(refused, "Synced")?.message ?? "", /not an allowed Druid endpoint.*ALLOWED_DRUID_ENDPOINTS/);
    assert.ok((await kube.events(namespace, "ssrf")).some((e) => e.type === "Warning" && e.reason === "EndpointNotAllowed"));
    // Several resyncs later (RESYNC_PERIOD is 5s in tests), still nothing.
    await new Promise((r) => setTimeout(r, 12_000));
    assert.deepEqual(capture.requests, []);
    await kube.deleteIngestion(namespace, "ssrf");
    await waitFor("the refused resource is deleted (nothing was recorded in Druid)", async () => (await kube.getIngestion(namespace, "ssrf")) === undefined, 30_000);
    assert.deepEqual(capture.requests, []);
  });

  test("an ExternalName Service labelled as a router is never used for discovery", async () => {
    await kube.core.createNamespacedService({
      namespace,
      body: { metadata: { name: "evil-routers", labels: { druid_cr: "evil", component: "router" } }, spec: { type: "ExternalName", externalName: "localhost", ports: [{ name: "http", port: capture.port }] } },
    });
    const ds = unique("extname");
    await kube.createIngestion(namespace, kafkaIngestion("extname", ds, bootstrap, { druidCluster: "evil" }));
    // No router Service that counts: the controller's default URL is used, the alias never.
    const synced = await waitForStatus(namespace, "extname", "synced on the default URL", isSynced);
    assert.equal(synced.status?.applied?.endpointSource, "ControllerDefault");
    assert.ok(await druid.supervisor(ds));
    assert.deepEqual(capture.requests, []);
    await kube.deleteIngestion(namespace, "extname");
    await waitFor("deleted", async () => (await kube.getIngestion(namespace, "extname")) === undefined, 60_000);
  });

  test("a Secret that did not opt in is not read; the condition gives the label command; labelling it is enough", async () => {
    await kube.createSecret(namespace, "operator-auth", credentials, { optIn: false });
    const ds = unique("optin");
    await kube.createIngestion(namespace, kafkaIngestion("optin", ds, bootstrap, { auth: { type: "basic-auth", secretRef: { name: "operator-auth" } } }));
    const refused = await waitForStatus(namespace, "optin", "not opted in", (i) => condition(i, "Synced")?.reason === "SecretNotOptedIn");
    assert.match(condition(refused, "Synced")?.message ?? "", new RegExp(`kubectl label secret -n ${namespace} operator-auth ${CREDENTIALS_LABEL.replace(/[./]/g, "\\$&")}=true`));
    assert.equal(await druid.supervisor(ds), undefined, "nothing reached Druid");
    // The druid-operator user's upgrade step, and nothing else: no edit of the resource.
    await kube.core.patchNamespacedSecret({ namespace, name: "operator-auth", body: { metadata: { labels: { [CREDENTIALS_LABEL]: "true" } } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    await waitForStatus(namespace, "optin", "synced once labelled", isSynced, 60_000);
    assert.ok(await druid.supervisor(ds));
    await kube.deleteIngestion(namespace, "optin");
    await waitFor("deleted", async () => (await kube.getIngestion(namespace, "optin")) === undefined, 60_000);
    assert.equal(await druid.supervisor(ds), undefined);
  });

  test("a full lifecycle with a Secret referenced from the spec (the example): Druid gets the value, nothing else ever shows it", async () => {
    const file = path.join(REPO_ROOT, "deploy/examples/kafka-ingestion-sasl-secret.yaml");
    const docs = loadAll(readFileSync(file, "utf8")) as Array<{ kind: string; metadata: { name: string } }>;
    for (const doc of docs) {
      if (doc.kind === "Secret") await kube.core.createNamespacedSecret({ namespace, body: doc as never });
      else await kube.createIngestion(namespace, doc);
    }
    const ds = "metrics-kafka-sasl";
    const jaasOf = async (): Promise<unknown> => ((((await druid.supervisor(ds))?.spec?.["spec"] as Record<string, Record<string, Record<string, unknown>>>)?.["ioConfig"]?.["consumerProperties"]) ?? {})["sasl.jaas.config"];
    await waitForStatus(namespace, "kafka-sasl", "synced", isSynced);
    assert.match(String(await jaasOf()), /password="change-me"/, "Druid got the value");
    const configMap = await kube.core.readNamespacedConfigMap({ namespace, name: "kafka-sasl-druid-spec" });
    assert.match(configMap.data?.["supervisor.json"] ?? "", /"secretKeyRef":\{"key":"sasl\.jaas\.config","name":"kafka-sasl"\}/, "the ConfigMap keeps the reference");

    // Rotation: one update of the supervisor with the new value, then nothing more.
    const rotated = `rotated-${randomBytes(12).toString("hex")}`;
    const versions = await druid.historyLength(ds);
    await kube.core.replaceNamespacedSecret({
      namespace,
      name: "kafka-sasl",
      body: { metadata: { name: "kafka-sasl", labels: { [CREDENTIALS_LABEL]: "true" }, annotations: { "druid.apache.org/referenceable-keys": "sasl.jaas.config" } }, stringData: { "sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="druid" password="${rotated}";` } },
    });
    await waitFor("Druid runs the rotated value", async () => String(await jaasOf()).includes(rotated), 60_000);
    await new Promise((r) => setTimeout(r, 12_000)); // a few resyncs (RESYNC_PERIOD 5s in tests)
    assert.equal(await druid.historyLength(ds), versions + 1, "exactly one update for one rotation");

    await kube.patchIngestion(namespace, "kafka-sasl", { spec: { suspend: true, resetNonce: "n1" } });
    // The example's broker is a placeholder, so Druid keeps the supervisor PENDING: Suspended is asked, not the state.
    const last = await waitForStatus(namespace, "kafka-sasl", "suspended and reset", (i) => isSynced(i) && i.status?.lastResetNonce === "n1" && condition(i, "Suspended")?.status === "True", 90_000);
    const events = await kube.events(namespace, "kafka-sasl");
    const configMaps = await kube.core.listNamespacedConfigMap({ namespace });
    await kube.deleteIngestion(namespace, "kafka-sasl");
    await waitFor("deleted", async () => (await kube.getIngestion(namespace, "kafka-sasl")) === undefined, 60_000);
    assert.equal(await druid.supervisor(ds), undefined);

    const shown = [JSON.stringify(last), JSON.stringify(events), JSON.stringify(configMaps.items), controller.logs.join("\n"), await controller.metrics()].join("\n");
    const secrets = ["change-me", rotated, env.druidPassword, Buffer.from(`${env.druidUser}:${env.druidPassword}`).toString("base64"), Buffer.from(rotated).toString("base64")];
    for (const value of secrets) assert.ok(!shown.includes(value), `a secret value appears in status, Events, ConfigMaps, logs or metrics: ${value.slice(0, 4)}…`);
  });
});
