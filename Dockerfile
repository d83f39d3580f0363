# amber-collector: docker build -t amber-collector .   (docker compose and `railway up` build this file)
#
# Base image: node:22-alpine. Every runtime dependency is plain JavaScript (pg, undici, pino, prom-client,
# ...), so musl costs nothing here, and the runtime image stays near 170 MB where bookworm-slim would be
# about 250 MB. Node 22 because undici 8 needs Node >= 22.19.
#
# Only classic-builder syntax (no RUN --mount, no heredocs): the old `docker-compose` v1 builds without
# BuildKit, and Railway's build cache mounts need service-specific ids.

# --- build: all dependencies, compile TypeScript to dist/ ----------------------------------------------
FROM node:22-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: nothing the build needs runs one (only optional native add-ons of test tools do). No
# optional dependencies: the only one is the embedded PostgreSQL, for running without DATABASE_URL; compose and
# Railway bring their own PostgreSQL.
RUN npm ci --ignore-scripts --omit=optional --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- prod-deps: production dependencies only -----------------------------------------------------------
FROM node:22-alpine AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
# Without the embedded PostgreSQL's 60 MB of binaries (see above).
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

# --- runtime -----------------------------------------------------------------------------------------------
FROM node:22-alpine AS runtime
# tini as PID 1 forwards SIGTERM to node and reaps zombies; Railway has no `docker run --init`.
RUN apk add --no-cache tini
ENV NODE_ENV=production \
    TZ=UTC
WORKDIR /app
# Owned by root and read-only to the app: the collector writes only to Postgres and stdout.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Migrations are read at runtime from ../sql/migrations relative to dist/ (src/db/migrate.ts).
COPY sql ./sql
# package.json makes dist/*.js ES modules ("type": "module") and gives /metrics its version label.
COPY package.json ./
# The one folder the app may write to: where compose's backups volume is mounted (a new named volume takes
# this folder's owner).
RUN mkdir /backups && chown node:node /backups
USER node
EXPOSE 8080
# Liveness only (see src/http/health.ts). PORT wins over HTTP_PORT and 8080 is the default, as in the
# collector's own config.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || process.env.HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/sbin/tini", "--"]
# Memory flags for the daemon only (`docker compose exec collector node dist/cli.js query …` runs without
# them). 1 MB young-generation semi-spaces instead of up to 16 MB, and old space capped at 128 MB, make V8
# collect before the heap balloons: the live heap stays under ~60 MB (at most two chunks in memory), yet with
# Node's defaults a 2-year backfill peaks near 350 MB RSS. One V8 worker thread instead of four saves the
# threads' allocator arenas, about 10 MB at idle. With these flags the daemon peaks under 150 MB and idles
# under 100 MB (`npm run bench -- daemon`). package.json's `start` runs the daemon with the same flags.
CMD ["node", "--max-semi-space-size=1", "--max-old-space-size=128", "--v8-pool-size=1", "dist/cli.js", "run"]
