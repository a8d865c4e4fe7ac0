// The Druid Overlord/Coordinator HTTP client: undici with timeouts and keep-alive, basic auth,
// p-retry for transient failures, and one error type. Every call names its route template so
// metrics group by endpoint, not by supervisor id.
import pRetry from "p-retry";
import { RETRY_MAX_DELAY_MS, RETRY_MIN_DELAY_MS } from "./retry-policy.ts";
import { Agent, buildConnector, request, type Dispatcher } from "undici";
import type { JsonObject } from "../api/druid-ingestion.ts";
import {
  asJsonObject,
  decodeBackfillSupervisorId,
  decodeCompactionConfigs,
  decodeRuleList,
  decodeRules,
  decodeSubmittedId,
  decodeSupervisorList,
  decodeSupervisorHealth,
  decodeSupervisorState,
  decodeNewestVersion,
  decodeTaskStatus,
  decodeVersion,
  DecodeError,
  type LiveSupervisor,
  type LiveTask,
  type SupervisorHealth,
  type SupervisorState,
} from "./decode.ts";
import { describeReply, sanitizeErrorText, type ReplyMeta } from "./error-text.ts";
import { dialUrl } from "./endpoint.ts";
import { DruidError, druidErrorText, reasonForStatus, tlsError, transportError } from "./errors.ts";

export interface DruidCredentials {
  username: string;
  password: string;
}

export interface DruidTarget {
  /** Base URL without trailing slash, e.g. http://druid-tiny-cluster-routers.druid:8088 */
  baseUrl: string;
  credentials: DruidCredentials | undefined;
  /**
   * The namespace of the resources this client acts for: a router Service is an allowed
   * endpoint only for resources of its own namespace.
   */
  namespace?: string;
}

export interface DruidRequestObservation {
  method: string;
  route: string;
  code: string;
  seconds: number;
  /** Bytes of the response body read, when one was. */
  bytes?: number;
}

export interface DruidClientOptions {
  dispatcher: Dispatcher;
  /** Total time for one attempt: connect, headers and the whole body. */
  requestTimeoutMs: number;
  /** Largest response body read for one object (a spec, a status); bigger ones are refused. */
  maxResponseBytes: number;
  /** Largest body of a cluster-wide list (the supervisor list grows with the supervisors). */
  maxListResponseBytes?: () => number;
  /** Aborts every call in flight (leadership lost, shutdown). */
  signal?: AbortSignal;
  /**
   * Asked before every request: a message when this endpoint may not be called (no longer
   * allowed), so nothing, credentials included, is sent. Checked per request, not once, so a
   * tightened allow-list or a removed router Service takes effect on clients already made.
   * Asked with the URL of another origin a redirect leads to: followed only when allowed.
   */
  refuseEndpoint?: (url?: string) => string | undefined;
  /** Asked before every attempt of a write, retries included; throws to refuse (the write fence). */
  beforeWrite?: (what: string) => void;
  /** Retries of transient failures within one call (the work queue's backoff comes after). */
  retries: number;
  /** The DRUID_CA_FILE the dispatcher trusts (undefined: the system roots), named when a TLS handshake fails. */
  caFile?: string;
  retryMinTimeoutMs?: number;
  observe?: (o: DruidRequestObservation) => void;
}

export interface DruidDispatcherOptions {
  connectTimeoutMs: number;
  /** PEM CA bundle for https endpoints; the system roots are used when absent. */
  ca?: string;
  /**
   * Asked once a new connection is up, before any request is written on it; throws to refuse
   * (the write fence). A process paused while connecting (SIGSTOP, a long GC) and resumed after
   * it lost the Lease would otherwise write a request it started while it still held it.
   */
  beforeConnect?: () => void;
}

/** Marks a connection the fence refused: nothing was written on it. */
export class ConnectionRefusedByFence extends Error {}

/** One keep-alive connection pool per origin. Redirects are followed by the client itself (allowed origins only). */
export function createDruidDispatcher(opts: DruidDispatcherOptions): Dispatcher {
  const base = buildConnector({ timeout: opts.connectTimeoutMs, ...(opts.ca ? { ca: opts.ca } : {}) });
  const connect: buildConnector.connector = (options, callback) =>
    base(options, (error, socket) => {
      if (error || !socket) return callback(error ?? new Error("no socket"), null);
      try {
        opts.beforeConnect?.();
      } catch (refusal) {
        socket.destroy();
        return callback(new ConnectionRefusedByFence((refusal as Error).message, { cause: refusal }), null);
      }
      callback(null, socket);
    });
  return new Agent({ connect, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000 });
}

