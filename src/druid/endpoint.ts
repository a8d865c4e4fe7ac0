// Endpoint identity: one Druid router has many spellings (`HTTP://Router.ns.svc.cluster.local:80/`,
// `http://router.ns.svc`), and the controller must never take two spellings for two clusters: a
// "move" between them would terminate and recreate a supervisor for nothing, and a claim check
// would let two resources fight. Everything that records or compares an endpoint uses this form.

/** The cluster DNS domain whose Service names are shortened to `<svc>.<ns>.svc`. */
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";

let clusterDomain = DEFAULT_CLUSTER_DOMAIN;

/** Set once at start from the controller's configuration (CLUSTER_DOMAIN). */
export function setClusterDomain(domain: string): void {
  clusterDomain = domain;
}

export class EndpointError extends Error {}

/**
 * Lower-case scheme and host, no default port, no trailing dot or slash, and an in-cluster
 * Service name in its short `.svc` form. The path is kept (a router behind a path prefix);
 * user-info, query and fragment are refused: credentials belong in a Secret.
 */
export function normalizeEndpoint(text: string, domain: string = clusterDomain): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new EndpointError(`"${text}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new EndpointError(`"${text}" must be http or https`);
  if (url.username || url.password) throw new EndpointError(`"${redact(url)}" carries credentials: use spec.auth with a Secret instead`);
  if (url.search || url.hash) throw new EndpointError(`"${text}" has a query or fragment; give the base URL of the Druid router`);
  // URL already lower-cases the scheme and host and drops the scheme's default port.
  let host = url.hostname.replace(/\.$/, "");
  const domainSuffix = `.svc.${domain.replace(/^\.|\.$/g, "").toLowerCase()}`;
  if (host.endsWith(domainSuffix)) host = `${host.slice(0, -domainSuffix.length)}.svc`;
  const port = url.port ? `:${url.port}` : "";
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.protocol}//${host}${port}${path}`;
}

/** The normalized form, or the text as it is when it is not a valid endpoint (recorded values are compared, never refused). */
export function normalizeOrKeep(text: string, domain: string = clusterDomain): string {
  try {
    return normalizeEndpoint(text, domain);
  } catch {
    return text;
  }
}

/** True when the two URLs name the same endpoint; unparsable URLs are equal only as text. */
export function sameEndpoint(a: string, b: string, domain: string = clusterDomain): boolean {
  return normalizeOrKeep(a, domain) === normalizeOrKeep(b, domain);
}

function redact(url: URL): string {
  const copy = new URL(url.href);
  copy.username = "";
  copy.password = "";
  return copy.href;
}

/**
 * The URL requests are sent to: an in-cluster Service name in its full form
 * `<svc>.<ns>.svc.<domain>`. The short `.svc` form is for recording and comparing only: resolved
 * through the pod's DNS search path, `router.team.svc` is first tried as
 * `router.team.svc.svc.<domain>`, a name anyone who may create a namespace called `svc` controls.
 */
export function dialUrl(baseUrl: string, domain: string = clusterDomain): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return baseUrl;
  }
  if (!url.hostname.endsWith(".svc")) return baseUrl;
  url.hostname = `${url.hostname}.${domain.replace(/^\.|\.$/g, "").toLowerCase()}`;
  return url.href.replace(/\/+$/, "");
}
