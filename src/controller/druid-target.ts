// Where to send a resource's Druid calls and with which credentials. Pure: the caller passes
// what the informer caches hold. Compatible with the druid-operator's discovery (the router
// Service labelled druid_cr=<druidCluster>, component=router) but uses the Service's real port.
import type { V1ObjectMeta, V1Secret, V1Service } from "@kubernetes/client-node";
import { authOf, CREDENTIALS_LABEL, DEFAULT_PASSWORD_KEY, DEFAULT_USERNAME_KEY, type AppliedRecord, type DruidIngestion, type EndpointSource } from "../api/druid-ingestion.ts";
import type { DruidCredentials } from "../druid/client.ts";
import { EndpointError, normalizeEndpoint, normalizeOrKeep, sameEndpoint } from "../druid/endpoint.ts";
import { isRouterService } from "./endpoint-policy.ts";
import type { Failure } from "./model.ts";
import { describeRecord } from "./ownership.ts";

export const ROUTER_SELECTOR = "component=router,druid_cr";

export type Resolution<T> = { ok: true; value: T } | { ok: false; failure: Failure };

/** A Secret a resource names, for telling why it is not used. */
export interface SecretRef {
  namespace: string;
  name: string;
}

/** A Secret that opted in to being read by the controller (label druid.apache.org/credentials=true). */
export function isOptedIn(metadata: V1ObjectMeta | undefined): boolean {
  return metadata?.labels?.[CREDENTIALS_LABEL] === "true";
}

function labelCommand(ref: SecretRef): string {
  return `kubectl label secret -n ${ref.namespace} ${ref.name} ${CREDENTIALS_LABEL}=true`;
}

/**
 * Why a named Secret is not used, from whether it exists (asked without reading it): absent, or
 * present but not opted in (the upgrade step of druid-operator users).
 */
export function unusableSecretFailure(ref: SecretRef, exists: boolean, keys: readonly string[]): Failure {
  const where = `Secret ${ref.namespace}/${ref.name}`;
  if (!exists) {
    return { reason: "SecretNotFound", message: `${where} not found: create it with the key${keys.length > 1 ? "s" : ""} ${keys.join(" and ")}, labelled ${CREDENTIALS_LABEL}=true` };
  }
  return {
    reason: "SecretNotOptedIn",
    message: `${where} exists but is not among the Secrets labelled ${CREDENTIALS_LABEL}=true, the only ones the controller reads. If it holds what this resource needs, label it once: ${labelCommand(ref)} (Secrets made for the druid-operator need this after the upgrade; if it is labelled already, the controller has not seen it yet and looks again)`,
  };
}

export interface EndpointChoice {
  /** Normalized (druid/endpoint.ts), so two spellings of one router compare equal. */
  url: string;
  source: EndpointSource;
}

function choice(url: string, source: EndpointSource): Resolution<EndpointChoice> {
  try {
    return { ok: true, value: { url: normalizeEndpoint(url), source } };
  } catch (error) {
    const what = source === "DruidEndpoint" ? "spec.druidEndpoint" : source === "ControllerDefault" ? "DRUID_DEFAULT_URL" : "the router Service URL";
    return { ok: false, failure: { reason: "InvalidEndpoint", message: `${what}: ${error instanceof EndpointError ? error.message : String(error)}` } };
  }
}

function routerPort(service: V1Service): { port: number; scheme: "http" | "https" } | undefined {
  const ports = service.spec?.ports ?? [];
  const https = ports.find((p) => p.name === "https" || p.appProtocol === "https" || p.name?.endsWith("-https"));
  if (https) return { port: https.port, scheme: "https" };
  const first = ports[0];
  return first ? { port: first.port, scheme: "http" } : undefined;
}

/** Where an endpoint came from, as a message names it to the user. */
export function endpointSourceName(source: EndpointSource, druidCluster: string | undefined): string {
  return source === "DruidEndpoint" ? "spec.druidEndpoint" : source === "RouterService" ? `the router Service of Druid cluster ${druidCluster ?? ""}` : "DRUID_DEFAULT_URL";
}

/** routerServices: Services in the resource's namespace labelled as some Druid cluster's router. */
export function resolveEndpoint(ingestion: DruidIngestion, routerServices: readonly V1Service[], defaultUrl: string | undefined): Resolution<EndpointChoice> {
  const { druidEndpoint, druidCluster } = ingestion.spec;
  if (druidEndpoint) return choice(druidEndpoint, "DruidEndpoint");
  const namespace = ingestion.metadata.namespace;
  if (druidCluster) {
    // Several Services may match (e.g. a headless one and a LoadBalancer); pick deterministically.
    // An ExternalName Service is a DNS alias to anywhere: never a discovered router.
    const candidates = routerServices
      .filter((s) => s.metadata?.labels?.["druid_cr"] === druidCluster && isRouterService(s) && s.metadata?.namespace === namespace)
      .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
    for (const service of candidates) {
      const port = routerPort(service);
      if (port) return choice(`${port.scheme}://${service.metadata?.name}.${namespace}.svc:${port.port}`, "RouterService");
    }
    if (!defaultUrl) {
      return {
        ok: false,
        failure: {
          reason: "EndpointNotFound",
          message: `no Service with labels druid_cr=${druidCluster},component=router and a port in namespace ${namespace} (ExternalName Services are not used): the Druid cluster needs a router node, or set spec.druidEndpoint, or start the controller with a default Druid URL (DRUID_DEFAULT_URL)`,
        },
      };
    }
  }
  if (defaultUrl) return choice(defaultUrl, "ControllerDefault");
  return { ok: false, failure: { reason: "EndpointNotFound", message: "no Druid endpoint: set spec.druidEndpoint or spec.druidCluster, or start the controller with DRUID_DEFAULT_URL" } };
}

