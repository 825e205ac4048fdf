{{- define "souk.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "souk.labels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: souk
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Labels of one component: (list $ "name" "component") */}}
{{- define "souk.componentLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ index . 1 }}
app.kubernetes.io/component: {{ index . 2 }}
{{ include "souk.labels" $ }}
{{- end -}}

{{/* The settings of one service: serviceDefaults overlaid with its own entry. (list $ "name") */}}
{{- define "souk.service" -}}
{{- $ := index . 0 -}}
{{- $own := index $.Values.services (index . 1) -}}
{{- $merged := mergeOverwrite (deepCopy $.Values.serviceDefaults) (deepCopy $own) -}}
{{- /* minAvailable and maxUnavailable exclude each other: a service's own disruption replaces the default. */ -}}
{{- if hasKey $own "disruption" }}{{ $_ := set $merged "disruption" $own.disruption }}{{ end -}}
{{- toYaml $merged -}}
{{- end -}}

{{- define "souk.image" -}}
{{- $ := index . 0 -}}
{{- printf "%s/%s:%s" $.Values.image.registry (index . 1) ($.Values.image.tag | default $.Chart.AppVersion) -}}
{{- end -}}

{{- define "souk.topicResource" -}}
{{- printf "%s-%s-events" (include "souk.fullname" (index . 0)) (index . 1) -}}
{{- end -}}

{{- define "souk.kafkaBootstrap" -}}
{{- if eq .Values.kafka.mode "kraft" -}}
{{- $n := include "souk.fullname" . -}}
{{- range $i, $_ := until (int .Values.kafka.kraft.replicas) -}}
{{- if $i }},{{ end }}{{ printf "%s-kafka-%d.%s-kafka-headless.%s.svc:9092" $n $i $n $.Release.Namespace }}
{{- end -}}
{{- else -}}
{{- required "kafka.bootstrapServers is required when kafka.mode is external" .Values.kafka.bootstrapServers -}}
{{- end -}}
{{- end -}}

{{/* Which PostgreSQL this release uses: cloudnative-pg, statefulset or external. */}}
{{- define "souk.postgresMode" -}}
{{- if eq .Values.postgres.mode "auto" -}}
{{- if .Capabilities.APIVersions.Has "postgresql.cnpg.io/v1/Cluster" -}}cloudnative-pg{{- else -}}statefulset{{- end -}}
{{- else -}}
{{- .Values.postgres.mode -}}
{{- end -}}
{{- end -}}

{{- define "souk.postgresHosts" -}}
{{- $mode := include "souk.postgresMode" . -}}
{{- $n := include "souk.fullname" . -}}
{{- if eq $mode "cloudnative-pg" -}}
write: {{ $n }}-postgres-rw
read: {{ $n }}-postgres-ro
adminSecret: {{ $n }}-postgres-superuser
{{- else if eq $mode "statefulset" -}}
write: {{ $n }}-postgres
read: {{ $n }}-postgres-read
adminSecret: {{ $n }}-postgres-admin
{{- else -}}
write: {{ required "postgres.external.host is required when postgres.mode is external" .Values.postgres.external.host }}
read: {{ .Values.postgres.external.readHost | default .Values.postgres.external.host }}
adminSecret: {{ required "postgres.external.adminSecret is required when postgres.mode is external" .Values.postgres.external.adminSecret }}
{{- end -}}
{{- end -}}

{{/* A password kept across upgrades: the live Secret's value if there is one, else a new random one. */}}
{{- define "souk.stablePassword" -}}
{{- $ := index . 0 -}}{{- $secret := index . 1 -}}{{- $key := index . 2 -}}
{{- $live := lookup "v1" "Secret" $.Release.Namespace $secret -}}
{{- if and $live (hasKey $live.data $key) -}}
{{- index $live.data $key | b64dec -}}
{{- else -}}
{{- randAlphaNum 32 -}}
{{- end -}}
{{- end -}}

{{- define "souk.alertsWanted" -}}
{{- $setting := .Values.monitoring.alerts.enabled -}}
{{- if eq (toString $setting) "auto" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1/PrometheusRule" -}}true{{- end -}}
{{- else if $setting -}}true{{- end -}}
{{- end -}}
