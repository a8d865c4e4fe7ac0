// Counts the controller's requests to the Kubernetes API by verb, resource and outcome, without
// wrapping any client: every HTTP request made through undici (client-node's calls, its watches,
// the Lease) is published on undici's diagnostics channels, and the ones to the API server's
// origin are counted here. The verb is Kubernetes' (get, list, watch, create, update, patch,
// delete), derived from the method and the path as the API server's own audit log does.
import diagnosticsChannel from "node:diagnostics_channel";

export type KubeVerb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection" | "other";

export interface KubeRequest {
  verb: KubeVerb;
  /** The resource's plural, with `/status` for the status subresource: `druidingestions/status`. */
  resource: string;
  /** The HTTP status, or `error` when no response came. */
  code: string;
}

interface UndiciRequest {
  origin?: string | URL;
  method?: string;
  path?: string;
}

/**
 * The verb and resource of a request path. Paths are `/api/v1/...` or `/apis/<group>/<version>/...`,
 * optionally `namespaces/<ns>/`, then `<plural>[/<name>[/<subresource>]]`.
 */
export function classifyKubeRequest(method: string, pathAndQuery: string): { verb: KubeVerb; resource: string } {
  const [path = "", query = ""] = pathAndQuery.split("?", 2);
  const parts = path.split("/").filter(Boolean);
  let rest = parts[0] === "api" ? parts.slice(2) : parts[0] === "apis" ? parts.slice(3) : parts;
  // A namespace itself (`/api/v1/namespaces/x`) is a resource; `namespaces/x/<plural>` is a scope.
  if (rest[0] === "namespaces" && rest.length > 2) rest = rest.slice(2);
  const [plural = "", name, subresource] = rest;
  const resource = subresource ? `${plural}/${subresource}` : plural;
  const watching = new URLSearchParams(query).get("watch");
  const collection = name === undefined;
  switch (method.toUpperCase()) {
    case "GET":
      return { verb: watching === "true" || watching === "1" ? "watch" : collection ? "list" : "get", resource };
    case "POST":
      return { verb: "create", resource };
    case "PUT":
      return { verb: "update", resource };
    case "PATCH":
      return { verb: "patch", resource };
    case "DELETE":
      return { verb: collection ? "deletecollection" : "delete", resource };
    default:
      return { verb: "other", resource };
  }
}

/**
 * Calls `count` once per request to `apiServer` (an origin such as https://10.0.0.1:443), when
 * its response headers arrive or it fails. Returns the function that stops counting.
 */
export function countKubeRequests(apiServer: string, count: (request: KubeRequest) => void): () => void {
  const origin = new URL(apiServer).origin;
  const pending = new WeakMap<object, { verb: KubeVerb; resource: string }>();
  const created = ({ request }: { request: UndiciRequest }): void => {
    if (request.origin === undefined) return;
    const requestOrigin = String(request.origin);
    if (requestOrigin !== origin && new URL(requestOrigin).origin !== origin) return;
    pending.set(request, classifyKubeRequest(request.method ?? "GET", request.path ?? "/"));
  };
  const finish = (request: object, code: string): void => {
    const known = pending.get(request);
    if (!known) return;
    pending.delete(request);
    count({ ...known, code });
  };
  const headers = ({ request, response }: { request: object; response: { statusCode: number } }): void => finish(request, String(response.statusCode));
  const failed = ({ request }: { request: object }): void => finish(request, "error");
  diagnosticsChannel.subscribe("undici:request:create", created as (m: unknown) => void);
  diagnosticsChannel.subscribe("undici:request:headers", headers as (m: unknown) => void);
  diagnosticsChannel.subscribe("undici:request:error", failed as (m: unknown) => void);
  return () => {
    diagnosticsChannel.unsubscribe("undici:request:create", created as (m: unknown) => void);
    diagnosticsChannel.unsubscribe("undici:request:headers", headers as (m: unknown) => void);
    diagnosticsChannel.unsubscribe("undici:request:error", failed as (m: unknown) => void);
  };
}
