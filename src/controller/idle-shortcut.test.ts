import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubernetesObject, V1Service } from "@kubernetes/client-node";
import type { LiveSupervisor } from "../druid/decode.ts";
import { claimsSignature, dependencySignature, listingOf, sameListing, samePart, type DependencyLookups } from "./idle-shortcut.ts";
import type { Claim } from "./ownership.ts";

const base = { metadata: { name: "orders", namespace: "team", resourceVersion: "10" }, spec: { auth: { secretRef: { name: "auth" } } } } as KubernetesObject;

function lookups(over: { secret?: string; otherSecret?: string; configMap?: string; services?: V1Service[] } = {}): DependencyLookups {
  return {
    secretVersion: (ns, name) => (ns === "team" && name === "auth" ? (over.secret ?? "5") : ns === "other" && name === "auth" ? (over.otherSecret ?? "8") : undefined),
    configMapVersion: (ns, name) => (ns === "team" && name === "orders-druid-spec" ? (over.configMap ?? "6") : undefined),
    routerServices: (ns) => (ns === "team" ? (over.services ?? [{ metadata: { name: "router", resourceVersion: "2" } }]) : []),
  };
}

test("the dependency signature changes with each thing a reconcile reads from the caches, and only with them", () => {
  const sig = (raw: KubernetesObject, l = lookups()) => dependencySignature(raw, "orders-druid-spec", l);
  const reference = sig(base);
  assert.equal(sig(structuredClone(base)), reference, "the same inputs, the same signature");
  const cases: Array<[string, string]> = [
    ["the resource's version", sig({ ...base, metadata: { ...base.metadata, resourceVersion: "11" } })],
    ["the Secret's version", sig(base, lookups({ secret: "9" }))],
    ["the Secret gone (or its label removed)", sig(base, { ...lookups(), secretVersion: () => undefined })],
    ["another Secret named", sig({ ...base, spec: { auth: { secretRef: { name: "auth", namespace: "other" } } } } as KubernetesObject)],
    ["the ConfigMap's version", sig(base, lookups({ configMap: "7" }))],
    ["the ConfigMap gone", sig(base, { ...lookups(), configMapVersion: () => undefined })],
    ["a router Service changed", sig(base, lookups({ services: [{ metadata: { name: "router", resourceVersion: "3" } }] }))],
    ["a router Service added", sig(base, lookups({ services: [{ metadata: { name: "router", resourceVersion: "2" } }, { metadata: { name: "router-b", resourceVersion: "1" } }] }))],
    ["no router Service", sig(base, lookups({ services: [] }))],
  ];
  for (const [what, signature] of cases) assert.notEqual(signature, reference, what);
  assert.equal(new Set(cases.map(([, s]) => s)).size, cases.length, "each change gives its own signature");
  // What another resource or namespace holds is not this one's dependency.
  const elsewhere: DependencyLookups = {
    secretVersion: (ns, name) => (ns === "team" && name === "other-auth" ? "99" : lookups().secretVersion(ns, name)),
    configMapVersion: (ns, name) => (name === "clicks-druid-spec" ? "99" : lookups().configMapVersion(ns, name)),
    routerServices: (ns) => (ns === "elsewhere" ? [{ metadata: { name: "router", resourceVersion: "99" } }] : lookups().routerServices(ns)),
  };
  assert.equal(sig(base, elsewhere), reference, "another Secret, another resource's ConfigMap, another namespace's Service");
  // A malformed object (not yet validated) gives a signature, never an exception.
  assert.equal(typeof sig({ metadata: {}, spec: { auth: { secretRef: { name: 42 } } } } as KubernetesObject), "string");
});

test("the claims signature is the set of claims as the ownership check weighs them", () => {
  const claim = (key: string, over: Partial<Claim> = {}): Claim => ({ key, createdAt: "2026-01-01T00:00:00Z", druidEndpoint: "http://d", supervisorId: "s", deleting: false, recorded: true, ...over });
  const a = claim("team/a");
  const b = claim("team/b", { recorded: false });
  assert.equal(claimsSignature([a, b]), claimsSignature([b, a]), "order does not matter");
  for (const [what, other] of [
    ["a claim more", [a, b, claim("team/c")]],
    ["a claim less", [a]],
    ["recorded", [a, { ...b, recorded: true }]],
    ["deleting", [a, { ...b, deleting: true }]],
    ["created at", [a, { ...b, createdAt: "2020-01-01T00:00:00Z" }]],
  ] as Array<[string, Claim[]]>) {
    assert.notEqual(claimsSignature(other), claimsSignature([a, b]), what);
  }
});

test("a listing is the same when state, detailed state, health, suspension and id are; the spec is not part of it", () => {
  const then: LiveSupervisor = { id: "s", state: "RUNNING", detailedState: "RUNNING", healthy: true, suspended: false, spec: undefined };
  assert.equal(sameListing({ ...then, spec: { a: 1 } }, then), true);
  assert.equal(sameListing(undefined, then), false, "gone from the list");
  for (const change of [{ id: "t" }, { state: "SUSPENDED" }, { detailedState: "CONNECTING_TO_STREAM" }, { healthy: false }, { suspended: true }] as Array<Partial<LiveSupervisor>>) {
    assert.equal(sameListing({ ...then, ...change }, then), false, JSON.stringify(change));
  }
  assert.deepEqual(listingOf({ ...then, spec: { big: "x".repeat(1000) } }), then, "a memo keeps no stored spec");
  assert.equal(samePart({ a: [1, 2] }, { dataSource: "d", value: { a: [1, 2] } }), true);
  assert.equal(samePart({ a: [2, 1] }, { dataSource: "d", value: { a: [1, 2] } }), false);
  assert.equal(samePart(undefined, { dataSource: "d", value: { a: 1 } }), false, "a config removed");
  assert.equal(samePart({ a: 1 }, undefined), true, "not part of the memo");
});
