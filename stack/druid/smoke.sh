#!/usr/bin/env bash
# Exercise the Druid APIs the controller uses against the running local stack and print every
# HTTP status and body (shortened). Exit 1 when an expectation fails.
# Uses its own ids (stacksmoke-<random>) and deletes what it creates.
#   STACK_SMOKE_WAIT_RUNNING=1  also wait (up to 120 s) for the Kafka supervisor to be RUNNING
#   STACK_SMOKE_VIA=router      send the whole run through the Router (DRUID_ROUTER_URL) instead of
#                               the coordinator-overlord (DRUID_URL)
# With a Router (STACK_SQL=1, DRUID_ROUTER_URL in druid.env) a last part checks what the controller
# sends there: overlord and coordinator calls through the management proxy, SQL through the Broker,
# and SQL-based ingestion (/druid/v2/sql/task) when druid-multi-stage-query is loaded.
#   STACK_SMOKE_REQUIRE_SQL_TASK=1  fail (instead of skip) when /druid/v2/sql/task is not served
#   STACK_SMOKE_ONLY=sql            only the SQL-based ingestion part (needs no Kafka extension)
# With https on the Router (DRUID_HTTPS_URL, DRUID_CA_FILE in druid.env) another part checks it.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

[ -f "$ENV_FILE" ] || die "no $ENV_FILE: run stack/druid/up.sh first"
# Whether this stack has a Router is what its druid.env says, not sql.sh's default URL (which, on a
# stack started with STACK_SQL=0, points at another stack's Router on the default port).
unset DRUID_ROUTER_URL DRUID_BROKER_URL DRUID_HTTPS_URL DRUID_CA_FILE
# shellcheck disable=SC1090
source "$ENV_FILE"
ID="stacksmoke-$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
BASE="$DRUID_URL"
LEADER_AUTH=()   # the leader probes are unsecured on the overlord/coordinator, not on the Router
if [ "${STACK_SMOKE_VIA:-}" = router ]; then
  [ -n "${DRUID_ROUTER_URL:-}" ] || die "STACK_SMOKE_VIA=router: no DRUID_ROUTER_URL in $ENV_FILE (start with STACK_SQL=1)"
  BASE="$DRUID_ROUTER_URL"
  LEADER_AUTH=(-u "$DRUID_USER:$DRUID_PASSWORD")
  echo "== all calls through the Router $BASE"
fi
IX="$BASE/druid/indexer/v1"
CO="$BASE/druid/coordinator/v1"
AUTH=(-u "$DRUID_USER:$DRUID_PASSWORD")
JSON=(-H 'Content-Type: application/json')
fails=0
passes=0

# call <expected status> <label> <curl args...>: prints status + body, records mismatches.
# The expected status may list alternatives: 400|500
call() {
  local want="$1" label="$2" out code body; shift 2
  out="$(curl -sS --max-time 30 -w '\n%{http_code}' "$@" 2>&1 || true)"
  code="${out##*$'\n'}"; body="${out%$'\n'*}"
  BODY="$body"
  if [[ "$code" =~ ^($want)$ ]]; then passes=$((passes + 1)); printf 'ok   %-44s %s  %.300s\n' "$label" "$code" "$body"
  else printf 'FAIL %-44s %s (want %s)  %.600s\n' "$label" "$code" "$want" "$body"; fails=$((fails + 1)); fi
}

if [ "${KAFKA_BOOTSTRAP:-}" != "" ] && [ "${STACK_SMOKE_ONLY:-}" != sql ]; then
  BOOTSTRAP="$KAFKA_BOOTSTRAP"
  "$DRUID_STACK_SRC/kafka-topic.sh" "$ID" >/dev/null
  printf '{"ts":"%s","page":"a","n":1}\n{"ts":"%s","page":"b","n":2}\n' "$(date -u +%FT%TZ)" "$(date -u +%FT%TZ)" \
    | "$DRUID_STACK_SRC/kafka-topic.sh" --produce "$ID"
else
  BOOTSTRAP="127.0.0.1:9"   # nothing listens there: the supervisor cannot connect
