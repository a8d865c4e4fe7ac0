// Which Druid URLs the controller may send requests (and credentials) to: an administrator's
// decision, never a namespace user's. Allowed are the controller's default URL, the router
// Services of the resource's own namespace (as cached now), and what ALLOWED_DRUID_ENDPOINTS lists.
// Pure: the caller passes the Service lookup.
import type { V1Service } from "@kubernetes/client-node";
import { normalizeEndpoint, normalizeOrKeep } from "../druid/endpoint.ts";

/** One entry of ALLOWED_DRUID_ENDPOINTS. */
export interface AllowedEndpoint {
  scheme: "http:" | "https:";
  /** Exact host, or the suffix after `*.` (any one or more labels before it). */
  host: string;
  wildcard: boolean;
  /** Empty for the scheme's default port, "*" for any. */
  port: string;
  /** A path prefix ("" for any path). */
  path: string;
}

export type Allowance = { ok: true; via: "AllowList" | "Default" | "RouterService" } | { ok: false; message: string };

export class AllowListError extends Error {}

/**
 * Parses `ALLOWED_DRUID_ENDPOINTS`: comma-separated URLs, e.g.
 * `https://druid.example.com, http://*.druid.svc:8088, https://router.analytics.svc:*`.
 * `*.` in front of the host matches one or more labels; port `*` matches any port; a path is a
 * prefix. A single `*` allows every URL (the behaviour before the allow-list existed).
 */
export function parseAllowedEndpoints(text: string, domain?: string): AllowedEndpoint[] | "any" {
  const entries = text.split(",").map((e) => e.trim()).filter((e) => e !== "");
  if (entries.length === 1 && entries[0] === "*") return "any";
  return entries.map((e) => parseEntry(e, domain));
}

function parseEntry(text: string, domain: string | undefined): AllowedEndpoint {
  const match = /^(https?):\/\/(\*\.)?([^/:?#@*]+)(?::(\d{1,5}|\*))?(\/[^?#*]*)?$/i.exec(text);
  if (!match) {
    throw new AllowListError(`"${text}" is not an allowed-endpoint pattern: give scheme://host[:port][/path], where the host may start with "*." and the port may be "*" (or "*" alone for any URL)`);
  }
  const [, scheme, star, host, port, path] = match as unknown as [string, string, string | undefined, string, string | undefined, string | undefined];
  const wildcard = star !== undefined;
  let normalized: string;
  try {
    // The same spelling rules as every recorded endpoint (lower case, short .svc form, no default port).
    normalized = normalizeEndpoint(`${scheme}://${wildcard ? "x." : ""}${host}${port && port !== "*" ? `:${port}` : ""}${path ?? ""}`, domain);
  } catch (error) {
    throw new AllowListError(`"${text}": ${(error as Error).message}`);
  }
  const url = new URL(normalized);
  return {
    scheme: url.protocol as "http:" | "https:",
    host: wildcard ? url.hostname.slice(2) : url.hostname,
    wildcard,
    port: port === "*" ? "*" : url.port,
    path: url.pathname.replace(/\/+$/, ""),
  };
}

/**
 * The URL as requests go to it, for comparing with an allowed base: scheme, host, port and path,
 * without query or fragment. Undefined when the path could be read differently by a server or a
 * proxy than by this check (percent-encoding, `;` parameters, backslashes, dot segments): such a
 * path could leave an allowed prefix (`/druid/..;/admin`), so it is never allowed.
 */
function requestUrl(url: string): URL | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.username || parsed.password) return undefined;
  const raw = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(url.trim())?.[1] ?? "";
  if (/[%;\\]/.test(raw) || /(^|\/)\.\.?(\/|$)/.test(raw)) return undefined;
  try {
    parsed = new URL(normalizeEndpoint(`${parsed.protocol}//${parsed.host}${parsed.pathname}`));
  } catch {
    return undefined;
  }
  return parsed;
}

/** `path` is `prefix` or below it ("" is every path). */
function within(path: string, prefix: string): boolean {
  const p = path.replace(/\/+$/, "");
  return prefix === "" || p === prefix || p.startsWith(`${prefix}/`);
}

