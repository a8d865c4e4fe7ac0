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
