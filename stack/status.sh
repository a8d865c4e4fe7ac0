#!/usr/bin/env bash
# Prints whether each part of the local stack runs; exits non-zero if any part is down.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
rc=0
bash "$STACK_ROOT/kube/status.sh" || rc=1
bash "$STACK_ROOT/druid/status.sh" || rc=1
exit "$rc"
