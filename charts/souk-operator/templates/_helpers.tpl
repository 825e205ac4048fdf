{{- define "souk-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "souk-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "souk-operator.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "souk-operator.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "souk-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "souk-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "souk-operator.labels" -}}
{{ include "souk-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: souk
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "souk-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "souk-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* "auto" renders when the API is served; true/false force it. */}}
{{- define "souk-operator.wants" -}}
{{- $setting := index . 0 -}}{{- $api := index . 1 -}}{{- $ctx := index . 2 -}}
{{- if eq (toString $setting) "auto" -}}
{{- if $ctx.Capabilities.APIVersions.Has $api -}}true{{- end -}}
{{- else if $setting -}}true{{- end -}}
{{- end -}}
