# Shared settings for stack/druid/*.sh. Source it; do not run it.
# shellcheck shell=bash
DRUID_STACK_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
source "$DRUID_STACK_SRC/../lib.sh"

# ---- settings (environment overrides) -------------------------------------------------
: "${STACK_ZK_PORT:=32181}"
: "${STACK_DERBY_PORT:=31527}"
: "${STACK_DRUID_PORT:=38081}"
: "${STACK_DRUID_MM_PORT:=38091}"              # MiddleManager HTTP
: "${STACK_DRUID_PEON_PORTS:=38100-38139}"     # ports of forked task JVMs (peons)
: "${STACK_DRUID_PASSWORD:=admin-password-for-tests}"
: "${STACK_DRUID_SYSTEM_PASSWORD:=internal-password-for-tests}"   # user druid_system
: "${STACK_DRUID_HEAP:=768m}"
: "${STACK_DRUID_WORKER_CAPACITY:=6}"          # task slots (each Kafka task = one ~0.5 GB peon JVM)
: "${STACK_KAFKA_PORT:=39092}"
: "${STACK_KAFKA_CONTROLLER_PORT:=39093}"
: "${STACK_UP_TIMEOUT:=240}"                    # seconds to wait for Druid to be ready

# ---- versions: read from the POMs so they are defined in one place ------------------------
pom_prop() { sed -n "s:.*<$2>\(.*\)</$2>.*:\1:p" "$1" | head -n1; }
# STACK_DRUID_VERSION picks the Druid version. Unset or the version of pom.xml (33.0.0): pom.xml and
# compat/ (the default stack). Another version: versions/<version>/pom.xml plus every module directory
# beside it (a directory with a pom.xml), e.g. STACK_DRUID_VERSION=37.0.0.
DRUID_DEFAULT_VERSION="$(pom_prop "$DRUID_STACK_SRC/pom.xml" druid.version)"
: "${STACK_DRUID_VERSION:=$DRUID_DEFAULT_VERSION}"
if [ "$STACK_DRUID_VERSION" = "$DRUID_DEFAULT_VERSION" ]; then
  DRUID_POM="$DRUID_STACK_SRC/pom.xml"
  DRUID_MODULES=("$DRUID_STACK_SRC/compat")
else
  DRUID_POM="$DRUID_STACK_SRC/versions/$STACK_DRUID_VERSION/pom.xml"
  [ -f "$DRUID_POM" ] || die "STACK_DRUID_VERSION=$STACK_DRUID_VERSION is not known: there is no $DRUID_POM (known: $DRUID_DEFAULT_VERSION$(cd "$DRUID_STACK_SRC/versions" 2>/dev/null && printf ' %s' */ | tr -d /))"
  DRUID_MODULES=()
  for d in "$(dirname "$DRUID_POM")"/*/; do
    if [ -f "$d/pom.xml" ]; then DRUID_MODULES+=("${d%/}"); fi
  done
fi
DRUID_VERSION="$(pom_prop "$DRUID_POM" druid.version)"
# 1: run a local Kafka broker (KRaft). Default 1, except on 27.0.0 (SQL-based ingestion only: its
# Kafka indexing extension is not served, so a broker would have no use there).
case "$DRUID_VERSION" in 27.*) : "${STACK_KAFKA:=0}" ;; esac
: "${STACK_KAFKA:=1}"
KAFKA_VERSION="$(pom_prop "$DRUID_STACK_SRC/kafka/pom.xml" kafka.version)"

# ---- paths -------------------------------------------------------------------------------
DRUID_HOME="$DIC_CACHE_DIR/druid-$DRUID_VERSION"      # lib/ = Druid classpath (+ extensions)
KAFKA_HOME="$DIC_CACHE_DIR/kafka-$KAFKA_VERSION"      # lib/ = Kafka broker classpath
STATE="$DIC_STACK_DIR/druid"                          # runtime state of this stack
CONF_OUT="$STATE/conf"                                # rendered configuration
LOGS="$STATE/logs"
VAR="$STATE/var"
ZK_PID="$STATE/zk.pid"
KAFKA_PID="$STATE/kafka.pid"
DRUID_PID="$STATE/druid.pid"
MM_PID="$STATE/middlemanager.pid"
ENV_FILE="$DIC_STACK_DIR/druid.env"
DRUID_URL="http://127.0.0.1:$STACK_DRUID_PORT"
export DRUID_VERSION KAFKA_VERSION

# Flags Druid needs on Java 17 (apache/druid examples/bin/run-java)
JAVA17_FLAGS=(
  --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED
)

# java_major <java binary>: prints the feature version (17, 21, ...)
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1
}

# find_java17: sets JAVA to a Java 17 binary (Druid 33 supports 11 and 17; not 25)
find_java17() {
  local c
  for c in ${STACK_JAVA:-} ${JAVA_HOME:+$JAVA_HOME/bin/java} "$(command -v java 2>/dev/null || true)" \
           /usr/lib/jvm/java-17-openjdk-*/bin/java /usr/lib/jvm/temurin-17*/bin/java; do
    [ -n "$c" ] && [ -x "$c" ] || continue
    if [ "$(java_major "$c")" = "17" ]; then JAVA="$c"; return 0; fi
  done
  return 1
}

# port_listening <port>: something accepts TCP connections on 127.0.0.1:<port>
port_listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# zk_ok: ZooKeeper serves requests ('srvr' prints its version only then; 'ruok' answers
# 'imok' even when the server failed to start behind its listener)
zk_ok() {
  local reply
  reply="$( { exec 3<>"/dev/tcp/127.0.0.1/$STACK_ZK_PORT" && printf 'srvr' >&3 && timeout 3 cat <&3; } 2>/dev/null || true)"
  case "$reply" in *"Zookeeper version"*) return 0 ;; *) return 1 ;; esac
}

# curl against Druid; extra args are passed on
dcurl() { curl -sS --max-time 10 "$@"; }
dcurl_auth() { dcurl -u "admin:$STACK_DRUID_PASSWORD" "$@"; }

druid_health_ok() { [ "$(dcurl "$DRUID_URL/status/health" 2>/dev/null)" = "true" ]; }
overlord_leader() { dcurl "$DRUID_URL/druid/indexer/v1/isLeader" 2>/dev/null | grep -q '"leader":true'; }
coordinator_leader() { dcurl "$DRUID_URL/druid/coordinator/v1/isLeader" 2>/dev/null | grep -q '"leader":true'; }
supervisors_ok() {
  [ "$(dcurl_auth -o /dev/null -w '%{http_code}' "$DRUID_URL/druid/indexer/v1/supervisor" 2>/dev/null)" = "200" ]
}
worker_registered() {
  dcurl_auth "$DRUID_URL/druid/indexer/v1/workers" 2>/dev/null | grep -q "\"host\":\"127.0.0.1:$STACK_DRUID_MM_PORT\""
}
druid_ready() { druid_health_ok && overlord_leader && coordinator_leader && supervisors_ok; }
kafka_ok() { port_listening "$STACK_KAFKA_PORT"; }

# Broker + Router (STACK_SQL): settings, probes and the hooks up/down/status call
# shellcheck source=sql.sh
source "$DRUID_STACK_SRC/sql.sh"
# https on the Router (STACK_DRUID_TLS, after sql.sh: there is no https without a Router)
# shellcheck source=tls.sh
source "$DRUID_STACK_SRC/tls.sh"
