// Where the CLI reaches Druid and Kubernetes. Druid: a URL given on the command line (with the
// credentials of DRUID_USER / DRUID_PASSWORD), or the endpoint and Secret the resource names,
// found in the cluster exactly as the controller finds them (druid-target.ts). Kubernetes: the
// kubeconfig kubectl would use. The CLI only reads: nothing is written to either.
import { readFileSync } from "node:fs";
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig, type V1Secret, type V1Service } from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION, type AppliedRecord, type DruidIngestion, type EndpointSource } from "../api/druid-ingestion.ts";
import { parseByteSize, parseDuration, SETTINGS } from "../config.ts";
import { keepRecordedEndpoint, ROUTER_SELECTOR, resolveCredentials, resolveEndpoint, secretKeyOf, unusableSecretFailure, type SecretLookup } from "../controller/druid-target.ts";
import type { Failure } from "../controller/model.ts";
import { lookupRecord, recordAt } from "../controller/ownership.ts";
import { createDruidDispatcher, DruidClient, type DruidCredentials } from "../druid/client.ts";
import { normalizeEndpoint, sameEndpoint } from "../druid/endpoint.ts";
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
}

export function druidClient(baseUrl: string, credentials: DruidCredentials | undefined, options: DruidOptions): DruidClient {
  let ca: string | undefined;
  if (options.caFile) {
    try {
      ca = readFileSync(options.caFile, "utf8");
    } catch (error) {
      throw new CliError(`cannot read the CA file ${options.caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const dispatcher = createDruidDispatcher({ connectTimeoutMs: parseDuration(SETTINGS.druidConnectTimeout.default), ...(ca ? { ca } : {}) });
  return new DruidClient(
    { baseUrl, credentials },
    {
      dispatcher,
      requestTimeoutMs: parseDuration(SETTINGS.druidRequestTimeout.default),
      retries: 1,
      maxResponseBytes: parseByteSize(SETTINGS.druidMaxResponseSize.default),
      maxListResponseBytes: () => 4 * parseByteSize(SETTINGS.druidMaxResponseSize.default),
    },
  );
}

/** The cluster as the user's kubeconfig reaches it; reads only. */
export class Cluster {
  readonly kc: KubeConfig;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly secrets = new Map<string, V1Secret | undefined>();

  constructor(kc: KubeConfig) {
    this.kc = kc;
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
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
      return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name })) as DruidIngestion;
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw describe(error, `read DruidIngestion ${namespace}/${name}`);
    }
  }

  async listIngestions(namespace: string | undefined): Promise<DruidIngestion[]> {
    try {
      const list = (namespace
        ? await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace })
        : await this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as { items: DruidIngestion[] };
      return list.items;
    } catch (error) {
      throw describe(error, `list DruidIngestions${namespace ? ` in ${namespace}` : ""}`);
    }
  }

  async routerServices(namespace: string): Promise<V1Service[]> {
    try {
      return (await this.core.listNamespacedService({ namespace, labelSelector: ROUTER_SELECTOR })).items;
    } catch (error) {
      throw describe(error, `list router Services in ${namespace}`);
    }
  }

  /** Reads the named Secrets once (absent or unreadable: undefined), for the controller's sync lookups. */
  async secretLookup(refs: Iterable<{ namespace: string; name: string }>): Promise<SecretLookup> {
    for (const { namespace, name } of refs) {
      const key = `${namespace}/${name}`;
      if (this.secrets.has(key)) continue;
      try {
        this.secrets.set(key, await this.core.readNamespacedSecret({ namespace, name }));
      } catch (error) {
        if (error instanceof ApiException && (error.code === 404 || error.code === 403)) this.secrets.set(key, undefined);
        else throw describe(error, `read Secret ${key}`);
      }
    }
    return { get: (namespace, name) => this.secrets.get(`${namespace}/${name}`) };
  }
}

function describe(error: unknown, what: string): CliError {
  if (error instanceof ApiException) {
    const body = typeof error.body === "string" ? error.body : JSON.stringify(error.body);
    const message = (() => {
      try {
        return (JSON.parse(body) as { message?: string }).message ?? body;
      } catch {
        return body;
      }
    })();
    return new CliError(`cannot ${what}: HTTP ${error.code}: ${message}`);
  }
  return new CliError(`cannot ${what}: ${(error as Error).message}`);
}

export interface ResolvedTarget {
  /** The endpoint the resource names (what status records and ownership is judged against). */
  druidEndpoint: string;
  endpointSource: EndpointSource;
  /** Where requests go: druidEndpoint, or --druid-url. */
  dialUrl: string;
  credentials: DruidCredentials | undefined;
  record: AppliedRecord | undefined;
}

export type Resolved = { ok: true; value: ResolvedTarget } | { ok: false; failure: Failure };

/**
 * The Druid a resource's calls go to and the credentials they carry, as the controller resolves
 * them (spec.druidEndpoint, the router Service of spec.druidCluster, the default URL; the
 * resource's Secret), with --druid-url and DRUID_USER/DRUID_PASSWORD taking precedence when given.
 * Without a cluster, --druid-url is the endpoint.
 */
export async function resolveTarget(ingestion: DruidIngestion, cluster: Cluster | undefined, options: DruidOptions): Promise<Resolved> {
  const override = options.url ? normalizeEndpoint(options.url) : undefined;
  if (!cluster) {
    if (!override) throw new CliError("no Druid to ask: give --druid-url (credentials from DRUID_USER and DRUID_PASSWORD), or a kubeconfig to find the Druid the resource names");
    const record = recordAt(ingestion, lookupRecord(ingestion), { url: override, source: "DruidEndpoint" });
    if (!record.ok) return record;
    return { ok: true, value: { druidEndpoint: override, endpointSource: "DruidEndpoint", dialUrl: override, credentials: options.credentials, record: record.value } };
  }
  const namespace = ingestion.metadata.namespace;
  const services = ingestion.spec.druidCluster || ingestion.spec.druidEndpoint ? await cluster.routerServices(namespace) : [];
  const endpoint = resolveEndpoint(ingestion, services, options.defaultUrl);
  if (!endpoint.ok) return endpoint;
  // As the controller: an endpoint the administrator did not allow gets nothing, credentials least
  // of all (the endpoint the resource already applied to is where the controller acts anyway).
  const recorded = ingestion.status?.applied?.druidEndpoint;
  if (!override && !(recorded !== undefined && sameEndpoint(recorded, endpoint.value.url))) {
    let allowed;
    try {
      allowed = parseAllowedEndpoints(options.allowedEndpoints ?? "");
    } catch (error) {
      throw new CliError(`--allowed-druid-endpoints: ${(error as Error).message}`);
    }
    const allowance = allowEndpoint(endpoint.value.url, { allowed, defaultUrl: options.defaultUrl, discovery: true, namespace, routerService: (ns, name) => services.find((s) => s.metadata?.namespace === ns && s.metadata?.name === name) });
    if (!allowance.ok) {
      const what = endpoint.value.source === "DruidEndpoint" ? "spec.druidEndpoint" : endpoint.value.source === "RouterService" ? "the router Service" : "the default URL";
      return { ok: false, failure: { reason: "EndpointNotAllowed", message: `${what}: ${allowance.message} (the CLI takes the controller's list as --allowed-druid-endpoints or ALLOWED_DRUID_ENDPOINTS; --druid-url sends the requests where you say)` } };
    }
  }
  const record = recordAt(ingestion, lookupRecord(ingestion), endpoint.value);
  if (!record.ok) return record;
  const kept = keepRecordedEndpoint(endpoint.value, record.value);
  if (!kept.ok) return kept;
  let credentials = options.credentials;
  if (!credentials) {
    const key = secretKeyOf(ingestion);
    const refs = key ? [{ namespace: key.split("/")[0] as string, name: key.split("/")[1] as string }] : [];
    const lookup = await cluster.secretLookup(refs);
    const found = resolveCredentials(ingestion, lookup, true);
    if (!found.ok) return "unusable" in found ? { ok: false, failure: unusableSecretFailure(found.unusable, lookup.get(found.unusable.namespace, found.unusable.name) !== undefined, found.keys) } : found;
    credentials = found.value;
  }
  return { ok: true, value: { druidEndpoint: kept.value.url, endpointSource: kept.value.source, dialUrl: override ?? kept.value.url, credentials, record: record.value } };
}