fi
spec() { # <id> <bootstrap>
  cat <<EOF
{"type":"kafka","spec":{
  "dataSchema":{"dataSource":"$1","timestampSpec":{"column":"ts","format":"iso"},
    "dimensionsSpec":{"dimensions":["page"]},
    "granularitySpec":{"segmentGranularity":"hour","queryGranularity":"none","rollup":false}},
  "ioConfig":{"topic":"$1","inputFormat":{"type":"json"},
    "consumerProperties":{"bootstrap.servers":"$2"},
    "taskCount":1,"replicas":1,"taskDuration":"PT10M","useEarliestOffset":true},
  "tuningConfig":{"type":"kafka"}}}
EOF
}

# json_str <text>: the text as a JSON string literal
json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | sed ':a;N;$!ba;s/\n/\\n/g')"; }
field() { printf '%s' "$2" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }  # <key> <json>: first string value

# The Router: what the controller sends to it (management proxy to the overlord and coordinator
# leaders, /druid/v2 to the Broker).
router_checks() {
  local R="$DRUID_ROUTER_URL" RX="$DRUID_ROUTER_URL/druid/indexer/v1" RC="$DRUID_ROUTER_URL/druid/coordinator/v1"
  local rid="$ID-r"
  echo "== through the Router $R"
  call 200 "router GET /status" "${AUTH[@]}" "$R/status"
  call 401 "router GET /supervisor without credentials" "$RX/supervisor"
  call 200 "router GET /druid/indexer/v1/supervisor" "${AUTH[@]}" "$RX/supervisor"
  call 200 "router POST /supervisor" "${AUTH[@]}" "${JSON[@]}" -d "$(spec "$rid" "$BOOTSTRAP")" "$RX/supervisor"
  call 200 "router GET /supervisor/{id}/status" "${AUTH[@]}" "$RX/supervisor/$rid/status"
  call 200 "router POST /supervisor/{id}/terminate" "${AUTH[@]}" -X POST "$RX/supervisor/$rid/terminate"
  call 200 "router GET /druid/coordinator/v1/rules" "${AUTH[@]}" "$RC/rules"
  call 200 "router POST /rules/{ds}" "${AUTH[@]}" "${JSON[@]}" -d '[{"type":"loadForever","tieredReplicants":{"_default_tier":1}}]' "$RC/rules/$rid"
  call 200 "router GET /rules/{ds}" "${AUTH[@]}" "$RC/rules/$rid"
  call 200 "router POST /rules/{ds} [] (clean up)" "${AUTH[@]}" "${JSON[@]}" -d '[]' "$RC/rules/$rid"
  call 200 "router POST /config/compaction" "${AUTH[@]}" "${JSON[@]}" -d "{\"dataSource\":\"$rid\",\"skipOffsetFromLatest\":\"PT1H\"}" "$RC/config/compaction"
  call 200 "router GET /config/compaction/{ds}" "${AUTH[@]}" "$RC/config/compaction/$rid"
  call 200 "router DELETE /config/compaction/{ds}" "${AUTH[@]}" -X DELETE "$RC/config/compaction/$rid"
  call 200 "router POST /druid/v2/sql (SELECT)" "${AUTH[@]}" "${JSON[@]}" -d '{"query":"SELECT 1 AS \"probe\""}' "$R/druid/v2/sql"
}

