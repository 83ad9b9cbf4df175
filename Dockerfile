# The ctxvault image: `docker compose build` (docker-compose.yml runs it as migrate, api and worker).
# Stage 1 installs the workspace, builds dist/ with tsc and deploys the CLI with its production
# dependencies only (`pnpm deploy --prod`: the built workspace packages are copied in, no sources,
# no dev tools); stage 2 is that copy on a slim Node, run by plain node as a non-root user.
FROM node:24.21.0-slim AS build
RUN npm install --global --ignore-scripts pnpm@11.28.11
WORKDIR /src
COPY . .
RUN pnpm install --frozen-lockfile \
  && pnpm run build \
  && pnpm --filter @ctxvault/cli deploy --prod /app

FROM node:24.21.0-slim
ENV NODE_ENV=production
# the code belongs to root and is read-only for the user that runs it; /data is that user's
# (`start` without a database keeps its embedded database and local blobs under ./.data)
COPY --from=build /app /app
RUN mkdir /data && chown node:node /data
WORKDIR /data
USER node
EXPOSE 8080
# the API's /healthz; the worker's service in docker-compose.yml checks its /metrics port instead
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.MCP_SERVER_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# V8's young generation capped at 16 MB a semi-space: README, "Memory"
ENTRYPOINT ["node", "--max-semi-space-size=16", "/app/dist/main.js"]
CMD ["start"]
