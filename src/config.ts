// Controller configuration from environment variables and command-line flags (flags win),
// validated once at start. A bad value stops the process with a message naming the setting.
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { druidCallBudgetMs, RETRY_MAX_DELAY_MS } from "./druid/retry-policy.ts";
import { parseAllowedEndpoints, type AllowedEndpoint } from "./controller/endpoint-policy.ts";
import type { LogLevel } from "./observability/logger.ts";

export interface BindAddress {
  host: string;
  port: number;
}

export interface Config {
  /** Namespaces to watch; undefined means all. */
  watchNamespaces: string[] | undefined;
  resyncMs: number;
  /** How often each supervisor's stored spec is read to detect drift (between, only states are listed). */
  driftCheckMs: number;
  settleMs: number;
  /** How often each running supervisor's lag is read (GET /supervisor/<id>/status); 0: never. */
  lagPeriodMs: number;
  /** Lag reads in flight at once, over all Druid clusters. */
  lagConcurrency: number;
  concurrency: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  defaultDruidUrl: string | undefined;
  /** Druid URLs resources may name in spec.druidEndpoint, besides the default and discovered routers. */
  allowedDruidEndpoints: AllowedEndpoint[] | "any";
  /** Trust router Services found in a resource's own namespace (druid-operator discovery). */
  routerDiscovery: boolean;
  clusterDomain: string;
  druidCaFile: string | undefined;
  druidConnectTimeoutMs: number;
  druidRequestTimeoutMs: number;
  druidRetries: number;
  druidMaxResponseBytes: number;
  allowCrossNamespaceSecrets: boolean;
  logLevel: LogLevel;
  metricsAddress: BindAddress;
  healthAddress: BindAddress;
  leaderElect: boolean;
  leaseName: string;
  leaseNamespace: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  identity: string;
  shutdownTimeoutMs: number;
}

interface Setting {
  env: string;
  flag: string;
  default: string | undefined;
  help: string;
}

