// The resync of a resource nothing happened to. A reconcile that changed nothing (no Druid call,
// no status write, nothing awaited) leaves a memo of what it depended on: the resource's version,
// the versions of the Secret, ConfigMap and router Services it read, the other claims on its
// supervisor, and Druid's listing of that supervisor (and of its datasource's compaction config and
// rules). At the next resync, when all of them are as they were, the reconcile would come to the
// same end: only Druid's list is read, and validation, render, hashing, the plan and the status
// comparison are skipped. Anything else (an edit, a Secret or Service change, a drift check due,
// a state change in Druid's list) takes the whole path. Pure, apart from the caller's lookups.
import type { KubernetesObject, V1Service } from "@kubernetes/client-node";
import type { DruidClient } from "../druid/client.ts";
import type { LiveSupervisor } from "../druid/decode.ts";
import type { JsonObject } from "../api/druid-ingestion.ts";
import { jsonEqual } from "./canonical-json.ts";
import type { Claim } from "./ownership.ts";

/** A datasource part (compaction config or rules) as the memo's reconcile read it from the shared list. */
export interface ListedPart<T> {
  dataSource: string;
  value: T;
}

export interface IdleMemo {
  /** What the reconcile depended on in the caches (dependencySignature + claimsSignature). */
  dependencies: string;
  client: DruidClient;
  /** The target's endpoint as claims are indexed (normalized). */
  druidEndpoint: string;
  supervisorId: string;
  druidVersion: string;
  /** Druid's listing as that reconcile saw it, without the stored spec (listingOf). */
  supervisor: LiveSupervisor;
  compaction?: ListedPart<JsonObject | undefined>;
  rules?: ListedPart<JsonObject[]>;
}

/** The cache lookups a resource's reconcile depends on, besides its own object. */
export interface DependencyLookups {
  secretVersion(namespace: string, name: string): string | undefined;
  configMapVersion(namespace: string, name: string): string | undefined;
  routerServices(namespace: string): readonly V1Service[];
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/**
 * The versions of what a reconcile of this object reads from the caches, in one string: the
 * object itself (spec, status, annotations, finalizers, deletion), its credentials Secret, its
 * spec ConfigMap and the router Services of its namespace. Read from the object as it is (not
 * yet validated): a malformed one only gives another string.
 */
export function dependencySignature(raw: KubernetesObject, configMapName: string, lookups: DependencyLookups): string {
  const namespace = raw.metadata?.namespace ?? "";
  const spec = (raw as { spec?: { auth?: { secretRef?: { name?: unknown; namespace?: unknown } } } }).spec;
  const secretRef = spec?.auth?.secretRef;
  const secretName = text(secretRef?.name);
  const secretNamespace = text(secretRef?.namespace) || namespace;
  const services = lookups.routerServices(namespace).map((s) => `${s.metadata?.name ?? ""}@${s.metadata?.resourceVersion ?? ""}`);
  return [
    raw.metadata?.resourceVersion ?? "",
    secretName ? `${secretNamespace}/${secretName}@${lookups.secretVersion(secretNamespace, secretName) ?? "-"}` : "",
    `${configMapName}@${lookups.configMapVersion(namespace, configMapName) ?? "-"}`,
    services.join(","),
  ].join("\n");
}

/** The claims on a supervisor, as the ownership check weighs them. */
export function claimsSignature(claims: Iterable<Claim>): string {
  const parts: string[] = [];
  for (const c of claims) parts.push(`${c.key}|${c.createdAt}|${c.recorded ? 1 : 0}|${c.deleting ? 1 : 0}`);
  return parts.sort().join(",");
}

/** What a memo keeps of a reading: the listing, never the stored spec (10,000 specs are ~50 MiB of heap). */
export function listingOf(supervisor: LiveSupervisor): LiveSupervisor {
  const { id, state, detailedState, healthy, suspended } = supervisor;
  return { id, state, detailedState, healthy, suspended, spec: undefined };
}

/** Druid lists the supervisor as the memo's reconcile saw it (the spec is not part of a listing). */
export function sameListing(now: LiveSupervisor | undefined, then: LiveSupervisor): boolean {
  return now !== undefined && now.id === then.id && now.state === then.state && now.detailedState === then.detailedState && now.healthy === then.healthy && now.suspended === then.suspended;
}

/** A datasource part as listed now is the one the memo's reconcile saw. */
export function samePart<T>(now: T, then: ListedPart<T> | undefined): boolean {
  return then === undefined || jsonEqual(now, then.value);
}
