#!/usr/bin/env bash
# `npm run preview` / `npm run up`: the operator's own Pulumi CLI, or one line
# saying what is missing instead of npm's "command not found" noise.
set -euo pipefail
if ! command -v pulumi >/dev/null 2>&1; then
  echo "guild-router: no 'pulumi' on PATH. Install the Pulumi CLI (3.x), or build one offline with 'npm run pulumi' (README: Deploying to Kubernetes)." >&2
  exit 127
fi
exec pulumi "$@"
