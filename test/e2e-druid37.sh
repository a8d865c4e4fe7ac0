#!/usr/bin/env bash
# The second column of the Druid version matrix (#12): a Druid 37.0.0 beside the local stack's
# Druid 33.0.0 (its own ZooKeeper, Derby, Coordinator-Overlord and MiddleManager, on other ports;
# the stack's Kubernetes API server and Kafka are shared), and the e2e files whose behaviour
# depends on the Druid version run against it. Stopped at the end, whatever happens.
# Opt out with E2E_DRUID37=0 (then this says so and fails nothing).
# What "Druid 37.0.0" is here, and why its Kafka extension is ported: stack/druid/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=side-stack.sh
source test/side-stack.sh
side_stack_begin e2e-druid37 E2E_DRUID37 "the Druid 37 column of the matrix"

export STACK_DRUID_VERSION=37.0.0
export DIC_STACK_DIR="$MAIN_STACK_DIR/druid37"
export STACK_ZK_PORT="${STACK37_ZK_PORT:-42181}" STACK_DERBY_PORT="${STACK37_DERBY_PORT:-41527}"
export STACK_DRUID_PORT="${STACK37_DRUID_PORT:-48081}" STACK_DRUID_MM_PORT="${STACK37_DRUID_MM_PORT:-48091}"
export STACK_DRUID_PEON_PORTS="${STACK37_DRUID_PEON_PORTS:-48100-48139}"
export STACK_KAFKA=0
# Its state goes with it: a side stack kept between runs restarts the tasks an earlier run left
# RUNNING in its metadata store, and they fill the MiddleManager's slots.
trap 'bash stack/druid/down.sh --purge >&2 || true' EXIT
started=$SECONDS
bash stack/druid/up.sh
echo "[e2e-druid37] Druid 37 up in $((SECONDS - started))s" >&2
# shellcheck disable=SC1091
source "$DIC_STACK_DIR/druid.env"
export KUBECONFIG DRUID_URL DRUID_USER DRUID_PASSWORD KAFKA_BOOTSTRAP
node --test --test-concurrency=1 --test-timeout=900000 \
  test/e2e/lifecycle.test.ts test/e2e/operating.test.ts test/e2e/health.test.ts
