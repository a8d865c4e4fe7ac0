#!/usr/bin/env bash
# Installs (as root, with apt-get) what the local stack needs and a fresh Debian machine may
# lack; checks what apt cannot provide. Safe to run again: it installs nothing when all is there.
#   Go >= 1.26  builds etcd/kube-apiserver/kube-controller-manager (Debian's Go is too old)
#   Java 17 JDK + Maven  run Druid and Kafka from Maven Central jars (javac builds a small shim)
#   openssl, curl  certificates and health checks
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
java17=""
for candidate in "${STACK_JAVA:-}" /usr/lib/jvm/java-17-openjdk-amd64/bin/java "$(command -v java || true)"; do
  [ -n "$candidate" ] && [ -x "$candidate" ] || continue
  if "$candidate" -version 2>&1 | grep -q 'version "17'; then java17="$candidate"; break; fi
done
if [ -z "$java17" ] || [ ! -x "$(dirname "$java17")/javac" ]; then missing+=(openjdk-17-jdk-headless); fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing ${missing[*]} with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    die "missing: ${missing[*]}; install them (apt-get install ${missing[*]}) and run again"
  fi
fi

require_cmd go "install Go 1.26 or newer from https://go.dev/dl (Debian's golang-go is too old for Kubernetes 1.36)"
go_minor="$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
[ -n "$go_minor" ] && [ "$go_minor" -ge 26 ] || die "Go $(go env GOVERSION) is too old: the wrapper modules in stack/kube need Go 1.26 or newer"
log "prerequisites present: $(go env GOVERSION), $(mvn -v 2>/dev/null | head -n1 | sed 's/\x1b\[[0-9;]*m//g'), openssl, curl"