export function matchesAllowed(url: string, pattern: AllowedEndpoint): boolean {
  const parsed = requestUrl(url);
  return parsed !== undefined && matchesParsed(parsed, pattern);
}

function matchesParsed(parsed: URL, pattern: AllowedEndpoint): boolean {
  if (parsed.protocol !== pattern.scheme) return false;
  const host = parsed.hostname;
  if (pattern.wildcard ? !host.endsWith(`.${pattern.host}`) : host !== pattern.host) return false;
  if (pattern.port !== "*" && parsed.port !== pattern.port) return false;
  return within(parsed.pathname, pattern.path);
}

/** The router Service a discovered URL names: `<scheme>://<name>.<namespace>.svc:<port>`. */
export function routerServiceOf(url: string): { namespace: string; name: string; port: number; scheme: string } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(normalizeEndpoint(url));
  } catch {
    return undefined;
  }
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc$/.exec(parsed.hostname);
  if (!match || parsed.pathname.replace(/\/+$/, "") !== "") return undefined;
  const port = parsed.port === "" ? (parsed.protocol === "https:" ? 443 : 80) : Number(parsed.port);
  return { name: match[1] as string, namespace: match[3] as string, port, scheme: parsed.protocol };
}

/** A Service the controller discovers Druid through: router labels, a real address (no ExternalName). */
export function isRouterService(service: V1Service): boolean {
  const labels = service.metadata?.labels ?? {};
  return labels["component"] === "router" && typeof labels["druid_cr"] === "string" && service.spec?.type !== "ExternalName";
}

export interface EndpointPolicyInput {
  allowed: AllowedEndpoint[] | "any";
  defaultUrl: string | undefined;
  /** Whether discovered router Services are trusted (ROUTER_DISCOVERY); otherwise they must be listed. */
  discovery: boolean;
  /** The namespace of the resource the request is for: only its own router Services count. */
  namespace: string | undefined;
  /** The router Service of that name as cached now. */
  routerService(namespace: string, name: string): V1Service | undefined;
}

const HOW_TO_ALLOW = "Druid endpoints are chosen by the controller's administrator: ask them to add it to ALLOWED_DRUID_ENDPOINTS, or use spec.druidCluster (the router Service of a Druid cluster in this namespace) or the controller's default URL";

/** May the controller send requests to `url` (a base URL, or a redirect's target) for a resource of `input.namespace`? */
export function allowEndpoint(url: string, input: EndpointPolicyInput): Allowance {
  if (input.allowed === "any") return { ok: true, via: "AllowList" };
  const shown = normalizeOrKeep(url.replace(/[?#].*$/, ""));
  const parsed = requestUrl(url);
  if (!parsed) return { ok: false, message: `${shown} is not an allowed Druid endpoint: its path has encoded, ';', '\\' or dot segments, which are never allowed. ${HOW_TO_ALLOW}` };
  const base = input.defaultUrl === undefined ? undefined : requestUrl(input.defaultUrl);
  if (base && base.origin === parsed.origin && within(parsed.pathname, base.pathname.replace(/\/+$/, ""))) return { ok: true, via: "Default" };
  if (input.allowed.some((p) => matchesParsed(parsed, p))) return { ok: true, via: "AllowList" };
  const router = routerServiceOf(parsed.origin);
  if (router && input.discovery) {
    const service = router.namespace === input.namespace ? input.routerService(router.namespace, router.name) : undefined;
    if (service && isRouterService(service) && (service.spec?.ports ?? []).some((p) => p.port === router.port)) return { ok: true, via: "RouterService" };
    if (router.namespace !== input.namespace) {
      return { ok: false, message: `${shown} is a Service of namespace ${router.namespace}: a router Service is used only by the resources of its own namespace${input.namespace ? ` (this one is in ${input.namespace})` : ""}. ${HOW_TO_ALLOW}` };
    }
  }
  return { ok: false, message: `${shown} is not an allowed Druid endpoint, so no request (and no credential) is sent to it. ${HOW_TO_ALLOW}` };
}
