// The owned ConfigMap that holds the rendered spec (what the controller sends to Druid), its
// hash as an annotation, and an ownerReference so Kubernetes deletes it with the resource.
import type { V1ConfigMap } from "@kubernetes/client-node";
import { API_VERSION, KIND, type DruidIngestion } from "../api/druid-ingestion.ts";
import { sha256Hex } from "./canonical-json.ts";
import type { DesiredIngestion } from "./render.ts";

export const SPEC_HASH_ANNOTATION = "ingestion.druid.apache.org/spec-hash";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "druid-ingestion-controller";
export const OWNER_LABEL = "ingestion.druid.apache.org/owner";
export const CONFIGMAP_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

const SUFFIX = "-druid-spec";

export function configMapNameFor(ingestionName: string): string {
  const name = `${ingestionName}${SUFFIX}`;
  if (name.length <= 253) return name;
  return `${ingestionName.slice(0, 253 - SUFFIX.length - 9)}-${sha256Hex(ingestionName).slice(0, 8)}${SUFFIX}`;
}

function labelValue(name: string): string {
  // Label values are at most 63 characters; longer names are found through the ownerReference.
  return name.length <= 63 ? name : sha256Hex(name).slice(0, 63);
}

function pretty(value: unknown): string {
  return `${JSON.stringify(JSON.parse(JSON.stringify(value, sortedReplacer)), null, 2)}\n`;
}

function sortedReplacer(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, (value as Record<string, unknown>)[k]]));
}

export function desiredConfigMap(ingestion: DruidIngestion, desired: DesiredIngestion): V1ConfigMap {
  const data: Record<string, string> = { [desired.kind === "supervisor" ? "supervisor.json" : "task.json"]: pretty(desired.body) };
  if (desired.compaction) data["compaction.json"] = pretty(desired.compaction.config);
  if (desired.rules) data["rules.json"] = pretty(desired.rules.rules);
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: configMapNameFor(ingestion.metadata.name),
      namespace: ingestion.metadata.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [OWNER_LABEL]: labelValue(ingestion.metadata.name) },
      annotations: { [SPEC_HASH_ANNOTATION]: desired.specHash },
      ownerReferences: [{ apiVersion: API_VERSION, kind: KIND, name: ingestion.metadata.name, uid: ingestion.metadata.uid, controller: true, blockOwnerDeletion: false }],
    },
    data,
  };
}

/** True when the stored ConfigMap already says everything the desired one says. */
export function configMapUpToDate(current: V1ConfigMap | undefined, desired: V1ConfigMap): boolean {
  if (!current) return false;
  const same = (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean =>
    JSON.stringify(Object.entries(a ?? {}).sort()) === JSON.stringify(Object.entries(b ?? {}).sort());
  const owner = current.metadata?.ownerReferences?.find((r) => r.controller);
  return (
    same(current.data, desired.data) &&
    current.metadata?.annotations?.[SPEC_HASH_ANNOTATION] === desired.metadata?.annotations?.[SPEC_HASH_ANNOTATION] &&
    Object.entries(desired.metadata?.labels ?? {}).every(([k, v]) => current.metadata?.labels?.[k] === v) &&
    owner?.uid === desired.metadata?.ownerReferences?.[0]?.uid
  );
}
