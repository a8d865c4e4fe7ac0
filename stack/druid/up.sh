#!/usr/bin/env bash
# Start ZooKeeper, (Kafka,) and one Druid process (Coordinator + Overlord) on 127.0.0.1.
# Idempotent: components that already run are left alone; when everything is up and
# healthy it only (re)writes $DIC_STACK_DIR/druid.env.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
shopt -u patsub_replacement 2>/dev/null || true   # '&' in passwords must stay literal

T0=$SECONDS

write_env() {
  local tmp="$ENV_FILE.tmp.$$"
  {
    echo "# written by stack/druid/up.sh; source it"
    echo "export DRUID_URL=$DRUID_URL"
    echo "export DRUID_USER=admin"
    printf 'export DRUID_PASSWORD=%q\n' "$STACK_DRUID_PASSWORD"
    echo "export DRUID_VERSION=$DRUID_VERSION"
    if [ "$STACK_KAFKA" = 1 ]; then echo "export KAFKA_BOOTSTRAP=127.0.0.1:$STACK_KAFKA_PORT"; fi
    sql_env_lines
    tls_env_lines
  } > "$tmp"
  mv "$tmp" "$ENV_FILE"
  log "wrote $ENV_FILE"
}

all_up() {
  pid_alive "$ZK_PID" && pid_alive "$DRUID_PID" && pid_alive "$MM_PID" && druid_ready && worker_registered || return 1
  if [ "$STACK_KAFKA" = 1 ]; then pid_alive "$KAFKA_PID" && kafka_ok || return 1; fi
  sql_all_up && tls_all_up
}

# The state (metadata store, segments, ZooKeeper and Kafka data) belongs to one Druid version:
# $STATE/druid-version records it; state from before that file existed is the default version's.
VERSION_FILE="$STATE/druid-version"
if [ -f "$VERSION_FILE" ]; then
  state_version="$(cat "$VERSION_FILE")"
elif [ -d "$VAR" ]; then
  state_version="$DRUID_DEFAULT_VERSION"
else
  state_version="$DRUID_VERSION"
fi
if [ "$state_version" != "$DRUID_VERSION" ]; then
  die "$STATE holds the state of Druid $state_version, not $DRUID_VERSION (STACK_DRUID_VERSION): run down.sh --purge first (same DIC_STACK_DIR), or use another DIC_STACK_DIR"
fi

if all_up; then
  log "druid stack already running and healthy ($DRUID_URL, Druid $DRUID_VERSION)"
  write_env
  exit 0
fi

"$DRUID_STACK_SRC/build.sh"
find_java17 || die "Java 17 not found (build.sh should have said why)"

# ---- render configuration -----------------------------------------------------------------
IFS=- read -r PEON_START PEON_END <<<"$STACK_DRUID_PEON_PORTS"
peon_opts=(-server -Xms64m -Xmx384m -XX:MaxDirectMemorySize=128m -XX:+ExitOnOutOfMemoryError
  -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Duser.timezone=UTC -Dfile.encoding=UTF-8
  "-Djava.io.tmpdir=$VAR/tmp" "-Dlog4j.configurationFile=$CONF_OUT/log4j2-peon.xml"
  -Djava.util.logging.manager=org.apache.logging.log4j.jul.LogManager "${JAVA17_FLAGS[@]}")
PEON_JAVA_OPTS="[$(printf '"%s",' "${peon_opts[@]}")"; PEON_JAVA_OPTS="${PEON_JAVA_OPTS%,}]"