type CallOptions = {
  body?: unknown;
  /** A cluster-wide list: sized by maxListResponseBytes. */
  list?: boolean;
  /** Safe to repeat even if the first attempt may have reached Druid. */
  idempotent: boolean;
  /** Statuses returned to the caller instead of thrown. */
  allow?: readonly number[];
  /** Values the body carries that Druid's error text must not show (a spec's Secret references). */
  secrets?: readonly string[];
  /** Retries for this call instead of the client's (0: one attempt; a periodic read tries again next period). */
  retries?: number;
};

interface CallResult extends ReplyMeta {
  status: number;
  /** The parsed body; NOT_JSON when it is not JSON, undefined when empty. */
  json: unknown;
  text: string;
}

const NOT_JSON: unique symbol = Symbol("not JSON");

/** Redirects that keep the method and body (a non-leader Overlord answers 307). */
const REDIRECTS: ReadonlySet<number> = new Set([307, 308]);
const MAX_REDIRECTS = 3;

const SUPERVISOR = "/druid/indexer/v1/supervisor";
const TASK = "/druid/indexer/v1/task";
const COMPACTION = "/druid/coordinator/v1/config/compaction";
/** Druid 37 runs compaction as supervisors by default: their configs live in the Overlord's store, a separate one. */
const OVERLORD_COMPACTION = "/druid/indexer/v1/compaction";
/** How long the answer to "are compaction supervisors on?" is trusted (an administrator may switch them). */
export const COMPACTION_STORE_TTL_MS = 5 * 60_000;
const RULES = "/druid/coordinator/v1/rules";

/** Druid's event timestamps (ISO 8601); anything else is left out of status. */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/;

export class DruidClient {
  readonly target: DruidTarget;
  private readonly options: DruidClientOptions;
  private readonly authorization: string | undefined;
  /** Where requests really go: the base URL with a Service name in full (druid/endpoint.ts dialUrl). */
  private readonly dialBase: string;
  /** Every form of this client's credentials, redacted wherever a reply echoes one. */
  private readonly credentialForms: readonly string[];

  constructor(target: DruidTarget, options: DruidClientOptions) {
    this.target = { ...target, baseUrl: target.baseUrl.replace(/\/+$/, "") };
    this.dialBase = dialUrl(this.target.baseUrl);
    this.options = options;
    const { username, password } = target.credentials ?? { username: "", password: "" };
    const token = target.credentials ? Buffer.from(`${username}:${password}`, "utf8").toString("base64") : "";
    this.authorization = target.credentials ? `Basic ${token}` : undefined;
    this.credentialForms = target.credentials ? [username, password, `${username}:${password}`, token, encodeURIComponent(password)] : [];
  }

  async version(): Promise<string> {
    const r = await this.call("GET", "/status", "/status", { idempotent: true });
    return this.decode("GET /status", r, decodeVersion);
  }

  /** One call for every supervisor of the cluster, with state only (no spec: a few hundred bytes each). */
  async listSupervisorStates(): Promise<LiveSupervisor[]> {
    const r = await this.call("GET", `${SUPERVISOR}?state=true`, `${SUPERVISOR}?state=true`, { idempotent: true, list: true });
    return this.decode(`GET ${SUPERVISOR}?state=true`, r, decodeSupervisorList);
  }

  /** The stored spec of one supervisor, or undefined when Druid has none. */
  async getSupervisor(id: string): Promise<JsonObject | undefined> {
    const r = await this.call("GET", `${SUPERVISOR}/{id}`, `${SUPERVISOR}/${enc(id)}`, { idempotent: true, allow: [404] });
    if (r.status === 404) return undefined;
    return this.decode(`GET ${SUPERVISOR}/${id}`, r, (json) => asJsonObject(json, "supervisor spec"));
  }

  /** The state part of one supervisor's status report, or undefined when Druid has none. */
  async supervisorState(id: string): Promise<SupervisorState | undefined> {
    const r = await this.call("GET", `${SUPERVISOR}/{id}/status`, `${SUPERVISOR}/${enc(id)}/status`, { idempotent: true, allow: [404] });
    if (r.status === 404) return undefined;
    return this.decode(`GET ${SUPERVISOR}/${id}/status`, r, decodeSupervisorState);
  }

