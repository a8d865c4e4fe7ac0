// Turns a DruidIngestion's spec into exactly what will be sent to Druid, plus the hashes the
// controller compares to decide whether anything must change. Pure: no I/O. References to Secret
// keys (secret-refs.ts) stay references here: this is what the ConfigMap and status show; their
// values are put in only when the body is sent.
import type { DruidIngestion, JsonObject, JsonValue } from "../api/druid-ingestion.ts";
import { canonicalJson, contentHash, sha256Hex } from "./canonical-json.ts";
import { supervisorSpecProblems } from "./spec-checks.ts";
import { firstSecretRefPath, MalformedSecretRef, SECRET_KEY_REF, secretRefsOf, type SecretKeyRef } from "./secret-refs.ts";

/** Ingestion types that run as a one-shot Druid task rather than a supervisor. */
export const TASK_TYPES: ReadonlySet<string> = new Set(["native-batch", "index-hadoop", "sql"]);

export interface DesiredCompaction {
  config: JsonObject;
  hash: string;
}

export interface DesiredRules {
  rules: JsonObject[];
  hash: string;
}

interface DesiredCommon {
  type: string;
  /** The spec as rendered, without `suspended` (spec.suspend and suspendedInBody drive it); Secret references kept. */
  body: JsonObject;
  canonical: string;
  /** Of `canonical` (Secret references as references: nothing derived from a value). */
  specHash: string;
  /** The Secret references in `body`, in document order. */
  secretRefs: readonly SecretKeyRef[];
  dataSource: string | undefined;
  compaction: DesiredCompaction | undefined;
  rules: DesiredRules | undefined;
}

export interface DesiredSupervisor extends DesiredCommon {
  kind: "supervisor";
  supervisorId: string;
  /** True when the spec names its supervisor with a top-level `id` (Druid 34+ only). */
  explicitId: boolean;
  /**
   * `"suspended": true` in the spec body: druid-operator manifests suspend that way (it ignores
   * spec.suspend), so it keeps its meaning: the supervisor is suspended if either says so.
   */
  suspendedInBody: boolean;
}

export interface DesiredTask extends DesiredCommon {
  kind: "task";
  /**
   * The id Druid will give the task: generated from the resource's uid, spec hash and
   * resetNonce (so a resubmission after a crash is refused by Druid instead of duplicated, and
   * a re-created resource never meets its predecessor's task), or the spec's own. SQL tasks are
   * named `query-<sqlQueryId>` by Druid.
   */
  taskId: string;
  /** The spec names the id itself (`id`, or `context.sqlQueryId` for SQL): it can be used once. */
  explicitId: boolean;
}

export type DesiredIngestion = DesiredSupervisor | DesiredTask;

/** The supervisor id, or the task id. */
export function desiredId(desired: DesiredIngestion): string {
  return desired.kind === "supervisor" ? desired.supervisorId : desired.taskId;
}

