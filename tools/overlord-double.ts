// A loopback Overlord double: an in-memory HTTP server that answers the Druid 33 Overlord and
// Coordinator endpoints this controller uses (src/druid/client.ts) with Druid's status codes and
// body shapes, fast at 10,000 supervisors, and counts its traffic by route for benchmarks.
// test/e2e/overlord-contract.test.ts runs the same cases against it and the real Overlord.
//
//   node tools/overlord-double.ts --port 0 --user u --password p   (prints its URL; SIGTERM stops it)
//
// Simplifications (see tools/overlord-double/*.ts for each part): a supervisor is RUNNING or
// SUSPENDED as soon as it is written (no PENDING phase, never unhealthy, no tasks); specs,
// compaction configs and rules are stored as submitted (Druid fills in defaults); one user with
// every permission (no 403); no tasks API, no SQL, no `?system` list, no all-supervisor history,
// no leader redirects or 503s; no Content-Type check (Druid answers 415 without JSON).
// Listens on 127.0.0.1 only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { CompactionConfigs, RetentionRules } from "./overlord-double/coordinator.ts";
import { SpecRejected, SupervisorStore, type SupervisorOutcome } from "./overlord-double/supervisors.ts";
import { TrafficCounter, type TrafficStats } from "./overlord-double/traffic.ts";

export type { RouteTraffic, TrafficStats } from "./overlord-double/traffic.ts";

export interface OverlordDoubleOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Basic auth every request but `/status/health` must carry; none when absent. */
  credentials?: { username: string; password: string };
  /** What `GET /status` reports; from 34 a supervisor's top-level `id` names it. Default 33.0.0. */
  druidVersion?: string;
  /** Added before every answer: `read` for GET, `write` for everything else. Default 0. */
  latencyMs?: { read?: number; write?: number };
  /** Larger request bodies are refused with 413. Default 16 MiB. */
  maxBodyBytes?: number;
}

interface DoubleRequest {
  method: string;
  pathname: string;
  query: URLSearchParams;
  body: string;
}

interface Reply {
  status: number;
  body: string;
  contentType?: string;
  headers?: Record<string, string>;
}

interface Route {
  method: string;
  /** Path with `{param}` placeholders; also the name the route is counted under. */
  template: string;
  pattern: RegExp;
  handle: (params: string[], request: DoubleRequest) => Reply;
}

const SUPERVISOR = "/druid/indexer/v1/supervisor";
const COMPACTION = "/druid/coordinator/v1/config/compaction";
const RULES = "/druid/coordinator/v1/rules";
const JSON_TYPE = "application/json";

const json = (body: string, status = 200): Reply => ({ status, body, contentType: JSON_TYPE });
const emptyReply = (status: number): Reply => ({ status, body: "" });
/** The legacy error body most Overlord resources answer with. */
const druidError = (status: number, message: string): Reply => json(JSON.stringify({ error: message }), status);
/** A DruidException body (newer resources: the Coordinator's compaction config). */
const druidException = (status: number, errorCode: string, category: string, errorMessage: string): Reply =>
  json(JSON.stringify({ error: "druidException", errorCode, persona: "USER", category, errorMessage, context: {} }), status);
/** Druid's supervisor resource filter answers an unknown id in plain text before any handler runs. */
const unknownSupervisor = (id: string): Reply => ({ status: 404, body: `Cannot find any supervisor with id: [${id}]`, contentType: "text/plain" });

/** No credentials: Druid's authenticator chain answers in JSON. */
const UNAUTHORIZED_JSON = '{"error":"Unauthorized request","errorMessage":null,"errorClass":null,"host":"localhost"}';

