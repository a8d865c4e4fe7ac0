// Errors from talking to Druid, as values with a machine reason and a human message.
// The message carries Druid's own error text, sanitized, and never credentials or a non-Druid reply.
import { sanitizeErrorText } from "./error-text.ts";

export type DruidErrorReason =
  | "DruidUnreachable" // connection refused/reset, DNS failure
  | "DruidTLSFailed" // not sent: the TLS handshake failed (certificate not trusted, not for this host, expired; not a TLS port)
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
  /**
   * An earlier attempt of this call may have reached Druid (it timed out after sending), whatever
   * the last attempt's reason says (a TLS failure, a refused redirect): the write is ambiguous.
   */
  readonly earlierAttemptMayHaveActed: boolean;

  constructor(reason: DruidErrorReason, message: string, opts: { statusCode?: number; druidMessage?: string; notSent?: boolean; earlierAttemptMayHaveActed?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "DruidError";
    this.reason = reason;
    this.statusCode = opts.statusCode;
    this.druidMessage = opts.druidMessage;
    this.notSent = opts.notSent ?? false;
    this.earlierAttemptMayHaveActed = opts.earlierAttemptMayHaveActed ?? false;
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

/** Node's codes for a certificate that does not chain up to a trusted CA. */
const UNTRUSTED_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "INVALID_CA",
  "CERT_CHAIN_TOO_LONG",
  "PATH_LENGTH_EXCEEDED",
]);
const WRONG_NAME_CODES = new Set(["ERR_TLS_CERT_ALTNAME_INVALID", "HOSTNAME_MISMATCH"]);
const OUT_OF_DATE_CODES = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID", "ERROR_IN_CERT_NOT_BEFORE_FIELD", "ERROR_IN_CERT_NOT_AFTER_FIELD"]);
const OTHER_CERTIFICATE_CODES = new Set(["CERT_REVOKED", "INVALID_PURPOSE", "UNABLE_TO_GET_CRL", "CRL_HAS_EXPIRED", "CRL_NOT_YET_VALID", "CRL_SIGNATURE_FAILURE"]);
/** OpenSSL's words for a peer that answered the handshake with something that is not TLS (an http port). */
const NOT_TLS_CODES = new Set(["ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_PACKET_LENGTH_TOO_LONG", "ERR_SSL_HTTP_REQUEST"]);

/**
 * A TLS handshake with Druid that failed, as a DruidError that says where (the origin dialed),
 * why (Node's code and words), against what (DRUID_CA_FILE, or the system roots) and what to do;
 * undefined for any other error. Nothing was sent: the request is written only after the
 * handshake. Not transient: retrying cannot change a certificate (the next resync tries again).
 */
export function tlsError(what: string, origin: string, error: unknown, caFile: string | undefined): DruidError | undefined {
  const failure = codedError(error);
  if (failure === undefined) return undefined;
  const { code } = failure;
  const trust = caFile ? `DRUID_CA_FILE=${caFile}` : "the system's root CAs (DRUID_CA_FILE is not set)";
  let advice: string;
  if (UNTRUSTED_CODES.has(code)) {
    advice = `Druid's certificate is not signed by a CA in ${trust}: set DRUID_CA_FILE to a PEM bundle holding the CA that signed it, and restart the controller (it reads the file at start)`;
  } else if (WRONG_NAME_CODES.has(code)) {
    advice = `Druid's certificate does not name ${new URL(origin).hostname}: give Druid a certificate whose subjectAltName holds that name, or reach it under a name its certificate holds`;
  } else if (OUT_OF_DATE_CODES.has(code)) {
    advice = "Druid's certificate is outside its validity period: renew it (or check the clocks)";
  } else if (OTHER_CERTIFICATE_CODES.has(code)) {
    advice = `Druid's certificate is refused (checked against ${trust})`;
  } else if (NOT_TLS_CODES.has(code)) {
    advice = "the server does not answer TLS there: an https URL (or a router Service port named https) must lead to Druid's TLS port (druid.tlsPort), not a plain http one";
  } else {
    return undefined;
  }
  const detail = sanitizeErrorText(tlsWords(failure.message));
  return new DruidError("DruidTLSFailed", `${what}: TLS with ${origin} failed (${code}: ${detail}); ${advice}. Nothing was sent`, { notSent: true, cause: error });
}

/**
 * Node's words without its advice for Node users ("try running Node.js with --use-system-ca"),
 * and OpenSSL's error line reduced to its reason ("wrong version number").
 */
function tlsWords(message: string): string {
  const openssl = /error:[0-9A-F]+:SSL routines:[^:]*:([^:]+)/.exec(message);
  if (openssl) return openssl[1] as string;
  return message.replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca$/, "");
}

function errorCode(error: unknown): string | undefined {
  return codedError(error)?.code;
}

/** The first error in the cause chain that carries a code (undici wraps Node's in "fetch failed" and the like). */
function codedError(error: unknown): { code: string; message: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return { code, message: current.message };
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
