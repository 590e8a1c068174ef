#!/usr/bin/env bash
# Builds the Pulumi engine the cluster test drives: the CLI, a Node.js language
# host and the Kubernetes resource provider, from Go modules into the same
# versioned cache as the control plane, and reuses them when present. Prints the
# directory that holds the binaries.
#
# Why these versions: they are the ones the Go module proxy serves.
# - CLI 3.274.1 (pkg/v3). The npm SDK's newest release is 3.270.0; the engine
#   and the SDK speak the versioned gRPC protocol, so a newer CLI runs an older
#   SDK's programs (the same as any user whose CLI is ahead of their lockfile).
# - Node.js language host from sdk/v3 v3.68.0: the newest sdk/v3 that still
#   contains it; its own module is not served. It only starts `node` with the
#   SDK's run script and forwards the engine's address, which has not changed.
# - Kubernetes provider 4.25.0 (the pseudo-version of the v4.25.0 tag), matching
#   the @pulumi/kubernetes version in package.json.
LOG_TAG=pulumi
source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh"

CLI_VERSION="${PULUMI_CLI_VERSION:-3.274.1}"
LANG_VERSION="${PULUMI_LANGUAGE_HOST_VERSION:-3.68.0}"
K8S_PROVIDER_VERSION="${PULUMI_KUBERNETES_VERSION:-4.25.0}"
K8S_PROVIDER_MODULE_VERSION="v4.0.0-20260115033456-f47bc2d6f199" # the v4.25.0 tag
OUT="$CACHE/pulumi-v$CLI_VERSION-nodejs-v$LANG_VERSION-kubernetes-v$K8S_PROVIDER_VERSION"
export GOFLAGS="${GOFLAGS:-} -mod=mod"


if [ -x "$OUT/pulumi" ] && [ -x "$OUT/pulumi-language-nodejs" ] && [ -x "$OUT/pulumi-resource-kubernetes" ]; then
  echo "$OUT"
  exit 0
fi
command -v go >/dev/null || { echo "build-pulumi: go not found (needs Go >= 1.26)" >&2; exit 1; }
mkdir -p "$OUT.partial"

# A wrapper module per binary: each keeps the dependency versions its own
# module was released with (merging them into one module would let MVS pick
# versions neither was tested with).
wrapper() { # name -> creates and enters $CACHE/wrapper-<name>
  local dir="$CACHE/wrapper-$1"
  mkdir -p "$dir" && cd "$dir"
  [ -f go.mod ] || go mod init "guild-router.local/$1" >/dev/null 2>&1
}

build_language_host() {
  [ -x "$OUT.partial/pulumi-language-nodejs" ] && return
  log "building pulumi-language-nodejs (sdk/v3 v$LANG_VERSION, about 1 min)"
  wrapper "pulumi-language-nodejs-v$LANG_VERSION"
  go get "github.com/pulumi/pulumi/sdk/v3@v$LANG_VERSION" >&2
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$LANG_VERSION" \
    -o "$OUT.partial/pulumi-language-nodejs" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs >&2
}

build_cli() {
  [ -x "$OUT.partial/pulumi" ] && return
  log "building pulumi CLI v$CLI_VERSION (about 9 min cold on 2 cores)"
  wrapper "pulumi-cli-v$CLI_VERSION"
  # pkg/v3's own go.mod replaces this module; replaces do not reach dependents.
  grep -q atotto/clipboard go.mod || \
    echo 'replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e' >> go.mod
  go get "github.com/pulumi/pulumi/pkg/v3@v$CLI_VERSION" "github.com/pulumi/pulumi/sdk/v3@v$CLI_VERSION" >&2
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$CLI_VERSION" \
    -o "$OUT.partial/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
}

build_provider() {
  [ -x "$OUT.partial/pulumi-resource-kubernetes" ] && return
  log "building pulumi-resource-kubernetes v$K8S_PROVIDER_VERSION (about 14 min cold on 2 cores)"
  local mod="github.com/pulumi/pulumi-kubernetes/provider/v4"
  wrapper "pulumi-kubernetes-v$K8S_PROVIDER_VERSION"
  # The module zip lacks the generated schema the binary embeds: generate it
  # in a writable copy, the way the provider's Makefile does.
  # A marker, not the schema file: an interrupted generate leaves a partial one.
  if [ ! -f provider/.schema-generated ]; then
    local src
    src=$(go mod download -json "$mod@$K8S_PROVIDER_MODULE_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
    rm -rf provider && cp -r "$src" provider && chmod -R u+w provider
    log "generating the provider schema"
    (cd provider && VERSION="$K8S_PROVIDER_VERSION" go generate ./cmd/pulumi-resource-kubernetes/main.go >&2)
    touch provider/.schema-generated
  fi
  if ! grep -q "^replace $mod" go.mod; then
    echo "require $mod $K8S_PROVIDER_MODULE_VERSION" >> go.mod
    echo "require github.com/pulumi/pulumi-kubernetes/sdk/v4 v$K8S_PROVIDER_VERSION" >> go.mod
    echo "replace $mod => ./provider" >> go.mod
  fi
  # A dependency's replace directives do not apply to its dependents: repeat
  # the copy's own, except those into its repository (../sdk), whose released
  # module is required above instead.
  awk '/^replace \(/{b=1; next} b&&/^\)/{b=0; next} b{print; next} /^replace /{sub(/^replace /, ""); print}' provider/go.mod |
    sed -E 's/^\s+//' | grep -v '=> \.\./' | while read -r line; do
      grep -qF "replace $line" go.mod || echo "replace $line" >> go.mod
    done || true
  # The wrapper imports the command, so tidy keeps the requirements above.
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s/cmd/pulumi-resource-kubernetes"\n' "$mod" > tools.go
  go mod tidy -e >&2 || true
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X $mod/pkg/version.Version=$K8S_PROVIDER_VERSION" \
    -o "$OUT.partial/pulumi-resource-kubernetes" "$mod/cmd/pulumi-resource-kubernetes" >&2
}

run_parallel build_language_host build_cli build_provider
rm -rf "$OUT" && mv "$OUT.partial" "$OUT"
log "done"
echo "$OUT"
