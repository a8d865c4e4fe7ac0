// A stand-in for the Go druid-operator's ingestion controller (datainfrahq/apache druid-operator,
// controllers/ingestion/reconciler.go): it makes, against the real Druid and API server, exactly
// the writes that controller makes for a new DruidIngestion, so a test can then hand the resource
// to this controller. The Go operator is not run; see ../shared/reference/druid-operator-compat.md
// (sections 1.3, 1.4, 2.2–2.5) for what is reproduced here:
//   1. POST the spec, re-serialized as Go's encoding/json writes a map (compact, keys sorted,
//      HTML characters escaped), to /druid/indexer/v1/supervisor (kafka) or /druid/indexer/v1/task
//      (native-batch: no id, Druid generates one);
//   2. compaction: GET the datasource's config (404 = {}); unless the desired config (compaction
//      plus dataSource) is "included" in it, POST it; rules: POST them as a JSON array;
//   3. status merge patch (after a fresh GET): taskId (`task`, else `id`, of the response), type =
//      reason = DruidIngestionControllerCreateSuccess when the create returned 200 AND compaction
//      was "changed" AND rules were ok, else DruidIngestionControllerCreateFail (its bug: an
//      ingestion without compaction is recorded as CreateFail); status "True"; message = the raw
//      response body; lastUpdateTime; currentIngestionSpec.json; rules (a copy of spec rules);
//   4. the finalizer, with a full-object Update of the object as its Go structs serialize it:
//      spec.suspend written back as false when unset (no omitempty) and `auth` written back even
//      when empty ({type: "", secretRef: {}}). In the Go operator the first Update after the status
//      patch conflicts (stale resourceVersion, error swallowed) and the next reconcile makes it, so
//      the effective order is POST, status, finalizer, as here.
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION, type DruidIngestion } from "../../src/api/druid-ingestion.ts";
import type { DruidProbe } from "./druid.ts";
import type { Kube } from "./kube.ts";

export const GO_FINALIZER = "druidingestion.datainfra.io/finalizer";
export const CREATE_SUCCESS = "DruidIngestionControllerCreateSuccess";
export const CREATE_FAIL = "DruidIngestionControllerCreateFail";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Go's json.Marshal of a map[string]interface{} tree: compact, object keys sorted, <>& and U+2028/9 escaped. */
export function goJson(value: unknown): string {
  const encode = (v: unknown): string => {
    if (v === null || v === undefined) return "null";
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new Error("Go cannot marshal a non-finite number");
      return JSON.stringify(v); // float64; the test values are integers and short decimals
    }
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "string") {
      return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    }
    if (Array.isArray(v)) return `[${v.map(encode).join(",")}]`;
    const obj = v as Record<string, unknown>;
    // Go sorts map keys by their UTF-8 bytes; for the ASCII keys of Druid specs that is code-unit order.
    return `{${Object.keys(obj).sort().map((k) => `${encode(k)}:${encode(obj[k])}`).join(",")}}`;
  };
  return encode(value);
}

/** util.IncludesJson: every desired key is in current with an equal value; arrays: each desired item somewhere in current. */
function includesJson(current: unknown, desired: unknown): boolean {
  if (Array.isArray(desired)) return Array.isArray(current) && desired.every((d) => current.some((c) => includesJson(c, d)));
  if (desired !== null && typeof desired === "object") {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return false;
    return Object.entries(desired as Record<string, unknown>).every(([k, v]) => includesJson((current as Record<string, unknown>)[k], v));
  }
  return current === desired;
}

export interface GoOperatorResult {
  /** What the druid-operator recorded in status.taskId: Druid's task id, or the supervisor id. */
  taskId: string;
  /** The body POSTed, as also recorded in status["currentIngestionSpec.json"]. */
  specJson: string;
  /** status.type/reason as recorded. */
  reason: string;
  responseBody: string;
  /** The object after all of the druid-operator's writes. */
  ingestion: DruidIngestion;
}

function createPath(type: string): string {
  if (type === "kafka") return "/druid/indexer/v1/supervisor";
  if (type === "native-batch") return "/druid/indexer/v1/task";
  throw new Error(`the druid-operator has no create path for ingestion type ${type}`);
}

/**
 * Creates `manifest` in `namespace` and makes the druid-operator's writes for it (see the header).
 * `druid` must authenticate as the resource's Secret does.
 */
