#!/usr/bin/env bash
# Exercise the Druid APIs the controller uses against the running local stack and print every
# HTTP status and body (shortened). Exit 1 when an expectation fails.
# Uses its own ids (stacksmoke-<random>) and deletes what it creates.
#   STACK_SMOKE_WAIT_RUNNING=1  also wait (up to 120 s) for the Kafka supervisor to be RUNNING
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

[ -f "$ENV_FILE" ] || die "no $ENV_FILE: run stack/druid/up.sh first"
# shellcheck disable=SC1090
source "$ENV_FILE"
ID="stacksmoke-$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
IX="$DRUID_URL/druid/indexer/v1"
CO="$DRUID_URL/druid/coordinator/v1"
AUTH=(-u "$DRUID_USER:$DRUID_PASSWORD")
JSON=(-H 'Content-Type: application/json')
fails=0
passes=0

# call <expected status> <label> <curl args...>: prints status + body, records mismatches
call() {
  local want="$1" label="$2" out code body; shift 2
  out="$(curl -sS --max-time 30 -w '\n%{http_code}' "$@" 2>&1 || true)"
  code="${out##*$'\n'}"; body="${out%$'\n'*}"
  BODY="$body"
  if [ "$code" = "$want" ]; then passes=$((passes + 1)); printf 'ok   %-44s %s  %.300s\n' "$label" "$code" "$body"
  else printf 'FAIL %-44s %s (want %s)  %.600s\n' "$label" "$code" "$want" "$body"; fails=$((fails + 1)); fi
}

if [ "${KAFKA_BOOTSTRAP:-}" != "" ]; then
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

echo "== status and auth"
call 200 "GET /status" "${AUTH[@]}" "$DRUID_URL/status"
echo "     version: $(printf '%s' "$BODY" | grep -o '"version":"[^"]*"' | head -n1)"
call 200 "GET /status/health (no auth)" "$DRUID_URL/status/health"
call 200 "GET indexer isLeader (no auth)" "$IX/isLeader"
call 200 "GET coordinator isLeader (no auth)" "$CO/isLeader"
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
