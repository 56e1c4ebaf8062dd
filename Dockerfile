# Multi-stage build: compile with dev dependencies, run with production ones only, as a non-root user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig*.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
COPY bench ./bench
COPY console ./console
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
RUN groupadd --system hearth && useradd --system --gid hearth --home /app hearth
COPY --from=build --chown=hearth:hearth /app/node_modules ./node_modules
COPY --from=build --chown=hearth:hearth /app/dist ./dist
# The web console's static files, served by the API at /console.
COPY --from=build --chown=hearth:hearth /app/console ./console
COPY --chown=hearth:hearth package.json ./
USER hearth
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:3000/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
