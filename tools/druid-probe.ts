// Direct Druid calls (no controller in between): what Druid really holds. For e2e assertions and tools.
import { request } from "undici";
import type { StackEnv } from "./stack.ts";

export interface DruidResponse {
  status: number;
  json: unknown;
  text: string;
}

export class DruidProbe {
  private readonly env: StackEnv;
  constructor(env: StackEnv) {
    this.env = env;
  }

  /** `rawBody` is sent verbatim (as JSON) instead of JSON.stringify(body). */
  async call(method: string, path: string, body?: unknown, opts: { auth?: boolean; password?: string; rawBody?: string } = {}): Promise<DruidResponse> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (opts.auth !== false) {
      headers["authorization"] = `Basic ${Buffer.from(`${this.env.druidUser}:${opts.password ?? this.env.druidPassword}`).toString("base64")}`;
    }
    const payload = opts.rawBody ?? (body !== undefined ? JSON.stringify(body) : undefined);
    if (payload !== undefined) headers["content-type"] = "application/json";
    const response = await request(`${this.env.druidUrl}${path}`, {
      method: method as "GET",
      headers,
      ...(payload !== undefined ? { body: payload } : {}),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const text = await response.body.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.statusCode, json, text };
  }

  /** The supervisor as Druid lists it (`?full`), or undefined. */
  async supervisor(id: string): Promise<{ id: string; state?: string; detailedState?: string; spec?: Record<string, unknown> } | undefined> {
    const r = await this.call("GET", "/druid/indexer/v1/supervisor?full");
    if (r.status !== 200 || !Array.isArray(r.json)) throw new Error(`supervisor list: HTTP ${r.status} ${r.text}`);
    return (r.json as Array<{ id: string }>).find((s) => s.id === id);
  }

  /**
   * The datasource's compaction config as Druid acts on it: from the Overlord's store when
   * compaction supervisors are on (Druid 37's default), else the Coordinator's. The response as is.
   */
  async compactionConfig(dataSource: string): Promise<DruidResponse> {
    const enabled = await this.call("GET", "/druid/indexer/v1/compaction/isSupervisorEnabled");
    const base = enabled.status === 200 && enabled.json === true ? "/druid/indexer/v1/compaction/config/datasources" : "/druid/coordinator/v1/config/compaction";
    return this.call("GET", `${base}/${encodeURIComponent(dataSource)}`);
  }

  async terminate(id: string): Promise<number> {
    return (await this.call("POST", `/druid/indexer/v1/supervisor/${encodeURIComponent(id)}/terminate`)).status;
  }

  /** How many spec versions Druid keeps for the supervisor (0 when it has none). */
  async historyLength(id: string): Promise<number> {
    const r = await this.call("GET", `/druid/indexer/v1/supervisor/${encodeURIComponent(id)}/history`);
    return Array.isArray(r.json) ? r.json.length : 0;
  }

  /** The stored spec as `GET /supervisor/{id}` returns it (defaults filled in), or undefined. */
  async storedSpec(id: string): Promise<Record<string, unknown> | undefined> {
    const r = await this.call("GET", `/druid/indexer/v1/supervisor/${encodeURIComponent(id)}`);
    return r.status === 200 ? (r.json as Record<string, unknown>) : undefined;
  }

  /** `GET /task/{id}/status`'s status object, or undefined when Druid does not know the task. */
  async taskStatus(id: string): Promise<{ id: string; statusCode: string; status: string; runnerStatusCode?: string; errorMsg?: string | null; type?: string } | undefined> {
    const r = await this.call("GET", `/druid/indexer/v1/task/${encodeURIComponent(id)}/status`);
    if (r.status === 404) return undefined;
    return (r.json as { status?: { id: string; statusCode: string; status: string } } | undefined)?.status;
  }

  async version(): Promise<string> {
    const r = await this.call("GET", "/status");
    return (r.json as { version: string }).version;
  }
}

/** A Kafka supervisor spec small enough for tests; without a broker it stays unhealthy, which is fine. */
export function kafkaSupervisorSpec(dataSource: string, bootstrap: string, topic = dataSource): Record<string, unknown> {
  return {
    type: "kafka",
    spec: {
      dataSchema: {
        dataSource,
        timestampSpec: { column: "ts", format: "iso" },
        dimensionsSpec: { dimensions: ["page"] },
        granularitySpec: { segmentGranularity: "HOUR", queryGranularity: "NONE", rollup: false },
      },
      ioConfig: {
        topic,
        inputFormat: { type: "json" },
        consumerProperties: { "bootstrap.servers": bootstrap },
        taskCount: 1,
        replicas: 1,
        taskDuration: "PT1H",
        useEarliestOffset: true,
      },
      // The local stack has no Historical, so a stopped task's segments are never handed off:
      // without a bound it would hold its task slot forever (6 slots; tests and chaos runs stop
      // hundreds of supervisors). A minute, then it lets go.
      tuningConfig: { type: "kafka", maxRowsInMemory: 10000, handoffConditionTimeout: 60_000 },
    },
  };
}

