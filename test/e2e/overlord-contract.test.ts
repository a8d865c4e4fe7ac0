// The Overlord contract: the same cases against the real Druid 33 Overlord of the stack and the
// loopback double (tools/overlord-double.ts), so the double that benchmarks run against says what
// the real one says. Covers what the controller relies on: the three supervisor lists, the single
// reads, create/update/suspend/resume/reset/terminate, 400/401/404 codes and bodies, compaction
// configs and rules. Calls go through the controller's own DruidClient (so its decoders meet both
// servers) and, for codes and bodies, raw HTTP. Timing differs (a real supervisor passes through
// PENDING): state changes are awaited with a bound, never asserted at once.
// Not covered: tasks, SQL, leader redirects, 403 (the double has one all-powerful user).
//
// OVERLORD_CONTRACT_TARGETS=double (or =real) runs one side only, for developing the double.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { request } from "undici";
import type { JsonObject } from "../../src/api/druid-ingestion.ts";
import { createDruidDispatcher, DruidClient, type DruidCredentials } from "../../src/druid/client.ts";
import { decodeSupervisorList } from "../../src/druid/decode.ts";
import { DruidError } from "../../src/druid/errors.ts";
import { OverlordDouble } from "../../tools/overlord-double.ts";
import { kafkaSupervisorSpec } from "../support/druid.ts";
import { ensureStack, stackEnv } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

type TargetName = "real" | "double";

const SUPERVISOR = "/druid/indexer/v1/supervisor";
const COMPACTION = "/druid/coordinator/v1/config/compaction";
const RULES = "/druid/coordinator/v1/rules";
/** No broker listens there (the double needs none). */
const NO_BROKER = "127.0.0.1:9";

const targets = (process.env["OVERLORD_CONTRACT_TARGETS"] ?? "real,double").split(",").map((t) => t.trim()).filter((t): t is TargetName => t === "real" || t === "double");
if (targets.length === 0) throw new Error("OVERLORD_CONTRACT_TARGETS names neither real nor double");

interface Target {
  url: string;
  credentials: DruidCredentials;
  /**
   * Where the test supervisors' Kafka is. The real Overlord needs a broker it can reach: a
   * suspended supervisor reports SUSPENDED only after a run that reached the stream (else it shows
   * RUNNING/CONNECTING_TO_STREAM), and with an unreachable broker every write waits behind the run
   * hanging on Kafka's timeouts (a minute). Suspended, the supervisors start no task all the same.
   */
  kafkaBootstrap: string;
  close: () => Promise<void>;
}

async function openTarget(name: TargetName): Promise<Target> {
  if (name === "real") {
    ensureStack();
    const env = stackEnv();
    if (!env.kafkaBootstrap) throw new Error("the real Overlord's half needs a Kafka broker Druid can reach (see Target.kafkaBootstrap): export KAFKA_BOOTSTRAP with DRUID_URL (the local stack's .stack/env has all three)");
    return { url: env.druidUrl, credentials: { username: env.druidUser, password: env.druidPassword }, kafkaBootstrap: env.kafkaBootstrap, close: async () => {} };
  }
  const credentials = { username: "admin", password: "double-password" };
  const double = await OverlordDouble.start({ credentials });
  return { url: double.url, credentials, kafkaBootstrap: NO_BROKER, close: () => double.stop() };
}

function clientFor(target: Target, credentials = target.credentials): DruidClient {
  return new DruidClient(
    { baseUrl: target.url, credentials },
    { dispatcher: createDruidDispatcher({ connectTimeoutMs: 5000 }), requestTimeoutMs: 30_000, retries: 0, maxResponseBytes: 64 * 1024 * 1024 },
  );
}

interface RawReply {
  status: number;
  contentType: string | undefined;
  wwwAuthenticate: string | undefined;
  text: string;
  /** undefined when the body is empty or not JSON. */
  json: unknown;
}