  /**
   * One supervisor's health (state, lag, recent errors), or undefined when Druid has none. Its
   * error texts are Druid's words, shown in status and Events: cleaned of this client's
   * credentials and of `secrets` (values the spec carried), as task errors are.
   */
  async supervisorHealth(id: string, secrets: readonly string[] = [], options: { retries?: number } = {}): Promise<SupervisorHealth | undefined> {
    const r = await this.call("GET", `${SUPERVISOR}/{id}/status`, `${SUPERVISOR}/${enc(id)}/status`, { idempotent: true, allow: [404], ...options });
    if (r.status === 404) return undefined;
    const health = this.decode(`GET ${SUPERVISOR}/${id}/status`, r, decodeSupervisorHealth);
    const forms = [...this.credentialForms, ...secrets];
    for (const e of health.recentErrors) {
      e.message = sanitizeErrorText(e.message, forms);
      // Whatever answers at the URL writes these too: cleaned and bounded like the message.
      if (e.exceptionClass !== undefined) e.exceptionClass = sanitizeErrorText(e.exceptionClass, forms);
      if (e.timestamp !== undefined && !ISO_TIMESTAMP.test(e.timestamp)) e.timestamp = undefined;
    }
    return health;
  }

  /**
   * One supervisor as the `?full` list would show it (stored spec and state), in two small calls:
   * for reading one supervisor right after writing it, without the whole cluster's list.
   */
  async supervisorWithState(id: string): Promise<LiveSupervisor | undefined> {
    const [spec, state] = await Promise.all([this.getSupervisor(id), this.supervisorState(id)]);
    if (!spec) return undefined;
    // As in the list, the stored spec's flag is the reliable one for suspension.
    return { id, state: state?.state, detailedState: state?.detailedState, healthy: state?.healthy, suspended: spec["suspended"] === true, spec };
  }

  /**
   * When the newest version of a supervisor's spec was stored (its history's first entry), or
   * undefined when Druid has no history for it. The metadata store is a Druid cluster's
   * identity: two URLs that report the same version for an id lead to the same cluster.
   */
  async supervisorSpecVersion(id: string): Promise<string | undefined> {
    const r = await this.call("GET", `${SUPERVISOR}/{id}/history`, `${SUPERVISOR}/${enc(id)}/history`, { idempotent: true, allow: [404] });
    if (r.status === 404) return undefined;
    return this.decode(`GET ${SUPERVISOR}/${id}/history`, r, decodeNewestVersion);
  }

  /** Create or update; Druid 33+ skips the restart when the stored spec is unchanged. `secrets`: values in the spec Druid's error text must not show. */
  async submitSupervisor(spec: JsonObject, skipRestartIfUnmodified: boolean, secrets: readonly string[] = []): Promise<string> {
    const query = skipRestartIfUnmodified ? "?skipRestartIfUnmodified=true" : "";
    const r = await this.call("POST", SUPERVISOR, `${SUPERVISOR}${query}`, { body: spec, idempotent: true, secrets });
    return this.decode(`POST ${SUPERVISOR}`, r, decodeSubmittedId);
  }

  /** Suspending an already suspended supervisor is success, not an error. */
  async suspendSupervisor(id: string, secrets: readonly string[] = []): Promise<void> {
    const r = await this.call("POST", `${SUPERVISOR}/{id}/suspend`, `${SUPERVISOR}/${enc(id)}/suspend`, { idempotent: true, allow: [400], secrets });
    this.acceptAlready(r, "suspend", id, /already suspended/i, secrets);
  }

  async resumeSupervisor(id: string, secrets: readonly string[] = []): Promise<void> {
    const r = await this.call("POST", `${SUPERVISOR}/{id}/resume`, `${SUPERVISOR}/${enc(id)}/resume`, { idempotent: true, allow: [400], secrets });
    this.acceptAlready(r, "resume", id, /already running/i, secrets);
  }

  /** Not idempotent: repeated only when the first attempt certainly did not reach Druid. */
  async resetSupervisor(id: string, secrets: readonly string[] = []): Promise<void> {
    await this.call("POST", `${SUPERVISOR}/{id}/reset`, `${SUPERVISOR}/${enc(id)}/reset`, { idempotent: false, secrets });
  }

