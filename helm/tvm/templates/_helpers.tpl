{{/* Chart name. */}}
{{- define "tvm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart unless the release already contains the chart name. */}}
{{- define "tvm.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tvm.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tvm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tvm.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "tvm.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "tvm.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tvm.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tvm.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* More than one pod: replicas or an autoscaler. */}}
{{- define "tvm.multiReplica" -}}
{{- if or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled }}true{{ end }}
{{- end }}

{{/* The ClusterIP Service of the admin port. */}}
{{- define "tvm.adminServiceName" -}}
{{- printf "%s-metrics" (include "tvm.fullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}

{{/* Combinations the schema cannot express (or, with --skip-schema-validation,
did not check); fail at install time. */}}
{{- define "tvm.validate" -}}
{{- $r := .Values.state.redis }}
{{- if and (include "tvm.multiReplica" .) (not (and $r.enabled (trim $r.existingSecret) (trim $r.key))) }}
{{- fail "replicaCount > 1 or autoscaling.enabled needs state.redis.enabled with state.redis.existingSecret (and state.redis.key) naming the Secret that holds the Redis URL: replicas must share the replay store, or each would accept the same token once" }}
{{- end }}
{{- if eq (int .Values.ports.api) (int .Values.ports.admin) }}
{{- fail "ports.admin must differ from ports.api: tvm refuses admin.addr equal to listen.addr" }}
{{- end }}
{{- if and .Values.service.publishAdminPort (eq (int .Values.service.port) (int .Values.service.metricsPort)) }}
{{- fail "service.metricsPort must differ from service.port when service.publishAdminPort puts both on one Service" }}
{{- end }}
{{- if hasKey .Values "approvals" }}
{{- fail "approvals.database moved to database (database.type, database.sqlite, database.postgres): the database now turns on approvals and more" }}
{{- end }}
{{- range .Values.extraEnv }}
{{- if has .name (list "TVM_STATE__REDIS_URL" "TVM_DATABASE__URL") }}
{{- fail (printf "extraEnv must not set %s: the chart sets it from the Secret named by state.redis.existingSecret or database.postgres.existingSecret" .name) }}
{{- end }}
{{- if eq .name "TVM_APPROVALS__DATABASE_URL" }}
{{- fail "extraEnv: TVM_APPROVALS__DATABASE_URL moved to TVM_DATABASE__URL, which the chart sets from database.postgres.existingSecret" }}
{{- end }}
{{- end }}
{{- if and (kindIs "map" .Values.config.extra.state) (hasKey (.Values.config.extra.state | default dict) "redis_url") }}
{{- fail "config.extra.state.redis_url: the Redis URL (and its password) comes from a Secret, state.redis.existingSecret, never the ConfigMap" }}
{{- end }}
{{- if and (eq .Values.database.type "sqlite") (include "tvm.multiReplica" .) }}
{{- fail "database.type sqlite allows one replica only; use postgres" }}
{{- end }}
{{- if and .Values.state.redis.enabled (not (trim .Values.state.redis.existingSecret)) }}
{{- fail "state.redis.enabled needs state.redis.existingSecret" }}
{{- end }}
{{- if and (eq .Values.database.type "postgres") (not (trim .Values.database.postgres.existingSecret)) }}
{{- fail "database.type postgres needs database.postgres.existingSecret" }}
{{- end }}
{{- if and .Values.tls.enabled (not (trim .Values.tls.secretName)) }}
{{- fail "tls.enabled needs tls.secretName" }}
{{- end }}
{{- $s := .Values.config.server }}
{{- $grace := int .Values.terminationGracePeriodSeconds }}
{{- if and (gt $grace 0) (le $grace (add $s.shutdownDelaySeconds $s.requestTimeoutSeconds | int)) }}
{{- fail "terminationGracePeriodSeconds must exceed config.server.shutdownDelaySeconds + requestTimeoutSeconds" }}
{{- end }}
{{- end }}

{{/* Seconds Kubernetes waits after SIGTERM. */}}
{{- define "tvm.gracePeriod" -}}
{{- $s := .Values.config.server }}
{{- if gt (int .Values.terminationGracePeriodSeconds) 0 }}
{{- .Values.terminationGracePeriodSeconds }}
{{- else }}
{{- add $s.shutdownDelaySeconds (max $s.requestTimeoutSeconds $s.shutdownTimeoutSeconds) 5 }}
{{- end }}
{{- end }}

{{/* Where the config directory and the TLS directory are mounted. */}}
{{- define "tvm.configDir" -}}/etc/tvm{{- end }}
{{- define "tvm.tlsDir" -}}/etc/tvm-tls{{- end }}

{{/* tvm.yaml (DESIGN §5). */}}
{{- define "tvm.config" -}}
{{- $c := .Values.config }}
{{- $listen := dict "addr" (printf "0.0.0.0:%d" (int .Values.ports.api)) }}
{{- if .Values.tls.enabled }}
{{- $_ := set $listen "tls" (dict "cert_file" (printf "%s/tls.crt" (include "tvm.tlsDir" .)) "key_file" (printf "%s/tls.key" (include "tvm.tlsDir" .))) }}
{{- end }}
{{- $auth := dict "audience" $c.auth.audience "max_clock_skew" $c.auth.maxClockSkew "sts_endpoint_url" $c.auth.stsEndpointUrl }}
{{- if $c.auth.eksClusterId }}
{{- $_ := set $auth "eks_cluster_id" $c.auth.eksClusterId }}
{{- end }}
{{- $server := dict
  "request_timeout" (printf "%ds" (int $c.server.requestTimeoutSeconds))
  "max_body_bytes" $c.server.maxBodyBytes
  "shutdown_delay" (printf "%ds" (int $c.server.shutdownDelaySeconds))
  "shutdown_timeout" (printf "%ds" (int $c.server.shutdownTimeoutSeconds))
  "max_connections" $c.server.maxConnections
  "rate_limit_per_minute" $c.server.rateLimitPerMinute
  "rate_limit_burst" $c.server.rateLimitBurst }}
{{- if $c.server.trustedProxies }}
{{- $_ := set $server "trusted_proxies" $c.server.trustedProxies }}
{{- end }}
{{- $out := dict
  "listen" $listen
  "admin" (dict "addr" (printf "0.0.0.0:%d" (int .Values.ports.admin)))
  "auth" $auth
  "sts" (dict "region" $c.sts.region "endpoint_url" $c.sts.endpointUrl)
  "stamp" (dict "prefix" $c.stamp.prefix)
  "policy" (dict "file" (printf "%s/policy.yaml" (include "tvm.configDir" .)) "poll_interval" $c.policy.pollInterval)
  "server" $server }}
{{- $state := dict }}
{{- if $c.state.replayCapacity }}
{{- $_ := set $state "replay_capacity" (int $c.state.replayCapacity) }}
{{- end }}
{{- if .Values.state.redis.enabled }}
{{- $r := .Values.state.redis }}
{{- $_ := set $state "key_prefix" $r.keyPrefix }}
{{- $_ := set $state "rate_limit_failure" $r.rateLimitFailure }}
{{- $_ := set $state "readiness_grace" $r.readinessGrace }}
{{- $_ := set $state "command_timeout" $r.commandTimeout }}
{{- end }}
{{- if $state }}
{{- $_ := set $out "state" $state }}
{{- end }}
{{- /* The URL of a postgres database comes from its Secret as TVM_DATABASE__URL. */}}
{{- if eq .Values.database.type "sqlite" }}
{{- $_ := set $out "database" (dict "url" "sqlite:///var/lib/tvm/approvals.db" "retention" .Values.database.retention) }}
{{- else if eq .Values.database.type "postgres" }}
{{- $_ := set $out "database" (dict "retention" .Values.database.retention) }}
{{- end }}
{{- toYaml (mergeOverwrite $out (deepCopy $c.extra)) }}
{{- end }}
