// Carries out a plan against Druid, in order, stopping at the first failure. Makes no
// decisions; reads back what Druid stored after each apply so drift can be told apart later.
import type { DruidClient } from "../druid/client.ts";
import { DruidError } from "../druid/errors.ts";
import type { DruidSnapshots } from "../druid/snapshot.ts";
import { contentHash } from "./canonical-json.ts";
import { liveSupervisorSpecHash, supportsSkipRestart, type DruidAction } from "./plan.ts";
import type { Failure, Outcome } from "./status.ts";

export function failureOf(error: unknown): Failure {
  if (error instanceof DruidError) return { reason: error.reason, message: error.message, transient: error.transient };
  return { reason: "InternalError", message: error instanceof Error ? error.message : String(error), transient: true };
}

const DUPLICATE_TASK = /already exists|duplicate|entryAlreadyExists/i;

export async function executePlan(actions: readonly DruidAction[], client: DruidClient, snapshots: DruidSnapshots, druidVersion: string): Promise<Outcome> {
  const outcome: Outcome = { executed: [] };
  for (const action of actions) {
    try {
      await executeAction(action, client, snapshots, druidVersion, outcome);
      outcome.executed.push(action);
    } catch (error) {
      outcome.failed = { action, failure: failureOf(error) };
      break;
    }
  }
  return outcome;
}

async function executeAction(action: DruidAction, client: DruidClient, snapshots: DruidSnapshots, druidVersion: string, outcome: Outcome): Promise<void> {
  switch (action.kind) {
    case "submitSupervisor": {
      snapshots.noteWrite(client, "supervisors", action.supervisorId);
      const id = await client.submitSupervisor(action.spec, supportsSkipRestart(druidVersion));
      if (id !== action.supervisorId) {
        throw new DruidError("DruidBadResponse", `Druid created supervisor "${id}" where "${action.supervisorId}" was expected; check the spec's dataSource and id`);
      }
      const stored = await client.getSupervisor(id);
      if (stored) outcome.druidSpecHash = liveSupervisorSpecHash(stored);
      return;
    }
    case "suspendSupervisor":
      snapshots.noteWrite(client, "supervisors", action.supervisorId);
      return client.suspendSupervisor(action.supervisorId);
    case "resumeSupervisor":
      snapshots.noteWrite(client, "supervisors", action.supervisorId);
      return client.resumeSupervisor(action.supervisorId);
    case "resetSupervisor":
      snapshots.noteWrite(client, "supervisors", action.supervisorId);
      return client.resetSupervisor(action.supervisorId);
    case "terminateSupervisor":
      snapshots.noteWrite(client, "supervisors", action.supervisorId);
      await client.terminateSupervisor(action.supervisorId);
      return;
    case "submitTask":
      try {
        if (action.sql) await client.submitSqlTask(action.spec);
        else await client.submitTask(action.spec);
      } catch (error) {
        // The id is deterministic: "already exists" means an earlier attempt got through.
        if (error instanceof DruidError && error.reason === "DruidRejected" && DUPLICATE_TASK.test(error.druidMessage ?? "")) return;
        throw error;
      }
      return;
    case "shutdownTask":
      return client.shutdownTask(action.taskId);
    case "submitCompaction": {
      snapshots.noteWrite(client, "compaction", action.dataSource);
      await client.submitCompactionConfig(action.config);
      const stored = await client.getCompactionConfig(action.dataSource);
      if (stored) outcome.druidCompactionHash = contentHash(stored);
      return;
    }
    case "deleteCompaction":
      snapshots.noteWrite(client, "compaction", action.dataSource);
      await client.deleteCompactionConfig(action.dataSource);
      return;
    case "submitRules": {
      snapshots.noteWrite(client, "rules", action.dataSource);
      await client.submitRules(action.dataSource, action.rules);
      if (action.cause !== "Cleared") outcome.druidRulesHash = contentHash(await client.getRules(action.dataSource));
      return;
    }
  }
}
