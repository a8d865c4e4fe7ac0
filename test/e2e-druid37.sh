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

side_stack_start e2e-druid37 37.0.0 37 4
export KUBECONFIG DRUID_URL DRUID_USER DRUID_PASSWORD KAFKA_BOOTSTRAP
node --test --test-concurrency=1 --test-timeout=900000 \
  test/e2e/lifecycle.test.ts test/e2e/operating.test.ts test/e2e/health.test.ts
