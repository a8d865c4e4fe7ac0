#!/usr/bin/env bash
# Resolve Druid (and the Kafka broker) from Maven Central into $DIC_CACHE_DIR, once.
#   $DIC_CACHE_DIR/druid-<version>/lib   Druid classpath incl. extensions (ServiceLoader route)
#   $DIC_CACHE_DIR/kafka-<version>/lib   Kafka broker classpath (only when STACK_KAFKA=1)
# A directory is reused when its .complete stamp matches the hash of the POM that made it.
# STACK_DRUID_VERSION (see common.sh) picks pom.xml + compat/ (default) or versions/<v>/.
# A module whose POM names <dic.upstream.sources> (a -sources.jar on Maven Central) is compiled from
# that jar, unpacked once into $DIC_CACHE_DIR/druid-<version>-src/ and patched with its src/patch/*.patch.
# Needs Java 17 and Maven (and patch for such modules); as root on Debian it installs them with
# apt-get when missing.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

ensure_tools() {
  local missing=()
  find_java17 || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  if needs_patch_cmd && ! command -v patch >/dev/null 2>&1; then missing+=(patch); fi
  # javac: build.sh compiles a one-class compatibility module (compat/)
  if [ ${#missing[@]} -eq 0 ] && [ ! -x "$(dirname "$(readlink -f "$JAVA")")/javac" ]; then
    missing+=(openjdk-17-jdk-headless)
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing ${missing[*]} with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  fi
  find_java17 || die "Java 17 is required (Druid $DRUID_VERSION runs on 17): install it with 'apt-get install -y openjdk-17-jdk-headless' or set STACK_JAVA=/path/to/java17"
  [ -x "$(dirname "$(readlink -f "$JAVA")")/javac" ] || die "a Java 17 JDK (javac) is required next to $JAVA: apt-get install -y openjdk-17-jdk-headless"
  require_cmd mvn "install Maven with 'apt-get install -y maven'"
  if needs_patch_cmd; then require_cmd patch "install it with 'apt-get install -y patch'"; fi
}

# needs_patch_cmd: some module of this Druid version is built from patched upstream sources
needs_patch_cmd() {
  local m
  for m in "${DRUID_MODULES[@]}"; do
    [ -z "$(pom_prop "$m/pom.xml" dic.upstream.sources)" ] || return 0
  done
  return 1
}

mvn_java17() { JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")" mvn -B -ntp -s "$DRUID_STACK_SRC/settings.xml" "$@"; }

# upstream_sources <module dir>: prints the directory holding the module's upstream sources
# (<dic.upstream.sources> of its POM) with its src/patch/*.patch applied. Unpacked once per
# (coordinates, patches); the -sources.jar itself stays in ~/.m2.
upstream_sources() {
  local module="$1" coords hash artifact dir tmp p
  coords="$(pom_prop "$module/pom.xml" dic.upstream.sources)"
  hash="$( { echo "$coords"; find "$module/src/patch" -name '*.patch' -type f 2>/dev/null | sort | xargs -r cat; } \
           | sha256sum | cut -c1-16)"
  artifact="$(echo "$coords" | cut -d: -f2)-$(echo "$coords" | cut -d: -f3)"
  dir="$DIC_CACHE_DIR/druid-$DRUID_VERSION-src/$artifact"
  if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$hash" ]; then
    log "$(basename "$module"): sources $coords cached in $dir" >&2
    echo "$dir"; return 0
  fi
  log "$(basename "$module"): unpacking $coords from Maven Central and patching it into $dir ..." >&2
  tmp="$dir.tmp.$$"
  rm -rf "$tmp" "$tmp.work"; mkdir -p "$tmp" "$tmp.work"
  # run from a scratch directory: without a project the plugin writes its markers under ./\${project.basedir}
  if ! (cd "$tmp.work" && mvn_java17 dependency:unpack -Dartifact="$coords" -DoutputDirectory="$tmp" \
      -Dmdep.overWriteReleases=true) >"$tmp.log" 2>&1; then
    grep -E 'ERROR|BUILD' "$tmp.log" | head -n 20 >&2 || true
    die "$(basename "$module"): Maven could not fetch $coords (full log: $tmp.log)"
  fi
  rm -rf "$tmp.work"
  for p in $(find "$module/src/patch" -name '*.patch' -type f 2>/dev/null | sort); do
    patch -d "$tmp" -p1 --forward --no-backup-if-mismatch -s < "$p" >>"$tmp.log" 2>&1 \
      || die "$(basename "$module"): $p does not apply to $coords (see $tmp.log)"
  done
  echo "$hash" > "$tmp/.complete"
  rm -rf "$dir" "$tmp.log"; mv "$tmp" "$dir"
  echo "$dir"
}

# resolve <name> <pom> <dest dir> [<module dir to package into lib/> ...]
resolve() {
  local name="$1" pom="$2" dest="$3" hash tmp extra src_args
  shift 3
  hash="$( { cat "$pom" "$DRUID_STACK_SRC/settings.xml"
             for extra in "$@"; do find "$extra/pom.xml" "$extra/src" -type f | sort | xargs cat; done
           } | sha256sum | cut -c1-16)"
  if [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$hash" ] && [ -d "$dest/lib" ]; then
    log "$name: cached in $dest"
    return 0
  fi
  log "$name: resolving from Maven Central into ~/.m2 (first time on an empty ~/.m2: about a minute) ..."
  tmp="$dest.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp/lib"
  # JAVA_HOME for Maven itself: the Java 17 found above
  if ! JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")" \
      mvn -B -ntp -s "$DRUID_STACK_SRC/settings.xml" -f "$pom" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/lib" \
      >"$tmp/mvn.log" 2>&1; then
    grep -E 'ERROR|BUILD' "$tmp/mvn.log" | head -n 20 >&2 || true
    die "$name: Maven could not resolve $pom (full log: $tmp/mvn.log)"
  fi
  [ "$(find "$tmp/lib" -name '*.jar' | wc -l)" -gt 10 ] || die "$name: Maven copied almost no jars (see $tmp/mvn.log)"
  for extra in "$@"; do
    src_args=()
    if [ -n "$(pom_prop "$extra/pom.xml" dic.upstream.sources)" ]; then
      src_args=("-Ddic.src.dir=$(upstream_sources "$extra")")
    fi
    log "$name: compiling $(basename "$extra")/ ..."
    if ! JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")" \
        mvn -B -ntp -s "$DRUID_STACK_SRC/settings.xml" -f "$extra/pom.xml" package \
        -Ddic.build.dir="$tmp/build-$(basename "$extra")" ${src_args[@]+"${src_args[@]}"} >>"$tmp/mvn.log" 2>&1; then
      grep -E 'ERROR|BUILD' "$tmp/mvn.log" | head -n 20 >&2 || true
      die "$name: building $extra failed (full log: $tmp/mvn.log)"
    fi
    cp "$tmp/build-$(basename "$extra")"/*.jar "$tmp/lib/"
    rm -rf "$tmp/build-$(basename "$extra")"
  done
  echo "$hash" > "$tmp/.complete"
  rm -rf "$dest"; mv "$tmp" "$dest"
  log "$name: $(find "$dest/lib" -name '*.jar' | wc -l) jars, $(du -sh "$dest/lib" | cut -f1) in $dest/lib"
}

ensure_tools
log "java: $JAVA ($(java_major "$JAVA")), maven: $(mvn -v 2>/dev/null | head -n1 | sed 's/\x1b\[[0-9;]*m//g')"
resolve "druid $DRUID_VERSION" "$DRUID_POM" "$DRUID_HOME" "${DRUID_MODULES[@]}"
if [ "$STACK_KAFKA" = 1 ]; then
  resolve "kafka $KAFKA_VERSION" "$DRUID_STACK_SRC/kafka/pom.xml" "$KAFKA_HOME"
fi
