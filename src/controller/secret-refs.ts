// References to Secret keys inside a supervisor/task spec: an object that is exactly
// {"secretKeyRef": {"name": "<Secret in the resource's namespace>", "key": "<key>"}} stands for
// that key's value, as a JSON string. The reference is what is stored and shown (ConfigMap,
// status); the value lives in memory only, in the body POSTed to Druid. Pure: the caller passes
// the Secrets it may read (opted-in ones). Invariants: no hash, and nothing else stored, is derived
// from a value (the spec hash is the hash of the spec with its references, so a spec without them
// hashes as before); a rotated value is found by comparing Druid's copy with it in memory
// (plan.ts secretValuesDiffer); a key is referenced only when its Secret says
// so (REFERENCEABLE_KEYS_ANNOTATION): whoever may edit a DruidIngestion can make Druid send a
// referenced value anywhere, so opting a Secret in for Druid logins does not expose its keys.
import type { JsonObject, JsonValue } from "../api/druid-ingestion.ts";
import type { V1Secret } from "@kubernetes/client-node";
import { isOptedIn, type SecretLookup, type SecretRef } from "./druid-target.ts";
import type { Failure } from "./model.ts";

export const SECRET_KEY_REF = "secretKeyRef";

/**
 * The keys of an opted-in Secret that specs may reference, comma-separated. Without it no key is
 * (the Secret is then for `spec.auth` only).
 */
export const REFERENCEABLE_KEYS_ANNOTATION = "druid.apache.org/referenceable-keys";

/** At most this many references in one spec, and this many bytes of values substituted in all. */
export const MAX_SECRET_REFS = 64;
export const MAX_SUBSTITUTED_BYTES = 1024 * 1024;

/**
 * Places where a value would become a name Druid shows everywhere (the console, the API, metrics)
 * or that decides what the spec is: never a reference.
 */
const NAME_KEYS: ReadonlySet<string> = new Set(["id", "type", "dataSource", "groupId", "query", "queryId", "sqlQueryId", "topic", "topicPattern", "stream"]);
/** Parts of a spec whose values become columns, rows or names Druid shows everywhere. */
const SHOWN_SECTIONS: ReadonlySet<string> = new Set(["context", "dataSchema", "dimensionsSpec", "metricsSpec", "transformSpec", "timestampSpec", "granularitySpec"]);

/** Where a value would become a name, a column, a row or the spec's kind: never a reference. */
function shownPlace(segments: readonly Segment[]): boolean {
  const keys = segments.filter((s): s is string => typeof s === "string");
  const last = keys.at(-1);
  if (last !== undefined && NAME_KEYS.has(last) && typeof segments.at(-1) === "string") return true;
  if (keys.some((k) => SHOWN_SECTIONS.has(k))) return true;
  // Inline input data becomes rows.
  const data = keys.lastIndexOf("data");
  return data > 0 && keys[data - 1] === "inputSource";
}

/** One reference, where it is in the spec body. */
export interface SecretKeyRef {
  /** As a reader writes it: spec.ioConfig.consumerProperties["sasl.jaas.config"]. */
  path: string;
  /** The same place as a JSON pointer (drift detection leaves it out). */
  pointer: string;
  name: string;
  key: string;
}

export class MalformedSecretRef extends Error {}

const SHAPE = `a reference is exactly {"${SECRET_KEY_REF}": {"name": "<Secret in this namespace>", "key": "<key>"}}`;

type Segment = string | number;

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** spec.ioConfig.consumerProperties["sasl.jaas.config"], items[0]; "the spec itself" for the root. */
function displayPath(segments: readonly Segment[]): string {
  if (segments.length === 0) return "the spec itself";
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s)) out += out === "" ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

function pointerOf(segments: readonly Segment[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

/** Every object with a `secretKeyRef` key, outermost only (what is inside one is its content). */
function candidates(value: JsonValue, segments: Segment[], visit: (object: JsonObject, segments: Segment[]) => void): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => candidates(item, [...segments, i], visit));
  } else if (isObject(value)) {
    if (SECRET_KEY_REF in value) return visit(value, segments);
    for (const [k, v] of Object.entries(value)) candidates(v, [...segments, k], visit);
  }
}

function parseRef(object: JsonObject, segments: Segment[]): SecretKeyRef {
  const path = displayPath(segments);
  const bad = (problem: string): MalformedSecretRef => new MalformedSecretRef(`invalid ${SECRET_KEY_REF} at ${path}: ${problem} (${SHAPE})`);
  const others = Object.keys(object).filter((k) => k !== SECRET_KEY_REF);
  if (others.length > 0) throw bad(`the object has other keys besides ${SECRET_KEY_REF} (${others.join(", ")})`);
  const inner = object[SECRET_KEY_REF];
  if (!isObject(inner)) throw bad(`${SECRET_KEY_REF} must be an object`);
  if ("namespace" in inner) throw bad("only Secrets in the resource's own namespace can be referenced: remove namespace");
  const unknown = Object.keys(inner).filter((k) => k !== "name" && k !== "key");
  if (unknown.length > 0) throw bad(`unknown field${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}`);
  const { name, key } = inner;
  if (typeof name !== "string" || name === "") throw bad("name must be a non-empty string");
  if (typeof key !== "string" || key === "") throw bad("key must be a non-empty string");
  return { path, pointer: pointerOf(segments), name, key };
}

/** The references in a spec body, in document order. Throws MalformedSecretRef naming the path. */
export function secretRefsOf(body: JsonValue): SecretKeyRef[] {
  const refs: SecretKeyRef[] = [];
  candidates(body, [], (object, segments) => {
    const ref = parseRef(object, segments);
    if (shownPlace(segments)) throw new MalformedSecretRef(`${SECRET_KEY_REF} at ${ref.path}: a name, a type, a column or inline data cannot come from a Secret (Druid would show the value in its console, API and metrics)`);
    refs.push(ref);
  });
  if (refs.length > MAX_SECRET_REFS) throw new MalformedSecretRef(`${SECRET_KEY_REF}: ${refs.length} references, more than ${MAX_SECRET_REFS}`);
  return refs;
}

