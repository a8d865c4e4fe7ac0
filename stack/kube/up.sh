#!/usr/bin/env bash
# Starts a real etcd + kube-apiserver + kube-controller-manager on 127.0.0.1 for e2e tests.
# Idempotent: components already running are kept; exits 0 at once if all are healthy.
#
#   bash stack/kube/up.sh        then   source "$DIC_STACK_DIR/kube.env"   (KUBECONFIG, STACK_KUBECTL, ...)
#
# Ports (env): STACK_ETCD_PORT 32379, STACK_ETCD_PEER_PORT 32380, STACK_APISERVER_PORT 36443,
# STACK_KCM_PORT 30257. State under $DIC_STACK_DIR/kube (pki/, etcd/, logs/, *.pid).
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

require_cmd openssl "install it with: apt-get install openssl"
require_cmd curl "install it with: apt-get install curl"
require_cmd base64 "install coreutils"

all_healthy() {
  local c
  for c in "${KUBE_COMPONENTS[@]}"; do
    pid_alive "$(pidfile_of "$c")" && component_healthy "$c" || return 1
  done
}
if all_healthy && [ -f "$KUBE_ENV_FILE" ]; then
  # A stack started before kubectl was part of the build: build it (quick with a warm Go
  # cache) and add STACK_KUBECTL to the env file, without restarting anything.
  kubectl_bin="$(bash "$KUBE_DIR/build.sh" --print)/kubectl"
  if ! grep -qxF "export STACK_KUBECTL=$kubectl_bin" "$KUBE_ENV_FILE" || [ ! -x "$kubectl_bin" ]; then
    kubectl_bin="$(bash "$KUBE_DIR/build.sh")/kubectl"
    tmp="$(mktemp "$KUBE_ENV_FILE.XXXXXX")"
    { grep -v '^export STACK_KUBECTL=' "$KUBE_ENV_FILE"; echo "export STACK_KUBECTL=$kubectl_bin"; } > "$tmp"
    mv "$tmp" "$KUBE_ENV_FILE"
    log "added STACK_KUBECTL=$kubectl_bin to $KUBE_ENV_FILE"
  fi
  log "kube stack already running and healthy ($APISERVER_URL); env: $KUBE_ENV_FILE"
  exit 0
fi

BIN_DIR="$(bash "$KUBE_DIR/build.sh")"
mkdir -p "$KUBE_PKI" "$KUBE_LOGS" "$KUBE_STATE/etcd"
chmod 700 "$KUBE_PKI" "$KUBE_STATE/etcd"

