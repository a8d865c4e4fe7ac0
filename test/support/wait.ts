// Moved to tools/wait.ts (shared with quickstart, bench and chaos, which must not import test code).
export * from "../../tools/wait.ts";
