// Request counts of the Overlord double by method and route template
// (`GET /druid/indexer/v1/supervisor?full`, `POST /druid/indexer/v1/supervisor/{id}/suspend`), so a
// benchmark can report the Druid traffic a controller caused without trusting the controller's own
// metrics. Counts what the double answered, refusals (401, 404) included. Not a latency histogram.

export interface RouteTraffic {
  requests: number;
  requestBytes: number;
  responseBytes: number;
  /** Requests by HTTP status code. */
  statuses: Record<string, number>;
}

/** Keyed by `METHOD route-template`. */
export type TrafficStats = Record<string, RouteTraffic>;

export class TrafficCounter {
  private routes = new Map<string, RouteTraffic>();

  record(route: string, status: number, requestBytes: number, responseBytes: number): void {
    let traffic = this.routes.get(route);
    if (!traffic) {
      traffic = { requests: 0, requestBytes: 0, responseBytes: 0, statuses: {} };
      this.routes.set(route, traffic);
    }
    traffic.requests++;
    traffic.requestBytes += requestBytes;
    traffic.responseBytes += responseBytes;
    traffic.statuses[status] = (traffic.statuses[status] ?? 0) + 1;
  }

  /** A copy, sorted by route: later requests do not change it. */
  snapshot(): TrafficStats {
    const stats: TrafficStats = {};
    for (const route of [...this.routes.keys()].sort()) {
      const t = this.routes.get(route) as RouteTraffic;
      stats[route] = { ...t, statuses: { ...t.statuses } };
    }
    return stats;
  }

  reset(): void {
    this.routes = new Map();
  }
}
