# Settings and helpers shared by stack/kube/{up,down,status}.sh. Source it; do not run it.
# shellcheck shell=bash
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"

KUBE_DIR="$STACK_ROOT/kube"                 # these scripts
KUBE_STATE="$DIC_STACK_DIR/kube"            # runtime state: pki, etcd data, logs, pids, kubeconfigs
KUBE_PKI="$KUBE_STATE/pki"
KUBE_LOGS="$KUBE_STATE/logs"
KUBE_ENV_FILE="$DIC_STACK_DIR/kube.env"
ADMIN_KUBECONFIG="$KUBE_STATE/admin.kubeconfig"
KCM_KUBECONFIG="$KUBE_STATE/kube-controller-manager.kubeconfig"

: "${STACK_ETCD_PORT:=32379}"
: "${STACK_ETCD_PEER_PORT:=32380}"
: "${STACK_APISERVER_PORT:=36443}"
: "${STACK_KCM_PORT:=30257}"

ETCD_URL="http://127.0.0.1:$STACK_ETCD_PORT"
APISERVER_URL="https://127.0.0.1:$STACK_APISERVER_PORT"
KCM_URL="https://127.0.0.1:$STACK_KCM_PORT"

# Components in start order; stop in reverse.
KUBE_COMPONENTS=(etcd kube-apiserver kube-controller-manager)
pidfile_of() { echo "$KUBE_STATE/$1.pid"; }
logfile_of() { echo "$KUBE_LOGS/$1.log"; }

# curl as the cluster admin (client cert CN=admin, O=system:masters).
admin_curl() {
  curl -sS --max-time 10 --cacert "$KUBE_PKI/ca.crt" --cert "$KUBE_PKI/admin.crt" --key "$KUBE_PKI/admin.key" "$@"
}

# Health probes, one per component (quiet; exit status only).
healthy_etcd() {
  curl -fsS --max-time 5 "$ETCD_URL/health" 2>/dev/null | grep -q '"health":"true"'
}
healthy_kube-apiserver() {
  [ -f "$KUBE_PKI/admin.key" ] && [ "$(admin_curl -f "$APISERVER_URL/readyz" 2>/dev/null)" = ok ]
}
healthy_kube-controller-manager() {
  # The KCM serves a self-signed certificate from its --cert-dir; /healthz is always allowed.
  [ "$(curl -ksS --max-time 5 "$KCM_URL/healthz" 2>/dev/null)" = ok ]
}
component_healthy() { "healthy_$1"; }

# port_in_use <port>: something accepts TCP connections on 127.0.0.1:<port>
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
