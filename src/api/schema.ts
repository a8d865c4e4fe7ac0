// Runtime validation of DruidIngestion objects against the CRD's own openAPIV3Schema, so the
// CRD file is the one source of truth. The API server already enforces it on admission; we
// validate again because objects may predate the CRD (e.g. stored by the druid-operator's
// older CRD) and because the controller must never act on a shape it does not understand.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { load as loadYaml } from "js-yaml";
import type { DruidIngestion } from "./druid-ingestion.ts";

export const CRD_PATH = fileURLToPath(
  new URL("../../crds/druid.apache.org_druidingestions.yaml", import.meta.url),
);

type CelRule = (self: Record<string, unknown>) => boolean;

const nonEmptyString = (v: unknown): boolean => typeof v === "string" && v !== "";

/**
 * JavaScript twins of the CRD's CEL rules (x-kubernetes-validations). A unit test fails when
 * the CRD gains a rule without a twin here.
 */
export const CEL_RULES: Record<string, CelRule> = {
  "has(self.druidCluster) || has(self.druidEndpoint)": (self) =>
    self["druidCluster"] !== undefined || self["druidEndpoint"] !== undefined,
  "(has(self.spec) && self.spec != '') || has(self.nativeSpec)": (self) =>
    nonEmptyString(self["spec"]) || self["nativeSpec"] !== undefined,
  "!((has(self.spec) && self.spec != '') && has(self.nativeSpec))": (self) =>
    !(nonEmptyString(self["spec"]) && self["nativeSpec"] !== undefined),
  "!has(self.resetOffsetsNonce) || self.resetOffsetsNonce == '' || has(self.resetOffsets)": (self) =>
    !nonEmptyString(self["resetOffsetsNonce"]) || self["resetOffsets"] !== undefined,
  "has(self.partitions) != has(self.latestAndBackfill)": (self) =>
    (self["partitions"] !== undefined) !== (self["latestAndBackfill"] !== undefined),
};

interface CelValidation {
  rule: string;
  message?: string;
}

export interface CrdDocument {
  spec: {
    versions: Array<{
      name: string;
      schema: { openAPIV3Schema: Record<string, unknown> };
    }>;
  };
}

export function loadCrd(path: string = CRD_PATH): CrdDocument {
  return loadYaml(readFileSync(path, "utf8")) as CrdDocument;
}

export function openApiSchemaOf(crd: CrdDocument, version = "v1alpha1"): Record<string, unknown> {
  const found = crd.spec.versions.find((v) => v.name === version);
  if (!found) throw new Error(`CRD has no version ${version}`);
  return found.schema.openAPIV3Schema;
}

/** Every CEL rule string that appears anywhere in a schema. */
export function celRulesIn(schema: unknown): string[] {
  const rules: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== "object") return;
    for (const [key, value] of Object.entries(node)) {
      if (key === "x-kubernetes-validations" && Array.isArray(value)) {
        for (const v of value as CelValidation[]) rules.push(v.rule);
      } else {
        walk(value);
      }
    }
  };
  walk(schema);
  return rules;
}

function makeAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, formats: { "date-time": true, int64: true } });
  for (const keyword of ["x-kubernetes-preserve-unknown-fields", "x-kubernetes-map-type", "x-kubernetes-list-type", "x-kubernetes-list-map-keys"]) {
    ajv.addKeyword({ keyword, schemaType: ["boolean", "string", "array"] });
  }
  // As the API server: an integer or a string, nothing else.
  ajv.addKeyword({
    keyword: "x-kubernetes-int-or-string",
    schemaType: "boolean",
    validate: (on: boolean, data: unknown) => !on || typeof data === "string" || (typeof data === "number" && Number.isInteger(data)),
    error: { message: "must be an integer or a string" },
  });
  ajv.addKeyword({
    keyword: "x-kubernetes-validations",
    schemaType: "array",
    compile(validations: CelValidation[]) {
      const checks = validations.map((v) => {
        const twin = CEL_RULES[v.rule];
        if (!twin) throw new Error(`CEL rule without a runtime twin in src/api/schema.ts: ${v.rule}`);
        return { twin, message: v.message ?? `failed rule: ${v.rule}` };
      });
      const validate = (data: unknown): boolean => {
        if (data === null || typeof data !== "object") return true;
        const failed = checks.filter((c) => !c.twin(data as Record<string, unknown>));
        if (failed.length === 0) return true;
        validate.errors = failed.map((c) => ({ keyword: "x-kubernetes-validations", message: c.message, params: {} }));
        return false;
      };
      validate.errors = [] as Partial<ErrorObject>[];
      return validate;
    },
    errors: true,
  });
  return ajv;
}

export class SchemaError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`the resource does not match the DruidIngestion schema: ${problems.join("; ")}`);
    this.problems = problems;
  }
}

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath || "/"}: ${e.message ?? e.keyword}`);
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: SchemaError };

export interface DruidIngestionValidator {
  parse(object: unknown): Parsed<DruidIngestion>;
}

/** Compiles the validator from the CRD file once; `parse` is then cheap. */
export function createValidator(crd: CrdDocument = loadCrd()): DruidIngestionValidator {
  const schema = openApiSchemaOf(crd);
  const validateFn: ValidateFunction = makeAjv().compile(schema);
  return {
    parse(object: unknown): Parsed<DruidIngestion> {
      if (validateFn(object)) return { ok: true, value: object as DruidIngestion };
      return { ok: false, error: new SchemaError(describe(validateFn.errors)) };
    },
  };
}
