#!/usr/bin/env bash
# Resolve Druid (and the Kafka broker) from Maven Central into $DIC_CACHE_DIR, once.
#   $DIC_CACHE_DIR/druid-<version>/lib   Druid classpath incl. extensions (ServiceLoader route)
#   $DIC_CACHE_DIR/kafka-<version>/lib   Kafka broker classpath (only when STACK_KAFKA=1)
# A directory is reused when its .complete stamp matches the hash of the POM that made it.
# Needs Java 17 and Maven; as root on Debian it installs them with apt-get when missing.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

ensure_tools() {
  local missing=()
  find_java17 || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
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
}

# resolve <name> <pom> <dest dir> [<extra module dir to package into lib/>]
resolve() {
  local name="$1" pom="$2" dest="$3" extra="${4:-}" hash tmp
  hash="$( { cat "$pom" "$DRUID_STACK_SRC/settings.xml"
             if [ -n "$extra" ]; then find "$extra/pom.xml" "$extra/src" -type f | sort | xargs cat; fi
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
  if [ -n "$extra" ]; then
    log "$name: compiling $(basename "$extra")/ ..."
    if ! JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")" \
        mvn -B -ntp -s "$DRUID_STACK_SRC/settings.xml" -f "$extra/pom.xml" package \
        -Ddic.build.dir="$tmp/build-$(basename "$extra")" >>"$tmp/mvn.log" 2>&1; then
      grep -E 'ERROR|BUILD' "$tmp/mvn.log" | head -n 20 >&2 || true
      die "$name: building $extra failed (full log: $tmp/mvn.log)"
    fi
    cp "$tmp/build-$(basename "$extra")"/*.jar "$tmp/lib/"
    rm -rf "$tmp/build-$(basename "$extra")"
  fi
  echo "$hash" > "$tmp/.complete"
  rm -rf "$dest"; mv "$tmp" "$dest"
  log "$name: $(find "$dest/lib" -name '*.jar' | wc -l) jars, $(du -sh "$dest/lib" | cut -f1) in $dest/lib"
}

ensure_tools
log "java: $JAVA ($(java_major "$JAVA")), maven: $(mvn -v 2>/dev/null | head -n1 | sed 's/\x1b\[[0-9;]*m//g')"
resolve "druid $DRUID_VERSION" "$DRUID_STACK_SRC/pom.xml" "$DRUID_HOME" "$DRUID_STACK_SRC/compat"
if [ "$STACK_KAFKA" = 1 ]; then
  resolve "kafka $KAFKA_VERSION" "$DRUID_STACK_SRC/kafka/pom.xml" "$KAFKA_HOME"
fi
