#!/usr/bin/env bash
# Builds what turns the control plane into a real single-node cluster: kubelet
# and kube-proxy (from the control plane's own wrapper module, so they share its
# module and build caches), CoreDNS with only the plugins a cluster needs,
# metrics-server, crictl, and a pause image. Installs containerd, runc, the CNI
# plugins, iptables and conntrack from Debian. Everything goes into the
# versioned toolchain cache and is reused when present. Prints the directory.
#
# Run after scripts/cluster/build-control-plane.sh (it writes the wrapper).
LOG_TAG=node
source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh"

K8S_VERSION="${K8S_VERSION:-1.36.1}"
COREDNS_VERSION="${COREDNS_VERSION:-1.15.0}"
METRICS_SERVER_VERSION="${METRICS_SERVER_VERSION:-0.8.0}"
CRICTL_VERSION="${CRICTL_VERSION:-1.37.0}"
PAUSE_TAG="registry.k8s.io/pause:3.10" # what kubelet 1.36 and containerd ask for by default
OUT="$CACHE/node-v$K8S_VERSION-coredns-v$COREDNS_VERSION-metrics-server-v$METRICS_SERVER_VERSION-crictl-v$CRICTL_VERSION"


missing=()
for bin in containerd runc iptables conntrack; do command -v "$bin" >/dev/null || missing+=("$bin"); done
[ -x /usr/lib/cni/bridge ] || missing+=(cni)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "build-node: missing ${missing[*]}; install Debian's containerd runc containernetworking-plugins iptables conntrack" >&2; exit 1; fi
  log "installing containerd, runc, CNI plugins, iptables and conntrack from Debian"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends containerd runc containernetworking-plugins iptables conntrack >&2
  # The package starts a machine-wide containerd; the test runs its own.
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then systemctl disable --now containerd >&2 || true; fi
fi

if [ -x "$OUT/kubelet" ] && [ -x "$OUT/kube-proxy" ] && [ -x "$OUT/coredns" ] && [ -x "$OUT/metrics-server" ] && [ -x "$OUT/crictl" ] && [ -f "$OUT/pause.oci.tar" ]; then
  echo "$OUT"
  exit 0
fi
command -v go >/dev/null || { echo "build-node: go not found (needs Go >= 1.26)" >&2; exit 1; }
k8s="$CACHE/wrapper-k8s-v$K8S_VERSION"
[ -f "$k8s/go.mod" ] || { echo "build-node: $k8s missing; run scripts/cluster/build-control-plane.sh first" >&2; exit 1; }
mkdir -p "$OUT.partial"

build_kube() {
  cd "$k8s"
  local minor="${K8S_VERSION#*.}" pkg=k8s.io/component-base/version
  local ldflags="-s -w -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*} -X $pkg.gitTreeState=clean"
  for cmd in kubelet kube-proxy; do
    [ -x "$OUT.partial/$cmd" ] && continue
    log "building $cmd"
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$OUT.partial/$cmd" "k8s.io/kubernetes/cmd/$cmd" >&2
  done
}

# CoreDNS's own main links every plugin it knows; a cluster needs these.
build_coredns() {
  [ -x "$OUT.partial/coredns" ] && return
  log "building coredns v$COREDNS_VERSION (cluster plugins only)"
  local dir="$CACHE/wrapper-coredns-v$COREDNS_VERSION"
  mkdir -p "$dir" && cd "$dir"
  if [ ! -f main.go ]; then
    cat > go.mod <<MOD
module guild-router.local/coredns

go 1.26.0
MOD
    cat > main.go <<'GO'
// A CoreDNS with only the plugins a cluster's DNS uses. The directive list
// keeps upstream's plugin.cfg order, which decides the order plugins run in.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/whoami"
)

func init() {
	dnsserver.Directives = []string{
		"reload", "bind", "ready", "health", "errors", "log", "loadbalance",
		"cache", "hosts", "kubernetes", "loop", "forward", "whoami",
	}
}

func main() { coremain.Run() }
GO
  fi
  GOFLAGS=-mod=mod go get "github.com/coredns/coredns@v$COREDNS_VERSION" >&2
  GOFLAGS=-mod=mod go mod tidy >&2
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$OUT.partial/coredns" . >&2
}

build_tools() {
  if [ ! -x "$OUT.partial/metrics-server" ]; then
    log "building metrics-server v$METRICS_SERVER_VERSION"
    CGO_ENABLED=0 GOBIN="$OUT.partial" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/metrics-server/cmd/metrics-server@v$METRICS_SERVER_VERSION" >&2
  fi
  if [ ! -x "$OUT.partial/crictl" ]; then
    log "building crictl v$CRICTL_VERSION"
    CGO_ENABLED=0 GOBIN="$OUT.partial" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/cri-tools/cmd/crictl@v$CRICTL_VERSION" >&2
  fi
}

run_parallel build_kube build_coredns build_tools

# No registry: the sandbox image every pod starts with is a static program
# that sleeps until SIGTERM and reaps orphans, written as a one-layer OCI
# archive under the name kubelet and containerd ask for.
make_pause_image() {
  local dir="$CACHE/wrapper-pause" img
  mkdir -p "$dir" && cd "$dir"
  [ -f go.mod ] || printf 'module guild-router.local/pause\n\ngo 1.26.0\n' > go.mod
  cat > main.go <<'GO'
// The pod sandbox's process: holds the pod's namespaces, reaps zombies, exits 0 on SIGTERM or SIGINT.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
GO
  img="$dir/image" && rm -rf "$img" && mkdir -p "$img/rootfs" "$img/oci/blobs/sha256"
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$img/rootfs/pause" . >&2
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$img/rootfs" -cf "$img/layer.tar" pause
  local layer size config manifest msize
  layer=$(sha256sum "$img/layer.tar" | cut -d' ' -f1); size=$(stat -c %s "$img/layer.tar")
  mv "$img/layer.tar" "$img/oci/blobs/sha256/$layer"
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"],"User":"65535:65535"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$layer" > "$img/config.json"
  config=$(sha256sum "$img/config.json" | cut -d' ' -f1)
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$config" "$(stat -c %s "$img/config.json")" "$layer" "$size" > "$img/manifest.json"
  manifest=$(sha256sum "$img/manifest.json" | cut -d' ' -f1); msize=$(stat -c %s "$img/manifest.json")
  mv "$img/config.json" "$img/oci/blobs/sha256/$config"
  mv "$img/manifest.json" "$img/oci/blobs/sha256/$manifest"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$img/oci/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest" "$msize" "$PAUSE_TAG" "${PAUSE_TAG##*:}" > "$img/oci/index.json"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$img/oci" -cf "$OUT.partial/pause.oci.tar" oci-layout index.json blobs
}
if [ ! -f "$OUT.partial/pause.oci.tar" ]; then
  log "making the pause image ($PAUSE_TAG)"
  (make_pause_image)
fi
rm -rf "$OUT" && mv "$OUT.partial" "$OUT"
log "done"
echo "$OUT"