# https on the Router (STACK_DRUID_TLS=1, DRUID_HTTPS_URL and DRUID_CA_FILE in druid.env): trusted
# with the stack's CA under every name the certificate holds, refused without it, and the
# management proxy works through it.
tls_checks() {
  local T="$DRUID_HTTPS_URL" port="${DRUID_HTTPS_URL##*:}" tid="$ID-tls" host
  local CA=(--cacert "$DRUID_CA_FILE")
  echo "== https through the Router $T (CA $DRUID_CA_FILE)"
  call 200 "https GET /status (stack CA)" "${CA[@]}" "${AUTH[@]}" "$T/status"
  call 200 "https GET /status via localhost" "${CA[@]}" "${AUTH[@]}" "https://localhost:$port/status"
  for host in $ROUTER_HOSTNAMES; do
    call 200 "https GET /status/health as $host" "${CA[@]}" --resolve "$host:$port:127.0.0.1" "https://$host:$port/status/health"
  done
  call 000 "https without the stack CA (system roots)" "$T/status"
  call 000 "https as a name the certificate lacks" "${CA[@]}" --resolve "druid.example:$port:127.0.0.1" "https://druid.example:$port/status"
  call 401 "https GET /supervisor without credentials" "${CA[@]}" "$T/druid/indexer/v1/supervisor"
  call 200 "https POST /supervisor" "${CA[@]}" "${AUTH[@]}" "${JSON[@]}" -d "$(spec "$tid" "$BOOTSTRAP")" "$T/druid/indexer/v1/supervisor"
  call 200 "https GET /supervisor/{id}" "${CA[@]}" "${AUTH[@]}" "$T/druid/indexer/v1/supervisor/$tid"
  call 200 "https POST /supervisor/{id}/terminate" "${CA[@]}" "${AUTH[@]}" -X POST "$T/druid/indexer/v1/supervisor/$tid/terminate"
  call 200 "https GET /druid/coordinator/v1/rules" "${CA[@]}" "${AUTH[@]}" "$T/druid/coordinator/v1/rules"
}

