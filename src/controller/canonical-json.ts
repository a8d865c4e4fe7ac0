// Canonical JSON: compact, object keys sorted by code unit, arrays in order. Two specs that
// differ only in key order or whitespace get the same text and so the same hash. This is also
// the form the Go druid-operator stores in status["currentIngestionSpec.json"] (Go's
// encoding/json sorts map keys), apart from Go's HTML escaping, which is why that field is
// compared semantically, never as text.
import { createHash } from "node:crypto";
import type { JsonValue } from "../api/druid-ingestion.ts";

export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(",")}}`;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export function contentHash(value: JsonValue): string {
  return sha256Hex(canonicalJson(value));
}

/**
 * Deep equality of JSON values, ignoring key order, as their JSON texts would compare: an object
 * member whose value is undefined counts as absent, an undefined array element as null. Walks
 * both values once without building either text (it runs on every status of every reconcile).
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let present = 0;
  for (const key of Object.keys(x)) {
    if (x[key] === undefined) continue;
    present++;
    if (!Object.hasOwn(y, key) || !jsonEqual(x[key], y[key])) return false;
  }
  for (const key of Object.keys(y)) if (y[key] !== undefined) present--;
  return present === 0;
}
