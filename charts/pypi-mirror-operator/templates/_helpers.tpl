{{/* The operator's namespace: namespace.name, else the release's. */}}
{{- define "pmo.namespace" -}}
{{- default .Release.Namespace .Values.namespace.name -}}
{{- end -}}

{{/* Labels on every object the chart makes (its pods carry pmo.selector and component). */}}
{{- define "pmo.labels" -}}
app.kubernetes.io/part-of: pypi-mirror-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "pmo.selector" -}}
app.kubernetes.io/name: pypi-mirror-operator
{{- end -}}

{{/* The operator image: repository:tag, or repository@digest when a digest is given. */}}
{{- define "pmo.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end -}}

{{- define "pmo.certManager" -}}
{{- eq .Values.webhook.certificates "cert-manager" -}}
{{- end -}}

{{- define "pmo.caInjection" -}}
{{- if eq .Values.webhook.certificates "cert-manager" }}
  annotations:
    cert-manager.io/inject-ca-from: {{ include "pmo.namespace" . }}/pypi-mirror-operator-webhook
{{- end }}
{{- end -}}
