#!/usr/bin/env bash
# Installs etcd from Debian, and builds kube-apiserver, kube-controller-manager,
# kube-scheduler and KWOK from
# their Go modules into a cache outside the repository, keyed by version, and
# reuses them when present. Prints the directory that holds the binaries.
#
# k8s.io/kubernetes is not meant to be a dependency: its go.mod points every
# k8s.io/* staging module at ./staging. A throwaway wrapper module requires it
# and replaces each staging module with its published v0.<minor>.<patch>.
LOG_TAG=control-plane
source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh"

K8S_VERSION="${K8S_VERSION:-1.36.1}"
KWOK_VERSION="${KWOK_VERSION:-0.8.0}"
OUT="$CACHE/k8s-v$K8S_VERSION-kwok-v$KWOK_VERSION"


# etcd comes from Debian's package.
if ! command -v etcd >/dev/null; then
  log "installing etcd-server from Debian"
  if [ "$(id -u)" -ne 0 ]; then echo "build-control-plane: etcd missing; install Debian's etcd-server" >&2; exit 1; fi
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >&2
fi

if [ -x "$OUT/kube-apiserver" ] && [ -x "$OUT/kube-controller-manager" ] && [ -x "$OUT/kube-scheduler" ] && [ -x "$OUT/kwok" ]; then
  echo "$OUT"
  exit 0
fi
command -v go >/dev/null || { echo "build-control-plane: go not found (needs Go >= 1.26)" >&2; exit 1; }

work="$CACHE/wrapper-k8s-v$K8S_VERSION"
mkdir -p "$work" "$OUT.partial"
cd "$work"
minor="${K8S_VERSION#*.}"; staging="v0.${minor}"   # 1.36.1 -> v0.36.1

if [ ! -f go.mod ]; then
  log "wrapper module for k8s.io/kubernetes v$K8S_VERSION (staging modules at $staging)"
  cat > go.mod <<MOD
module guild-router.local/control-plane

go 1.26.0

require k8s.io/kubernetes v$K8S_VERSION
MOD
  mod=$(curl -fsS "$(go env GOPROXY | cut -d, -f1)/k8s.io/kubernetes/@v/v$K8S_VERSION.mod" 2>/dev/null || true)
  if [ -z "$mod" ]; then
    go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" >/dev/null
    mod=$(cat "$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/v$K8S_VERSION.mod")
  fi
  printf '%s\n' "$mod" | sed -n '/^replace (/,/^)/p' | grep -E '^\s+k8s\.io/' | awk '{print $1}' | while read -r m; do
    echo "replace $m => $m $staging" >> go.mod
  done
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
fi

log "resolving modules (first run downloads about 1 GB)"
GOFLAGS=-mod=mod go mod tidy -e >&2 || true

pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*} -X $pkg.gitTreeState=clean"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=${minor%%.*}"
for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
  if [ ! -x "$OUT.partial/$cmd" ]; then
    log "building $cmd"
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$OUT.partial/$cmd" "k8s.io/kubernetes/cmd/$cmd" >&2
  fi
done
if [ ! -x "$OUT.partial/kwok" ]; then
  log "building kwok v$KWOK_VERSION"
  CGO_ENABLED=0 GOBIN="$OUT.partial" go install -trimpath "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" >&2
fi
rm -rf "$OUT" && mv "$OUT.partial" "$OUT"
log "done"
echo "$OUT"
