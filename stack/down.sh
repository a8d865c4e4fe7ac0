#!/usr/bin/env bash
# Stops the local stack. --purge also deletes its data (etcd, Druid metadata, Kafka logs);
# build caches outside the repo are always kept.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
rc=0
# The Druid 37 column of the e2e matrix (test/e2e-druid37.sh), if a run was cut short.
if [ -d "$DIC_STACK_DIR/druid37/druid" ]; then
  STACK_DRUID_VERSION=37.0.0 DIC_STACK_DIR="$DIC_STACK_DIR/druid37" STACK_KAFKA=0 bash "$STACK_ROOT/druid/down.sh" "$@" || rc=$?
fi
# The Druid 27 column (SQL-based ingestion, test/e2e-sql27.sh), likewise.
if [ -d "$DIC_STACK_DIR/druid27/druid" ]; then
  STACK_DRUID_VERSION=27.0.0 DIC_STACK_DIR="$DIC_STACK_DIR/druid27" STACK_KAFKA=0 bash "$STACK_ROOT/druid/down.sh" "$@" || rc=$?
fi
bash "$STACK_ROOT/druid/down.sh" "$@" || rc=$?
bash "$STACK_ROOT/kube/down.sh" "$@" || rc=$?
rm -f "$DIC_STACK_DIR/env"
exit "$rc"
