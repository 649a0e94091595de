{{- define "portcullis.fullname" -}}
{{- printf "%s-portcullis" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "portcullis.labels" -}}
app.kubernetes.io/name: portcullis
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "portcullis.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "portcullis.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "portcullis.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{/* Non-root, read-only root filesystem, no privilege escalation, no capabilities. */}}
{{- define "portcullis.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
seccompProfile: { type: RuntimeDefault }
{{- end -}}
{{- define "portcullis.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities: { drop: [ALL] }
{{- end -}}

{{/* The CLI entry point every Job runs (`node <main> <command>`): cli.main, one value. */}}
{{- define "portcullis.cliMain" -}}
{{- .Values.cli.main -}}
{{- end -}}

{{/* Labels selecting one component's pods (pass dict "root" $ "component" name). */}}
{{- define "portcullis.selectorLabels" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* ExternalSecrets are rendered unless the operator brings their own Secret. */}}
{{- define "portcullis.externalSecretsEnabled" -}}
{{- if not .Values.secrets.existingSecret -}}true{{- end -}}
{{- end -}}
{{- define "portcullis.migrationsExternalSecretEnabled" -}}
{{- if not .Values.secrets.migrationsExistingSecret -}}true{{- end -}}
{{- end -}}

{{/* The services' Secret: secrets.existingSecret, or the one the Secrets Manager ExternalSecret writes. */}}
{{- define "portcullis.secretName" -}}
{{- default (printf "%s-secrets" (include "portcullis.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}
{{/* The Parameter Store ExternalSecret's Secret. */}}
{{- define "portcullis.parametersSecretName" -}}
{{- printf "%s-parameters" (include "portcullis.fullname" .) -}}
{{- end -}}
{{/* The migration Job's Secret (DATABASE_URL only): secrets.migrationsExistingSecret, or the hook ExternalSecret's. */}}
{{- define "portcullis.migrationsSecretName" -}}
{{- default (printf "%s-migrations" (include "portcullis.fullname" .)) .Values.secrets.migrationsExistingSecret -}}
{{- end -}}

{{/* envFrom of the services and operational Jobs: settings, then every Secret holding variables. */}}
{{- define "portcullis.envFrom" -}}
- configMapRef: { name: {{ include "portcullis.fullname" . }}-config }
- secretRef: { name: {{ include "portcullis.secretName" . }} }
{{- if and (include "portcullis.externalSecretsEnabled" .) .Values.externalSecrets.parameterStore.enabled }}
- secretRef: { name: {{ include "portcullis.parametersSecretName" . }} }
{{- end }}
{{- end -}}

{{/* Pod annotations that roll the pods when a setting or the secrets' definition changes. Secret
     values change in AWS without a chart change: rotation restarts the pods (docs/deploy.md). */}}
{{- define "portcullis.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secrets: {{ include (print .Template.BasePath "/externalsecret.yaml") . | sha256sum }}
{{- end -}}

{{/* The single stores SESSION_STORE_DRIVER uses (dual: primary and secondary), comma-joined. */}}
{{- define "portcullis.storeDrivers" -}}
{{- $driver := .Values.config.SESSION_STORE_DRIVER | default "memory" -}}
{{- if eq $driver "dual" -}}
{{- printf "%s,%s" (.Values.config.SESSION_STORE_PRIMARY | default "") (.Values.config.SESSION_STORE_SECONDARY | default "") -}}
{{- else -}}
{{- $driver -}}
{{- end -}}
{{- end -}}

{{/* Spread and anti-affinity of one component (pass dict "root" $ "component" name). */}}
{{- define "portcullis.scheduling" -}}
{{- $scheduling := .root.Values.scheduling -}}
{{- $selector := include "portcullis.selectorLabels" . -}}
{{- with $scheduling.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $scheduling.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $scheduling.topologySpread.enabled }}
topologySpreadConstraints:
{{- range $scheduling.topologySpread.topologyKeys }}
  - maxSkew: {{ $scheduling.topologySpread.maxSkew }}
    topologyKey: {{ . }}
    whenUnsatisfiable: {{ $scheduling.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels: {{- $selector | nindent 8 }}
{{- end }}
{{- end }}
{{- if eq $scheduling.podAntiAffinity "soft" }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels: {{- $selector | nindent 14 }}
{{- else if eq $scheduling.podAntiAffinity "hard" }}
affinity:
  podAntiAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels: {{- $selector | nindent 12 }}
{{- end }}
{{- end -}}

{{/* A pod running one CLI command (operational Jobs). Pass dict "root" $ "name" container-name "args" list "job" values. */}}
{{- define "portcullis.cliPodSpec" -}}
restartPolicy: Never
serviceAccountName: {{ include "portcullis.serviceAccountName" .root }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
securityContext: {{- include "portcullis.podSecurityContext" .root | nindent 2 }}
containers:
  - name: {{ .name }}
    image: {{ include "portcullis.image" .root }}
    imagePullPolicy: {{ .root.Values.image.pullPolicy }}
    command: [node, {{ include "portcullis.cliMain" .root }}]
    args: {{- toYaml .args | nindent 6 }}
    envFrom: {{- include "portcullis.envFrom" .root | nindent 6 }}
    resources: {{- toYaml .root.Values.jobs.resources | nindent 6 }}
    securityContext: {{- include "portcullis.containerSecurityContext" .root | nindent 6 }}
    # Checkpoints and backups land here; copy them out before the pod goes.
    volumeMounts: [{ name: work, mountPath: /work }, { name: tmp, mountPath: /tmp }]
    workingDir: /work
volumes: [{ name: work, emptyDir: {} }, { name: tmp, emptyDir: {} }]
{{- end -}}