/** Where the first object that looks like a reference is, if any (for parts that take none). */
export function firstSecretRefPath(value: JsonValue): string | undefined {
  let found: string | undefined;
  candidates(value, [], (_object, segments) => {
    found ??= displayPath(segments);
  });
  return found;
}

function refId(name: string, key: string): string {
  return `${name}/${key}`;
}

/** The values the spec references, in memory only. */
export interface ResolvedSecretRefs {
  /** Value by "name/key". */
  values: ReadonlyMap<string, string>;
}

export const NO_SECRET_REFS: ResolvedSecretRefs = { values: new Map() };

export type SecretRefResolution = { ok: true; value: ResolvedSecretRefs } | { ok: false; failure: Failure } | { ok: false; unusable: SecretRef; keys: string[] };

/** The keys a Secret lets specs reference (REFERENCEABLE_KEYS_ANNOTATION). */
function referenceableKeys(secret: V1Secret): Set<string> {
  const listed = secret.metadata?.annotations?.[REFERENCEABLE_KEYS_ANNOTATION] ?? "";
  return new Set(listed.split(",").map((k) => k.trim()).filter((k) => k !== ""));
}

/**
 * The values of the references, from Secrets in `namespace` only. A Secret missing from `secrets`
 * (which holds only opted-in Secrets) or not opted in gives `unusable` with the keys it should
 * have: the caller says why (unusableSecretFailure), as for auth. A key its Secret does not list
 * as referenceable, a value that is not text, and more than MAX_SUBSTITUTED_BYTES of values in
 * all are refused.
 */
export function resolveSecretRefs(refs: readonly SecretKeyRef[], namespace: string, secrets: SecretLookup): SecretRefResolution {
  if (refs.length === 0) return { ok: true, value: NO_SECRET_REFS };
  const bySecret = new Map<string, SecretKeyRef[]>();
  for (const ref of refs) bySecret.set(ref.name, [...(bySecret.get(ref.name) ?? []), ref]);
  const values = new Map<string, string>();
  let substituted = 0;
  for (const name of [...bySecret.keys()].sort()) {
    const uses = bySecret.get(name) as SecretKeyRef[];
    const keys = [...new Set(uses.map((r) => r.key))];
    const secret = secrets.get(namespace, name);
    if (!secret || !isOptedIn(secret.metadata)) return { ok: false, unusable: { namespace, name }, keys };
    const allowed = referenceableKeys(secret);
    for (const use of uses) {
      if (!allowed.has(use.key)) {
        return {
          ok: false,
          failure: {
            reason: "SecretKeyNotReferenceable",
            message: `Secret ${namespace}/${name} does not let specs reference its key ${use.key} (at ${use.path}): list it in the Secret's annotation ${REFERENCEABLE_KEYS_ANNOTATION} (comma-separated). Whoever may edit DruidIngestions in ${namespace} can then make Druid send that value anywhere, so list only what is meant for ingestion specs (never the Druid login of spec.auth)`,
          },
        };
      }
      const value = secretText(secret, use.key);
      if (value === undefined) {
        return { ok: false, failure: { reason: "SecretKeyMissing", message: `Secret ${namespace}/${name} has no key ${use.key} (referenced by the ${SECRET_KEY_REF} at ${use.path}); add the key or change the reference` } };
      }
      if (value === null) {
        return { ok: false, failure: { reason: "InvalidSpec", message: `Secret ${namespace}/${name} key ${use.key} (referenced at ${use.path}) is not UTF-8 text; a spec can only take text (a binary keystore belongs in a file Druid reads)` } };
      }
      substituted += Buffer.byteLength(value, "utf8");
      if (substituted > MAX_SUBSTITUTED_BYTES) {
        return { ok: false, failure: { reason: "InvalidSpec", message: `the spec's ${SECRET_KEY_REF}s put more than ${MAX_SUBSTITUTED_BYTES} bytes of Secret values into it; reference each value once, where Druid needs it` } };
      }
      values.set(refId(name, use.key), value);
    }
  }
  return { ok: true, value: { values } };
}

/** A key's value as text: undefined when absent, null when it is not valid UTF-8. */
function secretText(secret: V1Secret, key: string): string | undefined | null {
  const b64 = secret.data?.[key];
  if (b64 === undefined) return secret.stringData?.[key];
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(b64, "base64"));
  } catch {
    return null;
  }
}


/**
 * The body with every reference replaced by its value: what is POSTed, and nothing else. A
 * reference without a resolved value throws, so nothing is ever sent with one left in.
 */
export function withSecretValues(body: JsonObject, resolved: ResolvedSecretRefs | undefined): JsonObject {
  if (firstSecretRefPath(body) === undefined) return body;
  const substitute = (value: JsonValue, segments: Segment[]): JsonValue => {
    if (Array.isArray(value)) return value.map((item, i) => substitute(item, [...segments, i]));
    if (!isObject(value)) return value;
    if (SECRET_KEY_REF in value) {
      const ref = parseRef(value, segments);
      const resolvedValue = resolved?.values.get(refId(ref.name, ref.key));
      if (resolvedValue === undefined) throw new Error(`the ${SECRET_KEY_REF} ${ref.name}/${ref.key} at ${ref.path} was not resolved; nothing is sent with a reference left in`);
      return resolvedValue;
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, [...segments, k])]));
  };
  return substitute(body, []) as JsonObject;
}