# ---------------------------------------------------------------------------------------------
# PKI (openssl). Existing files are reused; a leaf certificate is re-issued only when it is
# missing, expires within a day, or was not signed by the current CA.
# ---------------------------------------------------------------------------------------------
DAYS=3650
new_key() { [ -f "$1" ] || { (umask 077; openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"); }; }

cert_ok() { # cert_ok <cert>: exists, valid for another day, chains to our CA
  [ -f "$1" ] && openssl x509 -checkend 86400 -noout -in "$1" >/dev/null 2>&1 \
    && openssl verify -CAfile "$KUBE_PKI/ca.crt" "$1" >/dev/null 2>&1
}

# issue <name> <subject> <extendedKeyUsage> [subjectAltName]
issue() {
  local name="$1" subj="$2" eku="$3" san="${4:-}"
  local key="$KUBE_PKI/$name.key" crt="$KUBE_PKI/$name.crt" ext
  cert_ok "$crt" && [ -f "$key" ] && return 0
  new_key "$key"
  ext="$(mktemp)"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -z "$san" ] || echo "subjectAltName=$san"
  } > "$ext"
  openssl req -new -key "$key" -subj "$subj" -out "$KUBE_PKI/$name.csr" 2>/dev/null
  openssl x509 -req -in "$KUBE_PKI/$name.csr" -CA "$KUBE_PKI/ca.crt" -CAkey "$KUBE_PKI/ca.key" \
    -CAcreateserial -days "$DAYS" -sha256 -extfile "$ext" -out "$crt" 2>/dev/null \
    || { rm -f "$ext"; die "openssl could not issue $crt"; }
  rm -f "$ext" "$KUBE_PKI/$name.csr"
  log "issued $crt ($subj)"
}

if [ ! -f "$KUBE_PKI/ca.key" ] || [ ! -f "$KUBE_PKI/ca.crt" ] \
   || ! openssl x509 -checkend 86400 -noout -in "$KUBE_PKI/ca.crt" >/dev/null 2>&1; then
  rm -f "$KUBE_PKI/ca.key" "$KUBE_PKI/ca.crt" "$KUBE_PKI/ca.srl"
  new_key "$KUBE_PKI/ca.key"
  openssl req -x509 -new -key "$KUBE_PKI/ca.key" -subj "/CN=druid-ingestion-controller test CA" -days "$DAYS" -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$KUBE_PKI/ca.crt" 2>/dev/null || die "openssl could not create the CA"
  log "created CA $KUBE_PKI/ca.crt"
fi
# Serving cert: the names a client may use, in and (in theory) out of the cluster. 10.0.0.1 is
# the ClusterIP of the `kubernetes` Service (first address of --service-cluster-ip-range).
issue apiserver "/CN=kube-apiserver" serverAuth \
  "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.0.0.1"
issue admin "/O=system:masters/CN=admin" clientAuth
issue kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
# Service-account token signing keypair (TokenRequest signs with sa.key; tokens verify with sa.pub).
new_key "$KUBE_PKI/sa.key"
[ -f "$KUBE_PKI/sa.pub" ] || openssl pkey -in "$KUBE_PKI/sa.key" -pubout -out "$KUBE_PKI/sa.pub" 2>/dev/null

# kubeconfig with embedded (base64) CA, client cert and key.
b64() { base64 -w0 < "$1"; }
write_kubeconfig() { # write_kubeconfig <file> <user> <cert/key basename>
  local file="$1" user="$2" id="$3" tmp
  tmp="$(mktemp "$file.XXXXXX")"
  cat > "$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: dic-local
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $(b64 "$KUBE_PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(b64 "$KUBE_PKI/$id.crt")
    client-key-data: $(b64 "$KUBE_PKI/$id.key")
contexts:
- name: $user@dic-local
  context:
    cluster: dic-local
    user: $user
    namespace: default
current-context: $user@dic-local
EOF
  chmod 600 "$tmp"
  mv "$tmp" "$file"
}
write_kubeconfig "$ADMIN_KUBECONFIG" admin admin
write_kubeconfig "$KCM_KUBECONFIG" system:kube-controller-manager kube-controller-manager

# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------
# start_component <name> <port> <args...>: start unless already running; refuse a busy port.
start_component() {
  local name="$1" port="$2"; shift 2
  local pidfile; pidfile="$(pidfile_of "$name")"
  if pid_alive "$pidfile"; then
    log "$name already running (pid $(cat "$pidfile"))"
    return 0
  fi
  rm -f "$pidfile"
  port_in_use "$port" && die "$name: 127.0.0.1:$port is already in use by another process (not ours: no live $pidfile). Stop it or set the port env var (see $KUBE_DIR/up.sh)."
  start_bg "$name" "$(logfile_of "$name")" "$pidfile" "$BIN_DIR/$name" "$@"
}

start_component etcd "$STACK_ETCD_PORT" \
  --name=dic \
  --data-dir="$KUBE_STATE/etcd" \
  --listen-client-urls="$ETCD_URL" \
  --advertise-client-urls="$ETCD_URL" \
  --listen-peer-urls="http://127.0.0.1:$STACK_ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$STACK_ETCD_PEER_PORT" \
  --initial-cluster="dic=http://127.0.0.1:$STACK_ETCD_PEER_PORT" \
  --unsafe-no-fsync=true \
  --log-level=warn
wait_until "etcd ($ETCD_URL/health)" 60 "$(pidfile_of etcd)" healthy_etcd

# Admission: the default plugin set of this release plus NodeRestriction (the Node authorizer's
# companion). The ServiceAccount plugin stays ON (envtest turns it off because nothing creates
# the `default` ServiceAccount there): here kube-controller-manager's serviceaccount and
# serviceaccount-token controllers run, so Pods get their SA and projected token volume as in a
# real cluster. Caveat, also true of real clusters: a Pod created in a brand-new namespace in the
# first moment after it appears can be refused until the `default` SA exists.
# --endpoint-reconciler-type=none: the apiserver would otherwise publish its advertise address
# as the endpoint of the `default/kubernetes` Service every 10 s and log an error each time,
# since Endpoints may not hold loopback addresses. The Service itself (10.0.0.1) still exists.
# --shutdown-send-retry-after: on SIGTERM, wait for in-flight requests, then give open
# connections 2 s; by default an open watch (a test's informer) holds shutdown up to 60 s.
start_component kube-apiserver "$STACK_APISERVER_PORT" \
  --etcd-servers="$ETCD_URL" \
  --bind-address=127.0.0.1 \
  --advertise-address=127.0.0.1 \
  --secure-port="$STACK_APISERVER_PORT" \
  --tls-cert-file="$KUBE_PKI/apiserver.crt" \
  --tls-private-key-file="$KUBE_PKI/apiserver.key" \
  --client-ca-file="$KUBE_PKI/ca.crt" \
  --authorization-mode=Node,RBAC \
  --anonymous-auth=false \
  --enable-admission-plugins=NodeRestriction \
  --allow-privileged=true \
  --service-cluster-ip-range=10.0.0.0/24 \
  --endpoint-reconciler-type=none \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$KUBE_PKI/sa.pub" \
  --service-account-signing-key-file="$KUBE_PKI/sa.key" \
  --shutdown-send-retry-after=true \
  --profiling=false
wait_until "kube-apiserver ($APISERVER_URL/readyz)" 180 "$(pidfile_of kube-apiserver)" healthy_kube-apiserver

# Controllers (canonical names; the old aliases garbagecollector, namespace, serviceaccount,
# serviceaccount-token are still accepted): owner-reference garbage collection, namespace
# deletion, the `default` ServiceAccount in every namespace, token Secrets for SA-token Secrets,
# and aggregation of the admin/edit/view ClusterRoles (so RBAC bindings to them behave as in a
# real cluster). No workload controllers: without a kubelet no Pod would ever run anyway.
# No --authentication/--authorization-kubeconfig: the apiserver runs without a front-proxy
# (requestheader) CA, so delegated authn would log errors forever; anonymous requests still
# reach /healthz, /readyz and /livez, which is all the stack needs from the KCM port.
start_component kube-controller-manager "$STACK_KCM_PORT" \
  --kubeconfig="$KCM_KUBECONFIG" \
  --bind-address=127.0.0.1 \
  --secure-port="$STACK_KCM_PORT" \
  --cert-dir="$KUBE_STATE/kcm-serving" \
  --leader-elect=false \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$KUBE_PKI/sa.key" \
  --root-ca-file="$KUBE_PKI/ca.crt" \
  --controllers=garbage-collector-controller,namespace-controller,serviceaccount-controller,serviceaccount-token-controller,clusterrole-aggregation-controller \
  --profiling=false
wait_until "kube-controller-manager ($KCM_URL/healthz)" 90 "$(pidfile_of kube-controller-manager)" healthy_kube-controller-manager

default_sa_exists() {
  [ "$(admin_curl -o /dev/null -w '%{http_code}' "$APISERVER_URL/api/v1/namespaces/default/serviceaccounts/default")" = 200 ]
}
wait_until "ServiceAccount default/default (created by kube-controller-manager)" 90 \
  "$(pidfile_of kube-controller-manager)" default_sa_exists

tmp="$(mktemp "$KUBE_ENV_FILE.XXXXXX")"
cat > "$tmp" <<EOF
# Written by stack/kube/up.sh; removed by stack/kube/down.sh.
export KUBECONFIG=$ADMIN_KUBECONFIG
export STACK_KUBE_CA=$KUBE_PKI/ca.crt
export STACK_KUBE_SERVER=$APISERVER_URL
export STACK_KUBECTL=$BIN_DIR/kubectl
EOF
mv "$tmp" "$KUBE_ENV_FILE"
log "kube stack up: $APISERVER_URL ($("$BIN_DIR/kube-apiserver" --version 2>/dev/null)); source $KUBE_ENV_FILE"
