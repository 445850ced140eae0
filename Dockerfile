# syntax=docker/dockerfile:1
# recharge-bridge: multi-stage image. deps (all packages, cached on the lockfile) → build (tsc + demo bundle, then
# drop dev packages) → runtime (node:24-slim, production packages and dist/ only, non-root, tini as PID 1).

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the build stage runs it explicitly.
RUN npm ci --no-audit --no-fund --ignore-scripts

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY openapi ./openapi
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-slim AS runtime
# tini reaps zombies and forwards SIGTERM so close-with-grace can drain in-flight requests.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV PORT=3000 HOST=0.0.0.0
COPY --chown=node:node package.json ./
COPY --chown=node:node bin ./bin
COPY --chown=node:node openapi ./openapi
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE 3000
# slim has neither curl nor wget: Node's own fetch probes liveness.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server.js"]
