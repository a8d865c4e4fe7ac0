// DruidIngestion resources the e2e tests and tools (chaos) create again and again.
import { randomBytes } from "node:crypto";
import type { DruidIngestion } from "../src/api/druid-ingestion.ts";
import { kafkaSupervisorSpec } from "./druid-probe.ts";
import { condition, type Kube } from "./kube.ts";
import type { StackEnv } from "./stack.ts";
import { waitFor } from "./wait.ts";

export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

/** A fresh namespace holding the basic-auth Secret `druid-auth` (with the stack's or a given password). */
export async function namespaceWithAuthSecret(kube: Kube, env: StackEnv, prefix: string, password = env.druidPassword): Promise<string> {
  const ns = await kube.createNamespace(prefix);
  await kube.createSecret(ns, "druid-auth", { OperatorUserName: env.druidUser, OperatorPassword: password });
  return ns;
}

/** A Kafka DruidIngestion using the `druid-auth` Secret; `extra` is merged into spec. */
export function kafkaIngestion(name: string, dataSource: string, bootstrap: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "druid.apache.org/v1alpha1",
    kind: "DruidIngestion",
    metadata: { name },
    spec: {
      druidCluster: "tiny-cluster",
      auth: { type: "basic-auth", secretRef: { name: "druid-auth" } },
      ingestion: { type: "kafka", nativeSpec: kafkaSupervisorSpec(dataSource, bootstrap) },
      ...extra,
    },
  };
}

/** Synced=True for the current generation. */
export function isSynced(i: DruidIngestion | undefined): boolean {
  return condition(i, "Synced")?.status === "True" && i?.status?.observedGeneration === i?.metadata.generation;
}

/**
 * Waits until the resource's status passes `ok`. A timeout says what the status was (the fields
 * tests wait on), the resource's Events and the last lines the acting controller logged about it.
 */
export async function waitForIngestion(kube: Kube, ns: string, name: string, what: string, ok: (i: DruidIngestion) => boolean, { timeoutMs = 90_000, logs = [] }: { timeoutMs?: number; logs?: readonly string[] } = {}): Promise<DruidIngestion> {
  let last: DruidIngestion | undefined;
  try {
    return await waitFor(`${ns}/${name}: ${what}`, async () => {
      last = await kube.getIngestion(ns, name);
      return last && ok(last) ? last : false;
    }, timeoutMs);
  } catch (error) {
    const s = last?.status;
    const summary = { generation: last?.metadata.generation, observedGeneration: s?.observedGeneration, supervisorId: s?.supervisorId, druidEndpoint: s?.druidEndpoint, applied: s?.applied, pendingCreate: s?.pendingCreate, conditions: s?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`) };
    const events = (await kube.events(ns, name).catch(() => [])).map((e) => `${e.reason}: ${e.message}`).join("\n");
    const about = logs.filter((l) => l.includes(name) && l.includes(ns)).slice(-15).join("\n");
    throw new Error(`${(error as Error).message}\nstatus: ${JSON.stringify(summary, null, 1)}\nevents:\n${events}\ncontroller logs for it:\n${about}`);
  }
}
