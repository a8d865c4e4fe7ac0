// Moved to tools/druid-proxy.ts (one implementation, also used by `npm run chaos` with its fault modes).
export * from "../../tools/druid-proxy.ts";
