// The Druid Overlord/Coordinator HTTP client: undici with timeouts and keep-alive, basic auth,
// p-retry for transient failures, and one error type. Every call names its route template so
// metrics group by endpoint, not by supervisor id.
import pRetry from "p-retry";
import { RETRY_MAX_DELAY_MS, RETRY_MIN_DELAY_MS } from "./retry-policy.ts";
import { Agent, interceptors, request, type Dispatcher } from "undici";
import type { JsonObject } from "../api/druid-ingestion.ts";
import {
  asJsonObject,
  decodeCompactionConfigs,
  decodeRuleList,
  decodeRules,
  decodeSubmittedId,
  decodeSupervisorList,
  decodeSupervisorState,
  decodeNewestVersion,
  decodeTaskStatus,
  decodeVersion,
  DecodeError,
  type LiveSupervisor,
  type LiveTask,
  type SupervisorState,
} from "./decode.ts";
import { DruidError, druidErrorText, reasonForStatus, transportError } from "./errors.ts";

export interface DruidCredentials {
  username: string;
  password: string;
}

export interface DruidTarget {
  /** Base URL without trailing slash, e.g. http://druid-tiny-cluster-routers.druid:8088 */
  baseUrl: string;
  credentials: DruidCredentials | undefined;
}

export interface DruidRequestObservation {
  method: string;
  route: string;
  code: string;
  seconds: number;
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
  /** Asked before every attempt of a write, retries included; throws to refuse (the write fence). */
  beforeWrite?: (what: string) => void;
  /** Retries of transient failures within one call (the work queue's backoff comes after). */
  retries: number;
  retryMinTimeoutMs?: number;
  observe?: (o: DruidRequestObservation) => void;
}

export interface DruidDispatcherOptions {
  connectTimeoutMs: number;
  /** PEM CA bundle for https endpoints; the system roots are used when absent. */
  ca?: string;
}

/** One keep-alive connection pool per origin, following the Overlord's leader redirects. */
export function createDruidDispatcher(opts: DruidDispatcherOptions): Dispatcher {
  const agent = new Agent({
    connect: { timeout: opts.connectTimeoutMs, ...(opts.ca ? { ca: opts.ca } : {}) },
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
  });
  // A non-leader Overlord answers 307 to the leader. undici strips Authorization on a
  // cross-origin redirect, so pointing at the Router (which proxies) is the recommended setup.
  return agent.compose(interceptors.redirect({ maxRedirections: 3 }));
}

type CallOptions = {
  body?: unknown;
  /** A cluster-wide list: sized by maxListResponseBytes. */
  list?: boolean;
  /** Safe to repeat even if the first attempt may have reached Druid. */
  idempotent: boolean;
  /** Statuses returned to the caller instead of thrown. */
  allow?: readonly number[];
};

interface CallResult {
  status: number;
  json: unknown;
  text: string;
}

const SUPERVISOR = "/druid/indexer/v1/supervisor";
const TASK = "/druid/indexer/v1/task";
const COMPACTION = "/druid/coordinator/v1/config/compaction";
const RULES = "/druid/coordinator/v1/rules";

export class DruidClient {
  readonly target: DruidTarget;
  private readonly options: DruidClientOptions;
  private readonly authorization: string | undefined;

  constructor(target: DruidTarget, options: DruidClientOptions) {
    this.target = { ...target, baseUrl: target.baseUrl.replace(/\/+$/, "") };
    this.options = options;
    this.authorization = target.credentials
      ? `Basic ${Buffer.from(`${target.credentials.username}:${target.credentials.password}`, "utf8").toString("base64")}`
      : undefined;
  }

  async version(): Promise<string> {
    const r = await this.call("GET", "/status", "/status", { idempotent: true });
    return this.decode("GET /status", () => decodeVersion(r.json));
  }

  /** One call for every supervisor of the cluster, with state and stored spec. */
  async listSupervisors(): Promise<LiveSupervisor[]> {
    const r = await this.call("GET", `${SUPERVISOR}?full`, `${SUPERVISOR}?full`, { idempotent: true, list: true });
    return this.decode(`GET ${SUPERVISOR}?full`, () => decodeSupervisorList(r.json));
  }

  /** The stored spec of one supervisor, or undefined when Druid has none. */
  async getSupervisor(id: string): Promise<JsonObject | undefined> {
    const r = await this.call("GET", `${SUPERVISOR}/{id}`, `${SUPERVISOR}/${enc(id)}`, { idempotent: true, allow: [404] });
    if (r.status === 404) return undefined;
    return this.decode(`GET ${SUPERVISOR}/${id}`, () => asJsonObject(r.json, "supervisor spec"));
  }

