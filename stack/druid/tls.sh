# https on the local Druid: the Router serves https on STACK_DRUID_TLS_PORT beside its plain port,
# with a server certificate signed by a CA this stack makes (openssl) the first time it starts
# (kept with the stack's state, deleted by down.sh --purge). The certificate names 127.0.0.1,
# localhost and the router Service names the e2e tests resolve (stack/lib.sh ROUTER_HOSTNAMES).
# Only the Router: it is the entry point a druid-operator cluster gives the controller, and no
# Druid process calls a Router, so the traffic between Druid's processes stays plain http and
# needs no client SSLContext (Druid's simple-client-sslcontext extension, druid.client.https.*).
# Sourced by common.sh; up.sh, status.sh and smoke.sh call the tls_* functions.
# shellcheck shell=bash

# ---- settings (environment overrides) -------------------------------------------------
# 1: the Router serves https; 0: plain http only. There is no https without a Router (STACK_SQL=1).
if [ "$STACK_SQL" = 1 ]; then : "${STACK_DRUID_TLS:=1}"; else STACK_DRUID_TLS=0; fi
: "${STACK_DRUID_TLS_PORT:=38281}"
: "${STACK_DRUID_TLS_DAYS:=30}"                  # validity of the CA and the server certificate

TLS_DIR="$STATE/tls"
DRUID_CA_FILE="$TLS_DIR/ca.crt"
DRUID_KEYSTORE="$TLS_DIR/druid.p12"               # PKCS12: key + certificate chain, alias druid
DRUID_KEYSTORE_PASSWORD_FILE="$TLS_DIR/keystore.password"
DRUID_HTTPS_URL="https://127.0.0.1:$STACK_DRUID_TLS_PORT"

# tls_subject_alt_names: the names Druid's certificate must hold (one line, openssl syntax)
tls_subject_alt_names() {
  local names="IP:127.0.0.1,DNS:localhost" h
  for h in $ROUTER_HOSTNAMES; do names="$names,DNS:$h"; done
  echo "$names"
}

# tls_material_ok: the CA, certificate and keystore exist, name what tls_subject_alt_names says,
# and stay valid for at least a day more
tls_material_ok() {
  [ -s "$DRUID_CA_FILE" ] && [ -s "$TLS_DIR/server.crt" ] && [ -s "$DRUID_KEYSTORE" ] && [ -s "$DRUID_KEYSTORE_PASSWORD_FILE" ] || return 1
  [ "$(cat "$TLS_DIR/names" 2>/dev/null)" = "$(tls_subject_alt_names)" ] || return 1
  openssl x509 -checkend 86400 -noout -in "$TLS_DIR/server.crt" >/dev/null 2>&1 &&
  openssl x509 -checkend 86400 -noout -in "$DRUID_CA_FILE" >/dev/null 2>&1
}

# tls_make_material: a CA, a server key and certificate signed by it, and Druid's keystore.
# Java must read the keystore (checked with keytool): OpenSSL 3 writes PKCS12 with AES and
# PBKDF2, which Java 17 reads.
tls_make_material() {
  local tmp="$TLS_DIR.tmp.$$" password
  rm -rf "$tmp"; mkdir -p "$tmp"; chmod 700 "$tmp"
  password="$(head -c24 /dev/urandom | base64 | tr -d '/+=')"
  (
    set -e
    cd "$tmp"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days "$STACK_DRUID_TLS_DAYS" \
      -subj "/CN=druid-ingestion-controller local stack CA $(date -u +%FT%TZ)" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' \
      "$(tls_subject_alt_names)" > server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
      -days "$STACK_DRUID_TLS_DAYS" -extfile server.ext
    printf '%s' "$password" > keystore.password
    openssl pkcs12 -export -name druid -inkey server.key -in server.crt -certfile ca.crt \
      -out druid.p12 -passout file:keystore.password
    "$(dirname "$(readlink -f "$JAVA")")/keytool" -list -storetype PKCS12 -keystore druid.p12 \
      -storepass "$password" -alias druid
    rm -f server.csr server.ext ca.srl
    tls_subject_alt_names > names
    chmod 644 ca.crt
  ) > "$tmp.log" 2>&1 || { cat "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"; die "making the stack's CA and Druid's keystore failed (openssl/keytool output above)"; }
  rm -rf "$TLS_DIR" "$tmp.log"
  chmod 755 "$tmp"   # the CA certificate is for anyone; the keys and the password stay 0600
  mv "$tmp" "$TLS_DIR"
  log "made a CA ($DRUID_CA_FILE) and Druid's keystore for $(tls_subject_alt_names)"
}

# ---- probes ---------------------------------------------------------------------------
# Authenticated through the Router's https port, trusting only the stack's CA
router_tls_ok() {
  [ "$(dcurl_auth --cacert "$DRUID_CA_FILE" -o /dev/null -w '%{http_code}' "$DRUID_HTTPS_URL/druid/indexer/v1/supervisor" 2>/dev/null)" = "200" ]
}
tls_all_up() {
  [ "$STACK_DRUID_TLS" = 1 ] || return 0
  tls_material_ok && router_tls_ok
}

# ---- up.sh hooks (they use up.sh's render and check_port_free) ------------------------
# Before the configuration is rendered: the CA and keystore (new ones only when missing, for
# other names or about to expire)
tls_prepare() {
  [ "$STACK_DRUID_TLS" = 1 ] || return 0
  if tls_material_ok; then
    log "TLS: reusing the stack's CA $DRUID_CA_FILE"
  else
    tls_make_material
  fi
  # A Router started before (without https, or with the keystore just replaced) is started again
  if pid_alive "$ROUTER_PID" && ! router_tls_ok; then
    log "TLS: the running Router does not serve https with this CA; restarting it"
    stop_pid router "$ROUTER_PID"
  fi
}
# The https connector appended to the Router's runtime.properties
tls_render_conf() {
  [ "$STACK_DRUID_TLS" = 1 ] || return 0
  render "$DRUID_STACK_SRC/conf/router/tls.runtime.properties" "$CONF_OUT/router/tls.runtime.properties"
  cat "$CONF_OUT/router/tls.runtime.properties" >> "$CONF_OUT/router/runtime.properties"
  rm -f "$CONF_OUT/router/tls.runtime.properties"
}
tls_check_ports() {
  [ "$STACK_DRUID_TLS" = 1 ] || return 0
  check_port_free "$STACK_DRUID_TLS_PORT" "Druid Router https" "$ROUTER_PID"
}
tls_wait_ready() {
  [ "$STACK_DRUID_TLS" = 1 ] || return 0
  wait_until "router https ($DRUID_HTTPS_URL, CA $DRUID_CA_FILE)" "$STACK_UP_TIMEOUT" "$ROUTER_PID" router_tls_ok
}
# lines for druid.env
tls_env_lines() {
  [ "$STACK_DRUID_TLS" = 1 ] || return 0
  echo "export DRUID_HTTPS_URL=$DRUID_HTTPS_URL"
  printf 'export DRUID_CA_FILE=%q\n' "$DRUID_CA_FILE"
}

# ---- status.sh --------------------------------------------------------------------------
tls_status() { # uses status.sh's report
  if [ "$STACK_DRUID_TLS" != 1 ]; then
    printf '%-12s disabled (STACK_DRUID_TLS=%s%s)\n' router-https "$STACK_DRUID_TLS" "$([ "$STACK_SQL" = 1 ] || echo ', no Router')"
    return 0
  fi
  local ok=1
  router_tls_ok && ok=0
  report router-https "$ok" "$DRUID_HTTPS_URL, CA $DRUID_CA_FILE"
}
