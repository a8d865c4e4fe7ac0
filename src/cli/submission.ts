// `render`: what the controller would POST to Druid for a resource, built by the controller's own
// functions (render.ts), with the hashes status records. Secret references stay references, as
// in the owned ConfigMap: their values are put in only when the body is sent.
import type { DruidIngestion, JsonObject, JsonValue } from "../api/druid-ingestion.ts";
import type { DesiredIngestion } from "../controller/render.ts";
import { desiredId, supervisorSubmission, taskSubmission, wantsSuspended } from "../controller/render.ts";

export interface Request {
  method: "POST";
  path: string;
  body: JsonValue;
  /** sha256 of the canonical JSON: the resource's status.specHash / compactionHash / rulesHash. */
  hash: string;
}

export interface Rendered {
  resource: string;
  kind: "supervisor" | "task";
  /** The supervisor id, or the task id (see notes when it depends on the resource's uid). */
  id: string;
  dataSource: string | undefined;
  spec: Request;
  compaction?: Request;
  rules?: Request;
  /** Where values come from Secrets: "path ← Secret name, key key". */
  secretRefs: string[];
  notes: string[];
}

const SUPERVISOR = "/druid/indexer/v1/supervisor";

export function renderedRequests(ingestion: DruidIngestion, desired: DesiredIngestion): Rendered {
  const { namespace, name, uid } = ingestion.metadata;
  const notes: string[] = [];
  let spec: Request;
  if (desired.kind === "supervisor") {
    const suspended = wantsSuspended(ingestion, desired);
    spec = { method: "POST", path: `${SUPERVISOR}?skipRestartIfUnmodified=true`, body: supervisorSubmission(desired, suspended), hash: desired.specHash };
    notes.push(`"suspended": ${suspended} comes from spec.suspend (or the body's own flag); it is not part of the hash`);
    notes.push("Druid 33+ gets ?skipRestartIfUnmodified=true; before Druid 33 the query is left out");
  } else {
    const body: JsonObject = taskSubmission(desired);
    spec = { method: "POST", path: desired.type === "sql" ? "/druid/v2/sql/task" : "/druid/indexer/v1/task", body, hash: desired.specHash };
    if (!desired.explicitId && !uid) notes.push(`the task id is made from the resource's uid, which the API server assigns: "${desired.taskId}" stands in for it here (render a resource read back with kubectl get -o yaml for the real one)`);
  }
  const rendered: Rendered = { resource: `${namespace}/${name}`, kind: desired.kind, id: desiredId(desired), dataSource: desired.dataSource, spec, secretRefs: desired.secretRefs.map((r) => `${r.path} ← Secret ${r.name}, key ${r.key}`), notes };
  if (desired.compaction) rendered.compaction = { method: "POST", path: "/druid/coordinator/v1/config/compaction (Druid 37 with compaction supervisors: /druid/indexer/v1/compaction/config/datasources/<dataSource>)", body: desired.compaction.config, hash: desired.compaction.hash };
  if (desired.rules) rendered.rules = { method: "POST", path: `/druid/coordinator/v1/rules/${desired.dataSource ?? ""}`, body: desired.rules.rules, hash: desired.rules.hash };
  if (desired.secretRefs.length > 0) notes.push(`${desired.secretRefs.length} value(s) come from Secrets: the body above holds the references, Druid gets the values`);
  return rendered;
}