  /**
   * Moves the stored offsets of the partitions `metadata` names (Druid merges them into its
   * checkpoint and restarts the tasks reading them). Not idempotent (the tasks may have read on
   * since): repeated only when the first attempt certainly did not reach Druid.
   */
  async resetOffsets(id: string, metadata: JsonObject, secrets: readonly string[] = []): Promise<void> {
    await this.call("POST", `${SUPERVISOR}/{id}/resetOffsets`, `${SUPERVISOR}/${enc(id)}/resetOffsets`, { body: metadata, idempotent: false, secrets });
  }

  /**
   * Druid 38+: the supervisor reads from the stream's latest offsets, and Druid starts a bounded
   * supervisor for the range skipped; gives that backfill supervisor's id (undefined when a 2xx
   * answer leaves it out). Never repeated once it may have reached Druid (each call starts another backfill).
   */
  async resetToLatestAndBackfill(id: string, backfillTaskCount: number | undefined, secrets: readonly string[] = []): Promise<string | undefined> {
    const query = backfillTaskCount === undefined ? "" : `?backfillTaskCount=${backfillTaskCount}`;
    const r = await this.call("POST", `${SUPERVISOR}/{id}/resetToLatestAndBackfill`, `${SUPERVISOR}/${enc(id)}/resetToLatestAndBackfill${query}`, { idempotent: false, secrets });
    return this.decode(`POST ${SUPERVISOR}/${id}/resetToLatestAndBackfill`, r, decodeBackfillSupervisorId);
  }

  /** Returns false when Druid had no such supervisor (already gone). */
  async terminateSupervisor(id: string, secrets: readonly string[] = []): Promise<boolean> {
    const r = await this.call("POST", `${SUPERVISOR}/{id}/terminate`, `${SUPERVISOR}/${enc(id)}/terminate`, { idempotent: true, allow: [404], secrets });
    return r.status !== 404;
  }

  /** Tasks with a client-chosen id are at-most-once: a duplicate id is refused by Druid. */
  async submitTask(spec: JsonObject, secrets: readonly string[] = []): Promise<string> {
    const r = await this.call("POST", TASK, TASK, { body: spec, idempotent: true, secrets });
    return this.decode(`POST ${TASK}`, r, decodeSubmittedId);
  }

  /** Safe to repeat when the body names its sqlQueryId (the controller always does): a duplicate is refused. */
  async submitSqlTask(body: JsonObject, secrets: readonly string[] = []): Promise<string> {
    const r = await this.call("POST", "/druid/v2/sql/task", "/druid/v2/sql/task", { body, idempotent: true, secrets });
    return this.decode("POST /druid/v2/sql/task", r, decodeSubmittedId);
  }

  /** `secrets`: values the task's spec carried, which its error message must not show. */
  async taskStatus(id: string, secrets: readonly string[] = []): Promise<LiveTask | undefined> {
    const r = await this.call("GET", `${TASK}/{id}/status`, `${TASK}/${enc(id)}/status`, { idempotent: true, allow: [404] });
    if (r.status === 404) return undefined;
    const task = this.decode(`GET ${TASK}/${id}/status`, r, decodeTaskStatus);
    // Druid's words about the failure end up in the Ready condition.
    if (task?.errorMsg !== undefined) task.errorMsg = sanitizeErrorText(task.errorMsg, [...this.credentialForms, ...secrets]);
    return task;
  }

  async shutdownTask(id: string): Promise<void> {
    await this.call("POST", `${TASK}/{id}/shutdown`, `${TASK}/${enc(id)}/shutdown`, { idempotent: true, allow: [404] });
  }

  /**
   * Where this Druid keeps the compaction configs it acts on: the Overlord's store when compaction
   * supervisors are on (`GET /druid/indexer/v1/compaction/isSupervisorEnabled`, the default from
   * Druid 37), the Coordinator's otherwise (also when the Overlord does not know the path). Asked
   * again after COMPACTION_STORE_TTL_MS.
   */
  async compactionStore(): Promise<"overlord" | "coordinator"> {
    const now = Date.now();
    if (this.compactionStoreSeen && now - this.compactionStoreSeen.at < COMPACTION_STORE_TTL_MS) return this.compactionStoreSeen.store;
    const path = `${OVERLORD_COMPACTION}/isSupervisorEnabled`;
    const r = await this.call("GET", path, path, { idempotent: true, allow: [404] });
    const store = r.status !== 404 && this.decode(`GET ${path}`, r, (json) => json === true) ? "overlord" : "coordinator";
    this.compactionStoreSeen = { store, at: now };
    return store;
  }

