// Turns a DruidIngestion's spec into exactly what will be sent to Druid, plus the hashes the
// controller compares to decide whether anything must change. Pure: no I/O.
import type { DruidIngestion, JsonObject, JsonValue } from "../api/druid-ingestion.ts";
import { canonicalJson, contentHash, sha256Hex } from "./canonical-json.ts";

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
  body: JsonObject;
  canonical: string;
  specHash: string;
  dataSource: string | undefined;
  compaction: DesiredCompaction | undefined;
  rules: DesiredRules | undefined;
}

export interface DesiredSupervisor extends DesiredCommon {
  kind: "supervisor";
  supervisorId: string;
  /** True when the spec names its supervisor with a top-level `id` (Druid 34+ only). */
  explicitId: boolean;
}

export interface DesiredTask extends DesiredCommon {
  kind: "task";
  /** Deterministic, so a resubmission after a crash is refused by Druid instead of duplicated. */
  taskId: string;
}

export type DesiredIngestion = DesiredSupervisor | DesiredTask;

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

/** Druid task ids: the name is made of safe characters and bounded in length. */
/** Includes the resetNonce, so a new nonce asks for a new run of the same spec. */
export function deterministicTaskId(namespace: string, name: string, specHash: string, resetNonce: string | undefined): string {
  const base = `druidingestion_${namespace}_${name}`.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 180);
  const run = resetNonce ? sha256Hex(`${specHash}\n${resetNonce}`) : specHash;
  return `${base}_${run.slice(0, 16)}`;
}

export function renderIngestion(ingestion: DruidIngestion): DesiredIngestion {
  const type = ingestion.spec.ingestion.type;
  const userBody = ingestionSpecBody(ingestion);
  const kind = TASK_TYPES.has(type) ? "task" : "supervisor";
  // A supervisor spec must carry its type; manifests often leave it to ingestion.type.
  const body: JsonObject = kind === "supervisor" && userBody["type"] === undefined ? { ...userBody, type } : userBody;
  // `suspended` is driven by spec.suspend, never by the spec body: it is not part of the hash.
  const { suspended: _ignored, ...hashed } = body;
  const canonical = canonicalJson(hashed);
  const specHash = sha256Hex(canonical);
  const dataSource = dataSourceOf(body);
  const compaction = renderCompaction(ingestion, dataSource);
  const rules = renderRules(ingestion, dataSource);
  const common = { type, body: hashed, canonical, specHash, dataSource, compaction, rules };

  if (kind === "task") {
    const taskId = typeof body["id"] === "string" && body["id"] !== "" ? body["id"] : deterministicTaskId(ingestion.metadata.namespace, ingestion.metadata.name, specHash, ingestion.spec.resetNonce);
    return { kind, ...common, taskId };
  }
  const explicitId = typeof body["id"] === "string" && body["id"] !== "";
  const supervisorId = explicitId ? (body["id"] as string) : dataSource;
  if (!supervisorId) {
    throw new RenderError("the supervisor spec has no dataSchema.dataSource (and no top-level id), so it has no supervisor id");
  }
  return { kind, ...common, supervisorId, explicitId };
}

function renderCompaction(ingestion: DruidIngestion, dataSource: string | undefined): DesiredCompaction | undefined {
  const compaction = ingestion.spec.ingestion.compaction;
  if (compaction === undefined) return undefined;
  if (!dataSource) throw new RenderError("compaction is set but the spec has no dataSchema.dataSource to compact");
  const config: JsonObject = { ...compaction, dataSource };
  return { config, hash: contentHash(config) };
}

function renderRules(ingestion: DruidIngestion, dataSource: string | undefined): DesiredRules | undefined {
  const rules = ingestion.spec.ingestion.rules;
  if (rules === undefined) return undefined;
  if (!dataSource) throw new RenderError("rules are set but the spec has no dataSchema.dataSource to apply them to");
  return { rules, hash: contentHash(rules) };
}

/** The body actually POSTed for a supervisor: the rendered spec with the desired suspended flag. */
export function supervisorSubmission(desired: DesiredSupervisor, suspended: boolean): JsonObject {
  return { ...desired.body, suspended };
}
