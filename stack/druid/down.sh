#!/usr/bin/env bash
# Stop Druid, Kafka and ZooKeeper of the local stack.  --purge also deletes their state
# ($DIC_STACK_DIR/druid: metadata, segments, ZK and Kafka data, logs) and druid.env.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

purge=0
for a in "$@"; do
  case "$a" in
    --purge) purge=1 ;;
    -h|--help) echo "usage: $0 [--purge]"; exit 0 ;;
    *) die "unknown argument: $a (usage: $0 [--purge])" ;;
  esac
done

# Router and Broker first (STACK_SQL), then the MiddleManager (its process group holds the
# peons), then the coordinator-overlord (it holds the Derby server), then Kafka and ZooKeeper
sql_stop
stop_pid middlemanager "$MM_PID"
stop_pid druid "$DRUID_PID"
stop_pid kafka "$KAFKA_PID"
stop_pid zookeeper "$ZK_PID"
rm -f "$ENV_FILE"
if [ "$purge" = 1 ]; then
  rm -rf "$STATE"
  log "purged $STATE"
fi
