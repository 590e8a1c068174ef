#!/usr/bin/env bash
# `npm run pulumi -- <args>`: the Pulumi CLI the cluster test builds from Go
# modules (scripts/cluster/build-pulumi.sh), for trying the program on a
# machine without a Pulumi install. The first run builds it (about 25 min on 2
# cores); later runs reuse it. The Kubernetes provider plugin is installed into
# PULUMI_HOME (default ~/.pulumi) under the version package.json pins.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(bash "$root/scripts/cluster/build-pulumi.sh")"
version="$(node -p "require('$root/package.json').devDependencies['@pulumi/kubernetes']")"
export PATH="$bin:$PATH" PULUMI_SKIP_UPDATE_CHECK="${PULUMI_SKIP_UPDATE_CHECK:-true}"
if ! pulumi plugin ls 2>/dev/null | grep -Eq "^kubernetes +resource +$version "; then
  pulumi plugin install resource kubernetes "v$version" --file "$bin/pulumi-resource-kubernetes" >&2
fi
if [ $# -eq 0 ]; then
  echo "export PATH=\"$bin:\$PATH\"   # the built pulumi and its Node.js language host"
  exit 0
fi
exec pulumi "$@"
