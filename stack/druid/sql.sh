# The query side of the local Druid stack: a Broker (serves /druid/v2/sql and, with the
# druid-multi-stage-query extension on the classpath, /druid/v2/sql/task) and a Router in front of
# everything (management proxy: /druid/indexer/*, /druid/coordinator/* to the leaders; /druid/v2/*
# to the Broker). Sourced by common.sh; up.sh, down.sh, status.sh and smoke.sh call the sql_*
# functions. Kept in its own file so the rest of the stack scripts stay as they are.
# shellcheck shell=bash

# ---- settings (environment overrides) -------------------------------------------------
# 1: run a Broker and a Router; 0: neither. Default 1, except on 37.0.0, whose druid-sql the registry
# does not serve (versions/37.0.0/pom.xml excludes it, so there is no Broker to run).
case "$DRUID_VERSION" in 37.*) : "${STACK_SQL:=0}" ;; esac
: "${STACK_SQL:=1}"
: "${STACK_DRUID_BROKER_PORT:=38082}"
: "${STACK_DRUID_ROUTER_PORT:=38888}"
: "${STACK_DRUID_BROKER_HEAP:=384m}"
: "${STACK_DRUID_ROUTER_HEAP:=256m}"

BROKER_PID="$STATE/broker.pid"
ROUTER_PID="$STATE/router.pid"
DRUID_BROKER_URL="http://127.0.0.1:$STACK_DRUID_BROKER_PORT"
DRUID_ROUTER_URL="http://127.0.0.1:$STACK_DRUID_ROUTER_PORT"

# ---- probes ---------------------------------------------------------------------------
broker_health_ok() { [ "$(dcurl "$DRUID_BROKER_URL/status/health" 2>/dev/null)" = "true" ]; }
router_health_ok() { [ "$(dcurl "$DRUID_ROUTER_URL/status/health" 2>/dev/null)" = "true" ]; }
# The Broker answers 200 here once its view of the cluster is initialized
broker_view_ready() {
  [ "$(dcurl_auth -o /dev/null -w '%{http_code}' "$DRUID_BROKER_URL/druid/broker/v1/readiness" 2>/dev/null)" = "200" ]
}
# One SQL query through the Router: it has found the Broker, the Broker plans SQL, and both
# authenticate admin (their user cache is polled from the Coordinator)
router_sql_ok() {
  dcurl_auth -H 'Content-Type: application/json' -d '{"query":"SELECT 1 AS \"probe\""}' \
    "$DRUID_ROUTER_URL/druid/v2/sql" 2>/dev/null | grep -q '"probe":1'
}
# The management proxy reaches the overlord and the coordinator leaders through the Router
router_proxy_ok() {
  [ "$(dcurl_auth -o /dev/null -w '%{http_code}' "$DRUID_ROUTER_URL/druid/indexer/v1/supervisor" 2>/dev/null)" = "200" ] &&
  [ "$(dcurl_auth -o /dev/null -w '%{http_code}' "$DRUID_ROUTER_URL/druid/coordinator/v1/rules" 2>/dev/null)" = "200" ]
}
# The SQL task endpoint (druid-multi-stage-query) is bound on the Broker; its GET .../enabled
# answers 200 {"enabled":true} when the extension is loaded, 404 when it is not
sql_task_endpoint_code() {
  dcurl_auth -o /dev/null -w '%{http_code}' "$DRUID_BROKER_URL/druid/v2/sql/task/enabled" 2>/dev/null || true
}
sql_all_up() {
  [ "$STACK_SQL" = 1 ] || return 0
  pid_alive "$BROKER_PID" && pid_alive "$ROUTER_PID" && broker_health_ok && router_sql_ok && router_proxy_ok
}

# ---- up.sh hooks (they use up.sh's render, check_port_free and start_druid) -------------
sql_render_conf() {
  [ "$STACK_SQL" = 1 ] || return 0
  render "$DRUID_STACK_SRC/conf/broker/runtime.properties" "$CONF_OUT/broker/runtime.properties"
  render "$DRUID_STACK_SRC/conf/router/runtime.properties" "$CONF_OUT/router/runtime.properties"
}
sql_check_ports() {
  [ "$STACK_SQL" = 1 ] || return 0
  check_port_free "$STACK_DRUID_BROKER_PORT" "Druid Broker" "$BROKER_PID"
  check_port_free "$STACK_DRUID_ROUTER_PORT" "Druid Router" "$ROUTER_PID"
}
sql_start() {
  [ "$STACK_SQL" = 1 ] || return 0
  start_druid broker "$BROKER_PID" broker "$STACK_DRUID_BROKER_HEAP" broker
  start_druid router "$ROUTER_PID" router "$STACK_DRUID_ROUTER_HEAP" router
}
sql_wait_ready() {
  [ "$STACK_SQL" = 1 ] || return 0
  wait_until "broker /status/health" "$STACK_UP_TIMEOUT" "$BROKER_PID" broker_health_ok
  wait_until "broker readiness (cluster view)" "$STACK_UP_TIMEOUT" "$BROKER_PID" broker_view_ready
  wait_until "router /status/health" "$STACK_UP_TIMEOUT" "$ROUTER_PID" router_health_ok
  wait_until "router → overlord/coordinator (management proxy)" "$STACK_UP_TIMEOUT" "$ROUTER_PID" router_proxy_ok
  wait_until "router → broker (SELECT 1)" "$STACK_UP_TIMEOUT" "$ROUTER_PID" router_sql_ok
  case "$(sql_task_endpoint_code)" in
    200) log "SQL-based ingestion (/druid/v2/sql/task) is served by the broker" ;;
    *) log "note: /druid/v2/sql/task is not served (druid-multi-stage-query is not on the classpath; see stack/druid/README.md)" ;;
  esac
}
# lines for druid.env
sql_env_lines() {
  [ "$STACK_SQL" = 1 ] || return 0
  echo "export DRUID_ROUTER_URL=$DRUID_ROUTER_URL"
  echo "export DRUID_BROKER_URL=$DRUID_BROKER_URL"
}

# ---- down.sh: stopped whatever STACK_SQL says now (it may have been 1 at the start) ------
sql_stop() {
  stop_pid router "$ROUTER_PID"
  stop_pid broker "$BROKER_PID"
}

# ---- status.sh --------------------------------------------------------------------------
sql_status() { # uses status.sh's report and pidinfo
  if [ "$STACK_SQL" != 1 ]; then
    printf '%-12s disabled (STACK_SQL=%s)\n' broker/router "$STACK_SQL"
    return 0
  fi
  local ok code
  ok=1; pid_alive "$BROKER_PID" && broker_health_ok && ok=0
  report broker "$ok" "$DRUID_BROKER_URL, $(pidinfo "$BROKER_PID")"
  ok=1; pid_alive "$ROUTER_PID" && router_health_ok && ok=0
  report router "$ok" "$DRUID_ROUTER_URL, $(pidinfo "$ROUTER_PID")"
  ok=1; router_proxy_ok && ok=0; report router-mgmt "$ok" "router → /druid/indexer/v1/supervisor, /druid/coordinator/v1/rules"
  ok=1; router_sql_ok && ok=0;   report router-sql "$ok" "router → broker: SELECT 1"
  code="$(sql_task_endpoint_code)"
  if [ "$code" = 200 ]; then printf '%-12s served   /druid/v2/sql/task (druid-multi-stage-query loaded)\n' sql-task
  else printf '%-12s absent   /druid/v2/sql/task (HTTP %s: druid-multi-stage-query not on the classpath)\n' sql-task "${code:-none}"; fi
}