# render <template> <output>: replaces @TOKENS@
render() {
  local s
  s="$(cat "$1")"
  s="${s//@DRUID_HOME@/$DRUID_HOME}"
  s="${s//@JAVA@/$JAVA}"
  s="${s//@VAR_DIR@/$VAR}"
  s="${s//@ZK_PORT@/$STACK_ZK_PORT}"
  s="${s//@ZK_DATA_DIR@/$STATE/zk}"
  s="${s//@DERBY_PORT@/$STACK_DERBY_PORT}"
  s="${s//@DRUID_PORT@/$STACK_DRUID_PORT}"
  s="${s//@MM_PORT@/$STACK_DRUID_MM_PORT}"
  s="${s//@PEON_START_PORT@/$PEON_START}"
  s="${s//@PEON_END_PORT@/$PEON_END}"
  s="${s//@WORKER_CAPACITY@/$STACK_DRUID_WORKER_CAPACITY}"
  s="${s//@PEON_JAVA_OPTS@/$PEON_JAVA_OPTS}"
  s="${s//@ADMIN_PASSWORD@/$STACK_DRUID_PASSWORD}"
  s="${s//@SYSTEM_PASSWORD@/$STACK_DRUID_SYSTEM_PASSWORD}"
  s="${s//@KAFKA_PORT@/$STACK_KAFKA_PORT}"
  s="${s//@KAFKA_CONTROLLER_PORT@/$STACK_KAFKA_CONTROLLER_PORT}"
  s="${s//@KAFKA_DATA_DIR@/$STATE/kafka}"
  s="${s//@BROKER_PORT@/$STACK_DRUID_BROKER_PORT}"
  s="${s//@ROUTER_PORT@/$STACK_DRUID_ROUTER_PORT}"
  s="${s//@TLS_PORT@/$STACK_DRUID_TLS_PORT}"
  s="${s//@TLS_KEYSTORE@/$DRUID_KEYSTORE}"
  if [[ "$s" == *@TLS_KEYSTORE_PASSWORD@* ]]; then s="${s//@TLS_KEYSTORE_PASSWORD@/$(cat "$DRUID_KEYSTORE_PASSWORD_FILE")}"; fi
  mkdir -p "$(dirname "$2")"
  ( umask 077; printf '%s\n' "$s" > "$2" )
}
mkdir -p "$LOGS" "$VAR/tmp" "$STATE/zk" "$CONF_OUT"
echo "$DRUID_VERSION" > "$VERSION_FILE"
tls_prepare   # the stack's CA and the Router's keystore (STACK_DRUID_TLS)
render "$DRUID_STACK_SRC/conf/common.runtime.properties" "$CONF_OUT/_common/common.runtime.properties"
render "$DRUID_STACK_SRC/conf/coordinator-overlord/runtime.properties" "$CONF_OUT/coordinator-overlord/runtime.properties"
render "$DRUID_STACK_SRC/conf/middleManager/runtime.properties" "$CONF_OUT/middleManager/runtime.properties"
render "$DRUID_STACK_SRC/conf/zoo.cfg" "$CONF_OUT/zoo.cfg"
render "$DRUID_STACK_SRC/conf/kafka-server.properties" "$CONF_OUT/kafka-server.properties"
cp "$DRUID_STACK_SRC"/conf/log4j2*.xml "$CONF_OUT/"
sql_render_conf
tls_render_conf

# fail early with a clear message when a port is taken by something that is not ours
check_port_free() { # <port> <what> <pidfile>
  if ! pid_alive "$3" && port_listening "$1"; then
    die "port 127.0.0.1:$1 ($2) is in use by another process; stop it or set the STACK_*_PORT variable"
  fi
}
check_port_free "$STACK_ZK_PORT" "ZooKeeper" "$ZK_PID"
check_port_free "$STACK_DRUID_PORT" "Druid HTTP" "$DRUID_PID"
check_port_free "$STACK_DERBY_PORT" "Derby" "$DRUID_PID"
check_port_free "$STACK_DRUID_MM_PORT" "Druid MiddleManager" "$MM_PID"
if [ "$STACK_KAFKA" = 1 ]; then
  check_port_free "$STACK_KAFKA_PORT" "Kafka" "$KAFKA_PID"
  check_port_free "$STACK_KAFKA_CONTROLLER_PORT" "Kafka controller" "$KAFKA_PID"
fi
sql_check_ports
tls_check_ports