  private compactionStoreSeen: { store: "overlord" | "coordinator"; at: number } | undefined;

  /** The route template and path of the compaction configs (one datasource's when given). */
  private async compactionPaths(dataSource?: string): Promise<{ route: string; path: string }> {
    const base = (await this.compactionStore()) === "overlord" ? `${OVERLORD_COMPACTION}/config/datasources` : COMPACTION;
    return dataSource === undefined ? { route: base, path: base } : { route: `${base}/{dataSource}`, path: `${base}/${enc(dataSource)}` };
  }

  async listCompactionConfigs(): Promise<Map<string, JsonObject>> {
    const { route, path } = await this.compactionPaths();
    const r = await this.call("GET", route, path, { idempotent: true, list: true });
    return this.decode(`GET ${route}`, r, decodeCompactionConfigs);
  }

  async getCompactionConfig(dataSource: string): Promise<JsonObject | undefined> {
    const { route, path } = await this.compactionPaths(dataSource);
    const r = await this.call("GET", route, path, { idempotent: true, allow: [404] });
    if (r.status === 404) return undefined;
    return this.decode(`GET ${route.replace("{dataSource}", dataSource)}`, r, (json) => asJsonObject(json, "compaction config"));
  }

  async submitCompactionConfig(config: JsonObject): Promise<void> {
    // The Overlord's store takes one datasource's config at its own path (it must name the same datasource).
    const overlord = (await this.compactionStore()) === "overlord";
    const { route, path } = overlord ? await this.compactionPaths(String(config["dataSource"] ?? "")) : await this.compactionPaths();
    await this.call("POST", route, path, { body: config, idempotent: true });
  }

  /** Returns false when there was no config (already gone). */
  async deleteCompactionConfig(dataSource: string): Promise<boolean> {
    const { route, path } = await this.compactionPaths(dataSource);
    const r = await this.call("DELETE", route, path, { idempotent: true, allow: [404] });
    return r.status !== 404;
  }

  async listRules(): Promise<Map<string, JsonObject[]>> {
    const r = await this.call("GET", RULES, RULES, { idempotent: true, list: true });
    return this.decode(`GET ${RULES}`, r, decodeRules);
  }

  async getRules(dataSource: string): Promise<JsonObject[]> {
    const r = await this.call("GET", `${RULES}/{dataSource}`, `${RULES}/${enc(dataSource)}`, { idempotent: true });
    return this.decode(`GET ${RULES}/${dataSource}`, r, decodeRuleList);
  }

  /** Replaces all rules of the datasource; an empty list clears them. */
  async submitRules(dataSource: string, rules: JsonObject[]): Promise<void> {
    await this.call("POST", `${RULES}/{dataSource}`, `${RULES}/${enc(dataSource)}`, { body: rules, idempotent: true });
  }

  private acceptAlready(r: CallResult, action: string, id: string, already: RegExp, secrets: readonly string[]): void {
    if (r.status === 400) {
      if (already.test(druidErrorText(r.text, this.credentialForms) ?? "")) return;
      throw this.httpError(`POST ${SUPERVISOR}/${id}/${action}`, r, secrets);
    }
  }

  /** A refusal: Druid's own error text when the reply is a Druid error, else what the reply was. */
  private httpError(what: string, r: Omit<CallResult, "json">, secrets: readonly string[] = []): DruidError {
    const reason = reasonForStatus(r.status);
    const hint = reason === "DruidUnauthorized" ? " (check the username and password in the auth Secret)" : "";
    const druidMessage = druidErrorText(r.text, [...this.credentialForms, ...secrets]);
    const detail = druidMessage !== undefined ? `: ${druidMessage}` : r.text.trim() === "" ? "" : ` with ${describeReply(r)} that is not a Druid error reply`;
    return new DruidError(reason, `${what}: HTTP ${r.status}${detail}${hint}`, {
      statusCode: r.status,
      ...(druidMessage === undefined ? {} : { druidMessage }),
    });
  }

