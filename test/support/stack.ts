// Moved to tools/stack.ts (shared with quickstart, bench and chaos, which must not import test code).
export * from "../../tools/stack.ts";
