// The Coordinator half of the Overlord double: per-datasource compaction configs and retention
// rules, each kept serialized once per write. No HTTP here (see tools/overlord-double.ts).
// Stored as Druid 33 echoes them at the top level: a compaction config gets `type: "inline"` and
// Druid's defaults for absent fields (unknown fields dropped), a load rule gets
// `useDefaultTierForNull: true`. Deliberately not modelled: defaults filled in nested objects
// (tuningConfig, granularitySpec), key order inside rules, audit history, changes to the
// cluster-wide compaction settings (always Druid 33's defaults).
import type { JsonObject, JsonValue } from "../../src/api/druid-ingestion.ts";
import { BodyRejected } from "./body-rejected.ts";

/** The cluster-wide part of `GET /druid/coordinator/v1/config/compaction` on a fresh Druid 33. */
const CLUSTER_COMPACTION_FIELDS = '"compactionTaskSlotRatio":0.1,"maxCompactionTaskSlots":2147483647,"compactionPolicy":{"type":"newestSegmentFirst","priorityDatasource":null},"useSupervisors":false,"engine":"native"';

/** InlineSchemaDataSourceCompactionConfig's fields in Druid 33's order, with their defaults. */
const COMPACTION_DEFAULTS: ReadonlyArray<[string, JsonValue]> = [
  ["type", "inline"],
  ["dataSource", null],
  ["taskPriority", 25],
  ["inputSegmentSizeBytes", 100_000_000_000_000],
  ["maxRowsPerSegment", null],
  ["skipOffsetFromLatest", "P1D"],
  ["tuningConfig", null],
  ["granularitySpec", null],
  ["dimensionsSpec", null],
  ["metricsSpec", null],
  ["transformSpec", null],
  ["projections", null],
  ["ioConfig", null],
  ["engine", null],
  ["taskContext", null],
];

/** The `_default` rules of a fresh Druid 33. */
const DEFAULT_RULES_JSON = '[{"tieredReplicants":{"_default_tier":2},"useDefaultTierForNull":true,"type":"loadForever"}]';

const RULE_TYPES = ["broadcastByInterval", "broadcastByPeriod", "broadcastForever", "dropBeforeByPeriod", "dropByInterval", "dropByPeriod", "dropForever", "loadByInterval", "loadByPeriod", "loadForever"];

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export class CompactionConfigs {
  private readonly configs = new Map<string, string>();

  listJson(): string {
    return `{"compactionConfigs":[${[...this.configs.values()].join(",")}],${CLUSTER_COMPACTION_FIELDS}}`;
  }

  configJson(dataSource: string): string | undefined {
    return this.configs.get(dataSource);
  }

  /** Throws BodyRejected, in Druid's words, for a config that names no datasource. */
  submit(config: unknown): void {
    const dataSource = isObject(config) ? config["dataSource"] : undefined;
    if (!isObject(config) || typeof dataSource !== "string" || dataSource === "") {
      throw new BodyRejected("Cannot construct instance of `org.apache.druid.server.coordinator.InlineSchemaDataSourceCompactionConfig`, problem: dataSource");
    }
    const stored: JsonObject = {};
    for (const [field, fallback] of COMPACTION_DEFAULTS) stored[field] = field === "type" ? fallback : (config[field] ?? fallback);
    this.configs.set(dataSource, JSON.stringify(stored));
  }

  delete(dataSource: string): boolean {
    return this.configs.delete(dataSource);
  }
}

export class RetentionRules {
  /** `_default` and every datasource rules were ever posted for, cleared ones as `[]` (Druid lists those too). */
  private readonly rules = new Map<string, string>([["_default", DEFAULT_RULES_JSON]]);

  listJson(): string {
    const entries: string[] = [];
    for (const [dataSource, json] of this.rules) entries.push(`${JSON.stringify(dataSource)}:${json}`);
    return `{${entries.join(",")}}`;
  }

  rulesJson(dataSource: string): string {
    return this.rules.get(dataSource) ?? "[]";
  }

  /** Replaces all rules of the datasource. Throws BodyRejected, in Druid's words, for what is not a list of known rules. */
  submit(dataSource: string, rules: unknown): void {
    if (!Array.isArray(rules)) {
      throw new BodyRejected(`Cannot deserialize value of type \`java.util.ArrayList<org.apache.druid.server.coordinator.rules.Rule>\` from ${isObject(rules) ? "Object value (token `JsonToken.START_OBJECT`)" : "a non-array value"}`);
    }
    const stored = rules.map((rule: unknown) => {
      const type = isObject(rule) ? rule["type"] : undefined;
      if (!isObject(rule) || typeof type !== "string" || !RULE_TYPES.includes(type)) {
        throw new BodyRejected(
          `Please make sure to load all the necessary extensions and jars with type '${String(type)}' on 'druid/coordinator' service. Could not resolve type id '${String(type)}' as a subtype of \`org.apache.druid.server.coordinator.rules.Rule\` known type ids = [${RULE_TYPES.join(", ")}]`,
        );
      }
      if (!type.startsWith("load")) return rule;
      const { type: _type, ...fields } = rule;
      return { ...fields, useDefaultTierForNull: fields["useDefaultTierForNull"] ?? true, type };
    });
    this.rules.set(dataSource, JSON.stringify(stored));
  }
}
