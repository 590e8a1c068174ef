#!/usr/bin/env bash
# Builds Prometheus and promtool from their Go module into the versioned
# toolchain cache, and reuses them when present. Prints the directory that
# holds both binaries.
#
# Only Kubernetes service discovery is linked in (plus the static and file
# discoveries every build has): the build tags drop the cloud discoveries,
# which are most of the module graph. The module ships no built web UI, so the
# UI pages answer 500; the HTTP API, which is all the tests use, works.
#
# Safe to run twice at once: .ci/run starts it early in the background, and
# the tests that need a binary run it again, which waits on that binary's lock.
LOG_TAG=prometheus
source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh"

PROMETHEUS_MODULE_VERSION="${PROMETHEUS_MODULE_VERSION:-0.316.0}" # Prometheus 3.16.0
OUT="$CACHE/prometheus-v$PROMETHEUS_MODULE_VERSION"


# Which binaries: promtool (npm test's alert tests), prometheus (the real-node
# tier), or both, promtool first. Each has a lock of its own, so the alert
# tests wait for promtool only.
case "${1:-all}" in
  promtool) wanted=(promtool) ;;
  prometheus) wanted=(prometheus) ;;
  all) wanted=(promtool prometheus) ;;
  *) echo "usage: $0 [promtool|prometheus|all]" >&2; exit 2 ;;
esac

mkdir -p "$OUT"
for cmd in "${wanted[@]}"; do
  [ -x "$OUT/$cmd" ] && continue
  exec 9>"$CACHE/prometheus-$cmd.lock"
  flock 9
  if [ ! -x "$OUT/$cmd" ]; then
    command -v go >/dev/null || { echo "build-prometheus: go not found (needs Go >= 1.26)" >&2; exit 1; }
    log "building $cmd from github.com/prometheus/prometheus v$PROMETHEUS_MODULE_VERSION"
    rm -rf "$OUT.$cmd.partial"
    CGO_ENABLED=0 GOFLAGS=-mod=mod GOBIN="$OUT.$cmd.partial" go install -trimpath -ldflags "-s -w" \
      -tags remove_all_sd,enable_kubernetes_sd "github.com/prometheus/prometheus/cmd/$cmd@v$PROMETHEUS_MODULE_VERSION" >&2
    mv "$OUT.$cmd.partial/$cmd" "$OUT/$cmd" && rm -rf "$OUT.$cmd.partial"
    log "$cmd done"
  fi
  exec 9>&-
done
echo "$OUT"
