// `status`: the DruidIngestions of a namespace (or all) with what their status says next to what
// Druid reports now, asked once per Druid (its supervisor list) with the credentials the
// resources name. Differences are marked: status is what the controller last saw, Druid is now.
import type { DruidIngestion } from "../api/druid-ingestion.ts";
import { findCondition, READY } from "../controller/conditions.ts";
import { desiredOf } from "../controller/desired.ts";
import { failureOf } from "../controller/model.ts";
import { TASK_TYPES, wantsSuspended } from "../controller/render.ts";
import type { LiveSupervisor } from "../druid/decode.ts";
import { druidClients, resolveTarget, type Cluster, type DruidClients, type DruidOptions } from "./access.ts";

export interface StatusRow {
  namespace: string;
  name: string;
  type: string;
  /** supervisor id or task id, as status records it. */
  id: string | undefined;
  ready: string;
  synced: string;
  reason: string | undefined;
  message: string | undefined;
  wantsSuspended: boolean;
  /** As the controller last recorded it. */
  recorded: { state: string | undefined; healthy: boolean | undefined; observedGeneration: number | undefined; generation: number | undefined; druidEndpoint: string | undefined };
  /** What Druid says now; `error` when Druid could not be asked. */
  druid: { state?: string | undefined; detailedState?: string | undefined; healthy?: boolean | undefined; suspended?: boolean | undefined; present: boolean; error?: string | undefined } | undefined;
  /** Where status and Druid disagree, in words. */
  mismatches: string[];
}

/** spec.suspend, or the druid-operator's way (`"suspended": true` in the body), as the controller reads them. */
function wantsSuspendedOf(ingestion: DruidIngestion): boolean {
  try {
    const wanted = desiredOf(ingestion);
    if (wanted.ok && wanted.desired.kind === "supervisor") return wantsSuspended(ingestion, wanted.desired);
  } catch {
    // a resource the schema would refuse: spec.suspend is all there is to go by
  }
  return ingestion.spec?.suspend === true;
}

function conditionText(ingestion: DruidIngestion, type: string): string {
  return findCondition(ingestion.status?.conditions, type)?.status ?? "-";
}

function mismatchesOf(row: StatusRow): string[] {
  const out: string[] = [];
  const druid = row.druid;
  if (!druid || druid.error || TASK_TYPES.has(row.type)) return out;
  if (!row.id) return out;
  if (!druid.present) return [`Druid has no supervisor ${row.id}`];
  if (druid.state !== undefined && row.recorded.state !== undefined && druid.state !== row.recorded.state) out.push(`state ${row.recorded.state} in status, ${druid.state} in Druid`);
  if (druid.suspended !== undefined && druid.suspended !== row.wantsSuspended) out.push(druid.suspended ? "suspended in Druid, the resource wants it running" : "running in Druid, the resource wants it suspended");
  if (row.recorded.generation !== undefined && row.recorded.observedGeneration !== row.recorded.generation) out.push(`generation ${row.recorded.generation} not yet observed (status has ${row.recorded.observedGeneration ?? "none"})`);
  return out;
}

export async function statusRows(cluster: Cluster, namespace: string | undefined, options: DruidOptions): Promise<StatusRow[]> {
  const ingestions = (await cluster.listIngestions(namespace)).sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  // One supervisor list per Druid and credentials.
  const lists = new Map<string, Promise<LiveSupervisor[]>>();
  let clients: DruidClients | undefined; // made when the first Druid is asked
  const rows: StatusRow[] = [];
  for (const ingestion of ingestions) {
    const status = ingestion.status ?? {};
    const ready = findCondition(status.conditions, READY);
    const row: StatusRow = {
      namespace: ingestion.metadata.namespace,
      name: ingestion.metadata.name,
      type: ingestion.spec?.ingestion?.type ?? "?",
      id: status.applied?.supervisorId ?? status.supervisorId ?? status.applied?.taskId ?? status.taskId,
      ready: conditionText(ingestion, READY),
      synced: conditionText(ingestion, "Synced"),
      reason: ready?.status === "True" ? undefined : ready?.reason,
      message: ready?.status === "True" ? undefined : ready?.message,
      wantsSuspended: wantsSuspendedOf(ingestion),
      recorded: { state: status.state, healthy: status.healthy, observedGeneration: status.observedGeneration, generation: ingestion.metadata.generation, druidEndpoint: status.applied?.druidEndpoint ?? status.druidEndpoint },
      druid: undefined,
      mismatches: [],
    };
    const supervisorId = status.applied?.supervisorId ?? status.supervisorId;
    if (supervisorId) {
      try {
        // Where the supervisor runs: the endpoint status records (else the one the controller would find).
        const target = await resolveTarget(ingestion, cluster, options, true);
        if (!target.ok) {
          row.druid = { present: false, error: `${target.failure.reason}: ${target.failure.message}` };
        } else {
          const key = `${target.value.dialUrl}\n${target.value.credentials?.username ?? ""}\n${target.value.credentials?.password ?? ""}`;
          let list = lists.get(key);
          if (!list) {
            clients ??= druidClients(options);
            list = clients(target.value.dialUrl, target.value.credentials).listSupervisorStates();
            lists.set(key, list);
          }
          const live = (await list).find((s) => s.id === supervisorId);
          row.druid = live ? { present: true, state: live.state, detailedState: live.detailedState, healthy: live.healthy, suspended: live.suspended } : { present: false };
        }
      } catch (error) {
        const failure = failureOf(error);
        row.druid = { present: false, error: `${failure.reason}: ${failure.message}` };
      }
    }
    row.mismatches = mismatchesOf(row);
    rows.push(row);
  }
  return rows;
}
