// DruidIngestion resources the e2e tests and tools (chaos) create again and again.
import { randomBytes } from "node:crypto";
import type { DruidIngestion } from "../src/api/druid-ingestion.ts";
import { kafkaSupervisorSpec } from "./druid-probe.ts";
import { condition, type Kube } from "./kube.ts";
import type { StackEnv } from "./stack.ts";

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