export async function createAsDruidOperator(kube: Kube, druid: DruidProbe, namespace: string, manifest: Record<string, unknown>): Promise<GoOperatorResult> {
  const created = await kube.createIngestion(namespace, manifest);
  const name = created.metadata.name;
  const ingestion = created.spec.ingestion;

  // getSpec: a non-empty nativeSpec wins, else the JSON string.
  const body = (ingestion.nativeSpec && Object.keys(ingestion.nativeSpec).length > 0 ? ingestion.nativeSpec : JSON.parse(ingestion.spec ?? "")) as Record<string, Json>;
  const specJson = goJson(body);
  const created_ = await druid.call("POST", createPath(ingestion.type), undefined, { rawBody: specJson });

  const inner = body["spec"] as { dataSchema?: { dataSource?: string } } | undefined;
  const dataSource = inner?.dataSchema?.dataSource;
  // UpdateCompaction: false when none is set (the bug that turns success into CreateFail).
  let compactionOk = false;
  if (ingestion.compaction && Object.keys(ingestion.compaction).length > 0) {
    if (!dataSource) throw new Error("dataSource not found in spec");
    const current = await druid.call("GET", `/druid/coordinator/v1/config/compaction/${encodeURIComponent(dataSource)}`);
    if (current.status !== 200 && current.status !== 404) throw new Error(`failed to retrieve current compaction settings, status code: ${current.status}`);
    const desired = { ...ingestion.compaction, dataSource };
    if (!includesJson(current.status === 200 ? current.json : {}, desired)) {
      const r = await druid.call("POST", "/druid/coordinator/v1/config/compaction", undefined, { rawBody: goJson(desired) });
      if (r.status !== 200) throw new Error(`failed to update compaction, status code: ${r.status}, response body: ${r.text}`);
      compactionOk = true;
    }
  }
  // UpdateRules: true when there are none.
  let rulesOk = true;
  if (ingestion.rules && ingestion.rules.length > 0) {
    if (!dataSource) throw new Error("dataSource not found in spec");
    const r = await druid.call("POST", `/druid/coordinator/v1/rules/${encodeURIComponent(dataSource)}`, undefined, { rawBody: goJson(ingestion.rules) });
    if (r.status !== 200) throw new Error(`failed to update rules, status code: ${r.status}, response body: ${r.text}`);
    rulesOk = true;
  }

  // getTaskIdFromResponse: `task` first, then `id`; no id means an error and no status at all.
  const response = created_.json as { task?: string; id?: string } | undefined;
  const taskId = response?.task || response?.id;
  if (!taskId) throw new Error(`task id not found in the druid-operator's create response: HTTP ${created_.status} ${created_.text}`);
  const reason = created_.status === 200 && compactionOk && rulesOk ? CREATE_SUCCESS : CREATE_FAIL;

  // makePatchDruidIngestionStatus: a JSON merge patch of the status subresource.
  const status: Record<string, unknown> = {
    taskId,
    type: reason,
    status: "True",
    reason,
    message: created_.text,
    lastUpdateTime: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"), // metav1.Time: RFC 3339, seconds
    "currentIngestionSpec.json": specJson,
  };
  if (ingestion.rules && ingestion.rules.length > 0) status["rules"] = ingestion.rules;
  await kube.custom.patchNamespacedCustomObjectStatus(
    { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body: { status } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );

  // controllerutil.AddFinalizer + r.Update: the whole object, as the Go structs serialize it.
  const current = (await kube.getIngestion(namespace, name)) as DruidIngestion;
  const spec = current.spec;
  const goIngestion: Record<string, unknown> = { type: spec.ingestion.type };
  if (spec.ingestion.spec) goIngestion["spec"] = spec.ingestion.spec;
  if (spec.ingestion.nativeSpec) goIngestion["nativeSpec"] = spec.ingestion.nativeSpec;
  if (spec.ingestion.compaction) goIngestion["compaction"] = spec.ingestion.compaction;
  if (spec.ingestion.rules) goIngestion["rules"] = spec.ingestion.rules;
  const secretRef: Record<string, string> = {};
  if (spec.auth?.secretRef?.name) secretRef["name"] = spec.auth.secretRef.name;
  if (spec.auth?.secretRef?.namespace) secretRef["namespace"] = spec.auth.secretRef.namespace;
  const goObject = {
    apiVersion: current.apiVersion,
    kind: current.kind,
    metadata: { ...current.metadata, finalizers: [...(current.metadata.finalizers ?? []), GO_FINALIZER] },
    spec: {
      suspend: spec.suspend ?? false,
      druidCluster: spec.druidCluster ?? "",
      ingestion: goIngestion,
      auth: { type: spec.auth?.type ?? "", secretRef },
    },
    status: current.status,
  };
  const updated = (await kube.custom.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body: goObject })) as DruidIngestion;
  return { taskId, specJson, reason, responseBody: created_.text, ingestion: updated };
}
