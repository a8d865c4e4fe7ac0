#!/usr/bin/env bash
# Stops the local stack. --purge also deletes its data (etcd, Druid metadata, Kafka logs);
# build caches outside the repo are always kept.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
rc=0
bash "$STACK_ROOT/druid/down.sh" "$@" || rc=$?
bash "$STACK_ROOT/kube/down.sh" "$@" || rc=$?
rm -f "$DIC_STACK_DIR/env"
exit "$rc"
