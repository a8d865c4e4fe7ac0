// The README's first command: start the local real stack (unless KUBECONFIG and DRUID_URL
// name an existing cluster and Druid), install the CRD, run the controller, apply the example
// DruidIngestion and show the supervisor Druid now runs. Keeps the controller running until
// Ctrl-C, which deletes the example through the controller (its supervisor is terminated in
// Druid) before stopping it, so the stack is left as it was before the demo; a second Ctrl-C
// stops at once and says what is left. With --once it does the same right after the result.
import { mkdirSync, createWriteStream, readFileSync } from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { loadAll } from "js-yaml";
import { ApiException } from "@kubernetes/client-node";
import { condition, Kube } from "../tools/kube.ts";
import { DruidProbe } from "../tools/druid-probe.ts";
import { ensureStack, REPO_ROOT, stackEnv } from "../tools/stack.ts";
import { waitFor } from "../tools/wait.ts";

const once = process.argv.includes("--once");
const NAMESPACE = "druid-quickstart";
const say = (text: string): void => void process.stdout.write(`\n==> ${text}\n`);

say("starting the local stack (first run builds kube-apiserver and fetches Druid: several minutes)");
ensureStack();
const env = stackEnv();
const kube = Kube.admin(env);
const druid = new DruidProbe(env);

say(`installing the DruidIngestion CRD into ${kube.kc.getCurrentCluster()?.server}`);
await kube.installCrd();

const logDir = path.join(REPO_ROOT, ".stack");
mkdirSync(logDir, { recursive: true });
const logFile = path.join(logDir, "controller.log");
say(`starting the controller (JSON logs: ${logFile})`);
const log = createWriteStream(logFile, { flags: "a" });
const controller = spawn(process.execPath, [path.join(REPO_ROOT, "src/main.ts")], {
  env: { ...process.env, KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl, RESYNC_PERIOD: "15s", METRICS_BIND_ADDRESS: "127.0.0.1:8383", HEALTH_PROBE_BIND_ADDRESS: "127.0.0.1:8384" },
  stdio: ["ignore", "pipe", "pipe"],
  // Its own process group: the terminal's Ctrl-C reaches this script only, which removes the
  // example through the controller before stopping it.
  detached: true,
});
// Whatever ends this script, the controller does not outlive it.
process.on("exit", () => {
  if (controller.exitCode === null && controller.signalCode === null) controller.kill("SIGKILL");
});
controller.stdout.pipe(log);
controller.stderr.pipe(log);
let stopping = false;
controller.on("exit", (code) => {
  if (!stopping) {
    process.stderr.write(`controller exited with ${code}; see ${logFile}\n`);
    process.exit(1);
  }
});

const stop = async (code: number): Promise<never> => {
  stopping = true;
  if (controller.exitCode === null && controller.signalCode === null) {
    const exited = new Promise((resolve) => controller.once("exit", resolve));
    controller.kill("SIGTERM");
    await exited;
  }
  process.exit(code);
};

/** The example goes through the controller (its finalizer terminates the supervisor), then the controller stops. */
let applying = false;
let creating: Promise<unknown> | undefined;
const removeExampleAndStop = async (code: number): Promise<never> => {
  if (applying) {
    say(`deleting DruidIngestion ${NAMESPACE}/kafka-2 (the controller terminates its supervisor in Druid first)`);
    try {
      await creating?.catch(() => undefined); // a create in flight lands first, then goes
      await kube.deleteIngestion(NAMESPACE, "kafka-2").catch((e: unknown) => {
        if (!(e instanceof ApiException && e.code === 404)) throw e;
      });
      await waitFor("the example to be deleted", async () => !(await kube.getIngestion(NAMESPACE, "kafka-2")), 120_000);
      say("example removed; controller stopped");
    } catch (error) {
      process.stderr.write(`could not remove the example: ${(error as Error).message}\n  left behind: DruidIngestion ${NAMESPACE}/kafka-2; run npm run quickstart again and stop it with one Ctrl-C to remove it\n`);
      code = code || 1;
    }
  }
  return stop(code);
};
/** One shutdown, whoever asks first (Ctrl-C, --once, a failure); the main flow stops at its next step. */
let shuttingDown: Promise<never> | undefined;
const shutDown = (code: number): Promise<never> => (shuttingDown ??= removeExampleAndStop(code));
const unlessShuttingDown = async (): Promise<void> => {
  if (shuttingDown) await shuttingDown;
};
const onSignal = (): void => {
  if (shuttingDown) {
    process.stderr.write(`\nsecond interrupt: stopping now; DruidIngestion ${NAMESPACE}/kafka-2 and its supervisor may be left behind (run npm run quickstart again and stop it with one Ctrl-C to remove them)\n`);
    void stop(130);
    return;
  }
  void shutDown(0);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

try {
  say(`applying deploy/examples/druid-auth-secret.yaml and deploy/examples/kafka-ingestion-native.yaml in namespace ${NAMESPACE}`);
  await kube.core.createNamespace({ body: { metadata: { name: NAMESPACE } } }).catch((e: unknown) => {
    if (!(e instanceof ApiException && e.code === 409)) throw e;
  });
  for (const file of ["druid-auth-secret.yaml", "kafka-ingestion-native.yaml"]) {
    for (const doc of loadAll(readFileSync(path.join(REPO_ROOT, "deploy/examples", file), "utf8")) as Array<{ kind: string; metadata: { name: string } }>) {
      if (doc.kind === "Secret") {
        await kube.core.createNamespacedSecret({ namespace: NAMESPACE, body: doc as never }).catch((e: unknown) => {
          if (!(e instanceof ApiException && e.code === 409)) throw e;
        });
      } else {
        await unlessShuttingDown();
        applying = true;
        creating = kube.getIngestion(NAMESPACE, doc.metadata.name).then((found) => (found ? undefined : kube.createIngestion(NAMESPACE, doc)));
        await creating;
      }
    }
  }
  await unlessShuttingDown();
  const ingestion = await waitFor("the example to be synced", async () => {
    const i = await kube.getIngestion(NAMESPACE, "kafka-2");
    return condition(i, "Synced")?.status === "True" ? i : false;
  }, 120_000);
  const id = ingestion.status?.supervisorId as string;
  const live = await waitFor("Druid to list the supervisor", () => druid.supervisor(id));
  say(`Druid runs supervisor "${live.id}" (state ${live.state ?? "?"}) for DruidIngestion ${NAMESPACE}/kafka-2`);
  process.stdout.write(`    status.conditions: ${(ingestion.status?.conditions ?? []).map((c) => `${c.type}=${c.status}(${c.reason})`).join(" ")}\n`);
  process.stdout.write(`    see it yourself:  curl -u ${env.druidUser}:${env.druidPassword} '${env.druidUrl}/druid/indexer/v1/supervisor?state=true'\n`);
  process.stdout.write(`    Kubernetes:       export KUBECONFIG=${env.kubeconfig}; kubectl -n ${NAMESPACE} get druidingestions\n`);
  await unlessShuttingDown();
  if (once) {
    say("--once: removing the example again");
    await shutDown(0);
  }
  say("the controller keeps running; edit the resource (e.g. spec.suspend: true) and watch Druid follow. Ctrl-C removes the example through the controller and stops it.");
} catch (error) {
  if (!shuttingDown) process.stderr.write(`quickstart failed: ${(error as Error).message}\nlast controller logs: ${logFile}\n`);
  await (shuttingDown ?? shutDown(1));
}
