#!/usr/bin/env bash
# Installs what building and running OCI images without a daemon needs, from
# Debian's packages, when any of it is missing.
set -euo pipefail

packages=(podman buildah runc mmdebstrap umoci skopeo netavark aardvark-dns
  containernetworking-plugins fuse-overlayfs uidmap catatonit iptables)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

printf '[image %s] installing %s from Debian\n' "$(date +%H:%M:%S)" "${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then echo "install-tools: missing ${missing[*]}; install them with apt-get" >&2; exit 1; fi
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
