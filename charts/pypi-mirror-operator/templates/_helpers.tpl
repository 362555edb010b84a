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

{{/* A pre-upgrade hook object's annotations (Argo CD runs pre-upgrade hooks as PreSync). */}}
{{- define "pmo.upgradeHook" -}}
helm.sh/hook: pre-upgrade
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end -}}

{{/* A pre-delete hook object's annotations, Argo CD's PreDelete too. */}}
{{- define "pmo.deleteHook" -}}
helm.sh/hook: pre-delete
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
argocd.argoproj.io/hook: PreDelete
argocd.argoproj.io/hook-delete-policy: BeforeHookCreation,HookSucceeded
{{- end -}}

{{/* A hook Job's pod: restricted Pod Security, the operator's pull secrets and placement. */}}
{{- define "pmo.hookPod" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  seccompProfile: {type: RuntimeDefault}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir: {medium: Memory, sizeLimit: 16Mi}
{{- end -}}

{{/* A hook Job's container, after its image and args. */}}
{{- define "pmo.hookContainer" -}}
resources:
  requests: {cpu: 50m, memory: 128Mi}
  limits: {memory: 256Mi}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  capabilities: {drop: [ALL]}
  seccompProfile: {type: RuntimeDefault}
volumeMounts:
  - {name: tmp, mountPath: /tmp}
{{- end -}}

{{/* With cert-manager: the webhook Certificate's issuer as run takes it (KIND/NAME). */}}
{{- define "pmo.certManagerIssuer" -}}
{{- with .Values.webhook.certManager.issuerRef -}}
{{ default "Issuer" .kind }}/{{ .name }}
{{- else -}}
Issuer/{{ include "pmo.suffixed" (dict "root" . "suffix" "selfsigned") }}
{{- end -}}
{{- end -}}
