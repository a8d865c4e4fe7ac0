// Where the CLI reaches Druid and Kubernetes. Druid: a URL given on the command line (with the
// credentials of DRUID_USER / DRUID_PASSWORD), or the endpoint and Secret the resource names,
// found in the cluster exactly as the controller finds them (druid-target.ts). Kubernetes: the
// kubeconfig kubectl would use. The CLI only reads: nothing is written to either.
import { readFileSync } from "node:fs";
import { KubeConfig, type V1Secret, type V1Service } from "@kubernetes/client-node";
import type { AppliedRecord, DruidIngestion, EndpointSource } from "../api/druid-ingestion.ts";
import { describeApiError, isApiStatus, KubeApi } from "../kube/api.ts";
import { parseByteSize, parseDuration, SETTINGS } from "../config.ts";
import { discoveryMoveRefusal, endpointSourceName, keepRecordedEndpoint, ROUTER_SELECTOR, resolveCredentials, resolveEndpoint, secretKeyOf, unusableSecretFailure, type EndpointChoice, type SecretLookup } from "../controller/druid-target.ts";
import type { Failure } from "../controller/model.ts";
import { lookupRecord, recordAt } from "../controller/ownership.ts";
import { createDruidDispatcher, DruidClient, type DruidCredentials } from "../druid/client.ts";
import { normalizeEndpoint, normalizeOrKeep, sameEndpoint } from "../druid/endpoint.ts";
import { allowEndpoint, parseAllowedEndpoints } from "../controller/endpoint-policy.ts";

export class CliError extends Error {}

export interface DruidOptions {
  /** --druid-url: where to reach Druid (e.g. a port-forward); the resource's own endpoint is still what ownership is judged against. */
  url?: string | undefined;
  /** --druid-default-url / DRUID_DEFAULT_URL: the controller's default, for resources that name no endpoint. */
  defaultUrl?: string | undefined;
  /** DRUID_USER / DRUID_PASSWORD (never a flag: a password on a command line is visible to every user of the machine). */
  credentials?: DruidCredentials | undefined;
  /** --druid-ca-file / DRUID_CA_FILE. */
  caFile?: string | undefined;
  /**
   * --allowed-druid-endpoints / ALLOWED_DRUID_ENDPOINTS, the controller's syntax: where a
   * resource's spec.druidEndpoint may lead. A manifest under review is a namespace user's text:
   * the CLI sends the Secret's credentials only where the controller would.
   */
  allowedEndpoints?: string | undefined;
  /** ALLOW_CROSS_NAMESPACE_SECRETS / --allow-cross-namespace-secrets: the controller's setting (default false). */
  allowCrossNamespaceSecrets?: boolean;
  /** ROUTER_DISCOVERY: the controller's setting (default true). */
  routerDiscovery?: boolean;
}

/** Makes the run's Druid clients: one connection pool and one read of the CA file for all of them. */
export type DruidClients = (baseUrl: string, credentials: DruidCredentials | undefined) => DruidClient;

