// `validate`: a manifest checked offline as the API server and the controller would check it:
// the CRD's schema with its CEL rules (the validator the controller uses), then the controller's
// own render checks (desired.ts, the reconcile's first step). What passes here is what the
// controller would try to send; what fails names the reason the resource's status would give.
import { API_VERSION, type DruidIngestion } from "../api/druid-ingestion.ts";
import { createValidator, type DruidIngestionValidator } from "../api/schema.ts";
import { desiredOf } from "../controller/desired.ts";
import type { DesiredIngestion } from "../controller/render.ts";
import type { RollbackRecord } from "../api/druid-ingestion.ts";

export type Checked =
  | { ok: true; ingestion: DruidIngestion; desired: DesiredIngestion; heldBack?: RollbackRecord }
  | { ok: false; name: string; reason: string; problems: string[] };

/** Kubernetes object names: an RFC 1123 subdomain (what the API server accepts for a custom resource). */
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

let shared: DruidIngestionValidator | undefined;
function validator(): DruidIngestionValidator {
  shared ??= createValidator();
  return shared;
}

function displayName(object: Record<string, unknown>, namespace: string): string {
  const metadata = (object["metadata"] ?? {}) as { name?: unknown; namespace?: unknown };
  const ns = typeof metadata.namespace === "string" && metadata.namespace !== "" ? metadata.namespace : namespace;
  return `${ns}/${typeof metadata.name === "string" ? metadata.name : "?"}`;
}

/**
 * `namespace`: the one a manifest without metadata.namespace lands in (kubectl's -n). Objects
 * read from files have no uid: a task id generated from it is then a placeholder (render says so).
 */
export function checkIngestion(object: Record<string, unknown>, namespace: string): Checked {
  const name = displayName(object, namespace);
  if (object["apiVersion"] !== API_VERSION) {
    return { ok: false, name, reason: "UnsupportedVersion", problems: [`apiVersion ${JSON.stringify(object["apiVersion"])}: this controller serves ${API_VERSION}`] };
  }
  const metadata = (object["metadata"] ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof metadata["name"] !== "string" || metadata["name"] === "") problems.push("metadata.name is required");
  else if (!NAME.test(metadata["name"]) || metadata["name"].length > 253) problems.push(`metadata.name ${JSON.stringify(metadata["name"])} must be lowercase letters, digits, '-' and '.' (RFC 1123), at most 253 characters`);
  if (problems.length > 0) return { ok: false, name, reason: "InvalidMetadata", problems };
  // A status in a file is anybody's text: it never stands for what the controller recorded (diff reads that from the API server).
  const { status: _fromFile, ...rest } = object;
  const complete = { ...rest, metadata: { namespace, uid: "", generation: 1, ...metadata } };
  const parsed = validator().parse(complete);
  if (!parsed.ok) return { ok: false, name, reason: "SchemaInvalid", problems: parsed.error.problems };
  const wanted = desiredOf(parsed.value);
  if (!wanted.ok) return { ok: false, name, reason: wanted.failure.reason, problems: [wanted.failure.message] };
  return { ok: true, ingestion: parsed.value, desired: wanted.desired, ...(wanted.heldBack ? { heldBack: wanted.heldBack } : {}) };
}
