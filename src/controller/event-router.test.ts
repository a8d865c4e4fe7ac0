import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubernetesObject, V1Secret } from "@kubernetes/client-node";
import type { DruidIngestion, DruidIngestionSpec, DruidIngestionStatus } from "../api/druid-ingestion.ts";
import { DELETED_SECRET_TTL_MS, EventRouter } from "./event-router.ts";

function recorder() {
  const added: string[] = [];
  const forgotten: string[] = [];
  return { added, forgotten, sink: { add: (k: string) => void added.push(k), forget: (k: string) => void forgotten.push(k) } };
}

function ing(name: string, spec: Partial<DruidIngestionSpec> = {}, status?: DruidIngestionStatus, meta: Partial<DruidIngestion["metadata"]> = {}): KubernetesObject {
  return {
    apiVersion: "druid.apache.org/v1alpha1", kind: "DruidIngestion",
    metadata: { name, namespace: "ns", uid: `u-${name}`, generation: 1, resourceVersion: "1", creationTimestamp: "2026-01-01T00:00:00Z", ...meta },
    spec: { druidCluster: "tiny", auth: { type: "basic-auth", secretRef: { name: "auth" } }, ingestion: { type: "kafka" }, ...spec },
    ...(status ? { status } : {}),
  } as unknown as KubernetesObject;
}

test("status-only updates (our own writes) do not enqueue; spec, metadata and deletion do", () => {
  const r = recorder();
  const router = new EventRouter(r.sink);
  router.onIngestion("add", ing("a"));
  router.onIngestion("update", ing("a", {}, { state: "RUNNING" }, { resourceVersion: "2" }));
  assert.deepEqual(r.added, ["ns/a"], "a status write changes only resourceVersion");
  router.onIngestion("update", ing("a", {}, undefined, { generation: 2 }));
  router.onIngestion("update", ing("a", {}, undefined, { generation: 2, annotations: { "ingestion.druid.apache.org/paused": "true" } }));
  router.onIngestion("update", ing("a", {}, undefined, { generation: 2, annotations: { "ingestion.druid.apache.org/paused": "true" }, deletionTimestamp: "2026-01-02T00:00:00Z" }));
  assert.deepEqual(r.added, ["ns/a", "ns/a", "ns/a", "ns/a"]);
  router.onIngestion("delete", ing("a"));
  assert.deepEqual(r.forgotten, ["ns/a"]);
});

test("a Secret event enqueues exactly the resources that use it; a deleted one is remembered for their deletion", () => {
  let now = 0;
  const r = recorder();
  const router = new EventRouter(r.sink, () => now);
  router.onIngestion("add", ing("a"));
  router.onIngestion("add", ing("b", { auth: { type: "basic-auth", secretRef: { name: "other" } } }));
  router.onIngestion("add", ing("c", { auth: undefined }));
  r.added.length = 0;
  const secret: V1Secret = { metadata: { name: "auth", namespace: "ns" }, data: { OperatorPassword: "cHc=" } };
  router.onSecret("update", secret);
  assert.deepEqual(r.added, ["ns/a"]);
  router.onSecret("delete", secret);
  assert.equal(router.deletedSecret("ns", "auth"), secret);
  router.onSecret("delete", { metadata: { name: "unused", namespace: "ns" } });
  assert.equal(router.deletedSecret("ns", "unused"), undefined, "a Secret nobody used is not kept");
  now += DELETED_SECRET_TTL_MS + 1;
  router.onSecret("update", { metadata: { name: "x", namespace: "ns" } });
  assert.equal(router.deletedSecret("ns", "auth"), undefined, "forgotten after an hour");
  router.onIngestion("update", ing("a", { auth: { type: "basic-auth", secretRef: { name: "rotated" } } }, undefined, { generation: 2 }));
  r.added.length = 0;
  router.onSecret("update", secret);
  assert.deepEqual(r.added, [], "the index follows the resource's spec");
});

test("a Secret the spec references enqueues its users, through the same index as the auth Secret", () => {
  const r = recorder();
  const router = new EventRouter(r.sink);
  const sasl = (name: string, secretName: string) => ({ type: "kafka", nativeSpec: { spec: { dataSchema: { dataSource: name }, ioConfig: { consumerProperties: { "sasl.jaas.config": { secretKeyRef: { name: secretName, key: "jaas" } } } } } } });
  router.onIngestion("add", ing("a", { ingestion: sasl("a", "kafka-sasl") }));
  router.onIngestion("add", ing("b", { ingestion: { type: "kafka", spec: JSON.stringify(sasl("b", "kafka-sasl").nativeSpec) } }));
  router.onIngestion("add", ing("c", { ingestion: sasl("c", "auth") }));
  router.onIngestion("add", ing("d"));
  r.added.length = 0;
  router.onSecret("update", { metadata: { name: "kafka-sasl", namespace: "ns" } });
  assert.deepEqual(r.added.sort(), ["ns/a", "ns/b"]);
  r.added.length = 0;
  router.onSecret("update", { metadata: { name: "auth", namespace: "ns" } });
  assert.deepEqual(r.added.sort(), ["ns/a", "ns/b", "ns/c", "ns/d"], "auth and a reference to the same Secret: each resource once");
  router.onIngestion("update", ing("a", { ingestion: sasl("a", "renamed") }, undefined, { generation: 2 }));
  r.added.length = 0;
  router.onSecret("update", { metadata: { name: "kafka-sasl", namespace: "ns" } });
  assert.deepEqual(r.added, ["ns/b"], "the index follows the spec");
  r.added.length = 0;
  router.onSecret("update", { metadata: { name: "kafka-sasl", namespace: "elsewhere" } });
  assert.deepEqual(r.added, [], "a Secret of that name in another namespace is not this one");
});