# ---- ZooKeeper: ZooKeeperServerMain from the jars Druid depends on (3.8.x; it needs
# snappy, dropwizard metrics, netty ..., so the whole Druid lib/ is its classpath)
if pid_alive "$ZK_PID"; then
  log "zookeeper already running (pid $(cat "$ZK_PID"))"
else
  start_bg zookeeper "$LOGS/zk.log" "$ZK_PID" \
    "$JAVA" -Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    "-Dlog4j.configurationFile=$CONF_OUT/log4j2-zk.xml" -Dzookeeper.admin.enableServer=false \
    -cp "$DRUID_HOME/lib/*" org.apache.zookeeper.server.ZooKeeperServerMain "$CONF_OUT/zoo.cfg"
fi
wait_until "zookeeper on 127.0.0.1:$STACK_ZK_PORT" 60 "$ZK_PID" zk_ok

# ---- Kafka (KRaft, combined broker+controller) ---------------------------------------------
# Right after a stack on the same ports was stopped, sockets of its broker may hold the listener
# port for up to a minute: Kafka then exits with "Address already in use". It is started again
# every 5 s until it binds, at most 120 s; any other exit is an error at once.
kafka_java=("$JAVA" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "-Dlog4j2.configurationFile=$CONF_OUT/log4j2-kafka.xml"
  -cp "$KAFKA_HOME/lib/*")
kafka_log_mark=0
start_kafka() {
  kafka_log_mark="$(stat -c %s "$LOGS/kafka.log" 2>/dev/null || echo 0)"
  start_bg kafka "$LOGS/kafka.log" "$KAFKA_PID" "${kafka_java[@]}" -Xms64m -Xmx384m \
    kafka.Kafka "$CONF_OUT/kafka-server.properties"
}
# Only what this start wrote to the log counts (an old "Address already in use" must not turn
# another failure into restarts); grep reads all of it, so tail never dies of SIGPIPE.
bind_failed_since_start() {
  tail -c +"$((kafka_log_mark + 1))" "$LOGS/kafka.log" 2>/dev/null | grep 'Address already in use' >/dev/null
}
await_kafka() {
  local retry_until=$((SECONDS + 120)) ready_by=$((SECONDS + 90))
  until kafka_ok; do
    if ! pid_alive "$KAFKA_PID"; then
      if (( SECONDS < retry_until )) && bind_failed_since_start; then
        log "kafka could not bind 127.0.0.1:$STACK_KAFKA_PORT yet (a socket of a process stopped just before, or a client connection that was given this port); starting it again in 5 s"
        sleep 5
        start_kafka
        ready_by=$((SECONDS + 90))
        continue
      fi
      die "kafka on 127.0.0.1:$STACK_KAFKA_PORT: the process exited while waiting (see $LOGS/kafka.log)"
    fi
    (( SECONDS < ready_by )) || die "kafka on 127.0.0.1:$STACK_KAFKA_PORT: not ready 90s after its start (see $LOGS/kafka.log)"
    sleep 1
  done
}
if [ "$STACK_KAFKA" = 1 ]; then
  if pid_alive "$KAFKA_PID"; then
    log "kafka already running (pid $(cat "$KAFKA_PID"))"
    kafka_log_mark="$(stat -c %s "$LOGS/kafka.log" 2>/dev/null || echo 0)"
  else
    if [ ! -f "$STATE/kafka/meta.properties" ]; then
      cluster_id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
      log "formatting kafka storage (cluster id $cluster_id)"
      # --cluster-id=<id> in one word: an id starting with "-" (1 in 64) is otherwise read as an option.
      "${kafka_java[@]}" -Xmx128m kafka.tools.StorageTool format --cluster-id="$cluster_id" \
        -c "$CONF_OUT/kafka-server.properties" >>"$LOGS/kafka.log" 2>&1 \
        || die "kafka storage format failed (see $LOGS/kafka.log)"
    fi
    start_kafka
  fi
fi

