// Direct Druid calls for assertions: what Druid really holds, independent of the controller.
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

  async call(method: string, path: string, body?: unknown, opts: { auth?: boolean; password?: string } = {}): Promise<DruidResponse> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (opts.auth !== false) {
      headers["authorization"] = `Basic ${Buffer.from(`${this.env.druidUser}:${opts.password ?? this.env.druidPassword}`).toString("base64")}`;
    }
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await request(`${this.env.druidUrl}${path}`, {
      method: method as "GET",
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
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

  async terminate(id: string): Promise<number> {
    return (await this.call("POST", `/druid/indexer/v1/supervisor/${encodeURIComponent(id)}/terminate`)).status;
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
      tuningConfig: { type: "kafka", maxRowsInMemory: 10000 },
    },
  };
}
