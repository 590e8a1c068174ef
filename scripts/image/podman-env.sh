#!/usr/bin/env bash
# Writes a podman configuration of the image test's own and prints the
# environment (KEY=VALUE lines) that points podman at it, so nothing reads or
# writes the machine's global container configuration. Image storage lives in
# the toolchain cache, so the stand-in base image is built once and reused.
#
# Two limits of these sandboxes shape it: the capability bounding set lacks
# CAP_SYS_RESOURCE (podman's default rlimits are refused, hence
# default_ulimits), and cgroups are hybrid v1/v2 without systemd (crun refuses
# them, hence runc with cgroupfs).
set -euo pipefail

CACHE="${GUILD_ROUTER_TOOLCHAIN:-${XDG_CACHE_HOME:-$HOME/.cache}/guild-router-toolchain}"
STATE="$CACHE/podman"
mkdir -p "$STATE/etc" "$STATE/storage" "$STATE/run" "$STATE/tmp" "$STATE/networks" "$STATE/xdg"
chmod 700 "$STATE/xdg"

cat > "$STATE/etc/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$STATE/storage"
runroot = "$STATE/run/storage"
CONF

cat > "$STATE/etc/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$STATE/run/events.log"
tmp_dir = "$STATE/run/libpod"
volume_path = "$STATE/storage/volumes"

[network]
network_backend = "netavark"
network_config_dir = "$STATE/networks"
CONF

# Short names such as the Dockerfile's `node:24-bookworm-slim` resolve to
# docker.io, as they do for Docker; nothing is pulled unless asked.
cat > "$STATE/etc/registries.conf" <<CONF
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"

[aliases]
"node" = "docker.io/library/node"
CONF

cat <<ENV
GUILD_ROUTER_TOOLCHAIN=$CACHE
CONTAINERS_STORAGE_CONF=$STATE/etc/storage.conf
CONTAINERS_CONF=$STATE/etc/containers.conf
CONTAINERS_REGISTRIES_CONF=$STATE/etc/registries.conf
TMPDIR=$STATE/tmp
XDG_RUNTIME_DIR=$STATE/xdg
ENV