/** Every setting, its env var, flag and default: also the source of the README table. */
export const SETTINGS = {
  watchNamespaces: { env: "WATCH_NAMESPACE", flag: "watch-namespace", default: "", help: "Namespaces to watch, comma-separated (druid-operator syntax); empty watches all" },
  resync: { env: "RESYNC_PERIOD", flag: "resync-period", default: "60s", help: "How often each resource is compared with Druid's state; Druid's supervisor states are listed once per cluster per period (GET /supervisor?state=true)" },
  driftCheck: { env: "DRIFT_CHECK_PERIOD", flag: "drift-check-period", default: "10m", help: "How often each supervisor's stored spec is read (GET /supervisor/<id>, spread over the period) to find changes made in Druid behind the resource's back; at least RESYNC_PERIOD (the default follows a longer RESYNC_PERIOD)" },
  settle: { env: "SETTLE_DELAY", flag: "settle-delay", default: "3s", help: "After changing Druid, look again this soon to report the resulting state; also the state poller's shortest interval while supervisors change state" },
  lagPeriod: { env: "LAG_PERIOD", flag: "lag-period", default: "1m", help: "How often each running supervisor's lag is read (GET /supervisor/<id>/status, LAG_READ_CONCURRENCY at a time; a round longer than the period delays the next) for the druid_ingestion_supervisor_lag gauges and status.lag; 0s turns lag reading off" },
  lagConcurrency: { env: "LAG_READ_CONCURRENCY", flag: "lag-read-concurrency", default: "2", help: "Lag reads in flight at once, over all Druid clusters: with N running supervisors and a read time t, a round takes about N·t / this" },
  concurrency: { env: "MAX_CONCURRENT_RECONCILES", flag: "max-concurrent-reconciles", default: "4", help: "Resources reconciled in parallel (one resource is never reconciled twice at once)" },
  backoffBase: { env: "RETRY_BACKOFF_BASE", flag: "retry-backoff-base", default: "1s", help: "First retry delay after a failed reconcile; doubles per failure" },
  backoffMax: { env: "RETRY_BACKOFF_MAX", flag: "retry-backoff-max", default: "5m", help: "Cap of the retry delay" },
  defaultDruidUrl: { env: "DRUID_DEFAULT_URL", flag: "druid-default-url", default: undefined, help: "Druid router/Overlord URL used when a resource has no druidEndpoint and no router Service is found" },
  allowedDruidEndpoints: { env: "ALLOWED_DRUID_ENDPOINTS", flag: "allowed-druid-endpoints", default: "", help: "Druid URLs a resource may name in spec.druidEndpoint, comma-separated: scheme://host[:port][/path], host may start with *., port may be * (e.g. https://*.druid.svc:9088). The default URL and discovered router Services are always allowed; * allows any URL (not for shared clusters)" },
  routerDiscovery: { env: "ROUTER_DISCOVERY", flag: "router-discovery", default: "true", help: "Send requests to the router Service (labels druid_cr=<druidCluster>, component=router) found in a resource's own namespace; false: discovered URLs must be in ALLOWED_DRUID_ENDPOINTS too (whoever may create Services and EndpointSlices in a namespace can make such a Service lead anywhere)" },
  clusterDomain: { env: "CLUSTER_DOMAIN", flag: "cluster-domain", default: "cluster.local", help: "The cluster's DNS domain: <svc>.<ns>.svc.<domain> and <svc>.<ns>.svc name one Druid endpoint" },
  druidCaFile: { env: "DRUID_CA_FILE", flag: "druid-ca-file", default: undefined, help: "PEM CA bundle for https Druid endpoints (default: system roots)" },
  druidConnectTimeout: { env: "DRUID_CONNECT_TIMEOUT", flag: "druid-connect-timeout", default: "5s", help: "TCP/TLS connect timeout to Druid" },
  druidRequestTimeout: { env: "DRUID_REQUEST_TIMEOUT", flag: "druid-request-timeout", default: "10s", help: "Total time for one Druid request: connecting, the headers and the whole body (DruidTimeout)" },
  druidRetries: { env: "DRUID_RETRIES", flag: "druid-retries", default: "2", help: "Retries of a transient Druid failure within one call; a write that may have reached Druid is retried only when repeating it is harmless" },
  druidMaxResponseSize: { env: "DRUID_MAX_RESPONSE_SIZE", flag: "druid-max-response-size", default: "16Mi", help: "Largest Druid response read (DruidResponseTooLarge); cluster-wide lists may also take 64Ki per DruidIngestion watched" },
  allowCrossNamespaceSecrets: { env: "ALLOW_CROSS_NAMESPACE_SECRETS", flag: "allow-cross-namespace-secrets", default: "false", help: "Allow spec.auth.secretRef.namespace other than the resource's own" },
  logLevel: { env: "LOG_LEVEL", flag: "log-level", default: "info", help: "error, warn, info or debug" },
  metricsAddress: { env: "METRICS_BIND_ADDRESS", flag: "metrics-bind-address", default: ":8383", help: "Address of /metrics" },
  healthAddress: { env: "HEALTH_PROBE_BIND_ADDRESS", flag: "health-probe-bind-address", default: ":8384", help: "Address of /healthz and /readyz" },
  leaderElect: { env: "LEADER_ELECT", flag: "leader-elect", default: "false", help: "Use a Lease so only one replica acts" },
  leaseName: { env: "LEADER_ELECTION_ID", flag: "leader-election-id", default: "druid-ingestion-controller", help: "Name of the Lease" },
  leaseNamespace: { env: "LEADER_ELECTION_NAMESPACE", flag: "leader-election-namespace", default: undefined, help: "Namespace of the Lease (default: POD_NAMESPACE, else default)" },
  leaseDuration: { env: "LEASE_DURATION", flag: "lease-duration", default: "15s", help: "How long a standby waits before taking over a Lease that is not renewed" },
  renewDeadline: { env: "RENEW_DEADLINE", flag: "renew-deadline", default: "10s", help: "The leader stops acting if it could not renew within this" },
  retryPeriod: { env: "RETRY_PERIOD", flag: "retry-period", default: "2s", help: "How often the Lease is renewed or tried" },
  identity: { env: "POD_NAME", flag: "identity", default: undefined, help: "This replica's identity in the Lease (default: hostname)" },
  shutdownTimeout: { env: "SHUTDOWN_TIMEOUT", flag: "shutdown-timeout", default: "45s", help: "On SIGTERM, how long in-flight reconciles may take to finish before their Druid calls are abandoned and the Lease released; should exceed one Druid call with its retries (warned at start)" },
} satisfies Record<string, Setting>;

type SettingName = keyof typeof SETTINGS;

