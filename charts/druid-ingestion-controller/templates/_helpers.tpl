{{/*
Names. With the release name druid-ingestion-controller every object is named as in deploy/
(the release name if it contains the chart name, else <release>-druid-ingestion-controller).
At most 55 characters, so that "<fullname>-metrics" (a Service: a DNS label) stays within 63.
*/}}
{{- define "dic.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 55 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 55 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The labels of deploy/ plus Helm's standard ones. Usage: include "dic.labels" (list . "rbac") */}}
{{- define "dic.labels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ $root.Chart.Name }}
{{- with index . 1 }}
app.kubernetes.io/component: {{ . }}
{{- end }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version }}
{{- end -}}

{{/*
The Deployment's selector (as deploy/base). It is immutable once installed, so it stays as the
first release had it: without the instance label. Everything else that selects the pods (the
metrics Service, the PodDisruptionBudget, the NetworkPolicy) uses dic.podLabels, which adds the
instance, so two releases in one namespace never select each other's pods.
*/}}
{{- define "dic.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{/* The pod's own labels (deploy/base's pod carries instance: druid-ingestion-controller too). */}}
{{- define "dic.podLabels" -}}
{{ include "dic.selectorLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "dic.sidecar" -}}
{{- if eq .Values.mode "sidecar" }}true{{ end -}}
{{- end -}}

{{/* The identity the controller runs as: its own ServiceAccount, or the druid-operator's. */}}
{{- define "dic.serviceAccountName" -}}
{{- if include "dic.sidecar" . -}}
{{- .Values.sidecar.druidOperator.serviceAccount -}}
{{- else -}}
{{- include "dic.fullname" . -}}
{{- end -}}
{{- end -}}

{{/*
A setting's value as the controller reads it. Numbers from a values file reach templates as
float64, which toString writes as 1.6777216e+07 (a size the controller refuses): whole numbers
are written as integers, others as Go writes them.
*/}}
{{- define "dic.envValue" -}}
{{- if and (or (kindIs "float64" .) (kindIs "float32" .)) (eq (float64 .) (floor .)) -}}
{{- printf "%.0f" (float64 .) -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/*
The container's env entries for the settings: config over the sidecar's defaults in sidecar
mode, unset (null) settings left out, in name order. The values are used as they are (no JSON
round trip, which turns integers into floats); LEADER_ELECTION_ID is added when the release's
Lease name differs from the controller's default.
*/}}
{{- define "dic.configEnv" -}}
{{- $config := dict -}}
{{- if include "dic.sidecar" . -}}
{{- range $name, $value := .Values.sidecar.config -}}
{{- if and (not (kindIs "invalid" $value)) (ne (toString $value) "") -}}
{{- $_ := set $config $name $value -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $name, $value := .Values.config -}}
{{- if and (not (kindIs "invalid" $value)) (ne (toString $value) "") -}}
{{- $_ := set $config $name $value -}}
{{- end -}}
{{- end -}}
{{- $lease := include "dic.leaseName" . -}}
{{- if and (ne $lease "druid-ingestion-controller") (not (hasKey $config "LEADER_ELECTION_ID")) -}}
{{- $_ := set $config "LEADER_ELECTION_ID" $lease -}}
{{- end -}}
{{- range $name := keys $config | sortAlpha }}
- name: {{ $name }}
  value: {{ include "dic.envValue" (get $config $name) | quote }}
{{- end -}}
{{- end -}}

{{/*
The Lease: config.LEADER_ELECTION_ID, else the release's fullname (druid-ingestion-controller,
the controller's default, for the release of that name), so two releases never share one.
*/}}
{{- define "dic.leaseName" -}}
{{- include "dic.setting" (list . "LEADER_ELECTION_ID") | default (include "dic.fullname" .) -}}
{{- end -}}

{{/*
One setting as the container gets it (dic.configEnv): config, else (sidecar mode)
sidecar.config; unset, null and "" are unset, as the controller reads them (src/config.ts).
The Lease, leader election and the ports follow it, so RBAC and probes match the env.
*/}}
{{- define "dic.setting" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $v := index $root.Values.config $name -}}
{{- if and (include "dic.sidecar" $root) (or (kindIs "invalid" $v) (eq (toString $v) "")) -}}
{{- $v = index $root.Values.sidecar.config $name -}}
{{- end -}}
{{- if not (kindIs "invalid" $v) -}}{{- include "dic.envValue" $v -}}{{- end -}}
{{- end -}}

{{/* Whether leader election is on, as the controller reads LEADER_ELECT (true, 1, yes). */}}
{{- define "dic.leaderElect" -}}
{{- if regexMatch "(?i)^(true|1|yes)$" (include "dic.setting" (list . "LEADER_ELECT")) }}true{{ end -}}
{{- end -}}

{{- define "dic.leaseNamespace" -}}
{{- include "dic.setting" (list . "LEADER_ELECTION_NAMESPACE") | default .Release.Namespace -}}
{{- end -}}

{{/* The port of a bind address such as ":8383" or "0.0.0.0:8383". */}}
{{- define "dic.port" -}}
{{- regexReplaceAll "^.*:" (toString .) "" -}}
{{- end -}}

{{- define "dic.metricsPort" -}}
{{- include "dic.port" (include "dic.setting" (list . "METRICS_BIND_ADDRESS") | default ":8383") -}}
{{- end -}}

{{- define "dic.healthPort" -}}
{{- include "dic.port" (include "dic.setting" (list . "HEALTH_PROBE_BIND_ADDRESS") | default ":8384") -}}
{{- end -}}

{{/* Refusals, checked by every template that depends on them. */}}
{{- define "dic.validate" -}}
{{- if not (has .Values.mode (list "standalone" "sidecar")) -}}
{{- fail (printf "mode must be standalone or sidecar, not %q" .Values.mode) -}}
{{- end -}}
{{- if and (gt (int .Values.replicas) 1) (not (include "dic.leaderElect" .)) -}}
{{- fail "replicas > 1 needs config.LEADER_ELECT \"true\": without a Lease every replica would write to Druid" -}}
{{- end -}}
{{- if include "dic.sidecar" . -}}
{{- if not (include "dic.leaderElect" .) -}}
{{- fail "mode: sidecar needs config.LEADER_ELECT \"true\": the druid-operator's Deployment rolls out with a new pod beside the old one, and without a Lease both would write to Druid" -}}
{{- end -}}
{{- $ignored := list -}}
{{- if ne (int .Values.replicas) 1 }}{{ $ignored = append $ignored "replicas" }}{{ end -}}
{{- if ne (int .Values.terminationGracePeriodSeconds) 60 }}{{ $ignored = append $ignored "terminationGracePeriodSeconds" }}{{ end -}}
{{- range $name := list "nodeSelector" "tolerations" "affinity" "podAnnotations" "podLabels" "priorityClassName" -}}
{{- if index $.Values $name }}{{ $ignored = append $ignored $name }}{{ end -}}
{{- end -}}
{{- if .Values.serviceAccount.annotations }}{{ $ignored = append $ignored "serviceAccount.annotations" }}{{ end -}}
{{- if .Values.podDisruptionBudget.enabled }}{{ $ignored = append $ignored "podDisruptionBudget.enabled" }}{{ end -}}
{{- if .Values.networkPolicy.enabled }}{{ $ignored = append $ignored "networkPolicy.enabled" }}{{ end -}}
{{- with $ignored -}}
{{- fail (printf "mode: sidecar runs in the druid-operator's pod, which its own release or manifests define; these values apply to the standalone Deployment only, unset them (or set them on the druid-operator): %s" (join ", " .)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The controller's container, shared by the Deployment (standalone) and the druid-operator
Deployment patch (sidecar). Port names are prefixed in the operator's pod, whose other
containers may name theirs metrics or health.
*/}}
{{- define "dic.container" -}}
{{- $sidecar := include "dic.sidecar" . -}}
- name: {{ if $sidecar }}druid-ingestion-controller{{ else }}controller{{ end }}
  image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  env:
    - name: POD_NAME
      valueFrom:
        fieldRef:
          apiVersion: v1
          fieldPath: metadata.name
    - name: POD_NAMESPACE
      valueFrom:
        fieldRef:
          apiVersion: v1
          fieldPath: metadata.namespace
    {{- with .Values.watchNamespaces }}
    - name: WATCH_NAMESPACE
      value: {{ join "," . | quote }}
    {{- end }}
    {{- include "dic.configEnv" . | nindent 4 }}
  ports:
    - name: {{ if $sidecar }}dic-{{ end }}metrics
      containerPort: {{ include "dic.metricsPort" . }}
      protocol: TCP
    - name: {{ if $sidecar }}dic-{{ end }}health
      containerPort: {{ include "dic.healthPort" . }}
      protocol: TCP
  livenessProbe:
    httpGet:
      path: /healthz
      port: {{ if $sidecar }}{{ include "dic.healthPort" . }}{{ else }}health{{ end }}
    initialDelaySeconds: 10
    periodSeconds: 20
    timeoutSeconds: 5
    {{- if not $sidecar }}
    failureThreshold: 3
    {{- end }}
  readinessProbe:
    # Ready once the informer caches are synced; leadership is not required.
    httpGet:
      path: /readyz
      port: {{ if $sidecar }}{{ include "dic.healthPort" . }}{{ else }}health{{ end }}
    initialDelaySeconds: 3
    periodSeconds: 10
    timeoutSeconds: 5
  {{- with .Values.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.securityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.extraVolumeMounts }}
  volumeMounts:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