  /** The state part of one supervisor's status report, or undefined when Druid has none. */
  async supervisorState(id: string): Promise<SupervisorState | undefined> {
    const r = await this.call("GET", `${SUPERVISOR}/{id}/status`, `${SUPERVISOR}/${enc(id)}/status`, { idempotent: true, allow: [404] });
    if (r.status === 404) return undefined;
    return this.decode(`GET ${SUPERVISOR}/${id}/status`, () => decodeSupervisorState(r.json));
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
    return this.decode(`GET ${SUPERVISOR}/${id}/history`, () => decodeNewestVersion(r.json));
  }

  /** Create or update; Druid 33+ skips the restart when the stored spec is unchanged. */
  async submitSupervisor(spec: JsonObject, skipRestartIfUnmodified: boolean): Promise<string> {
    const query = skipRestartIfUnmodified ? "?skipRestartIfUnmodified=true" : "";
    const r = await this.call("POST", SUPERVISOR, `${SUPERVISOR}${query}`, { body: spec, idempotent: true });
    return this.decode(`POST ${SUPERVISOR}`, () => decodeSubmittedId(r.json));
  }

  /** Suspending an already suspended supervisor is success, not an error. */
  async suspendSupervisor(id: string): Promise<void> {
    const r = await this.call("POST", `${SUPERVISOR}/{id}/suspend`, `${SUPERVISOR}/${enc(id)}/suspend`, { idempotent: true, allow: [400] });
    this.acceptAlready(r, "suspend", id, /already suspended/i);
  }

  async resumeSupervisor(id: string): Promise<void> {
    const r = await this.call("POST", `${SUPERVISOR}/{id}/resume`, `${SUPERVISOR}/${enc(id)}/resume`, { idempotent: true, allow: [400] });
    this.acceptAlready(r, "resume", id, /already running/i);
  }

  /** Not idempotent: repeated only when the first attempt certainly did not reach Druid. */
  async resetSupervisor(id: string): Promise<void> {
    await this.call("POST", `${SUPERVISOR}/{id}/reset`, `${SUPERVISOR}/${enc(id)}/reset`, { idempotent: false });
  }

  /** Returns false when Druid had no such supervisor (already gone). */
  async terminateSupervisor(id: string): Promise<boolean> {
    const r = await this.call("POST", `${SUPERVISOR}/{id}/terminate`, `${SUPERVISOR}/${enc(id)}/terminate`, { idempotent: true, allow: [404] });
    return r.status !== 404;
  }

  /** Tasks with a client-chosen id are at-most-once: a duplicate id is refused by Druid. */
  async submitTask(spec: JsonObject): Promise<string> {
    const r = await this.call("POST", TASK, TASK, { body: spec, idempotent: true });
    return this.decode(`POST ${TASK}`, () => decodeSubmittedId(r.json));
  }

  /** Safe to repeat when the body names its sqlQueryId (the controller always does): a duplicate is refused. */
  async submitSqlTask(body: JsonObject): Promise<string> {
    const r = await this.call("POST", "/druid/v2/sql/task", "/druid/v2/sql/task", { body, idempotent: true });
    return this.decode("POST /druid/v2/sql/task", () => decodeSubmittedId(r.json));
  }

  async taskStatus(id: string): Promise<LiveTask | undefined> {
    const r = await this.call("GET", `${TASK}/{id}/status`, `${TASK}/${enc(id)}/status`, { idempotent: true, allow: [404] });
    if (r.status === 404) return undefined;
    return this.decode(`GET ${TASK}/${id}/status`, () => decodeTaskStatus(r.json));
  }

  async shutdownTask(id: string): Promise<void> {
    await this.call("POST", `${TASK}/{id}/shutdown`, `${TASK}/${enc(id)}/shutdown`, { idempotent: true, allow: [404] });
  }

  async listCompactionConfigs(): Promise<Map<string, JsonObject>> {
    const r = await this.call("GET", COMPACTION, COMPACTION, { idempotent: true, list: true });
    return this.decode(`GET ${COMPACTION}`, () => decodeCompactionConfigs(r.json));
  }

