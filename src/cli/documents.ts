// The CLI's input: DruidIngestion manifests from files, directories (their *.yaml, *.yml and
// *.json, not recursive) or stdin ("-"), as kubectl takes them. Every YAML document is kept with
// where it came from; a file that cannot be read or parsed is a problem of that file, not a crash.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { loadAll } from "js-yaml";
import { API_VERSION, KIND } from "../api/druid-ingestion.ts";

export interface SourceDocument {
  /** "file" or "file#2" (the document's position, from 1, when the file has several). */
  source: string;
  object: Record<string, unknown>;
}

export interface SourceProblem {
  source: string;
  message: string;
}

export interface Loaded {
  documents: SourceDocument[];
  problems: SourceProblem[];
}

const MANIFEST = /\.(ya?ml|json)$/;

function expand(arg: string): string[] {
  if (arg === "-") return [arg];
  if (statSync(arg, { throwIfNoEntry: false })?.isDirectory()) {
    return readdirSync(arg).filter((f) => MANIFEST.test(f)).sort().map((f) => path.join(arg, f));
  }
  return [arg];
}

/** Reads and parses every argument; `stdin` is read only when an argument is "-". */
export function loadDocuments(args: readonly string[], stdin: () => string): Loaded {
  const loaded: Loaded = { documents: [], problems: [] };
  for (const file of args.flatMap(expand)) {
    let text: string;
    try {
      text = file === "-" ? stdin() : readFileSync(file, "utf8");
    } catch (error) {
      loaded.problems.push({ source: file, message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
      continue;
    }
    let docs: unknown[];
    try {
      docs = loadAll(text);
    } catch (error) {
      loaded.problems.push({ source: file, message: `not valid YAML: ${(error as Error).message.split("\n")[0]}` });
      continue;
    }
    // A List (kubectl get -o yaml of several) holds its objects in items.
    const flat = docs.filter((d) => d !== null && d !== undefined).flatMap((d) => (isObject(d) && d["kind"] === "List" && Array.isArray(d["items"]) ? (d["items"] as unknown[]) : [d]));
    flat.forEach((object, i) => {
      const source = flat.length > 1 ? `${file}#${i + 1}` : file;
      if (!isObject(object)) loaded.problems.push({ source, message: `not a Kubernetes object (a YAML ${Array.isArray(object) ? "list" : typeof object}): nothing was checked` });
      else if (!isDruidIngestion(object) && looksLikeDruidIngestion(object)) loaded.problems.push({ source, message: `kind ${JSON.stringify(object["kind"])} in ${JSON.stringify(object["apiVersion"])} is not a DruidIngestion of ${API_VERSION}: nothing was checked` });
      else loaded.documents.push({ source, object });
    });
  }
  return loaded;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Meant as one, by its kind or group, but not one (a typo would otherwise be skipped without a word). */
function looksLikeDruidIngestion(object: Record<string, unknown>): boolean {
  const group = typeof object["apiVersion"] === "string" ? (object["apiVersion"] as string).split("/")[0] : undefined;
  return (typeof object["kind"] === "string" && (object["kind"] as string).toLowerCase() === KIND.toLowerCase()) || (group === API_VERSION.split("/")[0] && object["kind"] !== "Druid");
}

export function isDruidIngestion(object: Record<string, unknown>): boolean {
  return object["kind"] === KIND && object["apiVersion"] === API_VERSION;
}