export function druidClients(options: DruidOptions): DruidClients {
  let ca: string | undefined;
  if (options.caFile) {
    try {
      ca = readFileSync(options.caFile, "utf8");
    } catch (error) {
      throw new CliError(`cannot read the CA file ${options.caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const dispatcher = createDruidDispatcher({ connectTimeoutMs: parseDuration(SETTINGS.druidConnectTimeout.default), ...(ca ? { ca } : {}) });
  return (baseUrl, credentials) => new DruidClient(
    { baseUrl, credentials },
    {
      dispatcher,
      ...(options.caFile ? { caFile: options.caFile } : {}),
      requestTimeoutMs: parseDuration(SETTINGS.druidRequestTimeout.default),
      retries: 1,
      maxResponseBytes: parseByteSize(SETTINGS.druidMaxResponseSize.default),
      maxListResponseBytes: () => 4 * parseByteSize(SETTINGS.druidMaxResponseSize.default),
    },
  );
}

/** The cluster as the user's kubeconfig reaches it, through the controller's own calls (kube/api.ts); reads only. */
export class Cluster {
  readonly kc: KubeConfig;
  private readonly api: KubeApi;
  private readonly secrets = new Map<string, V1Secret | undefined>();
  /** Secrets the kubeconfig's user may not read (403): not known to be missing. */
  private readonly forbidden = new Set<string>();

  constructor(kc: KubeConfig) {
    this.kc = kc;
    this.api = new KubeApi(kc);
  }

  /** The kubeconfig file given, else kubectl's default (KUBECONFIG, ~/.kube/config). */
  static load(file: string | undefined, context: string | undefined): Cluster {
    const kc = new KubeConfig();
    try {
      if (file) kc.loadFromFile(file);
      else kc.loadFromDefault();
    } catch (error) {
      throw new CliError(`cannot load the kubeconfig${file ? ` ${file}` : ""}: ${(error as Error).message}`);
    }
    if (context) {
      if (!kc.getContexts().some((c) => c.name === context)) throw new CliError(`kubeconfig has no context ${context}`);
      kc.setCurrentContext(context);
    }
    if (!kc.getCurrentCluster()) throw new CliError("no Kubernetes cluster: set KUBECONFIG or --kubeconfig, or give --druid-url to ask Druid directly");
    return new Cluster(kc);
  }

  /** The namespace kubectl would use: the context's, else default. */
  defaultNamespace(): string {
    const current = this.kc.getContextObject(this.kc.getCurrentContext());
    return current?.namespace || "default";
  }

  async getIngestion(namespace: string, name: string): Promise<DruidIngestion | undefined> {
    try {
      return (await this.api.getIngestion(namespace, name)) as DruidIngestion;
    } catch (error) {
      if (isApiStatus(error, 404)) return undefined;
      throw cannot(`read DruidIngestion ${namespace}/${name}`, error);
    }
  }

  async listIngestions(namespace: string | undefined): Promise<DruidIngestion[]> {
    try {
      return (await this.api.listIngestions(namespace)).items as DruidIngestion[];
    } catch (error) {
      throw cannot(`list DruidIngestions${namespace ? ` in ${namespace}` : ""}`, error);
    }
  }

  async routerServices(namespace: string): Promise<V1Service[]> {
    try {
      return (await this.api.core.listNamespacedService({ namespace, labelSelector: ROUTER_SELECTOR })).items;
    } catch (error) {
      throw cannot(`list router Services in ${namespace}`, error);
    }
  }

  /** Reads the named Secrets once (absent or unreadable: undefined), for the controller's sync lookups. */
  async secretLookup(refs: Iterable<{ namespace: string; name: string }>): Promise<SecretLookup> {
    for (const { namespace, name } of refs) {
      const key = `${namespace}/${name}`;
      if (this.secrets.has(key)) continue;
      try {
        this.secrets.set(key, await this.api.core.readNamespacedSecret({ namespace, name }));
      } catch (error) {
        if (!isApiStatus(error, 404, 403)) throw cannot(`read Secret ${key}`, error);
        this.secrets.set(key, undefined);
        if (isApiStatus(error, 403)) this.forbidden.add(key);
      }
    }
    return { get: (namespace, name) => this.secrets.get(`${namespace}/${name}`) };
  }

  /** The kubeconfig's user may not read this Secret (so whether it is usable is not known). */
  unreadable(namespace: string, name: string): boolean {
    return this.forbidden.has(`${namespace}/${name}`);
  }
}

function cannot(what: string, error: unknown): CliError {
  return new CliError(`cannot ${what}: ${describeApiError(error)}`);
}

export interface ResolvedTarget {
  /** The endpoint the resource names (what status records and ownership is judged against). */
  druidEndpoint: string;
  endpointSource: EndpointSource;
  /** Where requests go: druidEndpoint, or --druid-url. */
  dialUrl: string;
  credentials: DruidCredentials | undefined;
  record: AppliedRecord | undefined;
  /** What the user should know about how this was resolved. */
  notes: string[];
}

export type Resolved = { ok: true; value: ResolvedTarget } | { ok: false; failure: Failure };

/**
 * The Druid a resource's calls go to and the credentials they carry, as the controller resolves
 * them (druid-target.ts: spec.druidEndpoint, the router Service of spec.druidCluster, the default
 * URL; the endpoint allow-list; a discovery move refused; the resource's Secret), with --druid-url
 * and DRUID_USER/DRUID_PASSWORD taking precedence for the connection. The verdict on the
 * resource's Secret is the controller's even when the environment's credentials connect.
 * `recorded`: go where status says the resource applied (status: what runs there now).
 * Without a cluster, --druid-url is the endpoint. The resource's status must come from the API
 * server (never from a file: a status in a manifest would name any endpoint as recorded).
 */
export async function resolveTarget(ingestion: DruidIngestion, cluster: Cluster | undefined, options: DruidOptions, recorded = false): Promise<Resolved> {
  let override: string | undefined;
  try {
    override = options.url ? normalizeEndpoint(options.url) : undefined;
  } catch (error) {
    throw new CliError(`--druid-url: ${(error as Error).message}`);
  }
  if (!cluster) {
    if (!override) throw new CliError("no Druid to ask: give --druid-url (credentials from DRUID_USER and DRUID_PASSWORD), or a kubeconfig to find the Druid the resource names");
    return { ok: true, value: { druidEndpoint: override, endpointSource: "DruidEndpoint", dialUrl: override, credentials: options.credentials, record: undefined, notes: [] } };
  }
  const notes: string[] = [];
  const namespace = ingestion.metadata.namespace;
  const services = ingestion.spec.druidCluster || ingestion.spec.druidEndpoint ? await cluster.routerServices(namespace) : [];
  const lookup = lookupRecord(ingestion);
  const applied = lookup.kind === "recorded" ? lookup.record : undefined;
  let endpoint: EndpointChoice;
  if (recorded && applied) {
    endpoint = { url: normalizeOrKeep(applied.druidEndpoint), source: applied.endpointSource ?? "DruidEndpoint" };
  } else {
    const found = resolveEndpoint(ingestion, services, options.defaultUrl);
    if (!found.ok) {
      if (!override) return found;
      notes.push(`the controller would stop here (${found.failure.reason}); --druid-url is asked instead`);
      endpoint = { url: override, source: "DruidEndpoint" };
    } else endpoint = found.value;
  }
  const record = recordAt(ingestion, lookup, endpoint);
  if (!record.ok) return record;
  const kept = keepRecordedEndpoint(endpoint, record.value);
  if (!kept.ok) return kept;
  const moveRefused = discoveryMoveRefusal(ingestion, record.value, { druidEndpoint: kept.value.url }, kept.value.source);
  if (moveRefused) return { ok: false, failure: moveRefused };
  // As the controller: an endpoint the administrator did not allow gets nothing, credentials least
  // of all (where the resource already applied, the controller acts anyway).
  if (!override && !(applied !== undefined && sameEndpoint(applied.druidEndpoint, kept.value.url))) {
    let allowed;
    try {
      allowed = parseAllowedEndpoints(options.allowedEndpoints ?? "");
    } catch (error) {
      throw new CliError(`--allowed-druid-endpoints: ${(error as Error).message}`);
    }
    const allowance = allowEndpoint(kept.value.url, { allowed, defaultUrl: options.defaultUrl, discovery: options.routerDiscovery ?? true, namespace, routerService: (ns, name) => services.find((s) => s.metadata?.namespace === ns && s.metadata?.name === name) });
    if (!allowance.ok) {
      return { ok: false, failure: { reason: "EndpointNotAllowed", message: `${endpointSourceName(kept.value.source, ingestion.spec.druidCluster)}: ${allowance.message} (the CLI takes the controller's list as --allowed-druid-endpoints or ALLOWED_DRUID_ENDPOINTS; --druid-url sends the requests where you say)` } };
    }
  }
  // The resource's Secret, judged as the controller judges it.
  const key = secretKeyOf(ingestion);
  const refs = key ? [{ namespace: key.slice(0, key.indexOf("/")), name: key.slice(key.indexOf("/") + 1) }] : [];
  const secrets = await cluster.secretLookup(refs);
  const found = resolveCredentials(ingestion, secrets, options.allowCrossNamespaceSecrets ?? false);
  let credentials = options.credentials;
  if (!found.ok) {
    if ("unusable" in found && cluster.unreadable(found.unusable.namespace, found.unusable.name)) {
      if (!credentials) return { ok: false, failure: { reason: "SecretUnreadable", message: `your kubeconfig may not read Secret ${found.unusable.namespace}/${found.unusable.name} (403): give DRUID_USER and DRUID_PASSWORD instead` } };
      notes.push(`Secret ${found.unusable.namespace}/${found.unusable.name} is not readable with your kubeconfig: whether the controller can use it is not checked`);
    } else {
      return "unusable" in found ? { ok: false, failure: unusableSecretFailure(found.unusable, secrets.get(found.unusable.namespace, found.unusable.name) !== undefined, found.keys) } : found;
    }
  } else credentials ??= found.value;
  return { ok: true, value: { druidEndpoint: kept.value.url, endpointSource: kept.value.source, dialUrl: override ?? kept.value.url, credentials, record: record.value, notes } };
}
