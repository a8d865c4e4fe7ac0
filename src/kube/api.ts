// The Kubernetes calls the controller makes, in one place, with the content types spelled out
// (client-node defaults patches to JSON-Patch otherwise).
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type CoreV1Event,
  type RequestContext,
  type ResponseContext,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Secret,
  type V1Service,
} from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION } from "../api/druid-ingestion.ts";

export const FIELD_MANAGER = "druid-ingestion-controller";
export const EVENT_TIMEOUT_MS = 10_000;

/** Request options that abort the call when `signal` does (client-node passes it to fetch). */
export function withSignal(signal: AbortSignal): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (context: RequestContext) => {
          context.setSignal(signal);
          return new Observable(Promise.resolve(context));
        },
        post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: "append",
  };
}

export type JsonPatchOp =
  | { op: "test"; path: string; value: unknown }
  | { op: "add"; path: string; value: unknown }
  | { op: "remove"; path: string }
  | { op: "replace"; path: string; value: unknown };

/**
 * The JSON merge patch (RFC 7386) that turns `previous` into `next`: changed and new keys are set,
 * removed keys become null, objects are diffed recursively, arrays are replaced whole.
 */
export function mergePatch(previous: Record<string, unknown> | undefined, next: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  const prev = previous ?? {};
  for (const key of Object.keys(prev)) if (!(key in next) || next[key] === undefined) patch[key] = null;
  for (const [key, value] of Object.entries(next)) {
    if (value === undefined) continue;
    const before = prev[key];
    if (isPlainObject(value) && isPlainObject(before)) {
      const inner = mergePatch(before, value);
      if (Object.keys(inner).length > 0) patch[key] = inner;
    } else if (JSON.stringify(value) !== JSON.stringify(before)) {
      patch[key] = value;
    }
  }
  return patch;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function isApiStatus(error: unknown, ...codes: number[]): boolean {
  return error instanceof ApiException && codes.includes(error.code);
}

/** A short, secret-free description of a Kubernetes API failure. */
export function describeApiError(error: unknown): string {
  if (error instanceof ApiException) {
    let message = "";
    try {
      const body = typeof error.body === "string" ? JSON.parse(error.body) : error.body;
      message = typeof body?.message === "string" ? body.message : "";
    } catch {
      message = String(error.body).slice(0, 300);
    }
    return `HTTP ${error.code}${message ? `: ${message}` : ""}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** One page of a list: at most `limit` items, from where `continueToken` (the previous page's) left off. */
export interface ListPage {
  limit?: number;
  continueToken?: string;
}

function pageParams(page: ListPage): { limit?: number; _continue?: string } {
  return { ...(page.limit ? { limit: page.limit } : {}), ...(page.continueToken ? { _continue: page.continueToken } : {}) };
}

/** The token for the next page, or undefined on the last one (typed lists spell it `_continue`). */
export function continueTokenOf(list: KubernetesListObject<KubernetesObject>): string | undefined {
  const metadata = list.metadata as { _continue?: string; continue?: string } | undefined;
  return metadata?._continue || metadata?.continue || undefined;
}

export class KubeApi {
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  listIngestions(namespace: string | undefined, page: ListPage = {}): Promise<KubernetesListObject<KubernetesObject>> {
    const paging = pageParams(page);
    return namespace
      ? this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, ...paging })
      : this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, ...paging });
  }

  /** JSON-Patch on the main resource (finalizers), guarded by `test` ops for optimistic concurrency. */
  patchIngestion(namespace: string, name: string, ops: JsonPatchOp[]): Promise<unknown> {
    return this.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body: ops, fieldManager: FIELD_MANAGER },
      setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
    );
  }

  /**
   * Merge patch on the status subresource. With `resourceVersion` it is conditional (409 when the
   * object changed since), so a reconcile that read a stale cache never overwrites newer status.
   * Returns the object as stored.
   */
  patchIngestionStatus(namespace: string, name: string, status: Record<string, unknown>, resourceVersion?: string): Promise<KubernetesObject> {
    const body = resourceVersion ? { metadata: { resourceVersion }, status } : { status };
    return this.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body, fieldManager: FIELD_MANAGER },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    ) as Promise<KubernetesObject>;
  }

  /**
   * Merge patch of a ConfigMap the controller owns, conditional on `resourceVersion` (409 when it
   * changed since it was read). One write method for owned ConfigMaps (create, then merge
   * patches): a key the patch sets to null is removed whoever wrote it.
   */
  patchConfigMap(namespace: string, name: string, patch: Record<string, unknown>): Promise<V1ConfigMap> {
    return this.core.patchNamespacedConfigMap({ namespace, name, body: patch, fieldManager: FIELD_MANAGER }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
  }

  /** Creates a ConfigMap (409 when one of that name exists). */
  createConfigMap(configMap: V1ConfigMap): Promise<V1ConfigMap> {
    return this.core.createNamespacedConfigMap({ namespace: configMap.metadata?.namespace as string, body: configMap, fieldManager: FIELD_MANAGER });
  }

  readConfigMap(namespace: string, name: string): Promise<V1ConfigMap> {
    return this.core.readNamespacedConfigMap({ namespace, name });
  }

  /** The resource as the API server has it now (not from a cache). */
  getIngestion(namespace: string, name: string): Promise<KubernetesObject> {
    return this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name }) as Promise<KubernetesObject>;
  }

  listConfigMaps(namespace: string | undefined, labelSelector: string, page: ListPage = {}): Promise<KubernetesListObject<V1ConfigMap>> {
    const paging = pageParams(page);
    return namespace ? this.core.listNamespacedConfigMap({ namespace, labelSelector, ...paging }) : this.core.listConfigMapForAllNamespaces({ labelSelector, ...paging });
  }

  listSecrets(namespace: string | undefined, labelSelector: string, page: ListPage = {}): Promise<KubernetesListObject<V1Secret>> {
    const paging = pageParams(page);
    return namespace ? this.core.listNamespacedSecret({ namespace, labelSelector, ...paging }) : this.core.listSecretForAllNamespaces({ labelSelector, ...paging });
  }

  /**
   * Whether a Secret exists, without receiving anything it holds: the API server answers as a
   * Table without the object (no data, no annotations, which may hold a copy of the data), so
   * a user can be told why a Secret is not used.
   */
  async secretExists(namespace: string, name: string): Promise<boolean> {
    try {
      await this.core.readNamespacedSecret({ namespace, name }, {
        middleware: [
          {
            pre: (context: RequestContext) => {
              context.setHeaderParam("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io");
              context.setQueryParam("includeObject", "None");
              return new Observable(Promise.resolve(context));
            },
            post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
          },
        ],
        middlewareMergeStrategy: "append",
      });
      return true;
    } catch (error) {
      if (isApiStatus(error, 404)) return false;
      throw error;
    }
  }

  listServices(namespace: string | undefined, labelSelector: string, page: ListPage = {}): Promise<KubernetesListObject<V1Service>> {
    const paging = pageParams(page);
    return namespace ? this.core.listNamespacedService({ namespace, labelSelector, ...paging }) : this.core.listServiceForAllNamespaces({ labelSelector, ...paging });
  }

  /** Events are a courtesy: a call that hangs is given up after EVENT_TIMEOUT_MS, not waited on. */
  createEvent(namespace: string, event: CoreV1Event): Promise<CoreV1Event> {
    return this.core.createNamespacedEvent({ namespace, body: event }, withSignal(AbortSignal.timeout(EVENT_TIMEOUT_MS)));
  }

  patchEvent(namespace: string, name: string, patch: Record<string, unknown>): Promise<CoreV1Event> {
    return this.core.patchNamespacedEvent({ namespace, name, body: patch }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch, withSignal(AbortSignal.timeout(EVENT_TIMEOUT_MS))));
  }
}
