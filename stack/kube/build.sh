#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager and kubectl from the wrapper Go modules in
# stack/kube/etcd and stack/kube/kube into
#   $DIC_CACHE_DIR/bin/kube-<k8s version>-etcd-<etcd version>-<hash>/
# where <hash> covers the wrappers' go.mod, go.sum and main.go files, so any change to them
# builds into a new folder. Skips the build when that folder is complete.
# Prints the folder on stdout (progress goes to stderr). Cold: many minutes on 2 cores.
#
#   bash stack/kube/build.sh            # build if needed, print the bin dir
#   bash stack/kube/build.sh --print    # print the bin dir the sources map to, build nothing
#
# Uses the default Go module cache and build cache (outside the repo), so a rebuild after a
# small change is quick.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"

KUBE_SRC="$STACK_ROOT/kube"
print_only=0
[ "${1:-}" = "--print" ] && print_only=1

# Versions come from the committed go.mod files, the single source of truth.
K8S_VERSION="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}
                    $1 == "require" && $2 == "k8s.io/kubernetes" {print $3; exit}' "$KUBE_SRC/kube/go.mod")"
ETCD_VERSION="$(awk '$1 == "go.etcd.io/etcd/server/v3" && $2 ~ /^v/ {print $2; exit}
                     $1 == "require" && $2 == "go.etcd.io/etcd/server/v3" {print $3; exit}' "$KUBE_SRC/etcd/go.mod")"
[[ "$K8S_VERSION" =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || die "cannot read the k8s.io/kubernetes version from $KUBE_SRC/kube/go.mod"
K8S_MINOR="${BASH_REMATCH[1]}"
[[ "$ETCD_VERSION" =~ ^v3\.[0-9]+\.[0-9]+$ ]] || die "cannot read the go.etcd.io/etcd/server/v3 version from $KUBE_SRC/etcd/go.mod"

src_hash() {
  (cd "$KUBE_SRC" && find etcd kube -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) | LC_ALL=C sort \
    | while read -r f; do printf '%s\n' "$f"; cat "$f"; done) | sha256sum | cut -c1-12
}
BIN_DIR="$DIC_CACHE_DIR/bin/kube-${K8S_VERSION#v}-etcd-${ETCD_VERSION#v}-$(src_hash)"
BINARIES=(etcd kube-apiserver kube-controller-manager kubectl)

complete() {
  local b
  for b in "${BINARIES[@]}"; do [ -x "$BIN_DIR/$b" ] || return 1; done
  [ -f "$BIN_DIR/BUILDINFO" ]
}

if [ "$print_only" = 1 ] || complete; then
  [ "$print_only" = 1 ] || log "binaries up to date in $BIN_DIR"
  echo "$BIN_DIR"
  exit 0
fi

require_go "the kube stack"
go_version="$(go env GOVERSION)"
build_lock kube "the kube stack"
if complete; then
  log "binaries up to date in $BIN_DIR (built by a concurrent run)"
  echo "$BIN_DIR"
  exit 0
fi

# Reproducible, static, offline-from-the-toolchain build: never fetch another Go toolchain,
# never consult a go.work, never rewrite go.mod/go.sum, no VCS stamping (the repo's commit
# would otherwise change the binaries).
export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"

tmp="$(mktemp -d "$DIC_CACHE_DIR/bin/.build-XXXXXX")"
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
build_log="$DIC_CACHE_DIR/bin/kube-build.log"
: > "$build_log"

# go build -v names each package as it compiles it; turn that into a progress line every
# 100 packages (kube-apiserver + kube-controller-manager are roughly 2,500 packages).
progress() {
  local what="$1" n=0 line
  while IFS= read -r line; do
    printf '%s\n' "$line" >> "$build_log"
    n=$((n + 1))
    if (( n % 100 == 0 )); then log "  $what: $n packages compiled"; fi
  done
}

run_build() {
  local what="$1" dir="$2"; shift 2
  local start=$SECONDS
  log "downloading Go modules for $what (module cache: $(go env GOMODCACHE))"
  (cd "$dir" && go mod download) >> "$build_log" 2>&1 \
    || { tail -n 30 "$build_log" >&2; die "go mod download failed for $what (full log: $build_log)"; }
  log "compiling $what (cold: several minutes on 2 cores; build cache: $(go env GOCACHE))"
  if ! (cd "$dir" && go build -v -trimpath "$@" 2>&1) | progress "$what"; then
    tail -n 30 "$build_log" >&2
    die "building $what failed (full log: $build_log)"
  fi
  log "$what built in $((SECONDS - start))s"
}

log "building etcd $ETCD_VERSION and Kubernetes $K8S_VERSION with $go_version into $BIN_DIR"
total_start=$SECONDS

run_build etcd "$KUBE_SRC/etcd" -ldflags "-s -w" -o "$tmp/etcd" .

k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$K8S_MINOR -X $pkg.gitTreeState=clean"
done
run_build "kube-apiserver + kube-controller-manager + kubectl" "$KUBE_SRC/kube" -ldflags "$k8s_ldflags" \
  -o "$tmp/" ./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kubectl

for b in "${BINARIES[@]}"; do
  [ -x "$tmp/$b" ] || die "build finished but $b is missing (full log: $build_log)"
done
"$tmp/etcd" --version >> "$build_log" 2>&1 || die "the built etcd does not run (full log: $build_log)"
"$tmp/kube-apiserver" --version >> "$build_log" 2>&1 || die "the built kube-apiserver does not run (full log: $build_log)"
"$tmp/kubectl" version --client >> "$build_log" 2>&1 || die "the built kubectl does not run (full log: $build_log)"
publish_build "$tmp" "$BIN_DIR" "the kube stack" "$total_start" \
  "k8s.io/kubernetes $K8S_VERSION" "go.etcd.io/etcd/server/v3 $ETCD_VERSION"