/** One request as sent on the wire, for status codes and bodies the client does not show. */
async function raw(target: Target, method: string, path: string, opts: { body?: unknown; rawBody?: string; contentType?: string; accept?: string; auth?: "none" | "wrong" } = {}): Promise<RawReply> {
  // As the controller's client asks; Jetty's own error pages follow it.
  const headers: Record<string, string> = { accept: opts.accept ?? "application/json" };
  if (opts.auth !== "none") {
    const password = opts.auth === "wrong" ? `${target.credentials.password}-wrong` : target.credentials.password;
    headers["authorization"] = `Basic ${Buffer.from(`${target.credentials.username}:${password}`).toString("base64")}`;
  }
  const payload = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  if (payload !== undefined) headers["content-type"] = opts.contentType ?? "application/json";
  const response = await request(`${target.url}${path}`, { method: method as "GET", headers, ...(payload === undefined ? {} : { body: payload }), headersTimeout: 30_000, bodyTimeout: 30_000 });
  const text = await response.body.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  const header = (name: string): string | undefined => {
    const v = response.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  return { status: response.statusCode, contentType: header("content-type"), wwwAuthenticate: header("www-authenticate"), text, json };
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The stored spec as the controller's drift hash sees it: without the suspended flag. */
function withoutFlag(spec: JsonObject): JsonObject {
  const { suspended: _flag, ...rest } = spec;
  return rest;
}

/** Every field of `expected` is in `actual` with the same value (Druid adds its defaults around them). */
function assertIncludes(actual: unknown, expected: unknown, where = "$"): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual) && actual.length === expected.length, `${where}: expected an array of ${expected.length}, got ${JSON.stringify(actual)}`);
    expected.forEach((e, i) => assertIncludes(actual[i], e, `${where}[${i}]`));
  } else if (isObject(expected)) {
    assert.ok(isObject(actual), `${where}: expected an object, got ${JSON.stringify(actual)}`);
    for (const [k, v] of Object.entries(expected)) assertIncludes(actual[k], v, `${where}.${k}`);
  } else {
    assert.deepEqual(actual, expected, where);
  }
}

function rejectsWith(reason: DruidError["reason"], statusCode: number): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof DruidError, `expected a DruidError, got ${String(e)}`);
    assert.equal(e.reason, reason, e.message);
    assert.equal(e.statusCode, statusCode, e.message);
    return true;
  };
}

