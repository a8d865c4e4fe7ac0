// Proves the stack under the e2e tests is real: RBAC is enforced for a limited identity,
// kube-controller-manager garbage-collects owned objects and deletes namespaces, and Druid
// accepts, serves, suspends and terminates a Kafka supervisor behind basic auth.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { ApiException } from "@kubernetes/client-node";
import { DruidProbe, kafkaSupervisorSpec } from "../support/druid.ts";
import { Kube } from "../support/kube.ts";
import { ensureStack, stackEnv } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

ensureStack();
const env = stackEnv();
const admin = Kube.admin(env);
const druid = new DruidProbe(env);
let ns: string;

before(async () => {
  ns = await admin.createNamespace("smoke");
});
after(async () => {
  await admin.deleteNamespace(ns);
});

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

describe("the local stack is real", { timeout: 300_000 }, () => {
  test("kube-apiserver: CRDs install and serve the status subresource", async () => {
    await admin.installCrd();
    const crd = await admin.apiext.readCustomResourceDefinition({ name: "druidingestions.druid.apache.org" });
    assert.deepEqual(crd.spec.versions[0]?.subresources?.status, {});
  });

  test("RBAC: a ServiceAccount token can do what its Role grants and gets 403 elsewhere", async () => {
    await admin.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: "limited" } } });
    await admin.rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: "cm-only" }, rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "create"] }] } });
    await admin.rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: { metadata: { name: "cm-only" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "cm-only" }, subjects: [{ kind: "ServiceAccount", name: "limited", namespace: ns }] },
    });
    const { kube: limited } = await admin.asServiceAccount(ns, "limited");
    await limited.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "mine" }, data: { a: "1" } } });
    assert.equal((await limited.core.readNamespacedConfigMap({ namespace: ns, name: "mine" })).data?.["a"], "1");
    await assert.rejects(limited.core.listNamespacedSecret({ namespace: ns }), (e) => statusOf(e) === 403);
    await assert.rejects(limited.core.listNamespacedConfigMap({ namespace: "default" }), (e) => statusOf(e) === 403);
  });

  test("kube-controller-manager: owner references are garbage-collected", async () => {
    const owner = await admin.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "owner" } } });
    await admin.core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "child", ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata?.uid as string }] } },
    });
    await admin.core.deleteNamespacedConfigMap({ namespace: ns, name: "owner" });
    await waitFor("child collected", async () => {
      try {
        await admin.core.readNamespacedConfigMap({ namespace: ns, name: "child" });
        return false;
      } catch (e) {
        return statusOf(e) === 404;
      }
    }, 60_000);
  });

  test("Druid: a Kafka supervisor behind basic auth is created, read, suspended and terminated", async () => {
    const id = `smoke-${randomBytes(3).toString("hex")}`;
    const spec = kafkaSupervisorSpec(id, env.kafkaBootstrap ?? "127.0.0.1:9");
    assert.equal((await druid.call("GET", "/druid/indexer/v1/supervisor", undefined, { auth: false })).status, 401, "no credentials → 401");
    assert.equal((await druid.call("GET", "/druid/indexer/v1/supervisor", undefined, { password: "wrong" })).status, 401, "wrong password → 401");
    const created = await druid.call("POST", "/druid/indexer/v1/supervisor", spec);
    assert.equal(created.status, 200, created.text);
    assert.deepEqual(created.json, { id });
    const read = await druid.call("GET", `/druid/indexer/v1/supervisor/${id}`);
    assert.equal(read.status, 200);
    assert.equal((read.json as { spec: { dataSchema: { dataSource: string } } }).spec.dataSchema.dataSource, id);
    const suspended = await druid.call("POST", `/druid/indexer/v1/supervisor/${id}/suspend`);
    assert.equal(suspended.status, 200);
    assert.equal((suspended.json as { suspended: boolean }).suspended, true);
    assert.equal((await druid.call("POST", `/druid/indexer/v1/supervisor/${id}/terminate`)).status, 200);
    const gone = await druid.call("GET", `/druid/indexer/v1/supervisor/${id}`);
    assert.equal(gone.status, 404);
    assert.equal((await druid.call("POST", `/druid/indexer/v1/supervisor/${id}/terminate`)).status, 404, "terminating again: already gone");
  });
});
