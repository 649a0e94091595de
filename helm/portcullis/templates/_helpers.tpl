{{/* <release>-portcullis; a release whose name already says portcullis keeps its name alone
     (release "portcullis": Secret portcullis-secrets, Job portcullis-migrate). */}}
{{- define "portcullis.fullname" -}}
{{- if contains "portcullis" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-portcullis" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
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

{{/* The deprecated session store keys of `config` that are set, space-separated (empty: none).
     With one set, the chart renders config as given (the services derive the phase and warn),
     and sessionStore must stay at its defaults: two spellings of one setting would disagree. */}}
{{- define "portcullis.legacyStoreKeys" -}}
{{- range $key := list "SESSION_STORE_DRIVER" "SESSION_STORE_PRIMARY" "SESSION_STORE_SECONDARY" "SESSION_DUAL_FALLBACK_ON_MISS" "SESSION_DUAL_READ_REPAIR" -}}
{{- if hasKey $.Values.config $key }}{{ $key }} {{ end -}}
{{- end -}}
{{- end -}}

{{/* "true" when the session store writes two stores (a dual phase), else empty. */}}
{{- define "portcullis.storeDual" -}}
{{- if include "portcullis.legacyStoreKeys" . -}}
{{- if eq (.Values.config.SESSION_STORE_DRIVER | default "memory") "dual" }}true{{ end -}}
{{- else if ne .Values.sessionStore.phase "single" }}true{{ end -}}
{{- end -}}

{{/* The single stores in use (a dual phase: both), comma-joined; the move's from first. */}}
{{- define "portcullis.storeDrivers" -}}
{{- $store := .Values.sessionStore -}}
{{- $legacy := include "portcullis.legacyStoreKeys" . -}}
{{- if and $legacy (or (ne $store.phase "single") (ne $store.from "redis") (ne $store.to "")) -}}
{{- fail (printf "config.%s: deprecated, and sessionStore is set too; remove them and keep sessionStore.{phase,from,to} (docs/session-cutover.md)" (trim $legacy | replace " " ", config.")) -}}
{{- end -}}
{{- if $legacy -}}
{{- $driver := .Values.config.SESSION_STORE_DRIVER | default "memory" -}}
{{- if eq $driver "dual" -}}
{{- printf "%s,%s" (.Values.config.SESSION_STORE_PRIMARY | default "") (.Values.config.SESSION_STORE_SECONDARY | default "") -}}
{{- else -}}
{{- $driver -}}
{{- end -}}
{{- else if eq $store.phase "single" -}}
{{- $store.from -}}
{{- else if eq $store.from $store.to -}}
{{- fail (printf "sessionStore.to is %s, the same store as sessionStore.from: a move needs two stores" $store.to) -}}
{{- else -}}
{{- printf "%s,%s" $store.from $store.to -}}
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

{{/* A CronJob running one CLI command (operational Jobs, docs/deploy.md). Pass dict "root" $,
     "name" (object suffix), "job" (its values), "args" (the fixed command), "schedule" (empty =
     a suspended template), "backoffLimit". */}}
{{- define "portcullis.cliCronJob" -}}
{{- $root := .root -}}
{{- $shards := int (default 1 .job.shards) -}}
{{- $args := concat .args (.job.extraArgs | default list) -}}
{{- if gt $shards 1 }}{{ $args = concat $args (list "--shard" (printf "$(JOB_COMPLETION_INDEX)/%d" $shards)) }}{{ end -}}
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ include "portcullis.fullname" $root }}-{{ .name }}
  labels: {{- include "portcullis.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .name }}
spec:
  {{- if .schedule }}
  schedule: {{ .schedule | quote }}
  {{- else }}
  # A template: never scheduled; `kubectl create job --from=cronjob/…` runs it.
  schedule: "0 0 1 1 *"
  suspend: true
  {{- end }}
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 3
  jobTemplate:
    metadata:
      labels: {{- include "portcullis.labels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .name }}
    spec:
      backoffLimit: {{ .backoffLimit }}
      activeDeadlineSeconds: {{ .job.activeDeadlineSeconds }}
      # Runs created by hand from a template clean up after a week; logs are read before that.
      ttlSecondsAfterFinished: 604800
      {{- if gt $shards 1 }}
      completionMode: Indexed
      completions: {{ $shards }}
      parallelism: {{ $shards }}
      {{- end }}
      template:
        metadata:
          labels: {{- include "portcullis.labels" $root | nindent 12 }}
            app.kubernetes.io/component: {{ .name }}
        spec:
          restartPolicy: Never
          # The release's account for its AWS role (DynamoDB sessions). A Kubernetes token only for
          # the jobs that record cutover evidence (a Role lets them patch that one ConfigMap).
          serviceAccountName: {{ include "portcullis.serviceAccountName" $root }}
          automountServiceAccountToken: {{ .kubeToken | default false }}
          {{- with $root.Values.imagePullSecrets }}
          imagePullSecrets: {{- toYaml . | nindent 12 }}
          {{- end }}
          securityContext: {{- include "portcullis.podSecurityContext" $root | nindent 12 }}
          containers:
            - name: {{ .name }}
              image: {{ include "portcullis.image" $root }}
              imagePullPolicy: {{ $root.Values.image.pullPolicy }}
              command: [node, {{ include "portcullis.cliMain" $root }}]
              args: {{- toYaml $args | nindent 16 }}
              envFrom: {{- .envFrom | default (include "portcullis.envFrom" $root) | nindent 16 }}
              {{- with .env }}
              env: {{- toYaml . | nindent 16 }}
              {{- end }}
              resources: {{- toYaml (.job.resources | default $root.Values.jobs.resources) | nindent 16 }}
              securityContext: {{- include "portcullis.containerSecurityContext" $root | nindent 16 }}
              # Checkpoints (backfill --checkpoint) and temporary files; gone with the pod.
              volumeMounts: [{ name: work, mountPath: /work }, { name: tmp, mountPath: /tmp }]
              workingDir: /work
          volumes: [{ name: work, emptyDir: {} }, { name: tmp, emptyDir: {} }]
{{- end -}}

{{/* What `helm test` calls: each service's admin /healthz and /readyz, and its HTTP /<prefix>/healthz. */}}
{{- define "portcullis.testUrls" -}}
{{- $urls := list -}}
{{- range $name, $service := .Values.services -}}
{{- $host := printf "%s-%s" (include "portcullis.fullname" $) $name -}}
{{- $urls = append $urls (printf "http://%s:%v/healthz" $host $.Values.adminPort) -}}
{{- $urls = append $urls (printf "http://%s:%v/readyz" $host $.Values.adminPort) -}}
{{- $urls = append $urls (printf "http://%s:%v%s/healthz" $host $.Values.httpPort $service.path) -}}
{{- end -}}
{{- join " " $urls -}}
{{- end -}}
