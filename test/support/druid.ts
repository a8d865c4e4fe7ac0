// Moved to tools/druid-probe.ts (shared with quickstart, bench and chaos, which must not import test code).
export * from "../../tools/druid-probe.ts";
