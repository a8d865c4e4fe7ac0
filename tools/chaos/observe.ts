// What the checker looks at, read fresh: the run's DruidIngestions (API server, admin), Druid's
// supervisors of the run (`GET /druid/indexer/v1/supervisor?full` straight at Druid, not through
// the fault proxy), and the reset requests from the proxy's log.
import { GROUP, PLURAL, VERSION, type DruidIngestion } from "../../src/api/druid-ingestion.ts";
import type { ProxiedRequest } from "../druid-proxy.ts";
import type { DruidProbe } from "../druid-probe.ts";
import type { Kube } from "../kube.ts";
import type { ResetRequest, ResourceView, SupervisorView } from "./invariants.ts";

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
}

function dimensionNames(list: unknown): string[] {
  return Array.isArray(list) ? list.map((d) => (typeof d === "string" ? d : String(obj(d)?.["name"]))) : [];
}

export function resourceView(i: DruidIngestion): ResourceView {
  const inner = obj(obj(i.spec.ingestion.nativeSpec)?.["spec"]) ?? (i.spec.ingestion.spec ? obj(obj(JSON.parse(i.spec.ingestion.spec))?.["spec"]) : undefined);
  const dataSchema = obj(inner?.["dataSchema"]);
  const status = i.status ?? {};
  return {
    key: `${i.metadata.namespace}/${i.metadata.name}`,
    generation: i.metadata.generation,
    deleting: i.metadata.deletionTimestamp !== undefined,
    finalizers: i.metadata.finalizers ?? [],
    dataSource: String(dataSchema?.["dataSource"] ?? ""),
    suspend: i.spec.suspend === true,
    resetNonce: i.spec.resetNonce,
    maxRowsInMemory: obj(inner?.["tuningConfig"])?.["maxRowsInMemory"] as number | undefined,
    dimensions: dimensionNames(obj(dataSchema?.["dimensionsSpec"])?.["dimensions"]),
    topic: obj(inner?.["ioConfig"])?.["topic"] as string | undefined,
    status: {
      observedGeneration: status.observedGeneration,
      appliedSupervisorId: status.applied?.supervisorId,
      state: status.state,
      lastResetNonce: status.lastResetNonce,
      conditions: (status.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
    },
  };
}

/** One entry of `GET /supervisor?full`. */
export function supervisorView(entry: Json): SupervisorView {
  const spec = obj(entry["spec"]) ?? {};
  const inner = obj(spec["spec"]) ?? spec;
  const dataSchema = obj(inner["dataSchema"]) ?? obj(spec["dataSchema"]);
  const tuning = obj(inner["tuningConfig"]) ?? obj(spec["tuningConfig"]);
  const io = obj(inner["ioConfig"]) ?? obj(spec["ioConfig"]);
  return {
    id: String(entry["id"]),
    state: entry["state"] as string | undefined,
    detailedState: entry["detailedState"] as string | undefined,
    suspended: spec["suspended"] === true,
    dataSource: dataSchema?.["dataSource"] as string | undefined,
    maxRowsInMemory: tuning?.["maxRowsInMemory"] as number | undefined,
    dimensions: dimensionNames(obj(dataSchema?.["dimensionsSpec"])?.["dimensions"]),
    topic: io?.["topic"] as string | undefined,
  };
}

export async function listRunIngestions(kube: Kube, namespaces: readonly string[]): Promise<DruidIngestion[]> {
  const all: DruidIngestion[] = [];
  for (const namespace of namespaces) {
    const list = (await kube.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace })) as { items: DruidIngestion[] };
    all.push(...list.items);
  }
  return all;
}

/** Druid's supervisors whose id starts with the prefix, straight from Druid. */
export async function runSupervisors(druid: DruidProbe, prefix: string): Promise<Array<{ view: SupervisorView; raw: Json }>> {
  const r = await druid.call("GET", "/druid/indexer/v1/supervisor?full");
  if (r.status !== 200 || !Array.isArray(r.json)) throw new Error(`GET /druid/indexer/v1/supervisor?full: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  return (r.json as Json[]).filter((e) => String(e["id"]).startsWith(prefix)).map((raw) => ({ view: supervisorView(raw), raw }));
}

const RESET_PATH = /^\/druid\/indexer\/v1\/supervisor\/([^/?]+)\/reset(?:\?|$)/;

/** The supervisor a request is about, from its path (`/supervisor/{id}/...`), if any. */
export function supervisorIdOfPath(path: string): string | undefined {
  const m = /^\/druid\/indexer\/v1\/supervisor\/([^/?]+)(?:[/?]|$)/.exec(path);
  return m ? decodeURIComponent(m[1] as string) : undefined;
}

/** Reset requests that were forwarded to Druid. */
export function resetRequests(log: readonly ProxiedRequest[]): ResetRequest[] {
  const resets: ResetRequest[] = [];
  for (const e of log) {
    const m = RESET_PATH.exec(e.path);
    if (e.method !== "POST" || !m || !e.forwarded) continue;
    resets.push({ supervisorId: decodeURIComponent(m[1] as string), at: e.at, client: e.client, druidStatus: e.druidStatus, answered: e.answered, fault: e.fault });
  }
  return resets;
}

/** What a request body is about: the supervisor's datasource (id) of a supervisor POST, a task's id. */
export function describeDruidBody(method: string, path: string, body: string): string | undefined {
  if (method !== "POST" || body === "" || !/^\/druid\/indexer\/v1\/(supervisor|task)\/?(\?|$)/.test(path)) return undefined;
  try {
    const parsed = obj(JSON.parse(body));
    if (!parsed) return undefined;
    const inner = obj(parsed["spec"]) ?? parsed;
    const ds = obj(inner["dataSchema"])?.["dataSource"] ?? obj(parsed["dataSchema"])?.["dataSource"];
    const id = parsed["id"];
    return typeof id === "string" ? id : typeof ds === "string" ? ds : undefined;
  } catch {
    return undefined;
  }
}