# ---- Druid: coordinator with asOverlord + a MiddleManager, everything on the plain classpath ----
# start_druid <name> <pidfile> <conf dir> <heap> <druid command...>
start_druid() {
  local name="$1" pidfile="$2" confdir="$3" heap="$4"; shift 4
  if pid_alive "$pidfile"; then
    log "$name already running (pid $(cat "$pidfile"))"
    return 0
  fi
  # shellcheck disable=SC2086  # STACK_DRUID_EXTRA_OPTS is a list of JVM options
  start_bg "$name" "$LOGS/$name.out" "$pidfile" \
    "$JAVA" -server "-Xms$heap" "-Xmx$heap" -XX:MaxDirectMemorySize=256m \
    -XX:+ExitOnOutOfMemoryError -XX:+UseG1GC -XX:TieredStopAtLevel=1 \
    -Duser.timezone=UTC -Dfile.encoding=UTF-8 "-Djava.io.tmpdir=$VAR/tmp" \
    "-Dlog4j.configurationFile=$CONF_OUT/log4j2.xml" "-Ddruid.log.dir=$LOGS" "-Ddruid.log.name=$name" \
    -Djava.util.logging.manager=org.apache.logging.log4j.jul.LogManager \
    "-Dderby.stream.error.file=$LOGS/derby.log" \
    "${JAVA17_FLAGS[@]}" ${STACK_DRUID_EXTRA_OPTS:-} \
    -cp "$CONF_OUT/_common:$CONF_OUT/$confdir:$DRUID_HOME/lib/*" \
    org.apache.druid.cli.Main server "$@"
}
start_druid druid "$DRUID_PID" coordinator-overlord "$STACK_DRUID_HEAP" coordinator
start_druid middlemanager "$MM_PID" middleManager 128m middleManager
sql_start   # broker + router (STACK_SQL=1)

if [ "$STACK_KAFKA" = 1 ]; then
  await_kafka
fi
wait_until "druid /status/health" "$STACK_UP_TIMEOUT" "$DRUID_PID" druid_health_ok
wait_until "overlord leadership" "$STACK_UP_TIMEOUT" "$DRUID_PID" overlord_leader
wait_until "coordinator leadership" "$STACK_UP_TIMEOUT" "$DRUID_PID" coordinator_leader
wait_until "middleManager registered with the overlord" "$STACK_UP_TIMEOUT" "$MM_PID" worker_registered

# Supervisor API: 200 once the SupervisorManager started. A lasting 401 means the admin
# password differs from the one stored in the metadata store at the first start.
start=$SECONDS
while :; do
  code="$(dcurl_auth -o /dev/null -w '%{http_code}' "$DRUID_URL/druid/indexer/v1/supervisor" 2>/dev/null || true)"
  [ "$code" = 200 ] && break
  pid_alive "$DRUID_PID" || die "druid exited while waiting (see $LOGS/druid.log)"
  if [ "$code" = 401 ] && (( SECONDS - start > 20 )); then
    die "Druid rejects admin/\$STACK_DRUID_PASSWORD (401): the password was fixed at the first start; run stack/druid/down.sh --purge"
  fi
  (( SECONDS - start > STACK_UP_TIMEOUT )) && die "supervisor API not ready after ${STACK_UP_TIMEOUT}s (last HTTP $code)"
  sleep 1
done
log "supervisor API ready after $((SECONDS - start))s"
sql_wait_ready
tls_wait_ready

write_env
log "druid stack up in $((SECONDS - T0))s: $DRUID_URL (Druid $DRUID_VERSION, user admin)$([ "$STACK_KAFKA" = 1 ] && echo ", kafka 127.0.0.1:$STACK_KAFKA_PORT")$([ "$STACK_SQL" = 1 ] && echo ", router $DRUID_ROUTER_URL, broker $DRUID_BROKER_URL")$([ "$STACK_DRUID_TLS" = 1 ] && echo ", https $DRUID_HTTPS_URL (CA $DRUID_CA_FILE)")"
