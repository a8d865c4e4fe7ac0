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

# require_go <what>: Go 1.26 or newer on PATH (the wrapper modules in stack/kube and stack/helm
# say 'go 1.26.0'), to build <what>.
require_go() {
  require_cmd go "install Go >= 1.26 (the wrapper modules say 'go 1.26.0')"
  local version; version="$(go env GOVERSION)"
  [[ "$version" =~ ^go1\.([0-9]+) ]] && (( BASH_REMATCH[1] >= 26 )) \
    || die "Go >= 1.26 is required to build $1, found '$version' at $(command -v go)"
}

# build_lock <name> <what>: one build of <name> at a time (runs started at once would otherwise
# all compile for minutes); holds $DIC_CACHE_DIR/bin/.<name>-build.lock on fd 9 until exit.
build_lock() {
  mkdir -p "$DIC_CACHE_DIR/bin"
  exec 9>"$DIC_CACHE_DIR/bin/.$1-build.lock"
  if ! flock -n 9; then
    log "another build of $2 is running; waiting for it"
    flock 9
  fi
}

# publish_build <tmp dir> <bin dir> <what> <start $SECONDS> <version line>...: writes BUILDINFO
# (the module versions given, Go's, the time) into the finished build in <tmp dir>, moves it to
# <bin dir> (whose completeness check looks for BUILDINFO), drops the EXIT trap that removed
# <tmp dir>, and prints <bin dir>.
publish_build() {
  local tmp="$1" bin_dir="$2" what="$3" start="$4"; shift 4
  { printf '%s\n' "$@"; echo "go $(go env GOVERSION)"; echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ)"; } > "$tmp/BUILDINFO"
  rm -rf "$bin_dir"
  mv "$tmp" "$bin_dir"
  trap - EXIT
  log "built $what in $((SECONDS - start))s: $bin_dir"
  echo "$bin_dir"
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
