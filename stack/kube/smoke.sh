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
# json_field <key>: the first "key": "value" string in the JSON on stdin (pretty or compact)
json_field() { tr -d '\n' | { grep -o "\"$1\": *\"[^\"]*\"" || true; } | sed -n '1s/.*: *"\(.*\)"$/\1/p'; }
# poll <seconds> <command...>: true once the command succeeds within the time
poll() { local end=$((SECONDS + $1)); shift; until "$@"; do (( SECONDS < end )) || return 1; sleep 1; done; }

ns="dic-smoke-$$-$RANDOM"
want_version="$(awk '/^[[:space:]]*k8s.io\/kubernetes v/ {print $2; exit} $1 == "require" && $2 == "k8s.io/kubernetes" {print $3; exit}' "$KUBE_DIR/kube/go.mod")"

# 1. version stamp
got_version="$(api "$APISERVER_URL/version" | json_field gitVersion)"
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
if [ -z "$owner_uid" ] || [ "$c" != 200 ]; then
  fail "owner/child ConfigMaps not created (owner uid '$owner_uid', child GET $c)"
else
  code -X DELETE "$APISERVER_URL/api/v1/namespaces/$ns/configmaps/owner" >/dev/null
  child_gone() { [ "$(code "$APISERVER_URL/api/v1/namespaces/$ns/configmaps/child")" = 404 ]; }
  start=$SECONDS
  poll 60 child_gone && ok "child ConfigMap garbage-collected $((SECONDS - start))s after its owner was deleted" \
    || fail "child ConfigMap still there 60s after its owner was deleted"
fi

# 4. the kinds a controller test creates, a CRD with the status subresource, server-side apply,
#    a finalizer that holds a deletion until it is removed
# expect <http code> <description> <curl args...>
expect() {
  local want="$1" what="$2" got; shift 2
  got="$(admin_curl -o "$tmpd/body" -w '%{http_code}' "$@")"
  if [ "$got" = "$want" ]; then ok "$what ($got)"; else fail "$what: HTTP $got, want $want: $(head -c 300 "$tmpd/body")"; fi
}
tmpd="$(mktemp -d)"; trap 'rm -rf "$tmpd"' EXIT
J=(-H 'Content-Type: application/json')
N="$APISERVER_URL/api/v1/namespaces/$ns"
micro="$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)"   # MicroTime: exactly six fractional digits
expect 201 "create Secret" "${J[@]}" -X POST "$N/secrets" -d '{"metadata":{"name":"s"},"stringData":{"k":"v"}}'
expect 201 "create Service (ClusterIP from 10.0.0.0/24)" "${J[@]}" -X POST "$N/services" \
  -d '{"metadata":{"name":"svc"},"spec":{"ports":[{"port":80}],"selector":{"app":"x"}}}'
expect 201 "create Deployment" "${J[@]}" -X POST "$APISERVER_URL/apis/apps/v1/namespaces/$ns/deployments" \
  -d '{"metadata":{"name":"d"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}'
expect 201 "create Lease" "${J[@]}" -X POST "$APISERVER_URL/apis/coordination.k8s.io/v1/namespaces/$ns/leases" \
  -d "{\"metadata\":{\"name\":\"l\"},\"spec\":{\"holderIdentity\":\"smoke\",\"leaseDurationSeconds\":15,\"acquireTime\":\"$micro\",\"renewTime\":\"$micro\"}}"
expect 201 "create core/v1 Event" "${J[@]}" -X POST "$N/events" \
  -d "{\"metadata\":{\"name\":\"e1\"},\"involvedObject\":{\"kind\":\"ConfigMap\",\"namespace\":\"$ns\",\"name\":\"x\"},\"reason\":\"Smoke\",\"message\":\"m\",\"type\":\"Normal\",\"firstTimestamp\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"lastTimestamp\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"count\":1,\"source\":{\"component\":\"smoke\"}}"
