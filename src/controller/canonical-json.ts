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

/** Deep equality of JSON values, ignoring key order. */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