export class ConfigError extends Error {}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations: "500ms", "10s", "1m30s", "2h". */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(trimmed)) throw new Error(`"${text}" is not a duration (e.g. 500ms, 10s, 1m30s, 2h)`);
  let total = 0;
  for (const [, value, , unit] of trimmed.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) total += Number(value) * (UNITS[unit as string] as number);
  return Math.round(total);
}

export function parseBindAddress(text: string): BindAddress {
  const match = /^(.*):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new Error(`"${text}" is not host:port or :port`);
  return { host: match[1] === "" ? "0.0.0.0" : (match[1] as string).replace(/^\[|\]$/g, ""), port };
}

function parseBool(text: string): boolean {
  if (/^(true|1|yes)$/i.test(text)) return true;
  if (/^(false|0|no)$/i.test(text)) return false;
  throw new Error(`"${text}" is not true or false`);
}

function parseInteger(text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`"${text}" is not an integer >= ${min}`);
  return n;
}

const SIZE_UNITS: Record<string, number> = { "": 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1000, M: 1000 ** 2, G: 1000 ** 3 };

/** Kubernetes-style quantities of bytes: "1048576", "512Ki", "16Mi", "1Gi". */
export function parseByteSize(text: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|k|M|G)?$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a size (e.g. 512Ki, 16Mi, 1Gi)`);
  const bytes = Number(match[1]) * (SIZE_UNITS[match[2] ?? ""] as number);
  if (bytes < 64 * 1024) throw new Error(`"${text}" is below the smallest useful size, 64Ki`);
  return bytes;
}

function parseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`"${text}" must be http or https`);
  if (url.username || url.password) throw new Error("must not contain credentials (use spec.auth with a Secret)");
  return text.replace(/\/+$/, "");
}

/**
 * Settings that work but weaken a guarantee, to be logged at start (not refused: a configuration
 * that ran before an upgrade keeps running). One Druid call with its retries should fit in
 * SHUTDOWN_TIMEOUT, so a reconcile's call in flight at SIGTERM can end before it is abandoned.
 */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  const callBudget = druidCallBudgetMs(config.druidRequestTimeoutMs, config.druidRetries);
  if (config.shutdownTimeoutMs <= callBudget) {
    warnings.push(
      `${SETTINGS.shutdownTimeout.env} (${config.shutdownTimeoutMs / 1000}s) is shorter than one Druid call with its retries (${callBudget / 1000}s = (${SETTINGS.druidRetries.env} + 1) × ${SETTINGS.druidRequestTimeout.env} + ${SETTINGS.druidRetries.env} × ${RETRY_MAX_DELAY_MS / 1000}s): at SIGTERM a call in flight is more likely to be abandoned with an unknown outcome; raise it (and terminationGracePeriodSeconds above it) or lower the other two`,
    );
  }
  if (config.allowedDruidEndpoints === "any") {
    warnings.push(`${SETTINGS.allowedDruidEndpoints.env}=*: every resource may send its credentials to any URL it names in spec.druidEndpoint; list the Druid endpoints instead wherever people who may not read Secrets can create DruidIngestions`);
  }
  return warnings;
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  const options = Object.fromEntries(Object.values(SETTINGS).map((s) => [s.flag, { type: "string" as const }]));
  let flags: Record<string, string | undefined>;
  try {
    flags = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (e) {
    throw new ConfigError(`${(e as Error).message}. Known flags: ${Object.values(SETTINGS).map((s) => `--${s.flag}`).join(", ")}`);
  }
  const problems: string[] = [];
  const read = <T>(name: SettingName, parse: (text: string) => T): T | undefined => {
    const s: Setting = SETTINGS[name];
    const text = flags[s.flag] ?? env[s.env] ?? s.default;
    if (text === undefined || text === "") return undefined;
    try {
      return parse(text);
    } catch (e) {
      problems.push(`${s.env} / --${s.flag}: ${(e as Error).message}`);
      return undefined;
    }
  };
  const text = (t: string): string => t;
  const logLevel = read("logLevel", (t) => {
    if (!["error", "warn", "info", "debug"].includes(t)) throw new Error(`"${t}" is not one of error, warn, info, debug`);
    return t as LogLevel;
  });
  const namespaces = read("watchNamespaces", (t) => {
    const list = t.split(",").map((n) => n.trim()).filter((n) => n !== "");
    for (const n of list) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n) || n.length > 63) throw new Error(`"${n}" is not a namespace name`);
    return list;
  });
  const clusterDomain =
    read("clusterDomain", (t) => {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(t)) throw new Error(`"${t}" is not a DNS domain`);
      return t;
    }) ?? "cluster.local";
  const resyncMs = read("resync", parseDuration) ?? 60_000;
  const config = {
    watchNamespaces: namespaces && namespaces.length > 0 ? namespaces : undefined,
    resyncMs,
    driftCheckMs: read("driftCheck", parseDuration) ?? Math.max(600_000, resyncMs),
    settleMs: read("settle", parseDuration) ?? 3000,
    lagPeriodMs: read("lagPeriod", parseDuration) ?? 60_000,
    lagConcurrency: read("lagConcurrency", (t) => parseInteger(t, 1)) ?? 2,
    concurrency: read("concurrency", (t) => parseInteger(t, 1)) ?? 4,
    backoffBaseMs: read("backoffBase", parseDuration) ?? 1000,
    backoffMaxMs: read("backoffMax", parseDuration) ?? 300_000,
    defaultDruidUrl: read("defaultDruidUrl", parseUrl),
    // Patterns are spelled like recorded endpoints, whose short Service form depends on the domain.
    allowedDruidEndpoints: read("allowedDruidEndpoints", (t) => parseAllowedEndpoints(t, clusterDomain)) ?? ([] as AllowedEndpoint[]),
    routerDiscovery: read("routerDiscovery", parseBool) ?? true,
    clusterDomain,
    druidCaFile: read("druidCaFile", text),
    druidConnectTimeoutMs: read("druidConnectTimeout", parseDuration) ?? 5000,
    druidRequestTimeoutMs: read("druidRequestTimeout", parseDuration) ?? 10_000,
    druidRetries: read("druidRetries", (t) => parseInteger(t, 0)) ?? 2,
    druidMaxResponseBytes: read("druidMaxResponseSize", parseByteSize) ?? 16 * 1024 ** 2,
    allowCrossNamespaceSecrets: read("allowCrossNamespaceSecrets", parseBool) ?? false,
    logLevel: logLevel ?? "info",
    metricsAddress: read("metricsAddress", parseBindAddress) ?? { host: "0.0.0.0", port: 8383 },
    healthAddress: read("healthAddress", parseBindAddress) ?? { host: "0.0.0.0", port: 8384 },
    leaderElect: read("leaderElect", parseBool) ?? false,
    leaseName: read("leaseName", text) ?? "druid-ingestion-controller",
    leaseNamespace: read("leaseNamespace", text) ?? env["POD_NAMESPACE"] ?? "default",
    leaseDurationMs: read("leaseDuration", parseDuration) ?? 15_000,
    renewDeadlineMs: read("renewDeadline", parseDuration) ?? 10_000,
    retryPeriodMs: read("retryPeriod", parseDuration) ?? 2000,
    identity: read("identity", text) ?? `${hostname()}_${process.pid}`,
    shutdownTimeoutMs: read("shutdownTimeout", parseDuration) ?? 45_000,
  };
  if (config.resyncMs < 1000) problems.push(`${SETTINGS.resync.env}: must be at least 1s`);
  // 0 would requeue a supervisor in transition at once, in a loop, while Druid shows it PENDING.
  if (config.settleMs < 100) problems.push(`${SETTINGS.settle.env}: must be at least 100ms`);
  if (config.lagPeriodMs !== 0 && config.lagPeriodMs < 5000) problems.push(`${SETTINGS.lagPeriod.env}: must be 0s (off) or at least 5s (Druid refreshes a stream's offsets every 30s by default)`);
  if (config.driftCheckMs < config.resyncMs) problems.push(`${SETTINGS.driftCheck.env}: must not be below ${SETTINGS.resync.env}`);
  if (config.backoffMaxMs < config.backoffBaseMs) problems.push(`${SETTINGS.backoffMax.env}: must not be below ${SETTINGS.backoffBase.env}`);
  if (config.leaderElect && !(config.leaseDurationMs > config.renewDeadlineMs && config.renewDeadlineMs > config.retryPeriodMs)) {
    problems.push(`leader election needs ${SETTINGS.leaseDuration.env} > ${SETTINGS.renewDeadline.env} > ${SETTINGS.retryPeriod.env}`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join("\n  ")}`);
  return config;
}
