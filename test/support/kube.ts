// Moved to tools/kube.ts (shared with quickstart, bench and chaos, which must not import test code).
export * from "../../tools/kube.ts";