  /**
   * The request, following a non-leader Overlord's redirect to the leader (307/308: same method,
   * body, path and query on another origin) at most MAX_REDIRECTS times. The other origin must be
   * allowed (asked with its base URL) and gets no credentials. Any other redirect is not followed.
   */
  private async follow(url: string, init: { method: Dispatcher.HttpMethod; headers: Record<string, string>; body: string | undefined; dispatcher: Dispatcher; signal: AbortSignal }, what: string): Promise<Dispatcher.ResponseData> {
    const base = new URL(this.dialBase);
    let current = new URL(url);
    for (let hop = 0; ; hop++) {
      const sameOrigin = current.origin === base.origin;
      const { authorization: _dropped, ...anonymous } = init.headers;
      let response: Dispatcher.ResponseData;
      try {
        response = await request(current.href, { ...init, headers: sameOrigin ? init.headers : anonymous });
      } catch (error) {
        throw tlsError(what, current.origin, error, this.options.caFile) ?? error;
      }
      const location = response.headers["location"];
      if (!REDIRECTS.has(response.statusCode)) return response;
      await response.body.dump();
      const refuse = (why: string): DruidError => new DruidError("DruidBadResponse", `${what}: redirected (HTTP ${response.statusCode}) ${why}; not followed`, { notSent: true });
      if (typeof location !== "string") throw refuse("without a Location");
      if (hop >= MAX_REDIRECTS) throw refuse(`more than ${MAX_REDIRECTS} times`);
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw refuse("to an unreadable Location");
      }
      if (next.protocol !== "http:" && next.protocol !== "https:") throw refuse(`to a ${next.protocol} URL`);
      // A leader redirect changes the origin only; anything else is not an Overlord's.
      if (next.pathname !== current.pathname || next.search !== current.search) throw refuse("to another path");
      if (next.origin !== base.origin) {
        const nextBase = `${next.origin}${base.pathname.replace(/\/+$/, "")}`;
        const refusal = this.options.refuseEndpoint?.(nextBase);
        if (refusal !== undefined) throw new DruidError("EndpointNotAllowed", `${what}: redirected (HTTP ${response.statusCode}) to ${next.origin}, not followed: ${refusal}`, { notSent: true });
      }
      current = next;
    }
  }

  /** A 2xx body as the API documents it, or DruidBadResponse describing (never quoting) what came instead. */
  private decode<T>(what: string, r: CallResult, fn: (json: unknown) => T): T {
    if (r.json === NOT_JSON) throw new DruidError("DruidBadResponse", `${what}: unexpected response: ${describeReply(r)} that is not JSON`);
    try {
      return fn(r.json);
    } catch (e) {
      if (e instanceof DecodeError) throw new DruidError("DruidBadResponse", `${what}: unexpected response: ${e.message}`);
      throw e;
    }
  }

  /**
   * One call with its retries. The error of a call is its last attempt's, except that it counts
   * as not sent only when no attempt may have reached Druid: a POST cut after Druid acted, then a
   * retry refused by a Druid going down, may have acted all the same.
   */
  private async call(method: string, route: string, path: string, opts: CallOptions): Promise<CallResult> {
    const what = `${method} ${path}`;
    let maybeSent = false;
    try {
      return await pRetry(
        async (attempt) => {
          try {
            return await this.once(method, route, path, what, opts, attempt);
          } catch (error) {
            if (!(error instanceof DruidError) || !error.notSent) maybeSent = true;
            throw error;
          }
        },
        {
          retries: opts.retries ?? this.options.retries,
          minTimeout: this.options.retryMinTimeoutMs ?? RETRY_MIN_DELAY_MS,
          maxTimeout: RETRY_MAX_DELAY_MS,
          randomize: true,
          // A request that may have reached Druid is repeated only when repeating it is harmless.
          shouldRetry: ({ error }) => error instanceof DruidError && error.transient && !this.options.signal?.aborted && (opts.idempotent || error.notSent),
        },
      );
    } catch (error) {
      if (maybeSent && error instanceof DruidError && error.notSent) {
        throw new DruidError(error.reason, `${error.message} (an earlier attempt may have reached Druid)`, {
          ...(error.statusCode === undefined ? {} : { statusCode: error.statusCode }),
          ...(error.druidMessage === undefined ? {} : { druidMessage: error.druidMessage }),
          notSent: false,
          earlierAttemptMayHaveActed: true,
          cause: error,
        });
      }
      throw error;
    }
  }

  private async once(method: string, route: string, path: string, what: string, opts: CallOptions, attempt: number): Promise<CallResult> {
    const refusal = this.options.refuseEndpoint?.();
    if (refusal !== undefined) throw new DruidError("EndpointNotAllowed", `${what}: not sent: ${refusal}`, { notSent: true });
    if (method !== "GET" && this.options.beforeWrite) {
      try {
        this.options.beforeWrite(what);
      } catch (refusal) {
        // A retry refused here follows an attempt that may have reached Druid: still ambiguous.
        throw new DruidError("DruidCallAborted", `${what}: not sent: ${(refusal as Error).message}`, { notSent: attempt === 1, cause: refusal });
      }
    }
    const started = performance.now();
    const observe = (code: string, bytes?: number): void =>
      this.options.observe?.({ method, route, code, seconds: (performance.now() - started) / 1000, ...(bytes === undefined ? {} : { bytes }) });
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.authorization) headers["authorization"] = this.authorization;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    const limit = opts.list ? Math.max(this.options.maxResponseBytes, this.options.maxListResponseBytes?.() ?? 0) : this.options.maxResponseBytes;
    const deadline = AbortSignal.timeout(this.options.requestTimeoutMs);
    const signal = this.options.signal ? AbortSignal.any([deadline, this.options.signal]) : deadline;
    if (signal.aborted) throw abortError(what, signal, deadline, this.options.requestTimeoutMs, signal.reason, true);
    let status: number;
    let reply: { text: string; bytes: number };
    let contentType: string | undefined;
    try {
      const response = await this.follow(`${this.dialBase}${path}`, { method: method as Dispatcher.HttpMethod, headers, body, dispatcher: this.options.dispatcher, signal }, what);
      status = response.statusCode;
      const type = response.headers["content-type"];
      contentType = Array.isArray(type) ? type[0] : type;
      reply = await readBounded(response.body, response.headers["content-length"], limit, what);
    } catch (e) {
      const refused = causeOf(e, ConnectionRefusedByFence);
      const error = e instanceof DruidError ? e : refused ? new DruidError("DruidCallAborted", `${what}: not sent: ${refused.message}`, { notSent: true, cause: e }) : signal.aborted ? abortError(what, signal, deadline, this.options.requestTimeoutMs, e) : transportError(what, e);
      observe(error.reason === "DruidTimeout" ? "timeout" : error.reason === "DruidResponseTooLarge" ? "too_large" : "error");
      throw error;
    }
    observe(String(status), reply.bytes);
    const result = { status, text: reply.text, bytes: reply.bytes, contentType };
    if ((status >= 200 && status < 300) || opts.allow?.includes(status)) {
      return { ...result, json: parseJson(reply.text) };
    }
    throw this.httpError(what, result, opts.secrets);
  }
}