expect 201 "create events.k8s.io/v1 Event" "${J[@]}" -X POST "$APISERVER_URL/apis/events.k8s.io/v1/namespaces/$ns/events" \
  -d "{\"metadata\":{\"name\":\"e2\"},\"eventTime\":\"$micro\",\"reportingController\":\"dic.local/smoke\",\"reportingInstance\":\"smoke-1\",\"action\":\"Test\",\"reason\":\"Smoke\",\"type\":\"Normal\",\"note\":\"n\",\"regarding\":{\"kind\":\"ConfigMap\",\"namespace\":\"$ns\",\"name\":\"x\"}}"

group="r$$.smoke.dic.local"; crd="widgets.$group"
expect 201 "create CRD $crd (status subresource)" "${J[@]}" -X POST "$APISERVER_URL/apis/apiextensions.k8s.io/v1/customresourcedefinitions" \
  -d "{\"metadata\":{\"name\":\"$crd\"},\"spec\":{\"group\":\"$group\",\"scope\":\"Namespaced\",\"names\":{\"plural\":\"widgets\",\"singular\":\"widget\",\"kind\":\"Widget\"},\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,\"subresources\":{\"status\":{}},\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true},\"status\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}}}}}]}}"
crd_ready() { admin_curl "$APISERVER_URL/apis/$group/v1/namespaces/$ns/widgets" 2>/dev/null | grep -q '"kind": *"WidgetList"'; }
poll 30 crd_ready || fail "CRD $crd not served after 30s"
W="$APISERVER_URL/apis/$group/v1/namespaces/$ns/widgets"
expect 201 "create Widget with a finalizer" "${J[@]}" -X POST "$W" \
  -d "{\"apiVersion\":\"$group/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\",\"finalizers\":[\"dic.local/smoke\"]},\"spec\":{\"size\":1}}"
expect 200 "merge-patch Widget status through /status" -H 'Content-Type: application/merge-patch+json' -X PATCH "$W/w/status" -d '{"status":{"phase":"Ready"}}'
expect 200 "merge-patch Widget status through the main resource (accepted, status ignored)" -H 'Content-Type: application/merge-patch+json' -X PATCH "$W/w" -d '{"status":{"phase":"Changed"}}'
phase="$(admin_curl "$W/w" | json_field phase)"
[ "$phase" = Ready ] && ok "status subresource: status is only writable through /status" || fail "status.phase is '$phase', want Ready"
apply_body="{\"apiVersion\":\"$group/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\"},\"spec\":{\"size\":2}}"
expect 200 "server-side apply spec.size=2 as manager smoke-a" -H 'Content-Type: application/apply-patch+yaml' -X PATCH "$W/w?fieldManager=smoke-a&force=true" -d "$apply_body"
expect 409 "server-side apply by manager smoke-b conflicts" -H 'Content-Type: application/apply-patch+yaml' -X PATCH "$W/w?fieldManager=smoke-b" \
  -d "{\"apiVersion\":\"$group/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\"},\"spec\":{\"size\":3}}"
expect 200 "delete Widget (held by its finalizer)" -X DELETE "$W/w"
admin_curl "$W/w" | grep -q '"deletionTimestamp"' && ok "Widget still present with deletionTimestamp" || fail "Widget gone or without deletionTimestamp while its finalizer is set"
expect 200 "remove the finalizer" -H 'Content-Type: application/merge-patch+json' -X PATCH "$W/w" -d '{"metadata":{"finalizers":null}}'
widget_gone() { [ "$(code "$W/w")" = 404 ]; }
poll 10 widget_gone && ok "Widget deleted once its finalizer was removed" || fail "Widget still present after its finalizer was removed"
expect 200 "delete CRD $crd" -X DELETE "$APISERVER_URL/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$crd"

# 5. namespace deletion completes (namespace controller)
code -X DELETE "$APISERVER_URL/api/v1/namespaces/$ns" >/dev/null
ns_gone() { [ "$(code "$APISERVER_URL/api/v1/namespaces/$ns")" = 404 ]; }
start=$SECONDS
poll 120 ns_gone && ok "namespace $ns deleted completely after $((SECONDS - start))s" \
  || fail "namespace $ns still present 120s after deletion"

echo "kube smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
