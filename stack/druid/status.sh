#!/usr/bin/env bash
# Print whether each component of the local Druid stack runs; exit 1 if any is down.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

rc=0
report() { # <name> <ok:0|1> <detail>
  if [ "$2" = 0 ]; then printf '%-12s running  %s\n' "$1" "$3"; else printf '%-12s DOWN     %s\n' "$1" "$3"; rc=1; fi
}
pidinfo() { if pid_alive "$1"; then echo "pid $(cat "$1")"; else echo "no process"; fi; }

ok=1; pid_alive "$ZK_PID" && zk_ok && ok=0
report zookeeper "$ok" "127.0.0.1:$STACK_ZK_PORT, $(pidinfo "$ZK_PID")"

if [ "$STACK_KAFKA" = 1 ]; then
  ok=1; pid_alive "$KAFKA_PID" && kafka_ok && ok=0
  report kafka "$ok" "127.0.0.1:$STACK_KAFKA_PORT, $(pidinfo "$KAFKA_PID")"
else
  printf '%-12s disabled (STACK_KAFKA=%s)\n' kafka "$STACK_KAFKA"
fi

ok=1; pid_alive "$DRUID_PID" && druid_health_ok && ok=0
report druid "$ok" "$DRUID_URL, Druid $DRUID_VERSION, $(pidinfo "$DRUID_PID")"
ok=1; pid_alive "$MM_PID" && worker_registered && ok=0
report middlemgr "$ok" "127.0.0.1:$STACK_DRUID_MM_PORT, $(pidinfo "$MM_PID"), registered with the overlord"
ok=1; overlord_leader && ok=0;    report overlord "$ok" "/druid/indexer/v1/isLeader"
ok=1; coordinator_leader && ok=0; report coordinator "$ok" "/druid/coordinator/v1/isLeader"
ok=1; supervisors_ok && ok=0;     report supervisors "$ok" "authenticated GET /druid/indexer/v1/supervisor"
sql_status
tls_status
exit "$rc"
