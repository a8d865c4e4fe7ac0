#!/usr/bin/env bash
# Stops kube-controller-manager, kube-apiserver and etcd started by up.sh. Keeps the PKI,
# the etcd data and the built binaries, so the next up.sh is a warm start.
#
#   bash stack/kube/down.sh            stop the processes, remove $DIC_STACK_DIR/kube.env
#   bash stack/kube/down.sh --purge    also delete $DIC_STACK_DIR/kube (etcd data, PKI, logs)
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

purge=0
case "${1:-}" in
  "") ;;
  --purge) purge=1 ;;
  *) die "usage: down.sh [--purge]" ;;
esac

for (( i=${#KUBE_COMPONENTS[@]}-1; i>=0; i-- )); do
  c="${KUBE_COMPONENTS[$i]}"
  if pid_alive "$(pidfile_of "$c")"; then
    stop_pid "$c" "$(pidfile_of "$c")"
  else
    rm -f "$(pidfile_of "$c")"
    log "$c not running"
  fi
done
rm -f "$KUBE_ENV_FILE"

if [ "$purge" = 1 ]; then
  rm -rf "$KUBE_STATE"
  log "purged $KUBE_STATE"
fi
