// What a cluster full of unrelated Secrets costs the controller: fills one namespace with
// Secrets the size of Helm release Secrets (not labelled for the controller), starts the
// controller watching all namespaces, and prints its memory once every cache has synced.
// `--repo DIR` runs the controller of another checkout (e.g. a release before the Secret
// informer was label-selected), for a before/after comparison on the same API server.
//
//   npm run bench:secrets -- --secrets 1000 --size 100Ki [--repo /path/to/other/checkout]
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { parseByteSize } from "../src/config.ts";
import { ControllerProcess, metricValue } from "../tools/controller.ts";
import { Kube } from "../tools/kube.ts";
import { ensureStack, stackEnv } from "../tools/stack.ts";

const { values } = parseArgs({
  options: {
    secrets: { type: "string", default: "1000" },
    size: { type: "string", default: "100Ki" },
    settle: { type: "string", default: "15" },
    repo: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const count = Number(values.secrets);
const size = parseByteSize(values.size);
if (!Number.isInteger(count) || count < 0 || count > 20_000) throw new Error("--secrets: 0 to 20000");

ensureStack();
const env = stackEnv();
const kube = Kube.admin(env);
const print = (label: string, value: string | number): void => void process.stdout.write(`${label.padEnd(44)} ${value}\n`);
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

await kube.installCrd();
const ns = await kube.createNamespace("bench-secrets");
let controller: ControllerProcess | undefined;
try {
  const started = performance.now();
  // Random bytes do not compress: the Secret is as big in etcd and on the wire as it says.
  const payload = randomBytes(Math.floor((size * 3) / 4)).toString("base64");
  for (let i = 0; i < count; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, count - i) }, (_, j) =>
        kube.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: `sh.helm.release.v1.bench.v${i + j}` }, type: "helm.sh/release.v1", data: { release: payload } } }),
      ),
    );
  }
  await kube.createSecret(ns, "druid-auth", { OperatorUserName: env.druidUser, OperatorPassword: env.druidPassword });
  print("unrelated Secrets in the cluster", `${count} × ${values.size}`);
  print("time to create them", `${((performance.now() - started) / 1000).toFixed(1)} s`);

  controller = await ControllerProcess.start({ KUBECONFIG: env.kubeconfig, DRUID_DEFAULT_URL: env.druidUrl, LOG_LEVEL: "info" }, values.repo ? { repoRoot: values.repo } : {});
  print("controller", values.repo ?? "this checkout");
  await new Promise((r) => setTimeout(r, Number(values.settle) * 1000));
  const synced = controller.entries().filter((e) => e["message"] === "cache synced" && String(e["informer"]).startsWith("secrets"));
  print("Secrets in the controller's cache", synced.map((e) => e["objects"]).join(", ") || "?");
  const metrics = await controller.metrics();
  print("resident memory (RSS)", mib(metricValue(metrics, "process_resident_memory_bytes")));
  print("V8 heap used", mib(metricValue(metrics, "nodejs_heap_size_used_bytes")));
  const status = await import("node:fs").then((fs) => fs.readFileSync(`/proc/${controller?.pid}/status`, "utf8"));
  print("peak resident memory (VmHWM)", mib(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024));
} finally {
  await controller?.stop();
  if (!values.keep) await kube.core.deleteNamespace({ name: ns });
}
