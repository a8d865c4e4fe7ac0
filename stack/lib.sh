# Shared shell helpers for the local stack scripts. Source it; do not run it.
# Paths:
#   DIC_CACHE_DIR  builds and downloads that survive between runs (outside the repo)
#   DIC_STACK_DIR  runtime state of the running stack: data dirs, pids, logs, env files
set -euo pipefail

STACK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$STACK_ROOT/.." && pwd)"
: "${DIC_CACHE_DIR:=$HOME/.cache/druid-ingestion-controller}"
: "${DIC_STACK_DIR:=$REPO_ROOT/.stack}"
export DIC_CACHE_DIR DIC_STACK_DIR
mkdir -p "$DIC_CACHE_DIR" "$DIC_STACK_DIR"

# The router Service names the e2e tests use (test/support/routers.ts): short and full forms.
# stack/hosts.sh maps them to 127.0.0.1; the local Druid's https certificate names them.
ROUTER_HOSTNAMES="router-a.druid-routers.svc router-b.druid-routers.svc router-a.druid-routers.svc.cluster.local router-b.druid-routers.svc.cluster.local"

log() { printf '[stack %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# require_cmd <command> <what to install if missing>
require_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is required but not found: $2"
}

# pid_alive <pidfile>: true when the pidfile names a running process that we started. A pid
# from a stopped stack can be reused by an unrelated process: one that began after the pidfile
# was written (start_bg writes it right after the fork) is not ours, and is neither waited on
# as a healthy component nor signalled by stop_pid.
pid_alive() {
  [ -f "$1" ] || return 1
  local pid; pid="$(cat "$1")"
  kill -0 "$pid" 2>/dev/null || return 1
  [ -r "/proc/$pid/stat" ] || return 0
  local ticks boot hz started written
  ticks="$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$pid/stat")" || return 0
  boot="$(awk '/^btime/ { print $2 }' /proc/stat)"
  hz="$(getconf CLK_TCK)"
  started=$(( boot + ticks / hz ))
  written="$(stat -c %Y "$1")"
  [ "$started" -le $(( written + 5 )) ]
}

# start_bg <name> <logfile> <pidfile> <command...>: start a daemon in its own session
start_bg() {
  local name="$1" logfile="$2" pidfile="$3"; shift 3
  mkdir -p "$(dirname "$logfile")" "$(dirname "$pidfile")"
  setsid "$@" >>"$logfile" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  log "started $name (pid $(cat "$pidfile"), log $logfile)"
}

# stop_pid <name> <pidfile>: TERM the process group, then KILL after 20 s
stop_pid() {
  local name="$1" pidfile="$2" pid i
  if ! pid_alive "$pidfile"; then rm -f "$pidfile"; return 0; fi
  pid="$(cat "$pidfile")"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop after 20 s, killing"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  log "stopped $name"
}

# wait_until <description> <timeout seconds> <pidfile or ""> <command...>
# Polls the command every second; fails early when the watched process died.
wait_until() {
  local what="$1" timeout="$2" pidfile="$3"; shift 3
  local start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if [ -n "$pidfile" ] && ! pid_alive "$pidfile"; then
      die "$what: the process exited while waiting (see its log)"
    fi
    if (( SECONDS - start > timeout )); then
      die "$what: not ready after ${timeout}s"
    fi
    sleep 1
  done
  log "$what ready after $((SECONDS - start))s"
}
