# syntax=docker/dockerfile:1
# Portcullis: one image for the three services, the migration Job and the `portcullis` CLI.
#   docker build -t portcullis:<version> .       (docs/image.md)
# The chart picks what runs with its `command:` (node /app/services/<name>/dist/main.js, or
# portcullis <command> for the Jobs). test/build/dockerfile.test.ts checks this file against the
# real build: copied paths, .dockerignore, entry points, user, Node major (.nvmrc).

# --- build: every dependency, tsc -b, then only the production dependencies are kept.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
# The manifests alone first, so the install layer is reused until a dependency changes.
COPY package.json package-lock.json ./
COPY libs/audit/package.json libs/audit/
COPY libs/config/package.json libs/config/
COPY libs/crypto/package.json libs/crypto/
COPY libs/db/package.json libs/db/
COPY libs/http/package.json libs/http/
COPY libs/mfa-reset-log/package.json libs/mfa-reset-log/
COPY libs/observability/package.json libs/observability/
COPY libs/session-auth/package.json libs/session-auth/
COPY libs/session-store/package.json libs/session-store/
COPY migrations/package.json migrations/
COPY services/audit-log/package.json services/audit-log/
COPY services/auth-session/package.json services/auth-session/
COPY services/cli/package.json services/cli/
COPY services/mfa-admin/package.json services/mfa-admin/
# No install scripts: no production dependency has one (native code, e.g. @node-rs/argon2,
# comes prebuilt in a per-platform package), and tsc needs none of the dev ones.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY libs libs
COPY services services
COPY migrations migrations
RUN npx tsc -b && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime: Node and glibc only (no shell, no npm), the compiled output and production
# dependencies, run as an unprivileged numeric user.
FROM gcr.io/distroless/nodejs24-debian12 AS runtime
# /nodejs/bin holds the base image's node: the chart's `command: [node, …]` finds it here.
ENV NODE_ENV=production \
    PATH=/nodejs/bin:/usr/local/bin:/usr/bin:/bin
WORKDIR /app
# The install: third-party packages plus the @portcullis/* links to the workspaces below.
COPY --from=build /app/package.json /app/package.json
COPY --from=build /app/node_modules /app/node_modules
# Each workspace: its manifest (exports → dist) and its compiled output, no sources.
COPY --from=build /app/libs/audit/package.json /app/libs/audit/package.json
COPY --from=build /app/libs/audit/dist /app/libs/audit/dist
COPY --from=build /app/libs/config/package.json /app/libs/config/package.json
COPY --from=build /app/libs/config/dist /app/libs/config/dist
COPY --from=build /app/libs/crypto/package.json /app/libs/crypto/package.json
COPY --from=build /app/libs/crypto/dist /app/libs/crypto/dist
COPY --from=build /app/libs/db/package.json /app/libs/db/package.json
COPY --from=build /app/libs/db/dist /app/libs/db/dist
COPY --from=build /app/libs/http/package.json /app/libs/http/package.json
COPY --from=build /app/libs/http/dist /app/libs/http/dist
COPY --from=build /app/libs/mfa-reset-log/package.json /app/libs/mfa-reset-log/package.json
COPY --from=build /app/libs/mfa-reset-log/dist /app/libs/mfa-reset-log/dist
COPY --from=build /app/libs/observability/package.json /app/libs/observability/package.json
COPY --from=build /app/libs/observability/dist /app/libs/observability/dist
COPY --from=build /app/libs/session-auth/package.json /app/libs/session-auth/package.json
COPY --from=build /app/libs/session-auth/dist /app/libs/session-auth/dist
COPY --from=build /app/libs/session-store/package.json /app/libs/session-store/package.json
COPY --from=build /app/libs/session-store/dist /app/libs/session-store/dist
COPY --from=build /app/migrations/package.json /app/migrations/package.json
COPY --from=build /app/migrations/dist /app/migrations/dist
COPY --from=build /app/services/audit-log/package.json /app/services/audit-log/package.json
COPY --from=build /app/services/audit-log/dist /app/services/audit-log/dist
COPY --from=build /app/services/auth-session/package.json /app/services/auth-session/package.json
COPY --from=build /app/services/auth-session/dist /app/services/auth-session/dist
COPY --from=build /app/services/cli/package.json /app/services/cli/package.json
COPY --from=build /app/services/cli/dist /app/services/cli/dist
COPY --from=build /app/services/mfa-admin/package.json /app/services/mfa-admin/package.json
COPY --from=build /app/services/mfa-admin/dist /app/services/mfa-admin/dist
# `portcullis` on PATH for the Jobs. The CLI's own `#!/usr/bin/env node` needs /usr/bin/env,
# which a distroless image lacks, so a two-line launcher names node's absolute path instead.
COPY --chmod=0755 <<'LAUNCHER' /usr/local/bin/portcullis
#!/nodejs/bin/node
import('/app/services/cli/dist/main.js');
LAUNCHER
USER 10001:10001
# The base image's entry point is node; without a chart `command:` the image prints the CLI's help.
CMD ["/usr/local/bin/portcullis", "--help"]
