# syntax=docker/dockerfile:1
# The router image: build with the full toolchain, run with production
# dependencies only, as the unprivileged `node` user.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The image has Node 24 already: skip optional packages (the bundled Node for
# bare machines) and install scripts.
RUN npm ci --omit=optional --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.service.json ./
COPY service ./service
# The service alone (not bench/ or dev/). `npm prune` leaves the scope
# directories of removed packages (@types, @vitest, ...) behind, empty.
RUN npx tsc -p tsconfig.service.json \
 && npm prune --omit=dev --omit=optional --no-audit --no-fund \
 && find node_modules -mindepth 1 -type d -empty -delete

FROM node:24-bookworm-slim
ENV NODE_ENV=production
# Two malloc arenas instead of glibc's 8 per core: the event loop allocates on
# one thread, and the extra arenas only held freed memory (peak RSS at full
# load 130-154 MiB without, 120-123 MiB with; README: Memory).
ENV MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist/service ./dist/service
COPY --chown=root:root bin ./bin
# Files are root-owned and read-only to the process: the root filesystem can be mounted read-only.
# Numeric, so the kubelet can verify runAsNonRoot without reading /etc/passwd.
USER 1000:1000
EXPOSE 8080 9090
# Semi-spaces of at most 8 MiB: Node's default lets the young generation grow
# to 32 MiB and beyond under load, which raised peak RSS by 70-90 MiB for no
# throughput; smaller ones promote in-flight requests to the old generation
# and cost throughput (README: Memory). The old generation's cap depends on
# the pod's memory limit, so the Deployment sets it in NODE_OPTIONS.
CMD ["node", "--max-semi-space-size=8", "dist/service/main.js"]
