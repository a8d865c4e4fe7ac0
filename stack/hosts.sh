#!/usr/bin/env bash
# Makes the two router Service names the e2e tests use resolve on this machine: there is no
# cluster DNS in the local stack, so `http://<service>.<namespace>.svc:<port>` (what the
# controller records from a router Service) would never resolve. One /etc/hosts line maps
#   router-a.druid-routers.svc  router-b.druid-routers.svc  → 127.0.0.1 (loopback only)
# and their full names (<svc>.<ns>.svc.cluster.local), which the controller really dials.
# The tests create Services router-a/router-b in namespace druid-routers whose port is Druid's,
# so these URLs reach the local Druid (the Router's https certificate names them too, see
# stack/druid/tls.sh). Idempotent; needs root, otherwise it only says that the
# router-Service e2e tests will skip.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

HOSTS_FILE="${STACK_HOSTS_FILE:-/etc/hosts}"
MARKER="# druid-ingestion-controller e2e router Services (stack/hosts.sh)"
LINE="127.0.0.1 $ROUTER_HOSTNAMES $MARKER"

if grep -qxF -- "$LINE" "$HOSTS_FILE" 2>/dev/null; then
  log "router Service names already in $HOSTS_FILE"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  log "not root: router-a/router-b.druid-routers.svc are not added to $HOSTS_FILE, so the router-Service e2e tests will skip (run stack/hosts.sh as root to enable them)"
  exit 0
fi
if grep -qF -- "$MARKER" "$HOSTS_FILE" 2>/dev/null; then
  # An older form of our line: drop it. Rewritten in place (not replaced), since /etc/hosts is
  # often a bind mount that cannot be renamed over.
  kept="$(grep -vF -- "$MARKER" "$HOSTS_FILE")"
  printf '%s\n' "$kept" > "$HOSTS_FILE"
fi
# Make sure the file ends with a newline before appending.
if [ -s "$HOSTS_FILE" ] && [ "$(tail -c1 "$HOSTS_FILE" | od -An -c | tr -d ' ')" != '\n' ]; then printf '\n' >> "$HOSTS_FILE"; fi
printf '%s\n' "$LINE" >> "$HOSTS_FILE"
log "added router-a/router-b.druid-routers.svc → 127.0.0.1 to $HOSTS_FILE"
