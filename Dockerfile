# Multi-stage build: compile with dev dependencies; the runtime stage installs production dependencies only,
# without the optional embedded PostgreSQL (~60 MB of binaries a deployment with DATABASE_URL never runs).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig*.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
COPY bench ./bench
COPY console ./console
RUN npm run build

FROM node:24-bookworm-slim
ENV NODE_ENV=production
# Bounded V8 heap: peak RSS under load ~240 MB instead of ~450 (README, Performance; docker-compose sets the same).
ENV NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=8"
WORKDIR /app
RUN groupadd --system hearth && useradd --system --gid hearth --home /app hearth
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build --chown=hearth:hearth /app/dist ./dist
# The web console's static files, served by the API at /console.
COPY --from=build --chown=hearth:hearth /app/console ./console
USER hearth
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:3000/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
