// Moved to tools/controller.ts (shared with the benchmarks and the quickstart, which must not import test code).
export * from "../../tools/controller.ts";
