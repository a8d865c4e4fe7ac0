// Jetty's error pages, as Druid's Jetty 9.4 writes them when a request fails outside Druid's own
// handlers (wrong credentials, a body Jackson cannot parse): the format follows the Accept header
// (application/json → JSON, text/plain → text, anything else or none → HTML). Reproduced from
// answers of the stack's Druid 33; not reproduced: the stack trace under "Caused by:" (only the
// exception lines) and Accept q-values (the first known type wins).

export interface JettyError {
  status: number;
  /** The message line (`User authentication failed.`, or the exception's toString()). */
  message: string;
  /** The request URI, without the query. */
  url: string;
  /** The exception and its causes, outermost first, each as Java's toString(). */
  causes?: readonly string[];
}

export interface RenderedError {
  contentType: string;
  body: string;
}

type Format = "json" | "text" | "html";

/** Jetty's choice by the Accept header; no Accept at all means HTML. */
function formatFor(accept: string | undefined): Format {
  for (const part of (accept ?? "*/*").split(",")) {
    const type = part.split(";")[0]?.trim().toLowerCase();
    if (type === "application/json" || type === "text/json") return "json";
    if (type === "text/plain") return "text";
    if (type === "text/html" || type === "text/*" || type === "*/*") return "html";
  }
  return "html";
}

/** Jetty's StringUtil.sanitizeXmlString, which it applies to JSON values too (hence `&apos;` in JSON). */
function sanitize(text: string): string {
  return text.replace(/[&<>'"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&apos;", '"': "&quot;" })[c] as string);
}

/** The order Java's HashMap happens to give these keys; Jetty serializes the map in that order. */
const JSON_KEY_ORDER = ["cause1", "servlet", "cause0", "message", "url", "status"] as const;

export function renderJettyError(error: JettyError, accept: string | undefined): RenderedError {
  const causes = error.causes ?? [];
  const format = formatFor(accept);
  if (format === "json") {
    const fields: Record<string, string> = { url: error.url, status: String(error.status), message: error.message, servlet: "default" };
    causes.slice(0, 2).forEach((cause, i) => (fields[`cause${i}`] = cause));
    const entries = JSON_KEY_ORDER.filter((k) => fields[k] !== undefined).map((k) => `${JSON.stringify(k)}:${JSON.stringify(sanitize(fields[k] as string))}`);
    return { contentType: "application/json", body: `{\n${entries.join(",\n")}\n}` };
  }
  if (format === "text") {
    const lines = [`HTTP ERROR ${error.status} ${error.message}`, `URI: ${error.url}`, `STATUS: ${error.status}`, `MESSAGE: ${error.message}`, "SERVLET: default", ...causes.map((c) => `CAUSED BY: ${c}`)];
    return { contentType: "text/plain;charset=iso-8859-1", body: `${lines.join("\n")}\n` };
  }
  const message = sanitize(error.message);
  const rows = [["URI", sanitize(error.url)], ["STATUS", String(error.status)], ["MESSAGE", message], ["SERVLET", "default"], ...causes.map((c) => ["CAUSED BY", sanitize(c)])];
  const trace = causes.length > 0 ? `<h3>Caused by:</h3><pre>${causes.map((c, i) => (i === 0 ? sanitize(c) : `Caused by: ${sanitize(c)}`)).join("\n")}\n</pre>\n` : "";
  return {
    contentType: "text/html;charset=iso-8859-1",
    body:
      `<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>\n<title>Error ${error.status} ${message}</title>\n</head>\n` +
      `<body><h2>HTTP ERROR ${error.status} ${message}</h2>\n<table>\n${rows.map(([k, v]) => `<tr><th>${k}:</th><td>${v}</td></tr>\n`).join("")}</table>\n${trace}\n</body>\n</html>\n`,
  };
}
