{{/*
Names. With the release name druid-ingestion-controller every object is named as in deploy/
(the release name if it contains the chart name, else <release>-druid-ingestion-controller).
*/}}
{{- define "dic.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
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

{{/* The pod's labels, also the Deployment's selector (as deploy/base: immutable once installed). */}}
{{- define "dic.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/component: controller
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

{{/* The settings as they reach the container: config over the sidecar's defaults in sidecar mode. */}}
{{- define "dic.config" -}}
{{- $config := dict -}}
{{- if include "dic.sidecar" . -}}
{{- $config = merge $config (deepCopy .Values.sidecar.config) -}}
{{- end -}}
{{- range $name, $value := .Values.config -}}
{{- if not (kindIs "invalid" $value) -}}
{{- $_ := set $config $name $value -}}
{{- end -}}
{{- end -}}
{{- toJson $config -}}
{{- end -}}

{{- define "dic.leaseName" -}}
{{- .Values.config.LEADER_ELECTION_ID | default "druid-ingestion-controller" -}}
{{- end -}}

{{- define "dic.leaseNamespace" -}}
{{- .Values.config.LEADER_ELECTION_NAMESPACE | default .Release.Namespace -}}
{{- end -}}

{{/* The port of a bind address such as ":8383" or "0.0.0.0:8383". */}}
{{- define "dic.port" -}}
{{- regexReplaceAll "^.*:" (toString .) "" -}}
{{- end -}}

{{- define "dic.metricsPort" -}}
{{- include "dic.port" (.Values.config.METRICS_BIND_ADDRESS | default ":8383") -}}
{{- end -}}

{{- define "dic.healthPort" -}}
{{- include "dic.port" (.Values.config.HEALTH_PROBE_BIND_ADDRESS | default ":8384") -}}
{{- end -}}

{{/* Refusals, checked by every template that depends on them. */}}
{{- define "dic.validate" -}}
{{- if not (has .Values.mode (list "standalone" "sidecar")) -}}
{{- fail (printf "mode must be standalone or sidecar, not %q" .Values.mode) -}}
{{- end -}}
{{- if and (gt (int .Values.replicas) 1) (ne (toString .Values.config.LEADER_ELECT) "true") -}}
{{- fail "replicas > 1 needs config.LEADER_ELECT \"true\": without a Lease every replica would write to Druid" -}}
{{- end -}}
{{- end -}}

{{/*
The controller's container, shared by the Deployment (standalone) and the druid-operator
Deployment patch (sidecar). Port names are prefixed in the operator's pod, whose other
containers may name theirs metrics or health.
*/}}
{{- define "dic.container" -}}
{{- $sidecar := include "dic.sidecar" . -}}
{{- $config := include "dic.config" . | fromJson -}}
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
    {{- range $name, $value := $config }}
    - name: {{ $name }}
      value: {{ toString $value | quote }}
    {{- end }}
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
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    capabilities:
      drop: ["ALL"]
    seccompProfile:
      type: RuntimeDefault
  {{- with .Values.extraVolumeMounts }}
  volumeMounts:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
