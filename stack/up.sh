#!/usr/bin/env bash
# Starts the local real stack on 127.0.0.1: etcd + kube-apiserver + kube-controller-manager
# (stack/kube) and ZooKeeper + Druid + Kafka (stack/druid). Builds what is missing first
# (cached outside the repo), waits until everything is healthy, and writes .stack/env.
# Idempotent: running it again on a healthy stack returns at once.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
started=$SECONDS
bash "$STACK_ROOT/prereqs.sh"
# Names for the router-Service e2e tests (as root only; otherwise those tests skip).
bash "$STACK_ROOT/hosts.sh" || log "stack/hosts.sh failed; the router-Service e2e tests will skip"

# The two halves are independent; build/start them side by side and report both.
# A plain pipe, not a process substitution: bash leaves a substitution's descriptor open in
# every child, so the daemons would hold it (and whoever reads our output) open forever.
run_half() {
  local name="$1"; shift
  "$@" 2>&1 | sed -u "s/^/[$name] /" >&2
  return "${PIPESTATUS[0]}"
}
run_half kube bash "$STACK_ROOT/kube/up.sh" &
kube_pid=$!
run_half druid bash "$STACK_ROOT/druid/up.sh" &
druid_pid=$!
kube_rc=0; druid_rc=0
wait "$kube_pid" || kube_rc=$?
wait "$druid_pid" || druid_rc=$?
[ "$kube_rc" -eq 0 ] || die "the Kubernetes half failed (exit $kube_rc); see the [kube] lines above and $DIC_STACK_DIR/kube/logs/"
[ "$druid_rc" -eq 0 ] || die "the Druid half failed (exit $druid_rc); see the [druid] lines above and $DIC_STACK_DIR/druid/logs/"

# Helm, for the chart's unit and e2e tests (cached: instant after the first build). Built here so
# that `npm test` after stack:up does not stop for it; the tests build it themselves otherwise.
helm_started=$SECONDS
if helm_dir="$(bash "$STACK_ROOT/helm/build.sh")"; then
  log "helm ready in $((SECONDS - helm_started))s ($helm_dir/helm)"
else
  log "WARNING: building helm failed (see above); the stack is up, and the chart's tests try the build again"
fi

cat "$DIC_STACK_DIR/kube.env" "$DIC_STACK_DIR/druid.env" > "$DIC_STACK_DIR/env"
# shellcheck disable=SC1091
source "$DIC_STACK_DIR/env"
log "stack ready in $((SECONDS - started))s"
cat >&2 <<INFO

  Kubernetes  KUBECONFIG=$KUBECONFIG
  Druid       DRUID_URL=$DRUID_URL  (user $DRUID_USER, password $DRUID_PASSWORD, version ${DRUID_VERSION:-?})
  Kafka       ${KAFKA_BOOTSTRAP:-not running}

  Use it:     source $DIC_STACK_DIR/env
  Stop it:    npm run stack:down      (add -- --purge to delete its data)

INFO