/** Wrong credentials: the basic authenticator fails the request and Jetty answers its error page. */
function authenticationFailedPage(pathname: string): string {
  return `<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>\n<title>Error 401 User authentication failed.</title>\n</head>\n<body><h2>HTTP ERROR 401 User authentication failed.</h2>\n<table>\n<tr><th>URI:</th><td>${escapeHtml(pathname)}</td></tr>\n<tr><th>STATUS:</th><td>401</td></tr>\n<tr><th>MESSAGE:</th><td>User authentication failed.</td></tr>\n<tr><th>SERVLET:</th><td>default</td></tr>\n</table>\n\n</body>\n</html>\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function parseBody(body: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(body) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export class OverlordDouble {
  readonly url: string;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly traffic = new TrafficCounter();
  private readonly supervisors: SupervisorStore;
  private readonly compaction = new CompactionConfigs();
  private readonly rules = new RetentionRules();
  private readonly routes: Route[];
  private readonly options: OverlordDoubleOptions;
  private readonly authorization: string | undefined;
  private readonly version: string;
  private latency: { read: number; write: number };

  private constructor(server: Server, url: string, options: OverlordDoubleOptions) {
    this.server = server;
    this.url = url;
    this.options = options;
    this.version = options.druidVersion ?? "33.0.0";
    this.supervisors = new SupervisorStore({ druidVersion: this.version });
    const { credentials } = options;
    this.authorization = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, "utf8").toString("base64")}` : undefined;
    this.latency = { read: options.latencyMs?.read ?? 0, write: options.latencyMs?.write ?? 0 };
    this.routes = this.routeTable();
  }

  static async start(options: OverlordDoubleOptions = {}): Promise<OverlordDouble> {
    const server = createServer({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const double = new OverlordDouble(server, `http://127.0.0.1:${port}`, options);
    server.on("connection", (socket) => {
      double.sockets.add(socket);
      socket.on("close", () => double.sockets.delete(socket));
    });
    server.on("request", (req, res) => void double.serve(req, res));
    return double;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Requests and bytes by `METHOD route-template` since the start or the last resetStats(). */
  stats(): TrafficStats {
    return this.traffic.snapshot();
  }

  resetStats(): void {
    this.traffic.reset();
  }

  setLatency(latencyMs: { read?: number; write?: number }): void {
    this.latency = { read: latencyMs.read ?? this.latency.read, write: latencyMs.write ?? this.latency.write };
  }

  get supervisorCount(): number {
    return this.supervisors.size;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://double");
    const limit = this.options.maxBodyBytes ?? 16 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size <= limit) chunks.push(chunk);
      }
    } catch {
      return; // the client went away
    }
    const request: DoubleRequest = { method, pathname: url.pathname, query: url.searchParams, body: Buffer.concat(chunks).toString("utf8") };
    const route = this.match(method, url.pathname);
    const template = route ? `${method} ${route.route.template}${this.queryTemplate(route.route, request.query)}` : `${method} (no route)`;
    let reply: Reply;
    try {
      if (size > limit) reply = emptyReply(413);
      else reply = this.authenticate(req, request) ?? (route ? route.route.handle(route.params, request) : this.unrouted(url.pathname));
    } catch (e) {
      reply = druidError(500, `overlord double: ${(e as Error).message}`);
    }
    const delay = method === "GET" ? this.latency.read : this.latency.write;
    if (delay > 0) await sleep(delay);
    const body = Buffer.from(reply.body, "utf8");
    this.traffic.record(template, reply.status, size, body.length);
    const headers: Record<string, string | number> = { ...reply.headers, "content-length": body.length };
    if (reply.contentType) headers["content-type"] = reply.contentType;
    res.writeHead(reply.status, headers).end(body);
  }

  /** A refusal when the request must carry credentials and does not carry these. */
  private authenticate(req: IncomingMessage, request: DoubleRequest): Reply | undefined {
    if (this.authorization === undefined || request.pathname === "/status/health") return undefined;
    const given = req.headers.authorization;
    if (given === undefined) return { status: 401, body: UNAUTHORIZED_JSON, contentType: "application/json;charset=utf-8", headers: { "www-authenticate": "Basic" } };
    if (given !== this.authorization) return { status: 401, body: authenticationFailedPage(request.pathname), contentType: "text/html;charset=iso-8859-1" };
    return undefined;
  }

  /** A known path asked with another method: Jersey's 405; anything else: 404 with no body. */
  private unrouted(pathname: string): Reply {
    return this.routes.some((r) => r.pattern.test(pathname)) ? emptyReply(405) : emptyReply(404);
  }

  private match(method: string, pathname: string): { route: Route; params: string[] } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      try {
        return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  /** The supervisor list is three endpoints in one: counted apart. */
  private queryTemplate(route: Route, query: URLSearchParams): string {
    if (route.method !== "GET" || route.template !== SUPERVISOR) return "";
    return listVariant(query) === "ids" ? "" : listVariant(query) === "full" ? "?full" : "?state=true";
  }

  private routeTable(): Route[] {
    const id = "([^/]+)";
    const route = (method: string, template: string, handle: Route["handle"]): Route => {
      const pattern = new RegExp(`^${template.replace(/\{[a-zA-Z]+\}/g, id)}$`);
      return { method, template, pattern, handle };
    };
    const supervisors = this.supervisors;
    const outcome = (supervisorId: string, result: SupervisorOutcome): Reply => {
      if (result.kind === "unknown") return unknownSupervisor(supervisorId);
      if (result.kind === "already") return druidError(400, `[${supervisorId}] is already ${result.state}`);
      return json(result.json);
    };
    return [
      route("GET", "/status", () => json(JSON.stringify({ version: this.version, modules: [], memory: {} }))),
      route("GET", "/status/health", () => json("true")),
      route("GET", SUPERVISOR, (_, r) => {
        const variant = listVariant(r.query);
        return json(variant === "full" ? supervisors.fullListJson() : variant === "state" ? supervisors.stateListJson() : supervisors.idsJson());
      }),
      route("POST", SUPERVISOR, (_, r) => {
        const parsed = parseBody(r.body);
        if ("error" in parsed) return druidError(400, parsed.error);
        try {
          return json(JSON.stringify({ id: supervisors.submit(parsed.value, r.query.get("skipRestartIfUnmodified") === "true") }));
        } catch (e) {
          if (e instanceof SpecRejected) return druidError(400, e.message);
          throw e;
        }
      }),
      route("GET", `${SUPERVISOR}/{id}`, ([sid]) => {
        const spec = supervisors.specJson(sid as string);
        return spec === undefined ? unknownSupervisor(sid as string) : json(spec);
      }),
      route("GET", `${SUPERVISOR}/{id}/status`, ([sid]) => {
        const status = supervisors.statusJson(sid as string);
        return status === undefined ? unknownSupervisor(sid as string) : json(status);
      }),
      route("GET", `${SUPERVISOR}/{id}/history`, ([sid]) => {
        const history = supervisors.historyJson(sid as string);
        return history === undefined ? druidError(404, `No history for [${sid}].`) : json(history);
      }),
      route("POST", `${SUPERVISOR}/{id}/suspend`, ([sid]) => outcome(sid as string, supervisors.setSuspended(sid as string, true))),
      route("POST", `${SUPERVISOR}/{id}/resume`, ([sid]) => outcome(sid as string, supervisors.setSuspended(sid as string, false))),
      route("POST", `${SUPERVISOR}/{id}/reset`, ([sid]) => outcome(sid as string, supervisors.reset(sid as string))),
      route("POST", `${SUPERVISOR}/{id}/terminate`, ([sid]) => outcome(sid as string, supervisors.terminate(sid as string))),
      route("GET", COMPACTION, () => json(this.compaction.listJson())),
      route("POST", COMPACTION, (_, r) => {
        const parsed = parseBody(r.body);
        if ("error" in parsed) return druidError(400, parsed.error);
        return this.compaction.submit(parsed.value) ? emptyReply(200) : druidError(400, "dataSource cannot be null or empty");
      }),
      route("GET", `${COMPACTION}/{dataSource}`, ([ds]) => {
        const config = this.compaction.configJson(ds as string);
        return config === undefined ? druidException(404, "notFound", "NOT_FOUND", "Datasource compaction config does not exist") : json(config);
      }),
      route("DELETE", `${COMPACTION}/{dataSource}`, ([ds]) =>
        this.compaction.delete(ds as string) ? emptyReply(200) : druidException(404, "notFound", "NOT_FOUND", "Datasource compaction config does not exist"),
      ),
      route("GET", RULES, () => json(this.rules.listJson())),
      route("GET", `${RULES}/{dataSource}`, ([ds]) => json(this.rules.rulesJson(ds as string))),
      route("POST", `${RULES}/{dataSource}`, ([ds], r) => {
        const parsed = parseBody(r.body);
        if ("error" in parsed) return druidError(400, parsed.error);
        return this.rules.submit(ds as string, parsed.value) ? emptyReply(200) : druidError(400, "rules must be a list of rule objects");
      }),
    ];
  }
}

/** `?full` (present, any value) wins, then `?state=true`; anything else lists ids (as Druid 33 reads its query). */
function listVariant(query: URLSearchParams): "full" | "state" | "ids" {
  if (query.has("full")) return "full";
  return query.get("state") === "true" ? "state" : "ids";
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "0" },
      user: { type: "string" },
      password: { type: "string" },
      "druid-version": { type: "string", default: "33.0.0" },
      "read-latency-ms": { type: "string", default: "0" },
      "write-latency-ms": { type: "string", default: "0" },
    },
  });
  if ((values.user === undefined) !== (values.password === undefined)) throw new Error("give both --user and --password, or neither");
  const double = await OverlordDouble.start({
    port: Number(values.port),
    ...(values.user !== undefined && values.password !== undefined ? { credentials: { username: values.user, password: values.password } } : {}),
    druidVersion: values["druid-version"],
    latencyMs: { read: Number(values["read-latency-ms"]), write: Number(values["write-latency-ms"]) },
  });
  process.stdout.write(`${double.url}\n`);
  const stop = (): void => void double.stop().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (import.meta.main) await main();
