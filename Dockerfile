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
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist/service ./dist/service
COPY --chown=root:root bin ./bin
# Files are root-owned and read-only to the process: the root filesystem can be mounted read-only.
# Numeric, so the kubelet can verify runAsNonRoot without reading /etc/passwd.
USER 1000:1000
EXPOSE 8080 9090
CMD ["node", "dist/service/main.js"]
