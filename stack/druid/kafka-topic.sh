#!/usr/bin/env bash
# Create a topic on the local Kafka broker (no-op when it exists).
#   kafka-topic.sh <topic> [partitions]        create
#   kafka-topic.sh --list                      list topics
#   kafka-topic.sh --produce <topic>           send stdin lines as records (one per line)
#   kafka-topic.sh --delete-matching <regex>   delete the topics whose name matches (none is fine)
# The broker also auto-creates topics (1 partition) on first produce/metadata request.
# KAFKA_BOOTSTRAP=host:port talks to that broker instead of this stack's.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

find_java17 || die "Java 17 not found"
[ -d "$KAFKA_HOME/lib" ] || die "Kafka is not built: run stack/druid/build.sh (STACK_KAFKA=1)"
# KAFKA_BOOTSTRAP (host:port) names another broker than this stack's.
if [ -z "${KAFKA_BOOTSTRAP:-}" ]; then
  kafka_ok || die "Kafka does not answer on 127.0.0.1:$STACK_KAFKA_PORT: run stack/druid/up.sh"
fi
kjava=("$JAVA" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
  "-Dlog4j2.configurationFile=$DRUID_STACK_SRC/conf/log4j2-kafka.xml" -cp "$KAFKA_HOME/lib/*")
bs="${KAFKA_BOOTSTRAP:-127.0.0.1:$STACK_KAFKA_PORT}"

case "${1:-}" in
  ""|-h|--help) sed -n '2,7p' "$0"; exit 0 ;;
  --list) exec "${kjava[@]}" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --list ;;
  --produce)
    [ -n "${2:-}" ] || die "usage: $0 --produce <topic>"
    exec "${kjava[@]}" org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$bs" --topic "$2" ;;
  --delete-matching)
    [ -n "${2:-}" ] || die "usage: $0 --delete-matching <regex>"
    exec "${kjava[@]}" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --delete \
      --if-exists --topic "$2" ;;
  *)
    exec "${kjava[@]}" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --create \
      --if-not-exists --topic "$1" --partitions "${2:-1}" --replication-factor 1 ;;
esac
