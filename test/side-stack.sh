# Sourced by the side columns of the Druid version matrix (test/e2e-druid37.sh, test/e2e-sql27.sh),
# from the repository's root: the opt-out, and the shared half of the local stack (its Kubernetes
# API server and Kafka, or the cluster the environment names) started with its own settings.
#   side_stack_begin <tag> <opt-out variable> <what the column is>
# Sets REPO and MAIN_STACK_DIR, exports KUBECONFIG (the local stack's when none is given) and
# sets KAFKA_BOOTSTRAP to the local stack's broker when it has one.
side_stack_begin() {
  local tag=$1 opt_out=$2 what=$3
  if [ "${!opt_out:-1}" = 0 ]; then
    echo "[$tag] $opt_out=0: $what is NOT run" >&2
    exit 0
  fi
  REPO="$PWD"
  : "${DIC_STACK_DIR:=$REPO/.stack}"
  MAIN_STACK_DIR="$DIC_STACK_DIR"
  if [ -z "${KUBECONFIG:-}" ]; then
    bash stack/up.sh
    # shellcheck disable=SC1091
    source "$MAIN_STACK_DIR/kube.env"
    # shellcheck disable=SC1091
    KAFKA_BOOTSTRAP="$(source "$MAIN_STACK_DIR/druid.env"; echo "${KAFKA_BOOTSTRAP:-}")"
  fi
}

#   side_stack_start <tag> <Druid version> <column, e.g. 37> <first port digit, e.g. 4>
# Starts that Druid beside the stack in $MAIN_STACK_DIR/druid<column>, without Kafka, on ports
# <digit>2181 (ZooKeeper), <digit>1527 (Derby), <digit>8081 (Coordinator-Overlord), <digit>8091
# (MiddleManager), <digit>8100-<digit>8139 (peons), <digit>8082 (Broker), <digit>8888 (Router, plain
# http only: STACK_DRUID_TLS=0);
# STACK<column>_ZK_PORT and the like override one. Stopped, and its state deleted, when the
# script exits (a side stack kept between runs restarts the tasks an earlier run left RUNNING in
# its metadata store, and they fill the MiddleManager's slots). Sources its druid.env.
side_stack_start() {
  local tag=$1 version=$2 column=$3 d=$4
  local p="STACK${column}_"
  export STACK_DRUID_VERSION="$version"
  export DIC_STACK_DIR="$MAIN_STACK_DIR/druid$column"
  local zk="${p}ZK_PORT" derby="${p}DERBY_PORT" druid="${p}DRUID_PORT" mm="${p}DRUID_MM_PORT" peons="${p}DRUID_PEON_PORTS" broker="${p}DRUID_BROKER_PORT" router="${p}DRUID_ROUTER_PORT"
  export STACK_ZK_PORT="${!zk:-${d}2181}" STACK_DERBY_PORT="${!derby:-${d}1527}"
  export STACK_DRUID_PORT="${!druid:-${d}8081}" STACK_DRUID_MM_PORT="${!mm:-${d}8091}"
  export STACK_DRUID_PEON_PORTS="${!peons:-${d}8100-${d}8139}"
  export STACK_DRUID_BROKER_PORT="${!broker:-${d}8082}" STACK_DRUID_ROUTER_PORT="${!router:-${d}8888}"
  export STACK_KAFKA=0
  # No https on the side columns: the TLS e2e (test/e2e/tls.test.ts) runs on the main stack's Router
  export STACK_DRUID_TLS=0
  trap 'bash stack/druid/down.sh --purge >&2 || true' EXIT
  local started=$SECONDS
  bash stack/druid/up.sh
  echo "[$tag] Druid ${version%%.*} up in $((SECONDS - started))s" >&2
  # shellcheck disable=SC1091
  source "$DIC_STACK_DIR/druid.env"
}
