// The DruidIngestion resource as the controller sees it after schema validation.
// Field meanings match the druid-operator's DruidIngestion (see README "Compatibility").

export const GROUP = "druid.apache.org";
export const VERSION = "v1alpha1";
export const KIND = "DruidIngestion";
export const PLURAL = "druidingestions";
export const API_VERSION = `${GROUP}/${VERSION}`;

/** The druid-operator's finalizer: reusing it lets us take over resources it managed. */
export const FINALIZER = "druidingestion.datainfra.io/finalizer";

/** Setting this annotation to "true" stops every change the controller would make. */
export const PAUSE_ANNOTATION = "ingestion.druid.apache.org/paused";

export const DEFAULT_USERNAME_KEY = "OperatorUserName";
export const DEFAULT_PASSWORD_KEY = "OperatorPassword";

/**
 * A Secret the controller may read carries this label with the value "true": only those are
 * watched, and no other Secret is ever read, whatever a resource names.
 */
export const CREDENTIALS_LABEL = "druid.apache.org/credentials";
export const CREDENTIALS_SELECTOR = `${CREDENTIALS_LABEL}=true`;

export type DeletionPolicy = "Delete" | "Orphan";

/**
 * How far the controller may act on what it finds in Druid (in the spirit of Crossplane's
 * management policies). Manage: create and manage; a supervisor it did not create is left alone
 * (the resource stands down with SupervisorExists). Adopt: as Manage, but an existing supervisor
 * (and compaction config and rules) is taken over and then managed as if created here. Observe:
 * report Druid's state and whether it matches the spec; never write to Druid.
 */
export type ManagementPolicy = "Manage" | "Adopt" | "Observe";

/** Where the Druid endpoint came from; a recorded router-Service endpoint is never replaced by a fallback. */
export type EndpointSource = "DruidEndpoint" | "RouterService" | "ControllerDefault";

/** How a resource came to own what its record names. */
export type RecordOrigin = "Created" | "Adopted" | "DruidOperator";

export interface SecretReference {
  name?: string;
  namespace?: string;
}