/**
 * The body as text, refused once it passes `limit` bytes (announced or received): a huge or
 * endless answer never fills memory.
 */
async function readBounded(body: Dispatcher.ResponseData["body"], contentLength: string | string[] | undefined, limit: number, what: string): Promise<{ text: string; bytes: number }> {
  const tooLarge = (size: string): DruidError =>
    new DruidError("DruidResponseTooLarge", `${what}: the response is larger than ${limit} bytes (${size}); not read. If this Druid really has that much to say, raise DRUID_MAX_RESPONSE_SIZE`);
  const announced = Number(Array.isArray(contentLength) ? contentLength[0] : contentLength);
  if (Number.isFinite(announced) && announced > limit) {
    body.destroy();
    throw tooLarge(`Content-Length ${announced}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw tooLarge(`more than ${limit} received`);
    }
    chunks.push(chunk);
  }
  return { text: Buffer.concat(chunks, size).toString("utf8"), bytes: size };
}

/** An aborted call: the total deadline passed, or the fence closed (leadership lost, shutdown). */
/** The first error of that class in the cause chain. */
function causeOf<T extends Error>(error: unknown, type: new (...args: never[]) => T): T | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof type) return current;
    current = current.cause;
  }
  return undefined;
}

function abortError(what: string, signal: AbortSignal, deadline: AbortSignal, timeoutMs: number, cause: unknown, notSent = false): DruidError {
  if (deadline.aborted) {
    return new DruidError("DruidTimeout", `${what}: no complete answer within ${timeoutMs / 1000}s (DRUID_REQUEST_TIMEOUT covers connecting, the headers and the whole body)`, { cause, notSent });
  }
  const reason = signal.reason instanceof Error ? signal.reason.message : "the call was aborted";
  return new DruidError("DruidCallAborted", `${what}: abandoned: ${reason}`, { cause, notSent });
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}
