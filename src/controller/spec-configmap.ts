// The owned ConfigMap that holds the rendered spec (what the controller sends to Druid), its
// hash as an annotation, and an ownerReference so Kubernetes deletes it with the resource.
import type { V1ConfigMap } from "@kubernetes/client-node";
import { API_VERSION, KIND, type DruidIngestion, type JsonValue } from "../api/druid-ingestion.ts";
import { canonicalJson, sha256Hex } from "./canonical-json.ts";
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

/** A ConfigMap holds at most 1 MiB of data; some room is left for metadata. */
export const MAX_CONFIGMAP_DATA_BYTES = 1_000_000;

export class SpecTooLargeError extends Error {
  readonly configMapName: string;
  constructor(configMapName: string, bytes: number) {
    super(`the rendered spec is ${bytes} bytes, more than a ConfigMap holds (${MAX_CONFIGMAP_DATA_BYTES}); ConfigMap ${configMapName} is not written. Druid is kept in sync regardless; the ConfigMap only shows the rendered spec`);
    this.configMapName = configMapName;
  }
}

/** Compact canonical JSON: the smallest text of the spec, stable for comparisons. */
function compact(value: JsonValue): string {
  return canonicalJson(value);
}

export function desiredConfigMap(ingestion: DruidIngestion, desired: DesiredIngestion): V1ConfigMap {
  const data: Record<string, string> = { [desired.kind === "supervisor" ? "supervisor.json" : "task.json"]: desired.canonical };
  if (desired.compaction) data["compaction.json"] = compact(desired.compaction.config);
  if (desired.rules) data["rules.json"] = compact(desired.rules.rules);
  const name = configMapNameFor(ingestion.metadata.name);
  const bytes = Object.entries(data).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (bytes > MAX_CONFIGMAP_DATA_BYTES) throw new SpecTooLargeError(name, bytes);
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name,
      namespace: ingestion.metadata.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [OWNER_LABEL]: labelValue(ingestion.metadata.name) },
      annotations: { [SPEC_HASH_ANNOTATION]: desired.specHash },
      ownerReferences: [{ apiVersion: API_VERSION, kind: KIND, name: ingestion.metadata.name, uid: ingestion.metadata.uid, controller: true, blockOwnerDeletion: false }],
    },
    data,
  };
}

const DIGEST_PREFIX = "sha256:";

/**
 * The cache keeps our ConfigMaps with each data value replaced by its digest: the spec is already
 * in the resource and rendered on every reconcile, so a second copy per resource would only be
 * compared. A change made to the data by hand still shows (another digest). Mutates the object.
 */
export function digestConfigMapData(configMap: V1ConfigMap): void {
  const data = configMap.data;
  if (!data) return;
  for (const [key, value] of Object.entries(data)) data[key] = `${DIGEST_PREFIX}${sha256Hex(value)}`;
}

/** Stored data (as cached: digests, or as read from the API server: values) equals the desired data. */
function sameData(stored: Record<string, string> | undefined, desired: Record<string, string> | undefined): boolean {
  const have = Object.entries(stored ?? {});
  const want = desired ?? {};
  if (have.length !== Object.keys(want).length) return false;
  return have.every(([key, value]) => {
    const wanted = want[key];
    if (wanted === undefined) return false;
    return value === wanted || (value.startsWith(DIGEST_PREFIX) && value === `${DIGEST_PREFIX}${sha256Hex(wanted)}`);
  });
}

/** True when the stored ConfigMap already says everything the desired one says. */
export function configMapUpToDate(current: V1ConfigMap | undefined, desired: V1ConfigMap): boolean {
  if (!current) return false;
  const owner = current.metadata?.ownerReferences?.find((r) => r.controller);
  return (
    sameData(current.data, desired.data) &&
    current.metadata?.annotations?.[SPEC_HASH_ANNOTATION] === desired.metadata?.annotations?.[SPEC_HASH_ANNOTATION] &&
    Object.entries(desired.metadata?.labels ?? {}).every(([k, v]) => current.metadata?.labels?.[k] === v) &&
    owner?.uid === desired.metadata?.ownerReferences?.[0]?.uid
  );
}

/** Ours, or left by a deleted resource of the same name (garbage collection pending): ours to take. */
export function configMapIsOurs(current: V1ConfigMap | undefined, ingestion: DruidIngestion): boolean {
  const owner = current?.metadata?.ownerReferences?.find((r) => r.controller);
  if (!owner || owner.kind !== KIND || owner.name !== ingestion.metadata.name) return false;
  if (owner.uid === ingestion.metadata.uid) return true;
  return current?.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY && current.metadata.labels[OWNER_LABEL] === labelValue(ingestion.metadata.name);
}

/**
 * The merge patch from our ConfigMap as stored to the desired one: data exactly the desired (keys
 * no longer rendered are removed), our labels and annotation, our ownerReference; conditional on
 * the stored version. Labels others added are left alone.
 */
export function configMapPatch(current: V1ConfigMap, desired: V1ConfigMap): Record<string, unknown> {
  const data: Record<string, string | null> = { ...(desired.data ?? {}) };
  for (const key of Object.keys(current.data ?? {})) if (!(key in data)) data[key] = null;
  return {
    metadata: {
      resourceVersion: current.metadata?.resourceVersion,
      labels: desired.metadata?.labels,
      annotations: desired.metadata?.annotations,
      ownerReferences: desired.metadata?.ownerReferences,
    },
    data,
  };
}