/**
 * Once something was applied, a fallback never moves it: when only the controller's default URL
 * is left (the router Service is briefly missing, or already deleted in a namespace teardown)
 * and it is not the recorded endpoint, nothing is done rather than acting on another cluster.
 * Only an explicit change (spec.druidEndpoint, a router Service) moves a resource.
 */
export function keepRecordedEndpoint(resolved: EndpointChoice, record: AppliedRecord | undefined): Resolution<EndpointChoice> {
  if (!record || resolved.url === normalizeOrKeep(record.druidEndpoint)) return { ok: true, value: resolved };
  if (resolved.source !== "ControllerDefault") return { ok: true, value: resolved };
  return {
    ok: false,
    failure: {
      reason: "EndpointFallbackRefused",
      message: `this resource's ${describeRecord(record)}, and the only endpoint found now is the controller default ${resolved.url} (no spec.druidEndpoint, no router Service): nothing is changed in either Druid. Restore the router Service, or set spec.druidEndpoint to the Druid it should be on (a different one moves it there)`,
    },
  };
}

export interface SecretLookup {
  get(namespace: string, name: string): V1Secret | undefined;
}

/** A key's value as text (`data` is base64; `stringData` only in objects not yet stored). */
function secretValue(secret: V1Secret, key: string): string | undefined {
  const b64 = secret.data?.[key];
  if (b64 !== undefined) return Buffer.from(b64, "base64").toString("utf8");
  return secret.stringData?.[key];
}

/** The Secret reference of a resource, as "namespace/name", when it has one (for re-triggering). */
export function secretKeyOf(ingestion: DruidIngestion): string | undefined {
  const auth = authOf(ingestion);
  if (!auth?.secretRef.name) return undefined;
  return `${auth.secretRef.namespace || ingestion.metadata.namespace}/${auth.secretRef.name}`;
}

/**
 * The Druid credentials a resource names. A Secret that is missing from `secrets` (which holds
 * only opted-in Secrets) or not opted in gives `unusable`: the caller asks the API server for its
 * metadata to say which (unusableSecretFailure).
 */
export function resolveCredentials(ingestion: DruidIngestion, secrets: SecretLookup, allowCrossNamespace: boolean): Resolution<DruidCredentials | undefined> | { ok: false; unusable: SecretRef; keys: string[] } {
  const auth = authOf(ingestion);
  if (!auth) return { ok: true, value: undefined };
  const own = ingestion.metadata.namespace;
  const name = auth.secretRef.name;
  if (!name) return { ok: false, failure: { reason: "InvalidAuth", message: "spec.auth.secretRef.name is empty: name the Secret that holds the Druid username and password" } };
  // The druid-operator passes an empty namespace through; here it means the resource's own.
  const namespace = auth.secretRef.namespace || own;
  if (namespace !== own && !allowCrossNamespace) {
    return {
      ok: false,
      failure: {
        reason: "CrossNamespaceSecretRefused",
        message: `spec.auth.secretRef points at namespace ${namespace}, but Secrets are only read from the resource's own namespace (${own}); copy the Secret into ${own}, or start the controller with ALLOW_CROSS_NAMESPACE_SECRETS=true`,
      },
    };
  }
  const secret = secrets.get(namespace, name);
  const usernameKey = auth.usernameKey || DEFAULT_USERNAME_KEY;
  const passwordKey = auth.passwordKey || DEFAULT_PASSWORD_KEY;
  if (!secret || !isOptedIn(secret.metadata)) return { ok: false, unusable: { namespace, name }, keys: [usernameKey, passwordKey] };
  const read = (key: string): string | undefined => secretValue(secret, key);
  const missing = [usernameKey, passwordKey].filter((k) => read(k) === undefined);
  if (missing.length > 0) {
    return { ok: false, failure: { reason: "SecretKeyMissing", message: `Secret ${namespace}/${name} has no key ${missing.join(" and no key ")} (keys are set by spec.auth.usernameKey / passwordKey)` } };
  }
  return { ok: true, value: { username: read(usernameKey) as string, password: read(passwordKey) as string } };
}

/**
 * Discovery alone gives another URL (a router Service appeared, was renamed or relabelled) while
 * the resource did not change: no request goes there (whoever may create Services must not
 * receive the credentials, nor move the ingestion). Moving is the resource's decision.
 */
export function discoveryMoveRefusal(ingestion: DruidIngestion, record: AppliedRecord | undefined, target: { druidEndpoint: string }, source: EndpointSource): Failure | undefined {
  if (!record || sameEndpoint(record.druidEndpoint, target.druidEndpoint) || source === "DruidEndpoint" || record.druidCluster === undefined || record.druidCluster !== ingestion.spec.druidCluster) return undefined;
  return {
    reason: "EndpointChangeRefused",
    message: `discovery now gives ${target.druidEndpoint} for Druid cluster ${record.druidCluster}, but this resource did not change and its ${describeRecord(record)}: nothing is sent to the new URL. If the router really moved, set spec.druidEndpoint: ${target.druidEndpoint} (when it is the same Druid the record follows it, nothing restarts); otherwise restore or fix the router Service`,
  };
}