for (const name of targets) {
  // A real supervisor took 35 s from creation to SUSPENDED on the stack: the waits allow 2 minutes.
  describe(`Overlord contract: ${name}`, { timeout: 600_000 }, () => {
    const run = randomBytes(3).toString("hex");
    const id = `contract-${run}`;
    const partsDataSource = `contract-${run}-parts`;
    const unknownId = `contract-${run}-unknown`;
    const spec = (): JsonObject => ({ ...(kafkaSupervisorSpec(id, target.kafkaBootstrap) as JsonObject), suspended: true });
    let target: Target;
    let client: DruidClient;

    const state = async (): Promise<string | undefined> => (await client.supervisorState(id))?.state;
    const awaitState = (what: string, ok: (s: string | undefined) => boolean): Promise<string> =>
      waitFor(`${name}: ${id} ${what}`, async () => {
        const s = await state();
        return ok(s) ? (s ?? "none") : false;
      }, 120_000, 250);
    const historyLength = async (): Promise<number> => {
      const r = await raw(target, "GET", `${SUPERVISOR}/${id}/history`);
      return Array.isArray(r.json) ? r.json.length : 0;
    };

    before(async () => {
      target = await openTarget(name);
      client = clientFor(target);
    });

    after(async () => {
      // Whatever failed above: nothing of this run stays in Druid.
      if (!target) return;
      await raw(target, "POST", `${SUPERVISOR}/${id}/terminate`).catch(() => undefined);
      await raw(target, "DELETE", `${COMPACTION}/${partsDataSource}`).catch(() => undefined);
      await raw(target, "POST", `${RULES}/${partsDataSource}`, { body: [] }).catch(() => undefined);
      await target.close();
    });

    test("GET /status names a Druid 33 behind basic auth", async () => {
      assert.match(await client.version(), /^33\./);
    });

    test("401: no credentials → Druid's JSON refusal with a Basic challenge; wrong ones → Jetty's error page (JSON when asked for JSON); the client says DruidUnauthorized", async () => {
      const none = await raw(target, "GET", `${SUPERVISOR}?full`, { auth: "none" });
      assert.equal(none.status, 401);
      assert.equal(none.wwwAuthenticate, "Basic");
      assert.match(none.contentType ?? "", /^application\/json/);
      assert.ok(isObject(none.json));
      assert.deepEqual(Object.keys(none.json), ["error", "errorMessage", "errorClass", "host"]);
      assert.deepEqual([none.json["error"], none.json["errorMessage"], none.json["errorClass"]], ["Unauthorized request", null, null]);

      const wrong = await raw(target, "GET", `${SUPERVISOR}?full`, { auth: "wrong" });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.wwwAuthenticate, undefined);
      assert.match(wrong.contentType ?? "", /^application\/json/);
      assert.equal(wrong.text, '{\n"servlet":"default",\n"message":"User authentication failed.",\n"url":"/druid/indexer/v1/supervisor",\n"status":"401"\n}');
      const wrongHtml = await raw(target, "GET", `${SUPERVISOR}?full`, { auth: "wrong", accept: "*/*" });
      assert.equal(wrongHtml.status, 401);
      assert.match(wrongHtml.contentType ?? "", /^text\/html/);
      assert.match(wrongHtml.text, /<title>Error 401 User authentication failed\.<\/title>/);
      assert.match(wrongHtml.text, /<tr><th>URI:<\/th><td>\/druid\/indexer\/v1\/supervisor<\/td><\/tr>/);

      const badClient = clientFor(target, { username: target.credentials.username, password: "wrong-password" });
      await assert.rejects(badClient.listSupervisorStates(), rejectsWith("DruidUnauthorized", 401));
      const anonymous = new DruidClient({ baseUrl: target.url, credentials: undefined }, { dispatcher: createDruidDispatcher({ connectTimeoutMs: 5000 }), requestTimeoutMs: 30_000, retries: 0, maxResponseBytes: 1024 * 1024 });
      await assert.rejects(anonymous.version(), rejectsWith("DruidUnauthorized", 401));
    });

    test("unknown id: 404 from every supervisor endpoint, in Druid's bodies; the client reads them as absent", async () => {
      for (const path of [`${SUPERVISOR}/${unknownId}`, `${SUPERVISOR}/${unknownId}/status`]) {
        const r = await raw(target, "GET", path);
        assert.equal(r.status, 404, path);
        assert.match(r.contentType ?? "", /^text\/plain/, path);
        assert.equal(r.text, `Cannot find any supervisor with id: [${unknownId}]`, path);
      }
      const history = await raw(target, "GET", `${SUPERVISOR}/${unknownId}/history`);
      assert.equal(history.status, 404);
      assert.deepEqual(history.json, { error: `No history for [${unknownId}].` });
      for (const action of ["suspend", "resume", "reset", "terminate"]) {
        const r = await raw(target, "POST", `${SUPERVISOR}/${unknownId}/${action}`);
        assert.equal(r.status, 404, action);
        assert.equal(r.text, `Cannot find any supervisor with id: [${unknownId}]`, action);
      }
      assert.equal(await client.getSupervisor(unknownId), undefined);
      assert.equal(await client.supervisorState(unknownId), undefined);
      assert.equal(await client.supervisorWithState(unknownId), undefined);
      assert.equal(await client.supervisorSpecVersion(unknownId), undefined);
      assert.equal(await client.terminateSupervisor(unknownId), false);
      await assert.rejects(client.suspendSupervisor(unknownId), rejectsWith("DruidNotFound", 404));
    });

    test("bad bodies: no JSON Content-Type → 415; malformed or empty JSON → 500 (Jetty's page); not a spec → 400 with Jackson's words", async () => {
      for (const path of [SUPERVISOR, COMPACTION, `${RULES}/${partsDataSource}`]) {
        const r = await raw(target, "POST", path, { body: {}, contentType: "text/plain" });
        assert.equal(r.status, 415, `${path}: ${r.text}`);
        assert.equal(r.text, "", path);
      }

      const malformed = await raw(target, "POST", SUPERVISOR, { rawBody: '{"type":"kafka",' });
      assert.equal(malformed.status, 500, malformed.text);
      assert.match(malformed.contentType ?? "", /^application\/json/);
      assert.ok(isObject(malformed.json), malformed.text);
      assert.deepEqual(Object.keys(malformed.json), ["cause1", "servlet", "cause0", "message", "url", "status"]);
      assert.deepEqual([malformed.json["servlet"], malformed.json["url"], malformed.json["status"]], ["default", SUPERVISOR, "500"]);
      assert.match(String(malformed.json["cause0"]), /^javax\.servlet\.ServletException: com\.fasterxml\.jackson\.core\.JsonParseException: /);
      assert.match(String(malformed.json["cause1"]), /^com\.fasterxml\.jackson\.core\.JsonParseException: /);
      assert.equal(malformed.json["message"], malformed.json["cause0"]);
      const malformedHtml = await raw(target, "POST", SUPERVISOR, { rawBody: '{"type":"kafka",', accept: "*/*" });
      assert.equal(malformedHtml.status, 500);
      assert.match(malformedHtml.contentType ?? "", /^text\/html/);
      assert.match(malformedHtml.text, /<h2>HTTP ERROR 500 javax\.servlet\.ServletException: com\.fasterxml\.jackson\.core\.JsonParseException: /);
      const empty = await raw(target, "POST", SUPERVISOR, { rawBody: "" });
      assert.equal(empty.status, 500, empty.text);
      assert.ok(isObject(empty.json));
      // Jetty escapes its JSON values as XML: &quot; for ".
      assert.match(String(empty.json["cause0"]), /^java\.lang\.NullPointerException: Cannot invoke &quot;org\.apache\.druid\.indexing\.overlord\.supervisor\.SupervisorSpec\.getDataSources\(\)&quot;/);

      const kafka = (inner: JsonObject): JsonObject => ({ type: "kafka", spec: inner, suspended: true });
      const ioConfig = { topic: id, consumerProperties: { "bootstrap.servers": target.kafkaBootstrap } };
      const cases: Array<[string, unknown, RegExp]> = [
        ["an unknown type", { ...spec(), type: "no-such-type" }, /^Please make sure to load all the necessary extensions and jars with type 'no-such-type' on '[^']+' service\. Could not resolve type id 'no-such-type' as a subtype of `org\.apache\.druid\.indexing\.overlord\.supervisor\.SupervisorSpec` known type ids = \[.*\bkafka\b.*\]$/],
        ["no type", { spec: spec()["spec"] }, /^Could not resolve subtype of \[simple type, class org\.apache\.druid\.indexing\.overlord\.supervisor\.SupervisorSpec\]: missing type id property 'type'$/],
        ["an array", [], /^Unexpected token \(END_ARRAY\), expected VALUE_STRING: need JSON String that contains type id/],
        ["no dataSchema", kafka({ ioConfig }), /^Cannot construct instance of `org\.apache\.druid\.indexing\.kafka\.supervisor\.KafkaSupervisorSpec`, problem: dataSchema$/],
        ["no ioConfig", kafka({ dataSchema: { dataSource: id } }), /^Cannot construct instance of `org\.apache\.druid\.indexing\.kafka\.supervisor\.KafkaSupervisorSpec`, problem: ioConfig$/],
        ["no dataSource", kafka({ dataSchema: {}, ioConfig }), /^Cannot construct instance of `org\.apache\.druid\.segment\.indexing\.DataSchema`, problem: Invalid value for field \[dataSource\]: must not be null$/],
        ["a / in the dataSource", kafka({ dataSchema: { dataSource: `${id}/x` }, ioConfig }), /problem: Invalid value for field \[dataSource\]: Value \[[^\]]+\] cannot contain '\/'\.$/],
      ];
      for (const [what, body, message] of cases) {
        const r = await raw(target, "POST", SUPERVISOR, { body });
        assert.equal(r.status, 400, `${what}: ${r.text}`);
        assert.match(r.contentType ?? "", /^application\/json/, what);
        assert.ok(isObject(r.json) && Object.keys(r.json).length === 1 && typeof r.json["error"] === "string", `${what}: ${r.text}`);
        assert.match(r.json["error"] as string, message, what);
      }
      await assert.rejects(client.submitSupervisor({ ...spec(), type: "no-such-type" }, true), (e) => {
        assert.ok(e instanceof DruidError && e.reason === "DruidRejected" && e.statusCode === 400, String(e));
        assert.match(e.druidMessage ?? "", /Could not resolve type id 'no-such-type'/);
        return true;
      });
      assert.equal(await client.getSupervisor(id), undefined, "nothing was created");
    });

    test("create (suspended): the id is the datasource; ids, ?full and ?state=true list it in their shapes", async () => {
      assert.equal(await client.submitSupervisor(spec(), true), id);
      await awaitState("SUSPENDED", (s) => s === "SUSPENDED");

      const ids = await raw(target, "GET", SUPERVISOR);
      assert.equal(ids.status, 200);
      assert.ok(Array.isArray(ids.json) && ids.json.every((x) => typeof x === "string") && ids.json.includes(id));

      const full = await raw(target, "GET", `${SUPERVISOR}?full`);
      const fullEntry = (full.json as JsonObject[]).find((e) => e["id"] === id);
      assert.ok(fullEntry, "?full lists it");
      assert.deepEqual(Object.keys(fullEntry).sort(), ["detailedState", "healthy", "id", "spec", "state", "suspended"]);
      assert.equal(fullEntry["state"], "SUSPENDED");
      assert.equal(fullEntry["detailedState"], "SUSPENDED");
      assert.equal(fullEntry["healthy"], true);
      // Druid 33 fills an entry's own `suspended` only for ?system: false here, suspended or not.
      assert.equal(fullEntry["suspended"], false);
      assert.equal((fullEntry["spec"] as JsonObject)["suspended"], true);

      const states = await raw(target, "GET", `${SUPERVISOR}?state=true`);
      const stateEntry = (states.json as JsonObject[]).find((e) => e["id"] === id);
      assert.ok(stateEntry, "?state=true lists it");
      assert.deepEqual(stateEntry, { id, state: "SUSPENDED", detailedState: "SUSPENDED", healthy: true, suspended: false });

      const listed = (await client.listSupervisorStates()).find((s) => s.id === id);
      assert.ok(listed);
      assert.equal(listed.suspended, true, "without a spec the decoder goes by the state (the entry's own flag is false)");
      assert.equal(listed.state, "SUSPENDED");
      assert.equal(listed.spec, undefined);
      const fromFull = decodeSupervisorList(full.json).find((s) => s.id === id);
      assert.equal(fromFull?.suspended, true, "with a spec the decoder takes the stored spec's flag");
    });

    test("single reads: the stored spec (the list's, twice over), the status report and the history agree", async () => {
      const stored = await client.getSupervisor(id);
      assert.ok(stored);
      assert.deepEqual(Object.keys(stored), ["type", "spec", "dataSchema", "tuningConfig", "ioConfig", "context", "suspended"]);
      assert.equal(stored["type"], "kafka");
      assert.equal(stored["suspended"], true);
      const inner = stored["spec"] as JsonObject;
      for (const part of ["dataSchema", "ioConfig", "tuningConfig"]) assert.deepEqual(stored[part], inner[part], `top-level ${part} mirrors spec.${part}`);
      assert.equal((inner["dataSchema"] as JsonObject)["dataSource"], id);
      const ioConfig = inner["ioConfig"] as JsonObject;
      assert.equal(ioConfig["topic"], id);
      assert.deepEqual(ioConfig["consumerProperties"], { "bootstrap.servers": target.kafkaBootstrap });
      assert.equal(ioConfig["taskCount"], 1);

      const full = (await raw(target, "GET", `${SUPERVISOR}?full`)).json as JsonObject[];
      assert.deepEqual(full.find((e) => e["id"] === id)?.["spec"], stored, "GET /supervisor/{id} and ?full carry the same stored spec");
      const listed = (await client.listSupervisorStates()).find((s) => s.id === id);
      const one = await client.supervisorWithState(id);
      assert.deepEqual(one, { ...listed, spec: stored }, "one supervisor read alone is what the state list says of it, with its stored spec");

      const status = await raw(target, "GET", `${SUPERVISOR}/${id}/status`);
      assert.equal(status.status, 200);
      assert.ok(isObject(status.json));
      assert.equal(status.json["id"], id);
      assert.equal(typeof status.json["generationTime"], "string");
      const payload = status.json["payload"] as JsonObject;
      assert.equal(payload["dataSource"], id);
      assert.equal(payload["stream"], id);
      assert.deepEqual([payload["state"], payload["detailedState"], payload["healthy"], payload["suspended"]], ["SUSPENDED", "SUSPENDED", true, true]);
      assert.deepEqual(await client.supervisorState(id), { state: "SUSPENDED", detailedState: "SUSPENDED", healthy: true, suspended: true });

      const history = await raw(target, "GET", `${SUPERVISOR}/${id}/history`);
      assert.ok(Array.isArray(history.json) && history.json.length === 1, history.text);
      const [entry] = history.json as JsonObject[];
      assert.deepEqual(Object.keys(entry as JsonObject).sort(), ["spec", "version"]);
      assert.deepEqual(entry?.["spec"], stored);
      assert.match(String(entry?.["version"]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(await client.supervisorSpecVersion(id), entry?.["version"]);
    });

    test("re-POST of the same spec with skipRestartIfUnmodified: the id, no new version, the same stored spec", async () => {
      const before = await client.getSupervisor(id);
      const version = await client.supervisorSpecVersion(id);
      assert.equal(await client.submitSupervisor(spec(), true), id);
      assert.equal(await client.supervisorSpecVersion(id), version);
      assert.equal(await historyLength(), 1);
      assert.deepEqual(await client.getSupervisor(id), before);
    });

    test("update: a changed spec is a new version, newest first; an unchanged one is none, restart asked or not", async () => {
      const oldVersion = await client.supervisorSpecVersion(id);
      const changed = spec();
      ((changed["spec"] as JsonObject)["ioConfig"] as JsonObject)["taskCount"] = 2;
      assert.equal(await client.submitSupervisor(changed, true), id);
      const stored = await client.getSupervisor(id);
      assert.equal(((stored?.["spec"] as JsonObject)["ioConfig"] as JsonObject)["taskCount"], 2);
      assert.equal(stored?.["suspended"], true);
      const history = (await raw(target, "GET", `${SUPERVISOR}/${id}/history`)).json as JsonObject[];
      assert.equal(history.length, 2);
      assert.deepEqual(history[0]?.["spec"], stored);
      assert.equal(history[1]?.["version"], oldVersion);
      assert.ok(String(history[0]?.["version"]) > String(oldVersion), "newest first");
      const newVersion = await client.supervisorSpecVersion(id);
      assert.equal(newVersion, history[0]?.["version"]);
      // Druid 33 restarts the supervisor on this POST but stores a version only for a changed spec.
      assert.equal(await client.submitSupervisor(changed, false), id);
      assert.equal(await historyLength(), 2);
      assert.equal(await client.supervisorSpecVersion(id), newVersion);
      await awaitState("SUSPENDED after the restart", (s) => s === "SUSPENDED");
    });

    test("suspend/resume: 400 when already so (the client takes it as done), the whole spec answered, only the flag changes", async () => {
      const suspendedSpec = await client.getSupervisor(id);
      assert.ok(suspendedSpec);
      const again = await raw(target, "POST", `${SUPERVISOR}/${id}/suspend`);
      assert.equal(again.status, 400);
      assert.deepEqual(again.json, { error: `[${id}] is already suspended` });
      await client.suspendSupervisor(id);

      const resumed = await raw(target, "POST", `${SUPERVISOR}/${id}/resume`);
      assert.equal(resumed.status, 200, resumed.text);
      assert.ok(isObject(resumed.json));
      assert.equal(resumed.json["suspended"], false);
      assert.deepEqual(withoutFlag(resumed.json), withoutFlag(suspendedSpec), "resume flips the flag and nothing else");
      await awaitState("no longer SUSPENDED", (s) => s !== undefined && s !== "SUSPENDED");
      assert.equal((await client.getSupervisor(id))?.["suspended"], false);
      const listed = (await client.listSupervisorStates()).find((s) => s.id === id);
      assert.equal(listed?.suspended, false);

      const running = await raw(target, "POST", `${SUPERVISOR}/${id}/resume`);
      assert.equal(running.status, 400);
      assert.deepEqual(running.json, { error: `[${id}] is already running` });
      await client.resumeSupervisor(id);

      const suspended = await raw(target, "POST", `${SUPERVISOR}/${id}/suspend`);
      assert.equal(suspended.status, 200, suspended.text);
      assert.deepEqual(suspended.json, suspendedSpec, "suspend answers the whole stored spec");
      await awaitState("SUSPENDED again", (s) => s === "SUSPENDED");
      assert.equal(await historyLength(), 4, "suspend and resume each store a version");
    });

    test("reset answers the id", async () => {
      const r = await raw(target, "POST", `${SUPERVISOR}/${id}/reset`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { id });
      await client.resetSupervisor(id);
    });

    test("terminate: the id, then 404 everywhere and gone from the lists, a tombstone on top of the kept history; again → 404; the id can be used again", async () => {
      const historyBefore = await historyLength();
      const r = await raw(target, "POST", `${SUPERVISOR}/${id}/terminate`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { id });
      assert.equal(await client.getSupervisor(id), undefined);
      assert.equal(await client.supervisorState(id), undefined);
      assert.equal(await client.supervisorWithState(id), undefined);
      assert.equal((await client.listSupervisorStates()).some((s) => s.id === id), false);
      assert.equal(((await raw(target, "GET", SUPERVISOR)).json as string[]).includes(id), false);
      assert.equal(((await raw(target, "GET", `${SUPERVISOR}?state=true`)).json as JsonObject[]).some((e) => e["id"] === id), false);

      const history = (await raw(target, "GET", `${SUPERVISOR}/${id}/history`)).json as JsonObject[];
      assert.equal(history.length, historyBefore + 1);
      assert.deepEqual(history[0]?.["spec"], { type: "noop", id: null, dataSources: [id], suspended: false, source: "noop" });
      assert.equal(await client.supervisorSpecVersion(id), history[0]?.["version"]);

      const again = await raw(target, "POST", `${SUPERVISOR}/${id}/terminate`);
      assert.equal(again.status, 404);
      assert.equal(again.text, `Cannot find any supervisor with id: [${id}]`);
      assert.equal(await client.terminateSupervisor(id), false);

      assert.equal(await client.submitSupervisor(spec(), true), id);
      assert.equal(await historyLength(), historyBefore + 2, "the same id again: its history goes on");
      assert.equal((await client.getSupervisor(id))?.["suspended"], true);
      assert.equal(await client.terminateSupervisor(id), true);
    });

    test("compaction config: posted ({\"success\":true}), read alone and in the list alike, deleted, then 404", async () => {
      const config = { dataSource: partsDataSource, skipOffsetFromLatest: "PT2H", taskPriority: 30 };
      const posted = await raw(target, "POST", COMPACTION, { body: config });
      assert.equal(posted.status, 200, posted.text);
      assert.deepEqual(posted.json, { success: true });
      await client.submitCompactionConfig(config);
      const stored = await client.getCompactionConfig(partsDataSource);
      assertIncludes(stored, config);
      assert.equal(stored?.["type"], "inline", "Druid 33 stores the inline-schema kind");
      const list = await client.listCompactionConfigs();
      assert.deepEqual(list.get(partsDataSource), stored);
      const clusterWide = (await raw(target, "GET", COMPACTION)).json as JsonObject;
      assert.ok(Array.isArray(clusterWide["compactionConfigs"]));

      const deleted = await raw(target, "DELETE", `${COMPACTION}/${partsDataSource}`);
      assert.equal(deleted.status, 200, deleted.text);
      assert.deepEqual(deleted.json, { success: true });
      assert.equal(await client.getCompactionConfig(partsDataSource), undefined);
      const gone = await raw(target, "GET", `${COMPACTION}/${partsDataSource}`);
      assert.equal(gone.status, 404);
      const notFound = { error: "druidException", errorCode: "notFound", persona: "USER", category: "NOT_FOUND", errorMessage: "Datasource compaction config does not exist", context: {} };
      assert.deepEqual(gone.json, notFound);
      const deletedAgain = await raw(target, "DELETE", `${COMPACTION}/${partsDataSource}`);
      assert.equal(deletedAgain.status, 404);
      assert.deepEqual(deletedAgain.json, notFound);
      assert.equal(await client.deleteCompactionConfig(partsDataSource), false);
      await client.submitCompactionConfig(config);
      assert.equal(await client.deleteCompactionConfig(partsDataSource), true);

      const nameless = await raw(target, "POST", COMPACTION, { body: { skipOffsetFromLatest: "PT2H" } });
      assert.equal(nameless.status, 400, nameless.text);
      assert.deepEqual(nameless.json, { error: "Cannot construct instance of `org.apache.druid.server.coordinator.InlineSchemaDataSourceCompactionConfig`, problem: dataSource" });
    });

    test("retention rules: posted, read alone and in the list alike, cleared to []", async () => {
      assert.deepEqual(await client.getRules(partsDataSource), [], "no rules yet: []");
      const rules: JsonObject[] = [{ type: "loadByPeriod", period: "P1M", includeFuture: true, tieredReplicants: { _default_tier: 1 } }, { type: "dropForever" }];
      const posted = await raw(target, "POST", `${RULES}/${partsDataSource}`, { body: rules });
      assert.equal(posted.status, 200, posted.text);
      assert.equal(posted.text, "", "an empty body");
      await client.submitRules(partsDataSource, rules);
      const stored = await client.getRules(partsDataSource);
      assertIncludes(stored, rules);
      assert.equal(stored[0]?.["useDefaultTierForNull"], true, "Druid 33 fills a load rule's useDefaultTierForNull");
      const list = await client.listRules();
      assert.deepEqual(list.get(partsDataSource), stored);
      assert.ok(Array.isArray(list.get("_default")), "the list has the cluster's _default rules");

      const unknownRule = await raw(target, "POST", `${RULES}/${partsDataSource}`, { body: [{ type: "no-such-rule" }] });
      assert.equal(unknownRule.status, 400, unknownRule.text);
      assert.match(String((unknownRule.json as JsonObject)["error"]), /Could not resolve type id 'no-such-rule' as a subtype of `org\.apache\.druid\.server\.coordinator\.rules\.Rule`/);
      const notAList = await raw(target, "POST", `${RULES}/${partsDataSource}`, { body: { type: "dropForever" } });
      assert.equal(notAList.status, 400, notAList.text);
      assert.deepEqual(notAList.json, { error: "Cannot deserialize value of type `java.util.ArrayList<org.apache.druid.server.coordinator.rules.Rule>` from Object value (token `JsonToken.START_OBJECT`)" });
      assert.deepEqual(await client.getRules(partsDataSource), stored, "refused rules changed nothing");

      await client.submitRules(partsDataSource, []);
      assert.deepEqual(await client.getRules(partsDataSource), []);
      assert.deepEqual((await client.listRules()).get(partsDataSource), [], "a cleared datasource stays listed with []");
    });
  });
}
