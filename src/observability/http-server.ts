// /healthz (the process is alive), /readyz (every informer cache has synced; leadership is not
// required, so standbys are Ready) and /metrics. One server per bind address.
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";
import type { BindAddress } from "../config.ts";

export interface Probes {
  ready(): { ok: boolean; detail: string };
}

export interface Routes {
  probes?: Probes;
  registry?: Registry;
}

export function startHttpServer(address: BindAddress, routes: Routes): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405).end();
      return;
    }
    if (routes.probes && path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (routes.probes && path === "/readyz") {
      const { ok, detail } = routes.probes.ready();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(`${detail}\n`);
    } else if (routes.registry && path === "/metrics") {
      routes.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": routes.registry?.contentType ?? "text/plain" }).end(text),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
