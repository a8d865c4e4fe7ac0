// Errors from talking to Druid, as values with a machine reason and a human message.
// The message carries Druid's own error text, sanitized, and never credentials or a non-Druid reply.
import { sanitizeErrorText } from "./error-text.ts";

export type DruidErrorReason =
  | "DruidUnreachable" // connection refused/reset, DNS failure, TLS failure
  | "DruidTimeout" // no complete answer within the request deadline
  | "DruidResponseTooLarge" // the body passed the size cap
  | "DruidCallAborted" // abandoned by this replica: leadership lost or shutting down
  | "EndpointNotAllowed" // not sent: the URL is not an allowed Druid endpoint (ALLOWED_DRUID_ENDPOINTS)
  | "DruidUnavailable" // 502/503/504: not leader yet, proxy cannot reach the Overlord
  | "DruidUnauthorized" // 401: wrong or missing credentials
  | "DruidForbidden" // 403: the user lacks a permission
  | "DruidNotFound" // 404
  | "DruidRejected" // other 4xx: Druid refused the request (bad spec, ...)
  | "DruidServerError" // other 5xx
  | "DruidBadResponse"; // a 2xx whose body is not what the API documents

const TRANSIENT: ReadonlySet<DruidErrorReason> = new Set(["DruidUnreachable", "DruidTimeout", "DruidUnavailable", "DruidCallAborted"]);

export class DruidError extends Error {
  readonly reason: DruidErrorReason;
  readonly statusCode: number | undefined;
  /** Druid's own error text, when it sent one. */
  readonly druidMessage: string | undefined;
  /** True when the request certainly did not reach Druid's handler (safe to retry anything). */
  readonly notSent: boolean;

  constructor(reason: DruidErrorReason, message: string, opts: { statusCode?: number; druidMessage?: string; notSent?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "DruidError";
    this.reason = reason;
    this.statusCode = opts.statusCode;
    this.druidMessage = opts.druidMessage;
    this.notSent = opts.notSent ?? false;
  }

  get transient(): boolean {
    return TRANSIENT.has(this.reason);
  }
}

export function reasonForStatus(status: number): DruidErrorReason {
  if (status === 401) return "DruidUnauthorized";
  if (status === 403) return "DruidForbidden";
  if (status === 404) return "DruidNotFound";
  if (status === 502 || status === 503 || status === 504) return "DruidUnavailable";
  if (status >= 400 && status < 500) return "DruidRejected";
  return "DruidServerError";
}

/**
 * The text of a Druid error reply, made safe to show (see error-text.ts), or undefined when the
 * body is not one: Druid answers `{"error": "..."}` (legacy), a DruidException
 * `{"error":"druidException","errorCode":...,"errorMessage":"..."}`, a QueryException
 * `{"error":"Unauthorized request","errorMessage":null,...}`, or for a denied permission
 * `{"Access-Check-Result":"..."}`. Everything else (Jetty's HTML pages, a text/plain 404, a
 * proxy's page, another service's JSON) is for the caller to describe, never to quote.
 */
export function druidErrorText(body: string, credentials: readonly string[] = []): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return undefined;
  const reply = parsed as Record<string, unknown>;
  const text = [reply["errorMessage"], reply["error"]].find((v): v is string => typeof v === "string" && v.trim() !== "");
  const access = reply["Access-Check-Result"];
  const raw = text ?? (typeof access === "string" && access.trim() !== "" ? `Access-Check-Result: ${access}` : undefined);
  const safe = raw === undefined ? "" : sanitizeErrorText(raw, credentials);
  return safe === "" ? undefined : safe;
}

const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT", "EHOSTUNREACH", "ENETUNREACH"]);
const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);

/** Maps a transport failure (undici/Node error) to a DruidError. */
export function transportError(what: string, error: unknown): DruidError {
  const code = errorCode(error);
  // Node's words, not the peer's; bounded all the same (a certificate's altnames can be many).
  const detail = sanitizeErrorText(error instanceof Error ? error.message : String(error));
  const notSent = code !== undefined && NOT_SENT_CODES.has(code);
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new DruidError("DruidTimeout", `${what}: timed out (${code}): ${detail}`, { notSent, cause: error });
  }
  return new DruidError("DruidUnreachable", `${what}: cannot reach Druid (${code ?? "error"}): ${detail}`, { notSent, cause: error });
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
