// References to Secret keys inside a supervisor/task spec: an object that is exactly
// {"secretKeyRef": {"name": "<Secret in the resource's namespace>", "key": "<key>"}} stands for
// that key's value, as a JSON string. The reference is what is stored and shown (ConfigMap,
// status); the value lives in memory only, in the body POSTed to Druid. Pure: the caller passes
// the Secrets it may read (opted-in ones). Invariants: a spec without references hashes exactly as
// before; whatever hash covers a value is an HMAC keyed by the Secret's uid (not visible to whoever
// cannot read the Secret), so a reader of status cannot test guesses of a weak value against it.
import { createHmac } from "node:crypto";
import type { JsonObject, JsonValue } from "../api/druid-ingestion.ts";
import { sha256Hex } from "./canonical-json.ts";
import { isOptedIn, secretValue, type SecretLookup, type SecretRef } from "./druid-target.ts";
import type { Failure } from "./model.ts";

export const SECRET_KEY_REF = "secretKeyRef";

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
export function displayPath(segments: readonly Segment[]): string {
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
  candidates(body, [], (object, segments) => refs.push(parseRef(object, segments)));
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

/** The values the spec references, in memory only, and their keyed digests for the spec hash. */
export interface ResolvedSecretRefs {
  /** Value by "name/key". */
  values: ReadonlyMap<string, string>;
  /** One "name/key:hmac" line per referenced key, sorted; HMAC-SHA256 keyed by the Secret's uid. */
  digests: readonly string[];
}

export const NO_SECRET_REFS: ResolvedSecretRefs = { values: new Map(), digests: [] };

export type SecretRefResolution = { ok: true; value: ResolvedSecretRefs } | { ok: false; failure: Failure } | { ok: false; unusable: SecretRef; keys: string[] };

/**
 * The values of the references, from Secrets in `namespace` only. A Secret missing from `secrets`
 * (which holds only opted-in Secrets) or not opted in gives `unusable` with the keys it should
 * have: the caller explains it from the Secret's metadata (unusableSecretFailure), as for auth.
 */
export function resolveSecretRefs(refs: readonly SecretKeyRef[], namespace: string, secrets: SecretLookup): SecretRefResolution {
  if (refs.length === 0) return { ok: true, value: NO_SECRET_REFS };
  const bySecret = new Map<string, SecretKeyRef[]>();
  for (const ref of refs) bySecret.set(ref.name, [...(bySecret.get(ref.name) ?? []), ref]);
  const values = new Map<string, string>();
  const digests = new Set<string>();
  for (const name of [...bySecret.keys()].sort()) {
    const uses = bySecret.get(name) as SecretKeyRef[];
    const keys = [...new Set(uses.map((r) => r.key))];
    const secret = secrets.get(namespace, name);
    if (!secret || !isOptedIn(secret.metadata)) return { ok: false, unusable: { namespace, name }, keys };
    const uid = secret.metadata?.uid;
    // The API server gives every Secret a uid; without one there is no key for the HMAC.
    if (!uid) return { ok: false, failure: { reason: "SecretNotFound", message: `Secret ${namespace}/${name} as cached has no metadata.uid; it is looked at again shortly`, transient: true } };
    for (const use of uses) {
      const value = secretValue(secret, use.key);
      if (value === undefined) {
        return { ok: false, failure: { reason: "SecretKeyMissing", message: `Secret ${namespace}/${name} has no key ${use.key} (referenced by the ${SECRET_KEY_REF} at ${use.path}); add the key or change the reference` } };
      }
      values.set(refId(name, use.key), value);
      digests.add(`${refId(name, use.key)}:${createHmac("sha256", uid).update(value, "utf8").digest("hex")}`);
    }
  }
  return { ok: true, value: { values, digests: [...digests].sort() } };
}

/**
 * The spec hash with the referenced values folded in, so a rotated value is a changed spec. A
 * spec without references keeps its hash exactly (no resubmission on upgrade).
 */
export function specHashWithSecrets(specHash: string, digests: readonly string[]): string {
  return digests.length === 0 ? specHash : sha256Hex([specHash, ...digests].join("\n"));
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

/**
 * Text with every resolved value replaced by a mention of its reference: Druid may echo the spec
 * we sent in an error. Values are matched as they are and as they appear inside a JSON string.
 */
export function redactSecretValues(text: string, resolved: ResolvedSecretRefs | undefined): string {
  if (!resolved || resolved.values.size === 0) return text;
  const longestFirst = [...resolved.values].sort(([, a], [, b]) => b.length - a.length);
  let out = text;
  for (const [id, value] of longestFirst) {
    for (const form of new Set([value, JSON.stringify(value).slice(1, -1)])) {
      if (form !== "") out = out.split(form).join(`<${SECRET_KEY_REF} ${id}>`);
    }
  }
  return out;
}
