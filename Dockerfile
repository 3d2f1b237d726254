# The cutover worker. Runs the TypeScript sources with tsx (no build step), like bin/cutover.js locally.
#   docker build -t cutover-worker .
#   docker run --rm -e TEMPORAL_ADDRESS=... -e CUTOVER_TARGET_URL=... -v "$PWD/data:/data" cutover-worker

FROM node:20-bookworm-slim AS deps
WORKDIR /app
# Toolchain only for native modules without a prebuilt binary (better-sqlite3 falls back to node-gyp).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
# glibc's per-thread malloc arenas keep freed memory resident (copy threads): 2 arenas measured 10–60 MB less RSS.
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    CUTOVER_STATE_DIR=/state \
    CUTOVER_TASK_QUEUE=cutover \
    CUTOVER_METRICS_PORT=9464
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
RUN mkdir -p /data /state && chown node:node /data /state
USER node
VOLUME ["/state"]
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.CUTOVER_METRICS_PORT||9464)+'/metrics').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM → graceful worker shutdown
STOPSIGNAL SIGTERM
CMD ["node", "bin/cutover.js", "worker"]
