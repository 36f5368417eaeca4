# syntax=docker/dockerfile:1

# ---- build: install all dependencies, compile TypeScript, then drop dev dependencies ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

COPY package.json package-lock.json ./
RUN npm ci

COPY . .
# Compile (src, migrations and integrations land in dist/), drop dev dependencies, and
# assemble the runtime tree in /out: package files, production node_modules, dist/, plus the
# runtime assets that are not TypeScript (message templates, GraphQL schema) when present.
RUN npm run build \
 && npm prune --omit=dev \
 && mkdir -p /out \
 && cp -a package.json package-lock.json node_modules dist /out/ \
 && for d in templates schema; do \
      if [ -d "$d" ]; then cp -a "$d" /out/; fi; \
    done

# ---- runtime ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATA_DIR=/app/data
WORKDIR /app

# Application files stay owned by root (read-only for the app); only DATA_DIR is writable.
COPY --from=build /out/ ./
RUN mkdir -p /app/data && chown node:node /app/data

USER node
EXPOSE 4000

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# The API; the worker service runs `node dist/src/worker.js`, migrations `node dist/src/cli.js migrate`.
CMD ["node", "dist/src/main.js"]