export interface IngestionAuth {
  type: "basic-auth" | "";
  secretRef: SecretReference;
  usernameKey?: string;
  passwordKey?: string;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export interface IngestionSpec {
  type: string;
  spec?: string;
  nativeSpec?: JsonObject;
  compaction?: JsonObject;
  rules?: JsonObject[];
}

/** Where spec.resetOffsetsNonce moves the supervisor's stored read position: exactly one of these. */
export interface ResetOffsets {
  /**
   * Partition → the offset (Kafka, Rabbit) or sequence number (Kinesis) to read next. Partitions
   * not named keep theirs. Offsets beyond 2^53 are given as strings.
   */
  partitions?: Record<string, number | string>;
  /** Druid 38+: read from the stream's latest offsets now; a bounded backfill supervisor reads what is skipped. */
  latestAndBackfill?: { backfillTaskCount?: number };
}

export interface RollbackSpec {
  enabled?: boolean;
  /** How long after an update an unhealthy supervisor is rolled back, and a healthy one's spec becomes the last known good (Go duration, default 10m). */
  window?: string;
}

export interface DruidIngestionSpec {
  druidCluster?: string;
  druidEndpoint?: string;
  suspend?: boolean;
  resetNonce?: string;
  resetOnResume?: boolean;
  /** Each new non-empty value applies resetOffsets once (Druid's resetOffsets, or resetToLatestAndBackfill). */
  resetOffsetsNonce?: string;
  resetOffsets?: ResetOffsets;
  /** Opt-in: go back to the last known good supervisor spec when an update fails (see controller/rollback.ts). */
  rollback?: RollbackSpec;
  deletionPolicy?: DeletionPolicy;
  managementPolicy?: ManagementPolicy;
  /** A change Druid cannot make in place (another stream or type): refused (default) or done by recreating the supervisor. */
  unsafeChangePolicy?: "Refuse" | "Recreate";
  /** JSON pointers into the supervisor spec whose changes in Druid are not drift (someone else owns them). */
  driftIgnorePaths?: string[];
  ingestion: IngestionSpec;
  auth?: IngestionAuth;
}

export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/**
 * What this resource has put into Druid, and where: written only after Druid accepted it.
 * Cleanup (deletion, a move) acts on this record only, and only on this endpoint.
 */
export interface AppliedRecord {
  /** Normalized base URL of the Druid router/Overlord that holds it. */
  druidEndpoint: string;
  endpointSource?: EndpointSource;
  /** The spec.druidCluster the endpoint was found for (a router Service or the default URL). */
  druidCluster?: string;
  supervisorId?: string;
  /** The id Druid gave the task (for SQL, Druid's `query-...` id). */
  taskId?: string;
  /** The datasource whose compaction config (compactionHash) and rules (rulesHash) were applied. */
  dataSource?: string;
  origin: RecordOrigin;
}

/**
 * Written (with a resourceVersion precondition) just before a create, so that a supervisor or
 * task whose creation outcome was lost (timeout, crash) is known to be this resource's.
 */
export interface PendingCreate {
  druidEndpoint: string;
  supervisorId?: string;
  taskId?: string;
  /** The datasource whose compaction config or rules are about to be created. */
  dataSource?: string;
  since: string;
}

/**
 * Written (with a resourceVersion precondition) just before `POST /reset` for spec.resetNonce.
 * Druid keeps no trace of a reset, so while this names the current nonce and lastResetNonce does
 * not, the reset may or may not have happened: it is never sent again for that nonce.
 */
export interface PendingReset {
  nonce: string;
  supervisorId: string;
  druidEndpoint: string;
  since: string;
}

export interface LastKnownGood {
  specHash: string;
  /** The rendered spec (canonical JSON, Secret references as references). */
  spec: string;
  recordedAt: string;
}

export interface RollbackRecord {
  /** The generation whose spec was rolled back (fromSpecHash: that spec is not applied again while the resource asks for it). */
  generation: number;
  fromSpecHash: string;
  toSpecHash: string;
  reason: "DruidRejected" | "Unhealthy";
  message: string;
  time: string;
}

/** One of a supervisor's recent errors as status shows it. */
export interface RecentError {
  timestamp?: string;
  exceptionClass?: string;
  message: string;
}

/** How far behind the supervisor is, as last written (see controller/lag.ts for when). */
export interface SupervisorLag {
  records?: number;
  millis?: number;
  lastUpdateTime: string;
}

export interface DruidIngestionStatus {
  observedGeneration?: number;
  applied?: AppliedRecord;
  pendingCreate?: PendingCreate;
  pendingReset?: PendingReset;
  /** As pendingReset, for spec.resetOffsetsNonce. */
  pendingResetOffsets?: PendingReset;
  /** The driftIgnorePaths in effect when druidSpecHash was recorded. */
  driftIgnorePaths?: string[];
  supervisorId?: string;
  taskId?: string;
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  "currentIngestionSpec.json"?: string;
  rules?: JsonObject[];
  specHash?: string;
  druidSpecHash?: string;
  compactionHash?: string;
  druidCompactionHash?: string;
  rulesHash?: string;
  druidRulesHash?: string;
  configMapName?: string;
  druidEndpoint?: string;
  druidVersion?: string;
  state?: string;
  detailedState?: string;
  healthy?: boolean;
  /** While Druid reports the supervisor unhealthy: its newest errors (at most 3), cleaned of credentials. */
  recentErrors?: RecentError[];
  lag?: SupervisorLag;
  taskStatus?: string;
  lastResetNonce?: string;
  lastResetOffsetsNonce?: string;
  /** When the supervisor spec (specHash) last changed in Druid by this resource's submit. */
  specAppliedTime?: string;
  /** Druid reported the supervisor healthy when that spec was applied (only then is an unhealthy one rolled back). */
  specAppliedOnHealthy?: boolean;
  /** The last supervisor spec Druid ran healthy for the rollback window (spec.rollback). */
  lastKnownGood?: LastKnownGood;
  /** The last rollback: the generation whose spec is held back, and why. */
  rollback?: RollbackRecord;
  conditions?: Condition[];
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation: number;
  resourceVersion: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface DruidIngestion {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: DruidIngestionSpec;
  status?: DruidIngestionStatus;
}

export function objectKey(ns: string, name: string): string {
  return `${ns}/${name}`;
}

export function isPaused(ingestion: DruidIngestion): boolean {
  return ingestion.metadata.annotations?.[PAUSE_ANNOTATION] === "true";
}

export function deletionPolicyOf(ingestion: DruidIngestion): DeletionPolicy {
  return ingestion.spec.deletionPolicy ?? "Delete";
}

export function managementPolicyOf(ingestion: DruidIngestion): ManagementPolicy {
  return ingestion.spec.managementPolicy ?? "Manage";
}

/**
 * The Go druid-operator writes objects back with an empty `auth` (no omitempty), so
 * "type empty and secretRef.name empty" means no auth, as it does there.
 */
export function authOf(ingestion: DruidIngestion): IngestionAuth | undefined {
  const auth = ingestion.spec.auth;
  if (!auth) return undefined;
  if (auth.type === "" && !auth.secretRef?.name) return undefined;
  return auth;
}
