#!/usr/bin/env bash
# The Druid 27 column of the version matrix: SQL-based ingestion (spec.ingestion.type: sql, MSQ).
# The registry serves druid-multi-stage-query only as 27.0.0 (not 33.0.0 nor 37.0.0), so this is
# the only real Druid here that runs POST /druid/v2/sql/task. A Druid 27.0.0 beside the local
# stack (its own ZooKeeper, Derby, Coordinator-Overlord, MiddleManager, Broker and Router, on 5xxxx
# ports; no Kafka: its Kafka indexing extension is not served), sharing the stack's Kubernetes API
# server; test/e2e-sql27/sql.test.ts runs with the controller's default Druid URL = that Router.
# Stopped at the end, whatever happens. Opt out with E2E_SQL27=0 (then this says so and fails
# nothing). If the Druid 27 stack does not start, this fails.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=side-stack.sh
source test/side-stack.sh
side_stack_begin e2e-sql27 E2E_SQL27 "the Druid 27 (SQL-based ingestion) column of the matrix"

export STACK_SQL=1
side_stack_start e2e-sql27 27.0.0 27 5
[ -n "${DRUID_ROUTER_URL:-}" ] || { echo "[e2e-sql27] no DRUID_ROUTER_URL in $DIC_STACK_DIR/druid.env" >&2; exit 1; }
# Everything through the Router, as in a druid-operator cluster: the controller's default URL,
# and the test's own calls (task status through the management proxy).
export DRUID_URL="$DRUID_ROUTER_URL"
export KUBECONFIG DRUID_USER DRUID_PASSWORD DRUID_VERSION
export DIC_E2E_SQL27=1
unset KAFKA_BOOTSTRAP
node --test --test-concurrency=1 --test-timeout=900000 test/e2e-sql27/sql.test.ts
