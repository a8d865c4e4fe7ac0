// Watch events → DruidIngestion keys to reconcile. Events carry no logic beyond this mapping:
// a DruidIngestion's own changes (status-only updates, our own writes, are ignored), its owned
// ConfigMap, the Secrets it reads (auth, and those its spec references), the router Service it
// discovers. The indexes that make each mapping a lookup (not a scan of every resource) are kept
// here, from the same events.
import type { KubernetesObject, V1ConfigMap, V1Secret, V1Service } from "@kubernetes/client-node";
import { KIND, objectKey, type DruidIngestion } from "../api/druid-ingestion.ts";
import type { InformerEvent } from "../kube/informer.ts";
import { secretKeyOf } from "./druid-target.ts";
import { ClaimIndex, ReferenceIndex } from "./indexes.ts";
import { secretRefKeysOf } from "./render.ts";
import type { Claim } from "./ownership.ts";

export interface KeySink {
  add(key: string): void;
  forget(key: string): void;
}

/** How long a deleted Secret is remembered for the deletion of the resources that used it. */
export const DELETED_SECRET_TTL_MS = 3_600_000;

/** How long watch events older than our own indexed write are ignored for the indexes at most. */
const NOTED_WRITE_TTL_MS = 30_000;

export class EventRouter {
  private readonly sink: KeySink;
  private readonly now: () => number;
  /** What last triggered a reconcile per key: status-only updates are ignored. */
  private readonly fingerprints = new Map<string, string>();
  private readonly claims = new ClaimIndex();
  /** Resources by the Secrets they read ("namespace/name"): for auth, and referenced by the spec. */
  private readonly secretUsers = new ReferenceIndex((i) => {
    const key = secretKeyOf(i);
    return [...(key ? [key] : []), ...secretRefKeysOf(i)];
  });
  /** Resources by the Secret of their Druid login only: a deleted one is kept for their deletion. */
  private readonly authUsers = new ReferenceIndex((i) => {
    const key = secretKeyOf(i);
    return key ? [key] : [];
  });
  /** Resources by the Druid cluster whose router Service they discover ("namespace/cluster"). */
  private readonly serviceUsers = new ReferenceIndex((i) => (i.spec.druidCluster && !i.spec.druidEndpoint ? [`${i.metadata.namespace}/${i.spec.druidCluster}`] : []));
  /** Per key, the versions our own indexed writes replaced: watch events of those must not undo them. */
  private readonly noted = new Map<string, { replaced: Set<string>; at: number }>();
  /** Secrets deleted lately, as last seen, kept only while a resource that used them may need them. */
  private readonly deletedSecrets = new Map<string, { secret: V1Secret; at: number }>();
  /** Every index kept from DruidIngestion events and our own writes. */
  private readonly indexes = [this.claims, this.secretUsers, this.authUsers, this.serviceUsers];

  constructor(sink: KeySink, now: () => number = Date.now) {
    this.sink = sink;
    this.now = now;
  }

  claimsOn(druidEndpoint: string, supervisorId: string): Claim[] {
    return this.claims.claimsOn(druidEndpoint, supervisorId);
  }

  deletedSecret(namespace: string, name: string): V1Secret | undefined {
    const kept = this.deletedSecrets.get(`${namespace}/${name}`);
    return kept && this.now() - kept.at <= DELETED_SECRET_TTL_MS ? kept.secret : undefined;
  }

  onIngestion(event: InformerEvent, object: KubernetesObject): void {
    const { namespace, name } = object.metadata ?? {};
    if (!namespace || !name) return;
    const key = objectKey(namespace, name);
    if (event === "delete") {
      this.fingerprints.delete(key);
      this.noted.delete(key);
      for (const index of this.indexes) index.remove(key);
      this.sink.forget(key);
      return;
    }
    // Indexes follow every change, status included (claims live in status), but not an event
    // older than our own write already indexed (it would undo it until the watch catches up).
    const candidate: unknown = object;
    const noted = this.noted.get(key);
    const version = object.metadata?.resourceVersion;
    const behindOurWrite = noted !== undefined && version !== undefined && noted.replaced.has(version) && this.now() - noted.at < NOTED_WRITE_TTL_MS;
    if (noted && !behindOurWrite) this.noted.delete(key);
    if (isIndexable(candidate) && !behindOurWrite) for (const index of this.indexes) index.update(candidate);
    const m = object.metadata ?? {};
    // Our own status patches change resourceVersion only: not a reason to reconcile again.
    const fingerprint = JSON.stringify([m.uid, m.generation, m.annotations ?? {}, m.labels ?? {}, m.finalizers ?? [], m.deletionTimestamp ?? null]);
    if (event === "update" && this.fingerprints.get(key) === fingerprint) return;
    this.fingerprints.set(key, fingerprint);
    this.sink.add(key);
  }

  /** Our own write, as the API server stored it: the indexes learn of it before the watch delivers it. */
  indexWritten(object: unknown, replacedVersion: string): void {
    if (!isIndexable(object)) return;
    for (const index of this.indexes) index.update(object);
    const key = objectKey(object.metadata.namespace, object.metadata.name);
    const noted = this.noted.get(key);
    if (noted) {
      noted.replaced.add(replacedVersion);
      noted.at = this.now();
    } else this.noted.set(key, { replaced: new Set([replacedVersion]), at: this.now() });
  }

  onOwned(configMap: V1ConfigMap): void {
    const owner = configMap.metadata?.ownerReferences?.find((r) => r.controller && r.kind === KIND);
    const namespace = configMap.metadata?.namespace;
    if (owner && namespace) this.sink.add(objectKey(namespace, owner.name));
  }

  onSecret(event: InformerEvent, secret: V1Secret): void {
    const key = `${secret.metadata?.namespace}/${secret.metadata?.name}`;
    const users = this.secretUsers.usersOf(key);
    const now = this.now();
    for (const [k, v] of this.deletedSecrets) if (now - v.at > DELETED_SECRET_TTL_MS) this.deletedSecrets.delete(k);
    // Only a Druid login is needed to clean up; values referenced by specs are never kept.
    if (event === "delete" && this.authUsers.usersOf(key).length > 0) this.deletedSecrets.set(key, { secret, at: now });
    else this.deletedSecrets.delete(key);
    for (const user of users) this.sink.add(user);
  }

  onService(service: V1Service): void {
    const namespace = service.metadata?.namespace;
    const cluster = service.metadata?.labels?.["druid_cr"];
    if (!namespace || !cluster) return;
    for (const user of this.serviceUsers.usersOf(`${namespace}/${cluster}`)) this.sink.add(user);
  }
}

/** Enough shape to index (the reconciler validates it fully before acting on it). */
function isIndexable(object: unknown): object is DruidIngestion {
  const candidate = object as Partial<DruidIngestion>;
  return typeof candidate.spec === "object" && candidate.spec !== null && typeof candidate.spec.ingestion === "object" && candidate.spec.ingestion !== null && typeof candidate.metadata?.name === "string";
}