export class RenderError extends Error {
  readonly reason = "InvalidSpec";
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function parseSpecText(text: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new RenderError(`spec.ingestion.spec is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(parsed as JsonValue)) throw new RenderError("spec.ingestion.spec must be a JSON object");
  return parsed as JsonObject;
}

/** The druid-operator's rule: a non-empty nativeSpec wins, else the JSON string. */
export function ingestionSpecBody(ingestion: DruidIngestion): JsonObject {
  const { nativeSpec, spec } = ingestion.spec.ingestion;
  if (nativeSpec && Object.keys(nativeSpec).length > 0) return nativeSpec;
  if (spec && spec.trim() !== "") return parseSpecText(spec);
  throw new RenderError("no ingestion spec: set spec.ingestion.nativeSpec or spec.ingestion.spec");
}

/** dataSchema sits under `spec` in the documented form; Kafka/Kinesis also accept it at top level. */
export function dataSourceOf(body: JsonObject): string | undefined {
  const inner = isObject(body["spec"]) ? body["spec"] : undefined;
  const dataSchema = isObject(inner?.["dataSchema"]) ? inner["dataSchema"] : isObject(body["dataSchema"]) ? body["dataSchema"] : undefined;
  const ds = dataSchema?.["dataSource"];
  if (typeof ds === "string" && ds !== "") return ds;
  // SQL (MSQ) and some task types carry the datasource elsewhere; they have no supervisor id.
  return undefined;
}

/**
 * A task id of safe characters and bounded length, unique per resource (uid), spec and
 * resetNonce: a new nonce asks for a new run of the same spec.
 */
export function deterministicTaskId(namespace: string, name: string, uid: string, specHash: string, resetNonce: string | undefined): string {
  const base = `druidingestion_${namespace}_${name}`.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 180);
  const run = sha256Hex([uid, specHash, resetNonce ?? ""].join("\n"));
  return `${base}_${run.slice(0, 16)}`;
}

/** MSQ names the controller task `query-<sqlQueryId>`. */
export const SQL_TASK_PREFIX = "query-";

function nonEmptyString(value: JsonValue | undefined): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The Secret references of a spec body, checked: a malformed one is a render error naming its path. */
function secretRefsIn(body: JsonObject): SecretKeyRef[] {
  let refs: SecretKeyRef[];
  try {
    refs = secretRefsOf(body);
  } catch (error) {
    if (error instanceof MalformedSecretRef) throw new RenderError(`the ingestion spec has an ${error.message}`);
    throw error;
  }
  if (refs.some((r) => r.pointer === "")) throw new RenderError(`the ingestion spec must be a JSON object, not a ${SECRET_KEY_REF}: references stand for values inside it`);
  return refs;
}

/** Compaction configs and rules are sent as written: a reference there is refused, not sent. */
function refuseSecretRefs(value: JsonValue, where: string): void {
  const path = firstSecretRefPath(value);
  if (path !== undefined) {
    throw new RenderError(`${where} has a ${SECRET_KEY_REF} (at ${path}): references to Secrets are supported only in the supervisor/task spec (spec.ingestion.nativeSpec or spec.ingestion.spec)`);
  }
}

export function renderIngestion(ingestion: DruidIngestion): DesiredIngestion {
  const type = ingestion.spec.ingestion.type;
  const userBody = ingestionSpecBody(ingestion);
  const kind = TASK_TYPES.has(type) ? "task" : "supervisor";
  // A supervisor spec must carry its type; manifests often leave it to ingestion.type.
  const body: JsonObject = kind === "supervisor" && userBody["type"] === undefined ? { ...userBody, type } : userBody;
  // `suspended` is driven by spec.suspend, never by the spec body: it is not part of the hash.
  const { suspended: _ignored, ...hashed } = body;
  const secretRefs = secretRefsIn(hashed);
  const canonical = canonicalJson(hashed);
  const specHash = sha256Hex(canonical);
  const dataSource = dataSourceOf(body);
  const compaction = renderCompaction(ingestion, dataSource);
  const rules = renderRules(ingestion, dataSource);
  const common = { type, body: hashed, canonical, specHash, secretRefs, dataSource, compaction, rules };

  if (kind === "task") {
    const { namespace, name, uid } = ingestion.metadata;
    const generated = (): string => deterministicTaskId(namespace, name, uid, specHash, ingestion.spec.resetNonce);
    if (type === "sql") {
      const context = isObject(body["context"]) ? body["context"] : {};
      const own = nonEmptyString(context["sqlQueryId"]);
      return { kind, ...common, taskId: `${SQL_TASK_PREFIX}${own ?? generated()}`, explicitId: own !== undefined };
    }
    const own = nonEmptyString(body["id"]);
    return { kind, ...common, taskId: own ?? generated(), explicitId: own !== undefined };
  }
  const explicitId = nonEmptyString(body["id"]) !== undefined;
  const supervisorId = explicitId ? (body["id"] as string) : dataSource;
  if (!supervisorId) {
    throw new RenderError("the supervisor spec has no dataSchema.dataSource (and no top-level id), so it has no supervisor id");
  }
  const problems = supervisorSpecProblems(hashed);
  if (problems.length > 0) throw new RenderError(`the supervisor spec cannot work (nothing was sent to Druid): ${problems.join("; ")}`);
  return { kind, ...common, supervisorId, explicitId, suspendedInBody: body["suspended"] === true };
}

function renderCompaction(ingestion: DruidIngestion, dataSource: string | undefined): DesiredCompaction | undefined {
  const compaction = ingestion.spec.ingestion.compaction;
  if (compaction === undefined) return undefined;
  refuseSecretRefs(compaction, "spec.ingestion.compaction");
  if (!dataSource) throw new RenderError("compaction is set but the spec has no dataSchema.dataSource to compact");
  const config: JsonObject = { ...compaction, dataSource };
  return { config, hash: contentHash(config) };
}

function renderRules(ingestion: DruidIngestion, dataSource: string | undefined): DesiredRules | undefined {
  const rules = ingestion.spec.ingestion.rules;
  if (rules === undefined) return undefined;
  refuseSecretRefs(rules, "spec.ingestion.rules");
  if (!dataSource) throw new RenderError("rules are set but the spec has no dataSchema.dataSource to apply them to");
  return { rules, hash: contentHash(rules) };
}


/** "namespace/name" of every Secret the spec references, for re-triggering (none when it does not render). */
export function secretRefKeysOf(ingestion: DruidIngestion): string[] {
  try {
    const names = secretRefsOf(ingestionSpecBody(ingestion)).map((r) => `${ingestion.metadata.namespace}/${r.name}`);
    return [...new Set(names)];
  } catch {
    return [];
  }
}

/** The body actually POSTed for a supervisor: the rendered spec with the desired suspended flag. */
export function supervisorSubmission(desired: DesiredSupervisor, suspended: boolean): JsonObject {
  return { ...desired.body, suspended };
}

/** The body POSTed for a task: the spec with its id (SQL: the id's sqlQueryId in the context). */
export function taskSubmission(desired: DesiredTask): JsonObject {
  if (desired.type === "sql") {
    const context = isObject(desired.body["context"]) ? desired.body["context"] : {};
    return { ...desired.body, context: { ...context, sqlQueryId: desired.taskId.slice(SQL_TASK_PREFIX.length) } };
  }
  return { ...desired.body, id: desired.taskId };
}

/** The supervisor is to be suspended: spec.suspend, or the druid-operator way, in the body. */
export function wantsSuspended(ingestion: DruidIngestion, desired: DesiredSupervisor): boolean {
  return ingestion.spec.suspend === true || desired.suspendedInBody;
}
