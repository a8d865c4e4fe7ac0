// The Coordinator half of the Overlord double: per-datasource compaction configs and retention
// rules, each kept serialized once per write. No HTTP here (see tools/overlord-double.ts).
// Deliberately not modelled: Druid's defaults filled into stored configs and rules (both are
// kept exactly as submitted; the contract suite checks only that what was sent comes back),
// their audit history, the cluster-wide compaction settings (answered with Druid 33's defaults,
// never changed), validation beyond "a config names its dataSource".
import type { JsonObject } from "../../src/api/druid-ingestion.ts";

/** The cluster-wide part of `GET /druid/coordinator/v1/config/compaction` on a fresh Druid 33. */
const CLUSTER_COMPACTION_FIELDS = '"compactionTaskSlotRatio":0.1,"maxCompactionTaskSlots":2147483647,"compactionPolicy":{"type":"newestSegmentFirst","priorityDatasource":null},"useSupervisors":false,"engine":"native"';

/** The `_default` rules of a fresh Druid 33. */
const DEFAULT_RULES_JSON = '[{"tieredReplicants":{"_default_tier":2},"useDefaultTierForNull":true,"type":"loadForever"}]';

export class CompactionConfigs {
  private readonly configs = new Map<string, string>();

  listJson(): string {
    return `{"compactionConfigs":[${[...this.configs.values()].join(",")}],${CLUSTER_COMPACTION_FIELDS}}`;
  }

  configJson(dataSource: string): string | undefined {
    return this.configs.get(dataSource);
  }

  /** Returns false (nothing stored) when the body does not name a datasource. */
  submit(config: unknown): boolean {
    if (config === null || typeof config !== "object" || Array.isArray(config)) return false;
    const dataSource = (config as JsonObject)["dataSource"];
    if (typeof dataSource !== "string" || dataSource === "") return false;
    this.configs.set(dataSource, JSON.stringify(config));
    return true;
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

  /** Replaces all rules of the datasource. Returns false when the body is not a list of rule objects. */
  submit(dataSource: string, rules: unknown): boolean {
    if (!Array.isArray(rules) || !rules.every((r) => r !== null && typeof r === "object" && !Array.isArray(r) && typeof (r as JsonObject)["type"] === "string")) return false;
    this.rules.set(dataSource, JSON.stringify(rules));
    return true;
  }
}
