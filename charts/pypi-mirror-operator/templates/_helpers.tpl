{{/* The chart's name: nameOverride, else the chart's. */}}
{{- define "pmo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The name of every object the chart makes: fullnameOverride, else the release's name when it
already holds the chart's name (`helm install pypi-mirror-operator ...`), else
<release>-<name>. At most 63 characters.
*/}}
{{- define "pmo.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* <fullname>-<suffix>, at most 63 characters (Service names are DNS labels). */}}
{{- define "pmo.suffixed" -}}
{{- printf "%s-%s" (include "pmo.fullname" .root) .suffix | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pmo.webhookService" -}}
{{- include "pmo.suffixed" (dict "root" . "suffix" "webhook") -}}
{{- end -}}

{{/* The operator's namespace: namespaceOverride, else the release's. */}}
{{- define "pmo.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}

{{/* Labels on every object the chart makes (its pods carry pmo.selector and component). */}}
{{- define "pmo.labels" -}}
app.kubernetes.io/part-of: pypi-mirror-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The pods' selector. Never changed by an upgrade: a Deployment's selector is immutable. */}}
{{- define "pmo.selector" -}}
app.kubernetes.io/name: {{ include "pmo.name" . }}
{{- end -}}

{{/* The operator image: repository:tag, or repository@digest when a digest is given. */}}
{{- define "pmo.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end -}}

{{/* A mirror's sync Job and CronJob: cluster-wide, or per watched namespace (rbac-watched.yaml). */}}
{{- define "pmo.mirrorWorkloadRules" }}
  - apiGroups: [batch]
    resources: [jobs]
    verbs: [get, list, watch, create]
  - apiGroups: [batch]
    resources: [cronjobs]
    verbs: [get, list, watch, create, update, delete]
{{- end -}}
