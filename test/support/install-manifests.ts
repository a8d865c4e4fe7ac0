// What every install of the controller must grant and run, whichever way it is rendered
// (deploy/ with kustomize, charts/ with Helm): checked by test/unit/deploy.test.ts on deploy/ and by
// test/unit/helm-chart.test.ts on the chart's output, so the two cannot hold different rules.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseBindAddress, SETTINGS } from "../../src/config.ts";
import type { Doc } from "./helm.ts";
import { REPO_ROOT } from "./stack.ts";

export const packageVersion = (JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;
const knownEnv = new Set([...Object.values(SETTINGS).map((s) => s.env), "POD_NAMESPACE"]);
export const healthPort = parseBindAddress(SETTINGS.healthAddress.default).port;
export const metricsPort = parseBindAddress(SETTINGS.metricsAddress.default).port;

/** Exactly the rules the code uses, nothing broader. */
export function assertLeastPrivilegeClusterRole(role: Doc): void {
  const rules = (role["rules"] as Doc[]).map((r) => ({ groups: r["apiGroups"], resources: r["resources"], verbs: r["verbs"], names: r["resourceNames"] }));
  assert.deepEqual(rules, [
    { groups: ["druid.apache.org"], resources: ["druidingestions"], verbs: ["get", "list", "watch", "patch", "update"], names: undefined },
    { groups: ["druid.apache.org"], resources: ["druidingestions/status"], verbs: ["get", "patch", "update"], names: undefined },
    { groups: ["druid.apache.org"], resources: ["druidingestions/finalizers"], verbs: ["update"], names: undefined },
    { groups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "patch"], names: undefined },
    { groups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"], names: undefined },
    { groups: [""], resources: ["services"], verbs: ["get", "list", "watch"], names: undefined },
    { groups: [""], resources: ["events"], verbs: ["create", "patch"], names: undefined },
  ]);
  const flat = JSON.stringify(role["rules"]);
  assert.ok(!flat.includes('"*"'), "no wildcards");
  assert.ok(!/"delete"|"deletecollection"|"escalate"|"bind"|"impersonate"/.test(flat), "no delete, escalate, bind or impersonate");
  assert.ok(!flat.includes('"druids"'), "the Druid CR is never read");
  assert.ok(!flat.includes("leases"), "Leases only through the namespaced Role");
}

/** Leader election: create any Lease (the name is unknown to the authorizer then), get/update only `leaseName`. */
export function assertLeaseRole(role: Doc, leaseName: string): void {
  assert.deepEqual(role["rules"], [
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: [leaseName], verbs: ["get", "update"] },
  ]);
}

export function checkContainerSecurity(container: Doc, what: string): void {
  const sc = container["securityContext"];
  assert.equal(sc["runAsNonRoot"], true, `${what}: runAsNonRoot`);
  assert.equal(sc["runAsUser"], 65532, `${what}: the image's numeric user`);
  assert.equal(sc["allowPrivilegeEscalation"], false, what);
  assert.equal(sc["readOnlyRootFilesystem"], true, what);
  assert.deepEqual(sc["capabilities"], { drop: ["ALL"] }, what);
  assert.deepEqual(sc["seccompProfile"], { type: "RuntimeDefault" }, what);
  assert.ok(container["resources"]?.["requests"]?.["cpu"] && container["resources"]?.["requests"]?.["memory"], `${what}: requests`);
  assert.ok(container["resources"]?.["limits"]?.["memory"], `${what}: memory limit`);
  assert.match(container["image"], new RegExp(`^ghcr\\.io/druid-ingestion-controller/druid-ingestion-controller:${packageVersion.replace(/\./g, "\\.")}$`), `${what}: image tag = package version`);
  const env = container["env"] as Doc[];
  for (const e of env) assert.ok(knownEnv.has(e["name"]), `${what}: env ${e["name"]} is not a setting the controller reads`);
  const byName = new Map(env.map((e) => [e["name"], e]));
  assert.deepEqual(byName.get("POD_NAME")?.["valueFrom"], { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } }, `${what}: Lease identity from the downward API`);
  assert.deepEqual(byName.get("POD_NAMESPACE")?.["valueFrom"], { fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }, `${what}: Lease namespace from the downward API`);
  assert.equal(byName.get("LEADER_ELECT")?.["value"], "true", `${what}: leader election on`);
  const probePort = (probe: Doc) => {
    const port = probe["httpGet"]["port"];
    return typeof port === "number" ? port : (container["ports"] as Doc[]).find((p) => p["name"] === port)?.["containerPort"];
  };
  assert.equal(container["livenessProbe"]["httpGet"]["path"], "/healthz", what);
  assert.equal(container["readinessProbe"]["httpGet"]["path"], "/readyz", what);
  assert.equal(probePort(container["livenessProbe"]), healthPort, `${what}: liveness on the health port`);
  assert.equal(probePort(container["readinessProbe"]), healthPort, `${what}: readiness on the health port`);
  assert.deepEqual((container["ports"] as Doc[]).map((p) => p["containerPort"]).sort(), [metricsPort, healthPort].sort(), what);
  for (const p of container["ports"] as Doc[]) assert.ok(String(p["name"]).length <= 15, `${what}: port name ${p["name"]} too long`);
}

