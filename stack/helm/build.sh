#!/usr/bin/env bash
# Builds the Helm CLI from the wrapper Go module in stack/helm (go.mod: `tool
# helm.sh/helm/v4/cmd/helm`, Helm's own main package) into
#   $DIC_CACHE_DIR/bin/helm-<helm version>-<hash>/helm
# where <hash> covers go.mod and go.sum, so any change to them builds into a new folder. Skips
# the build when that folder is complete. Prints the folder on stdout (progress goes to stderr).
# Cold: a few minutes on 2 cores; cached: instant.
#
#   bash stack/helm/build.sh            # build if needed, print the bin dir
#   bash stack/helm/build.sh --print    # print the bin dir the sources map to, build nothing
#
# Used by the chart's unit tests (helm lint / template) and e2e tests (install / upgrade /
# uninstall); it needs only Go, not the running stack.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"

HELM_SRC="$STACK_ROOT/helm"
print_only=0
[ "${1:-}" = "--print" ] && print_only=1

# The version comes from the committed go.mod, the single source of truth.
HELM_VERSION="$(awk '$1 == "helm.sh/helm/v4" && $2 ~ /^v/ {print $2; exit}
                     $1 == "require" && $2 == "helm.sh/helm/v4" {print $3; exit}' "$HELM_SRC/go.mod")"
[[ "$HELM_VERSION" =~ ^v4\.[0-9]+\.[0-9]+$ ]] || die "cannot read the helm.sh/helm/v4 version from $HELM_SRC/go.mod"

src_hash() {
  (cd "$HELM_SRC" && for f in go.mod go.sum; do printf '%s\n' "$f"; cat "$f"; done) | sha256sum | cut -c1-12
}
BIN_DIR="$DIC_CACHE_DIR/bin/helm-${HELM_VERSION#v}-$(src_hash)"

complete() { [ -x "$BIN_DIR/helm" ] && [ -f "$BIN_DIR/BUILDINFO" ]; }

if [ "$print_only" = 1 ] || complete; then
  echo "$BIN_DIR"
  exit 0
fi

require_go helm
go_version="$(go env GOVERSION)"
# Parallel unit test files on a cold cache would otherwise all compile it.
build_lock helm helm
if complete; then
  echo "$BIN_DIR"
  exit 0
fi

# As stack/kube/build.sh: no other toolchain, no go.work, no go.mod rewrite, no VCS stamping.
export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"

tmp="$(mktemp -d "$DIC_CACHE_DIR/bin/.build-helm-XXXXXX")"
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
build_log="$DIC_CACHE_DIR/bin/helm-build.log"
: > "$build_log"

start=$SECONDS
log "building helm $HELM_VERSION with $go_version into $BIN_DIR (cold: a few minutes; build cache: $(go env GOCACHE))"
(cd "$HELM_SRC" && go mod download) >> "$build_log" 2>&1 \
  || { tail -n 30 "$build_log" >&2; die "go mod download failed for helm (full log: $build_log)"; }
# Helm's Makefile stamps the version the same way (`helm version` then says v4.x.y, not main).
if ! (cd "$HELM_SRC" && go build -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
    -o "$tmp/helm" helm.sh/helm/v4/cmd/helm) >> "$build_log" 2>&1; then
  tail -n 30 "$build_log" >&2
  die "building helm failed (full log: $build_log)"
fi
"$tmp/helm" version --short >> "$build_log" 2>&1 || die "the built helm does not run (full log: $build_log)"
publish_build "$tmp" "$BIN_DIR" helm "$start" "helm.sh/helm/v4 $HELM_VERSION"
