#!/usr/bin/env bash
# Prints whether each component of the kube stack runs and answers its health check.
# Exits 0 only when all of etcd, kube-apiserver and kube-controller-manager are healthy.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

down=0
for c in "${KUBE_COMPONENTS[@]}"; do
  pidfile="$(pidfile_of "$c")"
  if ! pid_alive "$pidfile"; then
    printf '%-24s not running\n' "$c"
    down=1
  elif component_healthy "$c"; then
    printf '%-24s running (pid %s), healthy\n' "$c" "$(cat "$pidfile")"
  else
    printf '%-24s running (pid %s), NOT healthy (log: %s)\n' "$c" "$(cat "$pidfile")" "$(logfile_of "$c")"
    down=1
  fi
done
if [ "$down" = 0 ]; then
  printf 'apiserver %s, env file %s\n' "$APISERVER_URL" "$KUBE_ENV_FILE"
fi
exit "$down"
