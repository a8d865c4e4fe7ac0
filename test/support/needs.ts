// What an e2e test needs that a run may lack (a Kafka broker, the router Service names in
// /etc/hosts, the local stack itself). A test whose need is not met FAILS and says how to meet
// it, unless the run opted out of that need by name (E2E_SKIP=kafka,router-hosts,...): only
// then is it skipped. So a skip in `npm test` is always one somebody asked for.
import assert from "node:assert/strict";
import type { TestContext } from "node:test";

export const NEEDS = {
  kafka: "a Kafka broker (the local stack starts one unless STACK_KAFKA=0; elsewhere set KAFKA_BOOTSTRAP)",
  "router-hosts": "router-a/router-b.druid-routers.svc resolving to 127.0.0.1 (stack/hosts.sh, run as root by stack/up.sh)",
  "local-stack": "this repository's local stack (the test stops and starts its processes)",
  examples: "the example datasources free (no other DruidIngestion managing metrics-kafka or metrics-kafka-2)",
  tls: "an https Druid: DRUID_HTTPS_URL and DRUID_CA_FILE (the local stack's Router serves them unless STACK_DRUID_TLS=0)",
} as const;
export type Need = keyof typeof NEEDS;

/** The needs the run opted out of: E2E_SKIP, comma-separated. An unknown name is refused (a typo would otherwise opt out of nothing). */
export function optedOut(env: NodeJS.ProcessEnv = process.env): Set<Need> {
  const names = (env["E2E_SKIP"] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (!(name in NEEDS)) throw new Error(`E2E_SKIP: unknown need "${name}"; known: ${Object.keys(NEEDS).join(", ")}`);
  }
  return new Set(names as Need[]);
}

/**
 * The test cannot run here because `need` is not met (`why` says what was found): skipped when the
 * run opted out of that need, otherwise a failure naming what is missing and the opt-out.
 * Call as `return unmet(t, "kafka", "...")` from the test body.
 */
export function unmet(t: TestContext, need: Need, why: string): void {
  if (optedOut().has(need)) {
    t.skip(`${why} (E2E_SKIP=${need})`);
    return;
  }
  assert.fail(`${why}. This test needs ${NEEDS[need]}; provide it, or opt out explicitly with E2E_SKIP=${need}`);
}
