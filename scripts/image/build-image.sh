#!/usr/bin/env bash
# Builds the repository's Dockerfile with podman (no daemon, no registry) as
# localhost/guild-router:test, and writes it as an OCI archive into the
# toolchain cache for the cluster test's real-node tier to import. Run with the
# environment podman-env.sh prints. Prints the archive's path.
#
# npm inside the build needs the machine's CA settings. They are bind-mounted
# for the build's RUN steps only (as npm's global config, /usr/local/etc/npmrc),
# so no layer holds them; the image test checks that.
LOG_TAG=image
source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh"
cd "$(dirname "$0")/../.."

IMAGE=localhost/guild-router:test
CACHE="${GUILD_ROUTER_TOOLCHAIN:?run with the environment podman-env.sh prints}"
ARCHIVE="$CACHE/images/guild-router.oci.tar"
t0=$(date +%s)

scripts/image/install-tools.sh
scripts/image/build-base-image.sh
t1=$(date +%s)

# The machine's CA bundle for npm, wherever it is configured.
cafile=$(npm config get cafile 2>/dev/null || true)
case "$cafile" in ''|null|undefined) cafile="${NODE_EXTRA_CA_CERTS:-}" ;; esac
npmetc=$(mktemp -d "${TMPDIR:-/tmp}/npm-etc.XXXXXX")
# podman build and save write the machine-wide blob info cache and the
# short-name alias cache's lock whatever the configuration says; remove what
# was not there before.
created=("$npmetc")
for place in /var/lib/containers/cache /var/lib/containers /var/cache/containers; do
  [ -e "$place" ] || created+=("$place")
done
trap 'rm -rf "${created[@]}"' EXIT
if [ -n "$cafile" ] && [ -f "$cafile" ]; then
  cp "$cafile" "$npmetc/ca.crt"
  printf 'cafile=/usr/local/etc/ca.crt\nupdate-notifier=false\n' > "$npmetc/npmrc"
fi
# Always there, CA or not, so the image test always has something of the
# mount's to look for: a machine with no CA settings would leave it nothing.
printf 'mounted for the build only: a file of this name in the image means the mount leaked\n' > "$npmetc/build-mount-canary"

chmod -R a+rX "$npmetc"

log "building Dockerfile as $IMAGE"
podman build --pull=never --network=host \
  -v "$npmetc:/usr/local/etc:ro" -t "$IMAGE" -f Dockerfile . >&2
t2=$(date +%s)

# Written again only when the image changed (its id is kept beside it).
id=$(podman image inspect --format '{{.Id}}' "$IMAGE")
if [ ! -f "$ARCHIVE" ] || [ "$(cat "$ARCHIVE.id" 2>/dev/null)" != "$id" ]; then
  mkdir -p "$(dirname "$ARCHIVE")"
  rm -f "$ARCHIVE.partial"
  podman save -q --format oci-archive -o "$ARCHIVE.partial" "$IMAGE"
  mv "$ARCHIVE.partial" "$ARCHIVE"
  echo "$id" > "$ARCHIVE.id"
fi
log "base image $((t1 - t0)) s, Dockerfile $((t2 - t1)) s, OCI archive $(du -m "$ARCHIVE" | cut -f1) MB: $ARCHIVE"
echo "$ARCHIVE"
