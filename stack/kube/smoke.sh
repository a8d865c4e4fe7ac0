#!/usr/bin/env bash
# Smoke test of a running kube stack (after up.sh), with curl only:
#   /version reports the pinned release; a ServiceAccount token from the TokenRequest API
#   authenticates and is refused (403) listing Secrets; owner-reference garbage collection
#   deletes a dependent ConfigMap; a deleted namespace disappears (namespace controller).
# Leaves nothing behind (its namespace is deleted as part of the test).
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

bash "$KUBE_DIR/status.sh" >/dev/null || die "the kube stack is not healthy; run stack/kube/up.sh (status: stack/kube/status.sh)"

passed=0 failed=0
ok()   { passed=$((passed + 1)); log "PASS $*"; }
fail() { failed=$((failed + 1)); log "FAIL $*"; }
api()  { admin_curl -H 'Content-Type: application/json' "$@"; }   # prints the body
code() { admin_curl -o /dev/null -w '%{http_code}' "$@"; }          # prints the HTTP status
json_field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" | head -n1; }  # first "key":"value" (compact JSON)
# poll <seconds> <command...>: true once the command succeeds within the time
poll() { local end=$((SECONDS + $1)); shift; until "$@"; do (( SECONDS < end )) || return 1; sleep 1; done; }

ns="dic-smoke-$$-$RANDOM"
want_version="$(awk '/^[[:space:]]*k8s.io\/kubernetes v/ {print $2; exit} $1 == "require" && $2 == "k8s.io/kubernetes" {print $3; exit}' "$KUBE_DIR/kube/go.mod")"

# 1. version stamp
got_version="$(api "$APISERVER_URL/version" | tr -d ' \n' | json_field gitVersion)"
[ "$got_version" = "$want_version" ] && ok "/version is $got_version" || fail "/version is '$got_version', want $want_version"

# 2. namespace + ServiceAccount + TokenRequest; the token authenticates but may not list Secrets
api -X POST "$APISERVER_URL/api/v1/namespaces" -d "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\"}}" >/dev/null
api -X POST "$APISERVER_URL/api/v1/namespaces/$ns/serviceaccounts" -d '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"limited"}}' >/dev/null
token="$(api -X POST "$APISERVER_URL/api/v1/namespaces/$ns/serviceaccounts/limited/token" \
  -d '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":600}}' | json_field token)"
if [ -n "$token" ]; then
  ok "TokenRequest returned a token"
  tok_curl() { curl -sS --max-time 10 --cacert "$KUBE_PKI/ca.crt" -H "Authorization: Bearer $token" "$@"; }
  who="$(tok_curl -X POST -H 'Content-Type: application/json' "$APISERVER_URL/apis/authentication.k8s.io/v1/selfsubjectreviews" \
    -d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' | json_field username)"
  [ "$who" = "system:serviceaccount:$ns:limited" ] && ok "token authenticates as $who" || fail "token authenticates as '$who'"
  c="$(tok_curl -o /dev/null -w '%{http_code}' "$APISERVER_URL/api/v1/namespaces/$ns/secrets")"
  [ "$c" = 403 ] && ok "listing secrets with the SA token is forbidden (403)" || fail "listing secrets with the SA token gave $c, want 403"
else
  fail "TokenRequest returned no token"
fi

# 3. owner-reference garbage collection (kube-controller-manager's garbage collector)
owner_uid="$(api -X POST "$APISERVER_URL/api/v1/namespaces/$ns/configmaps" \
  -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"owner"},"data":{"k":"v"}}' | json_field uid)"
api -X POST "$APISERVER_URL/api/v1/namespaces/$ns/configmaps" -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"child\",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"owner\",\"uid\":\"$owner_uid\"}]},\"data\":{\"k\":\"v\"}}" >/dev/null
c="$(code "$APISERVER_URL/api/v1/namespaces/$ns/configmaps/child")"
[ "$c" = 200 ] || fail "child ConfigMap not created ($c)"
code -X DELETE "$APISERVER_URL/api/v1/namespaces/$ns/configmaps/owner" >/dev/null
child_gone() { [ "$(code "$APISERVER_URL/api/v1/namespaces/$ns/configmaps/child")" = 404 ]; }
start=$SECONDS
poll 60 child_gone && ok "child ConfigMap garbage-collected $((SECONDS - start))s after its owner was deleted" \
  || fail "child ConfigMap still there 60s after its owner was deleted"

# 4. namespace deletion completes (namespace controller)
code -X DELETE "$APISERVER_URL/api/v1/namespaces/$ns" >/dev/null
ns_gone() { [ "$(code "$APISERVER_URL/api/v1/namespaces/$ns")" = 404 ]; }
start=$SECONDS
poll 120 ns_gone && ok "namespace $ns deleted completely after $((SECONDS - start))s" \
  || fail "namespace $ns still present 120s after deletion"

echo "kube smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