# SQL-based ingestion (MSQ) through the Router: REPLACE from inline data with a chosen
# context.sqlQueryId (the task id becomes query-<sqlQueryId>), the error answers, then the task
# polled to SUCCESS, its segment published, and the datasource marked unused again.
sql_task_checks() {
  local R="$DRUID_ROUTER_URL" RX="$DRUID_ROUTER_URL/druid/indexer/v1" RC="$DRUID_ROUTER_URL/druid/coordinator/v1"
  local ds="$ID-sql" qid="$ID-q" sql body task st i enabled
  echo "== SQL-based ingestion through the Router $R"
  enabled="$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "${AUTH[@]}" "$R/druid/v2/sql/task/enabled" 2>/dev/null || true)"
  if [ "$enabled" != 200 ]; then
    # without the extension the path falls to the Broker's DELETE /druid/v2/sql/{sqlQueryId}
    call 405 "router POST /druid/v2/sql/task (not served)" "${AUTH[@]}" "${JSON[@]}" -d '{"query":"SELECT 1"}' "$R/druid/v2/sql/task"
    if [ "${STACK_SMOKE_REQUIRE_SQL_TASK:-0}" = 1 ]; then
      echo "FAIL /druid/v2/sql/task is not served (GET .../enabled: $enabled): druid-multi-stage-query is not on the classpath"
      fails=$((fails + 1))
    else
      echo "skip SQL-based ingestion: /druid/v2/sql/task is not served (GET .../enabled: $enabled; druid-multi-stage-query is not on the classpath)"
    fi
    return 0
  fi
  call 200 "router GET /druid/v2/sql/task/enabled" "${AUTH[@]}" "$R/druid/v2/sql/task/enabled"
  sql="REPLACE INTO \"$ds\" OVERWRITE ALL
SELECT TIME_PARSE(\"timestamp\") AS __time, page, n
FROM TABLE(EXTERN(
  '{\"type\":\"inline\",\"data\":\"timestamp,page,n\\n2026-01-01T00:00:00Z,a,1\\n2026-01-01T01:00:00Z,b,2\"}',
  '{\"type\":\"csv\",\"findColumnsFromHeader\":true}',
  '[{\"name\":\"timestamp\",\"type\":\"string\"},{\"name\":\"page\",\"type\":\"string\"},{\"name\":\"n\",\"type\":\"long\"}]'))
PARTITIONED BY DAY"
  body="{\"query\":$(json_str "$sql"),\"context\":{\"sqlQueryId\":\"$qid\",\"maxNumTasks\":2}}"
  call 202 "router POST /druid/v2/sql/task (REPLACE)" "${AUTH[@]}" "${JSON[@]}" -d "$body" "$R/druid/v2/sql/task"
  task="$(field taskId "$BODY")"
  if [ "$task" = "query-$qid" ]; then passes=$((passes + 1)); echo "ok   taskId $task = query-<context.sqlQueryId>"
  else fails=$((fails + 1)); echo "FAIL taskId '$task' is not query-$qid"; fi
  # The Overlord refuses a second task with the same id; the Broker answers with the failure
  # shape {"taskId":"<sqlQueryId>","state":"FAILED","error":{...}} (Druid 27.0.0: HTTP 500)
  call '400|409|500' "router POST /druid/v2/sql/task (same sqlQueryId)" "${AUTH[@]}" "${JSON[@]}" -d "$body" "$R/druid/v2/sql/task"
  case "$BODY" in
    *"already exists"*) passes=$((passes + 1)); echo "ok   the duplicate is refused: already exists" ;;
    *) fails=$((fails + 1)); echo "FAIL the duplicate's answer does not say 'already exists'" ;;
  esac
  call 400 "router POST /druid/v2/sql/task (SQL syntax)" "${AUTH[@]}" "${JSON[@]}" -d '{"query":"REPLACE INTO x OVERWRITE ALL SELECT 1 AS FROM PARTITIONED BY DAY"}' "$R/druid/v2/sql/task"
  call 400 "router POST /druid/v2/sql/task (unknown table)" "${AUTH[@]}" "${JSON[@]}" -d '{"query":"INSERT INTO x SELECT * FROM \"no-such-table\" PARTITIONED BY DAY"}' "$R/druid/v2/sql/task"
  call 400 "router POST /druid/v2/sql/task (malformed JSON)" "${AUTH[@]}" "${JSON[@]}" -d '{"query":' "$R/druid/v2/sql/task"
  if [ -z "$task" ]; then echo "FAIL no taskId in the answer"; fails=$((fails + 1)); return 0; fi
  st=""
  for i in $(seq 1 90); do
    st="$(curl -sS --max-time 10 "${AUTH[@]}" "$RX/task/$task/status" | grep -o '"statusCode":"[A-Z]*"' | head -n1 || true)"
    case "$st" in *SUCCESS*|*FAILED*) break ;; esac
    sleep 2
  done
  call 200 "router GET /task/{id}/status (polled ${i}x 2s)" "${AUTH[@]}" "$RX/task/$task/status"
  case "$st" in
    *SUCCESS*) passes=$((passes + 1)); echo "ok   SQL ingestion task $task reached SUCCESS" ;;
    *) fails=$((fails + 1)); echo "FAIL SQL ingestion task $task: ${st:-no status} (report: $RX/task/$task/reports)" ;;
  esac
  call 200 "router GET /task/{id}/reports" "${AUTH[@]}" "$RX/task/$task/reports"
  # the Coordinator's view of the metadata store is polled (druid.manager.segments.pollDuration PT5S)
  for i in $(seq 1 15); do
    [ "$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "${AUTH[@]}" "$RC/metadata/datasources/$ds/segments")" = 200 ] && break
    sleep 1
  done
  call 200 "router GET segments of $ds (metadata)" "${AUTH[@]}" "$RC/metadata/datasources/$ds/segments"
  case "$BODY" in
    *"$ds"_2026-01-01*) passes=$((passes + 1)); echo "ok   the segment for 2026-01-01 is published" ;;
    *) fails=$((fails + 1)); echo "FAIL no published segment of $ds" ;;
  esac
  call 200 "router DELETE /datasources/{ds} (mark unused)" "${AUTH[@]}" -X DELETE "$RC/datasources/$ds"
}

if [ "${STACK_SMOKE_ONLY:-}" = sql ]; then
  [ -n "${DRUID_ROUTER_URL:-}" ] || die "STACK_SMOKE_ONLY=sql: no DRUID_ROUTER_URL in $ENV_FILE (start with STACK_SQL=1)"
  STACK_SMOKE_REQUIRE_SQL_TASK=1 sql_task_checks
  echo "smoke: $passes passed, $fails failed"
  [ "$fails" = 0 ]
  exit
fi

