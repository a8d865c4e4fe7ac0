// Two URLs, one Druid? When only a resource's endpoint changed (a new URL for what its record
// names), the record's supervisor (or task) is asked for on both: the same newest spec version (or
// task creation time) means one metadata store, so the record follows the URL and nothing restarts.
import type { AppliedRecord } from "../api/druid-ingestion.ts";
import type { DruidClient } from "../druid/client.ts";
import { failureOf, type Failure } from "./model.ts";
import { describeRecord } from "./ownership.ts";

export async function probeSameDruid(record: AppliedRecord, recorded: DruidClient, target: DruidClient): Promise<{ ok: true; value: boolean } | { ok: false; failure: Failure }> {
  try {
    if (record.supervisorId) {
      const [a, b] = await Promise.all([recorded.supervisorSpecVersion(record.supervisorId), target.supervisorSpecVersion(record.supervisorId)]);
      return { ok: true, value: a !== undefined && a === b };
    }
    if (record.taskId) {
      const [a, b] = await Promise.all([recorded.taskStatus(record.taskId), target.taskStatus(record.taskId)]);
      return { ok: true, value: a?.createdTime !== undefined && a.createdTime === b?.createdTime };
    }
    return { ok: true, value: false };
  } catch (error) {
    const failure = failureOf(error);
    return {
      ok: false,
      failure: {
        ...failure,
        message: `the Druid endpoint changed from ${record.druidEndpoint} to ${target.target.baseUrl}, which already has ${describeRecord(record).replace(/ on .*$/, "")}; whether they are the same Druid cannot be told while the recorded one does not answer (${failure.message}), so nothing is changed in either. Make the old URL answer again; or, if it is gone for good, set spec.deletionPolicy: Orphan to let go of the old record, then spec.managementPolicy: Adopt to take over what the new URL has`,
      },
    };
  }
}
