// What of a Druid endpoint's reply may reach a condition, an Event or a log line. Anyone who can
// edit a DruidIngestion chooses the URL, so the reply may come from any server the controller can
// reach (a read-SSRF): text is echoed only from a Druid error reply, and then bounded, one line,
// free of markup and of anything that looks like a credential. Other replies are described
// (size, content type, JSON shape), never quoted. Pure functions: no I/O, no state.

/** Longest echoed text, in characters, ellipsis included. */
export const MAX_ECHOED_CHARS = 300;
// The part kept from the end when the text is cut: Druid often puts the decisive words last
// ("…; body: Task[x] already exists", "… known type ids = [kafka, kinesis]").
const KEPT_TAIL_CHARS = 99;
const REDACTED = "[redacted]";
// A credential shorter than this is redacted only as a whole word: a password "ab" must not
// eat every "ab" of the message.
const SUBSTRING_SECRET_MIN_CHARS = 6;

// Format characters (bidi overrides, zero-width): removed, so a word they split is whole again.
const FORMAT_CHARS = /\p{Cf}/gu;
// C0/C1 controls, line and paragraph separators: a space.
const INVISIBLE = /[\p{Cc}\p{Zl}\p{Zp}]/gu;
const TAG = /<\/?[A-Za-z!?][^<>]*>/g;
const USERINFO_URL = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/?#@<>"']+@/g;
const AUTHORIZATION_VALUE = /\b((?:proxy-)?authorization\\?["']?\s*[:=]\s*\\?["']?)(?:(?:basic|bearer|digest|negotiate|token)\s+)?[^\s"',;\\]+/gi;
const BEARER_TOKEN = /\b(bearer|token)\s+[A-Za-z0-9._~+/-]{8,}=*/gi;
const BASIC_TOKEN = /\b(basic)\s+([A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])/gi;
// key=value, key: value, "key": "value", \"key\":\"value\" (a spec quoted inside a message),
// where the key names a credential: ssl.truststore.password, sasl.jaas.config, secretAccessKey, ...
const SECRET_KEY = String.raw`[A-Za-z0-9_.-]*(?:pass|pwd|secret|token|credential|jaas|user\.info|auth)[A-Za-z0-9_.-]*|[A-Za-z0-9_.-]*key|pw`;
// A quoted value runs to its closing quote, or to the end of the text: Druid cuts a task's
// message at 100 characters and Jackson an echoed token at 256, so cut-off quotes are common.
const SECRET_VALUE = String.raw`\[redacted\]|\\"(?:[^\\]|\\(?!"))*(?:\\"|$)|"(?:[^"\\]|\\.)*(?:"|$)|'(?:[^'\\]|\\.)*(?:'|$)|[^\s,;&)}\]"'\\]+`;
const SECRET_PAIR = new RegExp(String.raw`((?<![A-Za-z0-9_.-])(?:\\?["'])?(?:${SECRET_KEY})(?:\\?["'])?\s*(?:->|=>|[:=\uFF1A\uFE55\uFF1D])\s*)(?:${SECRET_VALUE})`, "gi");
const HEX_RUN = /(?<![A-Za-z0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])/g;
const BASE64_RUN = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{32,}={0,2}/g;

/**
 * Druid's (or anyone's) error text made fit to show: the given secrets (the request's
 * credentials, the values a spec referenced) and anything credential-like redacted, markup and
 * control characters removed, one line, at most MAX_ECHOED_CHARS characters. The secrets are
 * redacted before and after every step that changes characters, in the forms that step gives
 * them (a value with a line break or a zero-width character must not slip through once joined).
 */
export function sanitizeErrorText(text: string, secrets: readonly string[] = []): string {
  const forms = secretForms(secrets);
  // Whole secrets first, on all of it (linear); then the rest works on a bounded text: a reply can
  // be up to DRUID_MAX_RESPONSE_SIZE, and only a few hundred characters are ever shown.
  let out = redactCutOff(capped(redactWhole(text, forms)), forms);
  out = out.replace(FORMAT_CHARS, "").replace(INVISIBLE, " ");
  out = redactSecrets(out, forms);
  // Credential patterns before markup goes ("password -> x" loses its ">"), and again after.
  out = redactPatterns(out);
  out = redactPatterns(out.replace(TAG, " ").replace(/[<>]/g, " "));
  out = out.replace(HEX_RUN, REDACTED);
  out = out.replace(BASE64_RUN, (run: string) => (looksLikeKey(run) ? REDACTED : run));
  out = redactSecrets(out.replace(/\s+/g, " ").trim(), forms);
  // Cut last: a secret is whole (and redacted) or absent by now, never half shown.
  return bounded(out, MAX_ECHOED_CHARS);
}

function redactPatterns(text: string): string {
  let out = text.replace(USERINFO_URL, "$1***@");
  out = out.replace(AUTHORIZATION_VALUE, `$1${REDACTED}`);
  out = out.replace(BEARER_TOKEN, `$1 ${REDACTED}`);
  // Only a run that could be base64 ("Basic authentication failed" stays).
  out = out.replace(BASIC_TOKEN, (match: string, scheme: string, token: string) => (token.length % 4 === 0 ? `${scheme} ${REDACTED}` : match));
  return out.replace(SECRET_PAIR, (match: string, key: string) => (/^(?:proxy-)?authorization\b/i.test(key.replace(/^\\?["']/, "")) ? match : `${key}${REDACTED}`));
}

/** A secret as it may appear in a message: as is, JSON-escaped (a spec quoted back), and as the steps above reshape it. */
function secretForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret === "") continue;
    for (const base of [secret, JSON.stringify(secret).slice(1, -1)]) {
      const visible = base.replace(FORMAT_CHARS, "").replace(INVISIBLE, " ");
      for (const form of [base, visible, visible.replace(/\s+/g, " ").trim()]) if (form !== "") forms.add(form);
    }
  }
  // Longest first: "user:password" goes before "password" would split it.
  return [...forms].sort((a, b) => b.length - a.length);
}

/** Mixed case and digits, and not a path: a key or a token, not a word or a class name. */
function looksLikeKey(run: string): boolean {
  if (!/[0-9]/.test(run) || !/[A-Z]/.test(run) || !/[a-z]/.test(run)) return false;
  const words = run.split("/").filter((segment) => /^[a-z]{3,}$/.test(segment));
  return words.length < 2;
}

function redactWhole(text: string, forms: readonly string[]): string {
  let out = text;
  for (const credential of forms) {
    if (credential.length >= SUBSTRING_SECRET_MIN_CHARS) {
      out = out.split(credential).join(REDACTED);
    } else {
      out = out.replace(new RegExp(`(?<![A-Za-z0-9_])${escapeRegExp(credential)}(?![A-Za-z0-9_])`, "g"), REDACTED);
    }
  }
  return out;
}

function redactSecrets(text: string, forms: readonly string[]): string {
  return redactCutOff(redactWhole(text, forms), forms);
}

/** The most of a reply the steps after the first look at: its start and its end, joined by an ellipsis. */
const SCANNED_CHARS = 16_384;

function capped(text: string): string {
  if (text.length <= SCANNED_CHARS) return text;
  return `${text.slice(0, SCANNED_CHARS / 2)}…${text.slice(text.length - SCANNED_CHARS / 2)}`;
}

// A secret cut off by whoever echoed it (Druid shortens a task's message to 100 characters,
// Jackson an echoed token to 256): the start of a value, where the text ends or goes on with an
// ellipsis or a quote, of at least MIN_CUT_CHARS characters and of half the value or
// PREFIX_CHARS; anywhere, a start of at least PREFIX_CHARS and half the value. A shorter shared
// start ("org.apache.kafka.common." of a JAAS line, in a class name) is left alone.
const MIN_CUT_CHARS = 4;
const PREFIX_CHARS = 10;

function redactCutOff(text: string, forms: readonly string[]): string {
  let out = text;
  for (const form of forms) {
    if (form.length <= MIN_CUT_CHARS) continue;
    const head = form.slice(0, MIN_CUT_CHARS);
    const half = Math.ceil(form.length / 2);
    const pieces: string[] = [];
    let kept = 0;
    let from = out.indexOf(head);
    // One pass: every examined match is skipped whole, so the work is linear in the text.
    while (from !== -1) {
      let end = from + MIN_CUT_CHARS;
      while (end < out.length && end - from < form.length && out[end] === form[end - from]) end++;
      const length = end - from;
      const next = out.slice(end, end + 3);
      const cutHere = end === out.length || next.startsWith("...") || next.startsWith("…") || /^["'\\]/.test(next);
      if ((cutHere && length >= Math.min(PREFIX_CHARS, half)) || length >= Math.max(PREFIX_CHARS, half)) {
        pieces.push(out.slice(kept, from), REDACTED);
        kept = end;
      }
      from = out.indexOf(head, end);
    }
    if (kept > 0) out = pieces.join("") + out.slice(kept);
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/** Cut in the middle, by code points (never half a surrogate pair). */
function bounded(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, max - 1 - KEPT_TAIL_CHARS).join("")}…${chars.slice(chars.length - KEPT_TAIL_CHARS).join("")}`;
}

export interface ReplyMeta {
  /** Size of the body as received. */
  bytes: number;
  /** The Content-Type header as sent: chosen by the peer, so never shown unless it is a plain media type. */
  contentType: string | undefined;
}

/** "a 1234-byte text/html reply": what a reply is, without a word of what it says. */
export function describeReply(reply: ReplyMeta): string {
  const type = mediaType(reply.contentType);
  return type ? `a ${reply.bytes}-byte ${type} reply` : `a ${reply.bytes}-byte reply without a usable content type`;
}

function mediaType(contentType: string | undefined): string | undefined {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  return type && /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/.test(type) ? type : undefined;
}

const SHOWN_KEYS = 6;
// A key is shown only when it reads like a field name; keys of a map can be data.
const SHOWABLE_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

/** The shape of a decoded JSON value ("an object with keys a, b and 3 others"), never its values. */
export function describeJson(value: unknown): string {
  if (value === undefined) return "an empty body";
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "an empty array" : `an array of ${value.length} ${value.length === 1 ? "item" : "items"}`;
  if (typeof value === "string") return "a string";
  if (typeof value === "number" || typeof value === "boolean") return `a ${typeof value}`;
  if (typeof value !== "object") return "a value of an unknown kind";
  const keys = Object.keys(value);
  if (keys.length === 0) return "an empty object";
  const shown = keys.filter((k) => SHOWABLE_KEY.test(k) && sanitizeErrorText(k) === k).slice(0, SHOWN_KEYS);
  const others = keys.length - shown.length;
  if (shown.length === 0) return `an object with ${keys.length} ${keys.length === 1 ? "key" : "keys"}`;
  return `an object with ${shown.length === 1 ? "key" : "keys"} ${shown.join(", ")}${others > 0 ? ` and ${others} ${others === 1 ? "other" : "others"}` : ""}`;
}