echo "== status and auth"
call 200 "GET /status" "${AUTH[@]}" "$BASE/status"
echo "     version: $(printf '%s' "$BODY" | grep -o '"version":"[^"]*"' | head -n1)"
call 200 "GET /status/health (no auth)" "$BASE/status/health"
call 200 "GET indexer isLeader${LEADER_AUTH:+ (auth)}" "${LEADER_AUTH[@]}" "$IX/isLeader"
call 200 "GET coordinator isLeader${LEADER_AUTH:+ (auth)}" "${LEADER_AUTH[@]}" "$CO/isLeader"
call 401 "GET /supervisor without credentials" "$IX/supervisor"
call 401 "GET /supervisor with a wrong password" -u "$DRUID_USER:wrong" "$IX/supervisor"

echo "== supervisor lifecycle ($ID, bootstrap $BOOTSTRAP)"
call 415 "POST /supervisor without Content-Type" "${AUTH[@]}" -X POST --data-binary "$(spec "$ID" "$BOOTSTRAP")" "$IX/supervisor"
call 500 "POST /supervisor invalid JSON (Jetty HTML)" "${AUTH[@]}" "${JSON[@]}" -d '{"type":"kafka",' "$IX/supervisor"
call 400 "POST /supervisor unknown type" "${AUTH[@]}" "${JSON[@]}" -d '{"type":"nope","spec":{}}' "$IX/supervisor"
call 400 "POST /supervisor kafka without dataSchema" "${AUTH[@]}" "${JSON[@]}" -d '{"type":"kafka","spec":{"ioConfig":{"topic":"x","consumerProperties":{"bootstrap.servers":"127.0.0.1:9"}}}}' "$IX/supervisor"
call 200 "POST /supervisor" "${AUTH[@]}" "${JSON[@]}" -d "$(spec "$ID" "$BOOTSTRAP")" "$IX/supervisor"
call 200 "POST /supervisor?skipRestartIfUnmodified=true" "${AUTH[@]}" "${JSON[@]}" -d "$(spec "$ID" "$BOOTSTRAP")" "$IX/supervisor?skipRestartIfUnmodified=true"
call 200 "GET /supervisor" "${AUTH[@]}" "$IX/supervisor"
call 200 "GET /supervisor/{id}" "${AUTH[@]}" "$IX/supervisor/$ID"
call 200 "GET /supervisor?state=true" "${AUTH[@]}" "$IX/supervisor?state=true"
call 200 "GET /supervisor/{id}/status" "${AUTH[@]}" "$IX/supervisor/$ID/status"
if [ "${STACK_SMOKE_WAIT_RUNNING:-0}" = 1 ]; then
  for _ in $(seq 1 60); do
    st="$(curl -sS "${AUTH[@]}" "$IX/supervisor/$ID/status" | grep -o '"detailedState":"[^"]*"' || true)"
    case "$st" in *'"RUNNING"'*|*UNABLE*|*UNHEALTHY*|*LOST*) break ;; esac
    sleep 2
  done
  echo "     after waiting: $st"
fi
call 200 "GET /supervisor/{id}/health" "${AUTH[@]}" "$IX/supervisor/$ID/health"
call 200 "POST /supervisor/{id}/suspend" "${AUTH[@]}" -X POST "$IX/supervisor/$ID/suspend"
call 400 "POST /supervisor/{id}/suspend (again)" "${AUTH[@]}" -X POST "$IX/supervisor/$ID/suspend"
sleep 1
call 200 "GET /supervisor?state=true (suspended)" "${AUTH[@]}" "$IX/supervisor?state=true"
echo "     entry: $(printf '%s' "$BODY" | grep -o "{\"id\":\"$ID\"[^}]*}")"
call 200 "GET /supervisor/{id}/status (suspended)" "${AUTH[@]}" "$IX/supervisor/$ID/status"
echo "     payload.suspended: $(printf '%s' "$BODY" | grep -o '"suspended":[a-z]*')"
call 200 "POST /supervisor/{id}/resume" "${AUTH[@]}" -X POST "$IX/supervisor/$ID/resume"
call 400 "POST /supervisor/{id}/resume (again)" "${AUTH[@]}" -X POST "$IX/supervisor/$ID/resume"
call 200 "POST /supervisor/{id}/reset" "${AUTH[@]}" -X POST "$IX/supervisor/$ID/reset"
call 200 "GET /supervisor/{id}/history" "${AUTH[@]}" "$IX/supervisor/$ID/history"
call 200 "POST /supervisor/{id}/terminate" "${AUTH[@]}" -X POST "$IX/supervisor/$ID/terminate"
call 404 "GET /supervisor/{id} (terminated)" "${AUTH[@]}" "$IX/supervisor/$ID"
call 404 "POST /supervisor/{id}/terminate (again)" "${AUTH[@]}" -X POST "$IX/supervisor/$ID/terminate"
call 404 "POST /supervisor/{missing}/suspend" "${AUTH[@]}" -X POST "$IX/supervisor/$ID-missing/suspend"
call 404 "GET /supervisor/{missing}/status" "${AUTH[@]}" "$IX/supervisor/$ID-missing/status"

echo "== retention rules and compaction config (datasource $ID)"
call 200 "POST /rules/{ds}" "${AUTH[@]}" "${JSON[@]}" -H 'X-Druid-Author: smoke' -H 'X-Druid-Comment: stack smoke test' \
  -d '[{"type":"loadByPeriod","period":"P7D","includeFuture":true,"tieredReplicants":{"_default_tier":1}},{"type":"dropForever"}]' "$CO/rules/$ID"
call 200 "GET /rules/{ds}" "${AUTH[@]}" "$CO/rules/$ID"
call 200 "GET /rules/{ds}/history" "${AUTH[@]}" "$CO/rules/$ID/history?count=5"
call 200 "POST /config/compaction" "${AUTH[@]}" "${JSON[@]}" -d "{\"dataSource\":\"$ID\",\"skipOffsetFromLatest\":\"PT1H\",\"taskPriority\":25}" "$CO/config/compaction"
call 200 "GET /config/compaction/{ds}" "${AUTH[@]}" "$CO/config/compaction/$ID"
call 200 "GET /config/compaction" "${AUTH[@]}" "$CO/config/compaction"
call 200 "DELETE /config/compaction/{ds}" "${AUTH[@]}" -X DELETE "$CO/config/compaction/$ID"
call 404 "GET /config/compaction/{ds} (deleted)" "${AUTH[@]}" "$CO/config/compaction/$ID"
call 200 "POST /rules/{ds} [] (clean up)" "${AUTH[@]}" "${JSON[@]}" -d '[]' "$CO/rules/$ID"

if [ -n "${DRUID_ROUTER_URL:-}" ]; then
  router_checks
  sql_task_checks
fi
if [ -n "${DRUID_HTTPS_URL:-}" ]; then
  tls_checks
fi

# ---- Druid 34 and later only (STACK_DRUID_VERSION=37.0.0); nothing of this runs on 33.0.0
if [ "${DRUID_VERSION%%.*}" -ge 34 ]; then
  echo "== Druid $DRUID_VERSION only: supervisor ids, topic change, resetOffsets, index_hadoop, compaction supervisors"
  S1="$ID-s1"; S2="$ID-s2"
  spec_id() { # <supervisor id> [<topic>]: the spec above (datasource $ID) with a top-level id
    spec "$ID" "$BOOTSTRAP" | sed -e "1s/^{\"type\":\"kafka\",/{\"type\":\"kafka\",\"id\":\"$1\",/" \
      -e "s/\"topic\":\"$ID\"/\"topic\":\"${2:-$ID}\"/"
  }
  call 200 "POST /supervisor with id (1st)" "${AUTH[@]}" "${JSON[@]}" -d "$(spec_id "$S1")" "$IX/supervisor"
  call 200 "POST /supervisor with id (2nd, same ds)" "${AUTH[@]}" "${JSON[@]}" -d "$(spec_id "$S2")" "$IX/supervisor"
  call 200 "GET /supervisor (both ids)" "${AUTH[@]}" "$IX/supervisor"
  case "$BODY" in *"\"$S1\""*"\"$S2\""*|*"\"$S2\""*"\"$S1\""*) ;; *) echo "FAIL both ids listed"; fails=$((fails + 1)) ;; esac
  call 500 "POST /supervisor topic change (refused)" "${AUTH[@]}" "${JSON[@]}" -H 'Accept: application/json' \
    -d "$(spec_id "$S1" "$ID-other")" "$IX/supervisor"
  call 200 "POST /supervisor/{id}/resetOffsets" "${AUTH[@]}" "${JSON[@]}" \
    -d "{\"type\":\"kafka\",\"partitions\":{\"type\":\"end\",\"stream\":\"$ID\",\"partitionOffsetMap\":{\"0\":1}}}" "$IX/supervisor/$S1/resetOffsets"
  call 500 "POST /supervisor/{id}/resetOffsets other stream" "${AUTH[@]}" "${JSON[@]}" -H 'Accept: application/json' \
    -d '{"type":"kafka","partitions":{"type":"end","stream":"other","partitionOffsetMap":{"0":1}}}' "$IX/supervisor/$S1/resetOffsets"
  call 404 "POST /supervisor/{missing}/resetOffsets" "${AUTH[@]}" "${JSON[@]}" \
    -d "{\"type\":\"kafka\",\"partitions\":{\"type\":\"end\",\"stream\":\"$ID\",\"partitionOffsetMap\":{\"0\":1}}}" "$IX/supervisor/$ID-missing/resetOffsets"
  call 200 "POST /supervisor/{id}/terminate (1st)" "${AUTH[@]}" -X POST "$IX/supervisor/$S1/terminate"
  call 200 "POST /supervisor/{id}/terminate (2nd)" "${AUTH[@]}" -X POST "$IX/supervisor/$S2/terminate"
  call 200 "POST /task index_hadoop (accepted)" "${AUTH[@]}" "${JSON[@]}" -d "{\"type\":\"index_hadoop\",\"spec\":{\"dataSchema\":{\"dataSource\":\"$ID\"},\"ioConfig\":{\"type\":\"hadoop\"}}}" "$IX/task"
  task="$(printf '%s' "$BODY" | sed -n 's/.*"task":"\([^"]*\)".*/\1/p')"
  for _ in $(seq 1 10); do
    st="$(curl -sS --max-time 10 "${AUTH[@]}" "$IX/task/$task/status" || true)"
    case "$st" in *'"status":"FAILED"'*) break ;; esac
    sleep 1
  done
  case "$st" in *'"status":"FAILED"'*) passes=$((passes + 1)); echo "ok   index_hadoop task FAILED: $(printf '%s' "$st" | grep -o '"errorMsg":"[^"]*"')" ;;
    *) fails=$((fails + 1)); echo "FAIL index_hadoop task not FAILED: $st" ;; esac
  call 200 "GET compaction/isSupervisorEnabled" "${AUTH[@]}" "$IX/compaction/isSupervisorEnabled"
  call 200 "POST compaction/config/datasources/{ds}" "${AUTH[@]}" "${JSON[@]}" -d "{\"dataSource\":\"$ID\",\"skipOffsetFromLatest\":\"PT1H\"}" "$IX/compaction/config/datasources/$ID"
  call 200 "GET /supervisor (autocompact__{ds})" "${AUTH[@]}" "$IX/supervisor"
  case "$BODY" in *"\"autocompact__$ID\""*) ;; *) echo "FAIL autocompact__$ID listed"; fails=$((fails + 1)) ;; esac
  call 200 "GET compaction/config/datasources/{ds}" "${AUTH[@]}" "$IX/compaction/config/datasources/$ID"
  call 404 "GET coordinator /config/compaction/{ds}" "${AUTH[@]}" "$CO/config/compaction/$ID"
  call 200 "DELETE compaction/config/datasources/{ds}" "${AUTH[@]}" -X DELETE "$IX/compaction/config/datasources/$ID"
  call 404 "DELETE compaction/config/datasources/{ds} again" "${AUTH[@]}" -X DELETE "$IX/compaction/config/datasources/$ID"
fi

echo "smoke: $passes passed, $fails failed"
[ "$fails" = 0 ]
