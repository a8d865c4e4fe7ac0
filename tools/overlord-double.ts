// A loopback Overlord double: an in-memory HTTP server that answers the Druid 33 Overlord and
// Coordinator endpoints this controller uses (src/druid/client.ts) with Druid's status codes and
// bodies, fast at 10,000 supervisors, and counts its traffic by route for benchmarks.
// test/e2e/overlord-contract.test.ts runs the same cases against it and the real Overlord; the
// answers reproduced here are the ones read from the stack's Druid 33.0.0.
//
//   node tools/overlord-double.ts --port 0 --user u --password p   (prints its URL; SIGTERM stops it)
//
// Simplifications (each part's file says more): a supervisor is RUNNING or SUSPENDED as soon as
// it is written (Druid shows PENDING for a few seconds after every write; never unhealthy, no
// tasks, no restarts); stored specs keep what was submitted (Druid fills in defaults); one user
// with every permission (no 403); Jetty's error pages without stack traces. Not served: tasks,
// SQL, `?system`, the all-supervisor history, /health, leader redirects and 503s, Jersey's 406 for
// an Accept without JSON. Listens on 127.0.0.1 only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { CompactionConfigs, RetentionRules } from "./overlord-double/coordinator.ts";
import { renderJettyError } from "./overlord-double/jetty-errors.ts";
import { BodyRejected } from "./overlord-double/body-rejected.ts";
import { SupervisorStore, type SupervisorOutcome } from "./overlord-double/supervisors.ts";
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
  contentType: string | undefined;
  accept: string | undefined;
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
  /** The route reads a JSON body: Jersey refuses any other Content-Type with 415. */
  consumesJson: boolean;
  /** `param` is the path's one placeholder, decoded ("" when it has none). */
  handle: (param: string, request: DoubleRequest) => Reply;
}

const SUPERVISOR = "/druid/indexer/v1/supervisor";
const COMPACTION = "/druid/coordinator/v1/config/compaction";
const RULES = "/druid/coordinator/v1/rules";
const JSON_TYPE = "application/json";
/** The Coordinator's compaction config writes answer this, not an empty body. */
const SUCCESS = '{"success":true}';

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

/**
 * The body a JSON-consuming resource reads, or the reply Druid gives when Jackson cannot read it:
 * Jetty's 500 page for malformed JSON, and for an empty body the NullPointerException Druid hits
 * when Jersey hands it no object.
 */
