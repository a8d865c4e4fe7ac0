// Errors from talking to Druid, as values with a machine reason and a human message.
// The message carries Druid's own error text (both body shapes Druid uses) and never credentials.

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
 * Druid answers errors as `{"error": "..."}` (legacy) or as a DruidException
 * `{"error":"druidException","errorCode":...,"errorMessage":"..."}`; some proxies send text/HTML.
 */
export function druidErrorText(body: string): string | undefined {
  const trimmed = body.trim();
  if (trimmed === "") return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
      const record = parsed as Record<string, unknown>;
      const text = record["errorMessage"] ?? record["error"] ?? record["message"];
      if (typeof text === "string" && text !== "") return text;
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  const oneLine = trimmed.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  return oneLine.length > 500 ? `${oneLine.slice(0, 500)}…` : oneLine;
}

const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT", "EHOSTUNREACH", "ENETUNREACH"]);
const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);

/** Maps a transport failure (undici/Node error) to a DruidError. */
export function transportError(what: string, error: unknown): DruidError {
  const code = errorCode(error);
  const detail = error instanceof Error ? error.message : String(error);
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
