// Moved to tools/ingestions.ts (shared with chaos, which must not import test code).
export * from "../../tools/ingestions.ts";