function readJson(request: DoubleRequest, nullPointer?: string): { value: unknown } | { reply: Reply } {
  const fail = (causes: string[]): { reply: Reply } => {
    const page = renderJettyError({ status: 500, message: causes[0] as string, url: request.pathname, causes }, request.accept);
    return { reply: { status: 500, body: page.body, contentType: page.contentType } };
  };
  if (request.body.trim() === "") return fail([nullPointer === undefined ? "java.lang.NullPointerException" : `java.lang.NullPointerException: ${nullPointer}`]);
  try {
    return { value: JSON.parse(request.body) };
  } catch (e) {
    const parseError = `com.fasterxml.jackson.core.JsonParseException: ${(e as Error).message}`;
    return fail([`javax.servlet.ServletException: ${parseError}`, parseError]);
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
    const request: DoubleRequest = { method, pathname: url.pathname, query: url.searchParams, contentType: req.headers["content-type"], accept: req.headers.accept, body: Buffer.concat(chunks).toString("utf8") };
    const route = this.match(method, url.pathname);
    const template = route ? `${method} ${route.route.template}${this.queryTemplate(route.route, request.query)}` : `${method} (no route)`;
    let reply: Reply;
    try {
      if (size > limit) reply = emptyReply(413);
      else reply = this.authenticate(req, request) ?? (route ? this.handle(route.route, route.param, request) : this.unrouted(url.pathname));
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
    if (given !== this.authorization) {
      const page = renderJettyError({ status: 401, message: "User authentication failed.", url: request.pathname }, request.accept);
      return { status: 401, body: page.body, contentType: page.contentType };
    }
    return undefined;
  }

  private handle(route: Route, param: string, request: DoubleRequest): Reply {
    if (route.consumesJson && !/^application\/json\b/i.test(request.contentType ?? "")) return emptyReply(415);
    return route.handle(param, request);
  }

  /** A known path asked with another method: Jersey's 405; anything else: 404 with no body. */
  private unrouted(pathname: string): Reply {
    return this.routes.some((r) => r.pattern.test(pathname)) ? emptyReply(405) : emptyReply(404);
  }

  private match(method: string, pathname: string): { route: Route; param: string } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      try {
        return { route, param: decodeURIComponent(m[1] ?? "") };
      } catch {
        return undefined; // a malformed %-escape: no such resource
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
      // Every POST here but the supervisor actions reads a JSON body.
      const consumesJson = method === "POST" && !/\{id\}\//.test(template);
      return { method, template, pattern, consumesJson, handle };
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
      // `?skipRestartIfUnmodified=true` changes only whether Druid restarts the supervisor: not modelled.
      route("POST", SUPERVISOR, (_, r) => {
        const parsed = readJson(r, 'Cannot invoke "org.apache.druid.indexing.overlord.supervisor.SupervisorSpec.getDataSources()" because "spec" is null');
        if ("reply" in parsed) return parsed.reply;
        return rejecting(() => json(JSON.stringify({ id: supervisors.submit(parsed.value) })));
      }),
      route("GET", `${SUPERVISOR}/{id}`, (sid) => {
        const spec = supervisors.specJson(sid);
        return spec === undefined ? unknownSupervisor(sid) : json(spec);
      }),
      route("GET", `${SUPERVISOR}/{id}/status`, (sid) => {
        const status = supervisors.statusJson(sid);
        return status === undefined ? unknownSupervisor(sid) : json(status);
      }),
      route("GET", `${SUPERVISOR}/{id}/history`, (sid) => {
        const history = supervisors.historyJson(sid);
        return history === undefined ? druidError(404, `No history for [${sid}].`) : json(history);
      }),
      route("POST", `${SUPERVISOR}/{id}/suspend`, (sid) => outcome(sid, supervisors.setSuspended(sid, true))),
      route("POST", `${SUPERVISOR}/{id}/resume`, (sid) => outcome(sid, supervisors.setSuspended(sid, false))),
      route("POST", `${SUPERVISOR}/{id}/reset`, (sid) => outcome(sid, supervisors.reset(sid))),
      route("POST", `${SUPERVISOR}/{id}/terminate`, (sid) => outcome(sid, supervisors.terminate(sid))),
      route("GET", COMPACTION, () => json(this.compaction.listJson())),
      route("POST", COMPACTION, (_, r) => {
        const parsed = readJson(r);
        if ("reply" in parsed) return parsed.reply;
        return rejecting(() => {
          this.compaction.submit(parsed.value);
          return json(SUCCESS);
        });
      }),
      route("GET", `${COMPACTION}/{dataSource}`, (ds) => {
        const config = this.compaction.configJson(ds);
        return config === undefined ? druidException(404, "notFound", "NOT_FOUND", "Datasource compaction config does not exist") : json(config);
      }),
      route("DELETE", `${COMPACTION}/{dataSource}`, (ds) =>
        this.compaction.delete(ds) ? json(SUCCESS) : druidException(404, "notFound", "NOT_FOUND", "Datasource compaction config does not exist"),
      ),
      route("GET", RULES, () => json(this.rules.listJson())),
      route("GET", `${RULES}/{dataSource}`, (ds) => json(this.rules.rulesJson(ds))),
      route("POST", `${RULES}/{dataSource}`, (ds, r) => {
        const parsed = readJson(r);
        if ("reply" in parsed) return parsed.reply;
        return rejecting(() => {
          this.rules.submit(ds, parsed.value);
          return emptyReply(200);
        });
      }),
    ];
  }
}

/** Druid's 400 `{"error": ...}` for a body Jackson read but Druid's classes refuse. */
function rejecting(write: () => Reply): Reply {
  try {
    return write();
  } catch (e) {
    if (e instanceof BodyRejected) return druidError(400, e.message);
    throw e;
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