  async getCompactionConfig(dataSource: string): Promise<JsonObject | undefined> {
    const r = await this.call("GET", `${COMPACTION}/{dataSource}`, `${COMPACTION}/${enc(dataSource)}`, { idempotent: true, allow: [404] });
    if (r.status === 404) return undefined;
    return this.decode(`GET ${COMPACTION}/${dataSource}`, () => asJsonObject(r.json, "compaction config"));
  }

  async submitCompactionConfig(config: JsonObject): Promise<void> {
    await this.call("POST", COMPACTION, COMPACTION, { body: config, idempotent: true });
  }

  /** Returns false when there was no config (already gone). */
  async deleteCompactionConfig(dataSource: string): Promise<boolean> {
    const r = await this.call("DELETE", `${COMPACTION}/{dataSource}`, `${COMPACTION}/${enc(dataSource)}`, { idempotent: true, allow: [404] });
    return r.status !== 404;
  }

  async listRules(): Promise<Map<string, JsonObject[]>> {
    const r = await this.call("GET", RULES, RULES, { idempotent: true, list: true });
    return this.decode(`GET ${RULES}`, () => decodeRules(r.json));
  }

  async getRules(dataSource: string): Promise<JsonObject[]> {
    const r = await this.call("GET", `${RULES}/{dataSource}`, `${RULES}/${enc(dataSource)}`, { idempotent: true });
    return this.decode(`GET ${RULES}/${dataSource}`, () => decodeRuleList(r.json));
  }

  /** Replaces all rules of the datasource; an empty list clears them. */
  async submitRules(dataSource: string, rules: JsonObject[]): Promise<void> {
    await this.call("POST", `${RULES}/{dataSource}`, `${RULES}/${enc(dataSource)}`, { body: rules, idempotent: true });
  }

  private acceptAlready(r: CallResult, action: string, id: string, already: RegExp): void {
    if (r.status === 400) {
      const text = druidErrorText(r.text) ?? "";
      if (already.test(text)) return;
      throw new DruidError("DruidRejected", `POST ${SUPERVISOR}/${id}/${action}: 400: ${text}`, { statusCode: 400, druidMessage: text });
    }
  }

  private decode<T>(what: string, fn: () => T): T {
    try {
      return fn();
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
          retries: this.options.retries,
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
          cause: error,
        });
      }
      throw error;
    }
  }

  private async once(method: string, route: string, path: string, what: string, opts: CallOptions, attempt: number): Promise<CallResult> {
    if (method !== "GET" && this.options.beforeWrite) {
      try {
        this.options.beforeWrite(what);
      } catch (refusal) {
        // A retry refused here follows an attempt that may have reached Druid: still ambiguous.
        throw new DruidError("DruidCallAborted", `${what}: not sent: ${(refusal as Error).message}`, { notSent: attempt === 1, cause: refusal });
      }
    }
    const started = performance.now();
    const observe = (code: string): void =>
      this.options.observe?.({ method, route, code, seconds: (performance.now() - started) / 1000 });
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
    let text: string;
    try {
      const response = await request(`${this.target.baseUrl}${path}`, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body,
        dispatcher: this.options.dispatcher,
        signal,
      });
      status = response.statusCode;
      text = await readBounded(response.body, response.headers["content-length"], limit, what);
    } catch (e) {
      const error = e instanceof DruidError ? e : signal.aborted ? abortError(what, signal, deadline, this.options.requestTimeoutMs, e) : transportError(what, e);
      observe(error.reason === "DruidTimeout" ? "timeout" : error.reason === "DruidResponseTooLarge" ? "too_large" : "error");
      throw error;
    }
    observe(String(status));
    if ((status >= 200 && status < 300) || opts.allow?.includes(status)) {
      return { status, text, json: parseJson(text) };
    }
    const druidMessage = druidErrorText(text);
    const reason = reasonForStatus(status);
    const hint = reason === "DruidUnauthorized" ? " (check the username and password in the auth Secret)" : "";
    throw new DruidError(reason, `${what}: HTTP ${status}${druidMessage ? `: ${druidMessage}` : ""}${hint}`, {
      statusCode: status,
      ...(druidMessage === undefined ? {} : { druidMessage }),
    });
  }
}

/**
 * The body as text, refused once it passes `limit` bytes (announced or received): a huge or
 * endless answer never fills memory.
 */
async function readBounded(body: Dispatcher.ResponseData["body"], contentLength: string | string[] | undefined, limit: number, what: string): Promise<string> {
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
  return Buffer.concat(chunks, size).toString("utf8");
}

/** An aborted call: the total deadline passed, or the fence closed (leadership lost, shutdown). */
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
    return text;
  }
}