test("a router Service event enqueues the resources of that Druid cluster without an explicit endpoint", () => {
  const r = recorder();
  const router = new EventRouter(r.sink);
  router.onIngestion("add", ing("a"));
  router.onIngestion("add", ing("b", { druidEndpoint: "http://x" }));
  router.onIngestion("add", ing("c", { druidCluster: "other" }));
  r.added.length = 0;
  router.onService({ metadata: { name: "druid-tiny-routers", namespace: "ns", labels: { druid_cr: "tiny", component: "router" } } });
  assert.deepEqual(r.added, ["ns/a"]);
});

test("an owned ConfigMap maps to its owner", () => {
  const r = recorder();
  new EventRouter(r.sink).onOwned({ metadata: { name: "a-druid-spec", namespace: "ns", ownerReferences: [{ apiVersion: "druid.apache.org/v1alpha1", kind: "DruidIngestion", name: "a", uid: "u", controller: true }] } });
  assert.deepEqual(r.added, ["ns/a"]);
});

test("claims follow status: recorded and pending supervisors, removed with the resource", () => {
  const router = new EventRouter(recorder().sink);
  const E = "http://druid:8888";
  router.onIngestion("add", ing("a", {}, { applied: { druidEndpoint: E, supervisorId: "s", origin: "Created" } }));
  router.onIngestion("add", ing("b", {}, { pendingCreate: { druidEndpoint: "HTTP://druid:8888/", supervisorId: "s", since: "t" } }));
  assert.deepEqual(router.claimsOn(E, "s").map((c) => c.key).sort(), ["ns/a", "ns/b"]);
  router.onIngestion("update", ing("b", {}, {}, { resourceVersion: "3" }));
  assert.deepEqual(router.claimsOn(E, "s").map((c) => c.key), ["ns/a"], "a status-only update still moves the index");
  router.onIngestion("delete", ing("a"));
  assert.deepEqual(router.claimsOn(E, "s"), []);
  router.onIngestion("add", { metadata: { name: "broken", namespace: "ns" } } as KubernetesObject);
  assert.deepEqual(router.claimsOn(E, "s"), [], "an object without a spec is not indexed (nor a crash)");
});

test("a watch event older than our own indexed write does not undo it", () => {
  const router = new EventRouter(recorder().sink);
  const E = "http://druid:8888";
  // One reconcile: finalizer (1→2), pending create (2→3), record (3→4); the watch lags behind.
  router.onIngestion("add", ing("a", {}, undefined, { resourceVersion: "1" }));
  router.indexWritten(ing("a", {}, undefined, { resourceVersion: "2" }), "1");
  router.indexWritten(ing("a", {}, { pendingCreate: { druidEndpoint: E, supervisorId: "s", since: "t" } }, { resourceVersion: "3" }), "2");
  router.indexWritten(ing("a", {}, { applied: { druidEndpoint: E, supervisorId: "s", origin: "Created" } }, { resourceVersion: "4" }), "3");
  assert.deepEqual(router.claimsOn(E, "s").map((c) => c.key), ["ns/a"]);
  router.onIngestion("update", ing("a", {}, undefined, { resourceVersion: "2" }));
  router.onIngestion("update", ing("a", {}, { pendingCreate: { druidEndpoint: E, supervisorId: "s", since: "t" } }, { resourceVersion: "3" }));
  assert.equal(router.claimsOn(E, "s")[0]?.recorded, true, "still recorded");
  router.onIngestion("update", ing("a", {}, { applied: { druidEndpoint: E, supervisorId: "s", origin: "Created" } }, { resourceVersion: "4" }));
  router.onIngestion("update", ing("a", {}, {}, { resourceVersion: "5" }));
  assert.deepEqual(router.claimsOn(E, "s"), [], "after our write showed, later events count again");
});

test("a version we did not write is never held back (the watch may deliver our own write before we index it)", () => {
  const router = new EventRouter(recorder().sink);
  const E = "http://druid:8888";
  router.onIngestion("update", ing("a", {}, { applied: { druidEndpoint: E, supervisorId: "s", origin: "Created" } }, { resourceVersion: "4" }));
  router.indexWritten(ing("a", {}, { applied: { druidEndpoint: E, supervisorId: "s", origin: "Created" } }, { resourceVersion: "4" }), "3");
  router.onIngestion("update", ing("a", {}, { applied: { druidEndpoint: E, supervisorId: "s", origin: "Created" } }, { resourceVersion: "5", deletionTimestamp: "2026-01-02T00:00:00Z" }));
  assert.equal(router.claimsOn(E, "s")[0]?.deleting, true, "the later deletion is indexed at once");
});
