// The workload: a pool of Kafka DruidIngestions spread over the run's namespaces, created,
// edited (a spec value, suspend/resume, a new resetNonce, a datasource rename), deleted and
// replaced at random. The choice of the next operation is pure (model + seeded PRNG); applying it
// talks to kube-apiserver directly (admin, no tunnel). The model is what the workload asked for;
// the checker judges from what the API server holds, so a write whose outcome was lost (API
// server restart) only makes the model `uncertain` until it is read again.
// At most `maxRunning` resources ask to run at once: a running Kafka supervisor forks JVM peon
// tasks, and the CI machine has 2 cores. New resources start suspended.
import { ApiException } from "@kubernetes/client-node";
import type { DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { kafkaIngestion } from "../ingestions.ts";
import type { Kube } from "../kube.ts";
import type { Prng } from "./prng.ts";

export const RUN_LABEL = "chaos.druid-ingestion-controller/run";

export interface PooledResource {
  namespace: string;
  name: string;
  dataSource: string;
  suspend: boolean;
  resetNonce: string | undefined;
  maxRowsInMemory: number;
  dimensions: string[];
  /** The last write's outcome is unknown: read the resource before the next operation on it. */
  uncertain: boolean;
}

export type Operation =
  | { kind: "create"; namespace: string; name: string; dataSource: string; suspend: boolean; reusedName: boolean }
  | { kind: "editSpec"; key: string; field: "maxRowsInMemory"; value: number }
  | { kind: "editSpec"; key: string; field: "dimensions"; value: string[] }
  | { kind: "suspend"; key: string }
  | { kind: "resume"; key: string }
  | { kind: "resetNonce"; key: string; nonce: string }
  | { kind: "rename"; key: string; dataSource: string }
  | { kind: "delete"; key: string };

export type Outcome = "applied" | "refused" | "unknown";

export interface WorkloadLimits {
  poolSize: number;
  maxRunning: number;
}

const DIMENSION_SETS = [["page"], ["page", "user"], ["page", "user", "country"]];
const ROW_LIMITS = [10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 75_000, 90_000];

export function keyOf(r: { namespace: string; name: string }): string {
  return `${r.namespace}/${r.name}`;
}

/** Names and counters that make every created resource and datasource unique within the run. */
export interface Naming {
  prefix: string;
  namespaces: readonly string[];
  nextResource: number;
  nextDataSource: number;
  nextNonce: number;
  /** Names of deleted resources, per namespace, that may be used again. */
  deletedNames: string[];
}

/** The next operation for this pool, or undefined when none applies. Pure but for the naming counters it advances. */
export function chooseOperation(pool: ReadonlyMap<string, PooledResource>, naming: Naming, limits: WorkloadLimits, prng: Prng): Operation | undefined {
  const live = [...pool.values()];
  const running = live.filter((r) => !r.suspend || r.uncertain).length;
  const nextDataSource = (): string => `${naming.prefix}-d${naming.nextDataSource++}`;
  const missing = limits.poolSize - live.length;
  const kind = prng.weighted<Operation["kind"]>([
    ["create", missing > 0 ? 40 + 20 * missing : 0],
    ["editSpec", live.length > 0 ? 25 : 0],
    ["suspend", live.some((r) => !r.suspend) ? 10 : 0],
    ["resume", live.some((r) => r.suspend) && running < limits.maxRunning ? 10 : 0],
    ["resetNonce", live.length > 0 ? 20 : 0],
    ["rename", live.length > 0 ? 10 : 0],
    ["delete", live.length > Math.max(1, limits.poolSize - 2) ? 8 : 0],
  ]);
  if (kind === undefined) return undefined;
  if (kind === "create") {
    const namespace = prng.pick(naming.namespaces);
    const reusable = naming.deletedNames.filter((k) => k.startsWith(`${namespace}/`) && !pool.has(k));
    const reuse = reusable.length > 0 && prng.chance(0.3);
    const name = reuse ? (prng.pick(reusable).split("/")[1] as string) : `ing-${naming.nextResource++}`;
    return { kind, namespace, name, dataSource: nextDataSource(), suspend: running >= limits.maxRunning || prng.chance(0.7), reusedName: reuse };
  }
  const candidates = kind === "suspend" ? live.filter((r) => !r.suspend) : kind === "resume" ? live.filter((r) => r.suspend) : live;
  const target = prng.pick(candidates);
  const key = keyOf(target);
  switch (kind) {
    case "editSpec":
      if (prng.chance(0.6)) return { kind, key, field: "maxRowsInMemory", value: prng.pick(ROW_LIMITS.filter((v) => v !== target.maxRowsInMemory)) };
      return { kind, key, field: "dimensions", value: prng.pick(DIMENSION_SETS.filter((d) => d.join() !== target.dimensions.join())) };
    case "suspend":
    case "resume":
    case "delete":
      return { kind, key };
    case "resetNonce":
      return { kind, key, nonce: `${naming.prefix}-n${naming.nextNonce++}` };
    case "rename":
      return { kind, key, dataSource: nextDataSource() };
  }
}

/** The manifest of a new pooled resource: the e2e Kafka resource, on the run's topic, labelled with the run. */
export function manifestFor(op: Extract<Operation, { kind: "create" }>, run: { id: string; topic: string; bootstrap: string }): Record<string, unknown> {
  const manifest = kafkaIngestion(op.name, op.dataSource, run.bootstrap, { suspend: op.suspend });
  (manifest["metadata"] as Record<string, unknown>)["labels"] = { [RUN_LABEL]: run.id };
  const spec = manifest["spec"] as { ingestion: { nativeSpec: { spec: { ioConfig: { topic: string } } } } };
  spec.ingestion.nativeSpec.spec.ioConfig.topic = run.topic;
  return manifest;
}

/** The spec fields the workload changes, as the resource holds them. */
export function pooledFrom(i: DruidIngestion): PooledResource {
  const native = i.spec.ingestion.nativeSpec as { spec?: { dataSchema?: { dataSource?: string; dimensionsSpec?: { dimensions?: unknown[] } }; tuningConfig?: { maxRowsInMemory?: number } } } | undefined;
  const inner = native?.spec;
  return {
    namespace: i.metadata.namespace,
    name: i.metadata.name,
    dataSource: inner?.dataSchema?.dataSource ?? "",
    suspend: i.spec.suspend === true,
    resetNonce: i.spec.resetNonce,
    maxRowsInMemory: inner?.tuningConfig?.maxRowsInMemory ?? 10_000,
    dimensions: (inner?.dataSchema?.dimensionsSpec?.dimensions ?? []).map((d) => (typeof d === "string" ? d : String((d as { name?: string }).name))),
    uncertain: false,
  };
}

function patchFor(op: Operation): unknown {
  switch (op.kind) {
    case "editSpec":
      return op.field === "maxRowsInMemory"
        ? { spec: { ingestion: { nativeSpec: { spec: { tuningConfig: { maxRowsInMemory: op.value } } } } } }
        : { spec: { ingestion: { nativeSpec: { spec: { dataSchema: { dimensionsSpec: { dimensions: op.value } } } } } } };
    case "suspend":
      return { spec: { suspend: true } };
    case "resume":
      return { spec: { suspend: false } };
    case "resetNonce":
      return { spec: { resetNonce: op.nonce } };
    case "rename":
      return { spec: { ingestion: { nativeSpec: { spec: { dataSchema: { dataSource: op.dataSource } } } } } };
    default:
      return undefined;
  }
}

function outcomeOf(error: unknown): Outcome {
  // A 4xx is a refusal (conflict, not found, invalid): nothing changed. So is a refused
  // connection (the API server restarting). Anything else may have changed the resource.
  if (error instanceof ApiException && error.code >= 400 && error.code < 500) return "refused";
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  if (cause?.code === "ECONNREFUSED") return "refused";
  return "unknown";
}

/**
 * The reset allowance: per supervisor id, the resetNonce values that were current on a resource
 * while it named that supervisor (each may cause one reset of it).
 */
export class ResetAllowance {
  private readonly byId = new Map<string, Set<string>>();

  allow(supervisorId: string, nonce: string | undefined): void {
    if (nonce === undefined) return;
    let set = this.byId.get(supervisorId);
    if (!set) this.byId.set(supervisorId, (set = new Set()));
    set.add(nonce);
  }

  toRecord(): Record<string, string[]> {
    return Object.fromEntries([...this.byId].map(([id, nonces]) => [id, [...nonces]]));
  }
}

export interface WorkloadCounts {
  created: number;
  edited: number;
  deleted: number;
  refused: number;
  unknown: number;
}

export class Workload {
  readonly pool = new Map<string, PooledResource>();
  readonly naming: Naming;
  readonly allowance = new ResetAllowance();
  readonly counts: WorkloadCounts = { created: 0, edited: 0, deleted: 0, refused: 0, unknown: 0 };
  private readonly kube: Kube;
  private readonly prng: Prng;
  private readonly limits: WorkloadLimits;
  private readonly run: { id: string; topic: string; bootstrap: string };

  constructor(deps: { kube: Kube; prng: Prng; limits: WorkloadLimits; run: { id: string; topic: string; bootstrap: string; prefix: string; namespaces: string[] } }) {
    this.kube = deps.kube;
    this.prng = deps.prng;
    this.limits = deps.limits;
    this.run = deps.run;
    this.naming = { prefix: deps.run.prefix, namespaces: deps.run.namespaces, nextResource: 0, nextDataSource: 0, nextNonce: 0, deletedNames: [] };
  }

  /** Reads back resources whose last write had an unknown outcome. False if the API server did not answer. */
  async refreshUncertain(): Promise<boolean> {
    for (const r of [...this.pool.values()].filter((p) => p.uncertain)) {
      let live: DruidIngestion | undefined;
      try {
        live = await this.kube.getIngestion(r.namespace, r.name);
      } catch {
        return false;
      }
      const key = keyOf(r);
      if (!live || live.metadata.deletionTimestamp) {
        this.pool.delete(key);
        if (!this.naming.deletedNames.includes(key)) this.naming.deletedNames.push(key);
        continue;
      }
      const fresh = pooledFrom(live);
      // What the resource really names now may carry a nonce to a supervisor (see ResetAllowance).
      this.allowance.allow(fresh.dataSource, fresh.resetNonce);
      this.pool.set(key, fresh);
    }
    return true;
  }

  /** One operation: chosen, applied, recorded. Returns it with its outcome (undefined when none applied). */
  async step(): Promise<{ op: Operation; outcome: Outcome; error?: string } | undefined> {
    if (!(await this.refreshUncertain())) return undefined;
    const op = chooseOperation(this.pool, this.naming, this.limits, this.prng);
    if (!op) return undefined;
    let outcome: Outcome = "applied";
    let error: string | undefined;
    try {
      await this.apply(op);
    } catch (e) {
      outcome = outcomeOf(e);
      error = e instanceof ApiException ? `HTTP ${e.code}` : (e as Error).message;
    }
    this.record(op, outcome);
    return { op, outcome, ...(error ? { error } : {}) };
  }

  private async apply(op: Operation): Promise<void> {
    if (op.kind === "create") {
      await this.kube.createIngestion(op.namespace, manifestFor(op, this.run));
      return;
    }
    const r = this.pool.get(op.key) as PooledResource;
    if (op.kind === "delete") {
      await this.kube.deleteIngestion(r.namespace, r.name);
      return;
    }
    await this.kube.patchIngestion(r.namespace, r.name, patchFor(op));
  }

  private record(op: Operation, outcome: Outcome): void {
    if (outcome === "refused") {
      this.counts.refused++;
      return;
    }
    if (outcome === "unknown") this.counts.unknown++;
    const uncertain = outcome === "unknown";
    if (op.kind === "create") {
      this.counts.created++;
      const key = keyOf(op);
      this.pool.set(key, { namespace: op.namespace, name: op.name, dataSource: op.dataSource, suspend: op.suspend, resetNonce: undefined, maxRowsInMemory: 10_000, dimensions: ["page"], uncertain });
      this.naming.deletedNames = this.naming.deletedNames.filter((k) => k !== key);
      return;
    }
    const r = this.pool.get(op.key) as PooledResource;
    if (op.kind === "delete") {
      this.counts.deleted++;
      if (uncertain) r.uncertain = true;
      else {
        this.pool.delete(op.key);
        this.naming.deletedNames.push(op.key);
      }
      return;
    }
    this.counts.edited++;
    if (uncertain) r.uncertain = true;
    switch (op.kind) {
      case "editSpec":
        if (op.field === "maxRowsInMemory") r.maxRowsInMemory = op.value;
        else r.dimensions = op.value;
        break;
      case "suspend":
        r.suspend = true;
        break;
      case "resume":
        r.suspend = false;
        break;
      case "resetNonce":
        r.resetNonce = op.nonce;
        this.allowance.allow(r.dataSource, op.nonce);
        break;
      case "rename":
        r.dataSource = op.dataSource;
        this.allowance.allow(op.dataSource, r.resetNonce);
        break;
    }
  }
}

/** One line for the journal and the console. */
export function describeOperation(op: Operation): string {
  switch (op.kind) {
    case "create":
      return `create ${op.namespace}/${op.name} (${op.dataSource}${op.suspend ? ", suspended" : ", running"}${op.reusedName ? ", name reused" : ""})`;
    case "editSpec":
      return `edit ${op.key} ${op.field}=${JSON.stringify(op.value)}`;
    case "resetNonce":
      return `resetNonce ${op.key} = ${op.nonce}`;
    case "rename":
      return `rename ${op.key} datasource -> ${op.dataSource}`;
    default:
      return `${op.kind} ${op.key}`;
  }
}
