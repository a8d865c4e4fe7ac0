// What a Druid version can do, decided from the version string `GET /status` reports. One place,
// so the planner and the executor never disagree about a feature.

export function druidMajorVersion(version: string): number {
  const major = Number.parseInt(version.split(".")[0] ?? "", 10);
  return Number.isFinite(major) ? major : 0;
}

/** Druid 33 added `skipRestartIfUnmodified` to `POST /supervisor`. */
export function supportsSkipRestart(version: string): boolean {
  return druidMajorVersion(version) >= 33;
}

/** Druid 37 removed Hadoop-based batch ingestion (`index_hadoop` tasks). */
export function supportsHadoopIngestion(version: string): boolean {
  return druidMajorVersion(version) < 37;
}

/** Druid 38 added `POST /supervisor/{id}/resetToLatestAndBackfill`. */
export function supportsResetToLatestAndBackfill(version: string): boolean {
  return druidMajorVersion(version) >= 38;
}

/** Druid 34 added an explicit top-level supervisor `id` (several supervisors per datasource). */
export function supportsExplicitSupervisorId(version: string): boolean {
  return druidMajorVersion(version) >= 34;
}
