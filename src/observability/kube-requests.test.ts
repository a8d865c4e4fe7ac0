import { strict as assert } from "node:assert";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { fetch } from "undici";
import { classifyKubeRequest, countKubeRequests, type KubeRequest } from "./kube-requests.ts";

test("verb and resource of a request, as the API server's audit log names them", () => {
  const cases: Array<[string, string, string, string]> = [
    ["GET", "/apis/druid.apache.org/v1alpha1/druidingestions?limit=500", "list", "druidingestions"],
    ["GET", "/apis/druid.apache.org/v1alpha1/namespaces/a/druidingestions?watch=true&resourceVersion=5", "watch", "druidingestions"],
    ["GET", "/apis/druid.apache.org/v1alpha1/namespaces/a/druidingestions/x", "get", "druidingestions"],
    ["PATCH", "/apis/druid.apache.org/v1alpha1/namespaces/a/druidingestions/x/status", "patch", "druidingestions/status"],
    ["PATCH", "/apis/druid.apache.org/v1alpha1/namespaces/a/druidingestions/x", "patch", "druidingestions"],
    ["POST", "/api/v1/namespaces/a/configmaps", "create", "configmaps"],
    ["PUT", "/api/v1/namespaces/a/configmaps/c", "update", "configmaps"],
    ["DELETE", "/api/v1/namespaces/a/configmaps/c", "delete", "configmaps"],
    ["DELETE", "/api/v1/namespaces/a/configmaps", "deletecollection", "configmaps"],
    ["GET", "/api/v1/secrets?labelSelector=a%3Db&watch=1", "watch", "secrets"],
    ["GET", "/api/v1/namespaces/a", "get", "namespaces"],
    ["GET", "/api/v1/namespaces", "list", "namespaces"],
    ["PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l", "update", "leases"],
    ["POST", "/api/v1/namespaces/a/events", "create", "events"],
  ];
  for (const [method, path, verb, resource] of cases) assert.deepEqual(classifyKubeRequest(method, path), { verb, resource }, `${method} ${path}`);
});

test("counts requests to the API server only, with their status or error", async () => {
  const server = createServer((req, res) => {
    res.writeHead(req.url?.includes("missing") ? 404 : 200);
    res.end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const other = createServer((_req, res) => res.end("{}"));
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  const seen: KubeRequest[] = [];
  const stop = countKubeRequests(url, (r) => seen.push(r));
  try {
    await (await fetch(`${url}/api/v1/namespaces/a/configmaps`)).text();
    await (await fetch(`${url}/api/v1/namespaces/a/configmaps/missing`, { method: "DELETE" })).text();
    await (await fetch(`${otherUrl}/api/v1/namespaces/a/configmaps`)).text();
    await fetch("http://127.0.0.1:1/api/v1/x").catch(() => undefined);
    const closed = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    await new Promise((resolve) => other.close(resolve));
    const stopClosed = countKubeRequests(closed, (r) => seen.push(r));
    await fetch(`${closed}/api/v1/namespaces/a/secrets`).catch(() => undefined);
    stopClosed();
    assert.deepEqual(seen, [
      { verb: "list", resource: "configmaps", code: "200" },
      { verb: "delete", resource: "configmaps", code: "404" },
      { verb: "list", resource: "secrets", code: "error" },
    ]);
  } finally {
    stop();
    server.close();
    other.close();
  }
});
