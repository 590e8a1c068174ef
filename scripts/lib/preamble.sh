# Sourced first by the build scripts:
#   LOG_TAG=node; source "$(dirname "${BASH_SOURCE[0]}")/../lib/preamble.sh"
# Strict mode, the toolchain cache every build keys its output under (outside
# the repository, so a fresh clone reuses it), Go on PATH, one log format, and
# the parallel-build wait that several scripts need.
set -euo pipefail

CACHE="${GUILD_ROUTER_TOOLCHAIN:-${XDG_CACHE_HOME:-$HOME/.cache}/guild-router-toolchain}"
export PATH="$PATH:/usr/local/go/bin"

# Progress on stderr, so stdout stays the one line a script's caller reads.
log() { printf '[%s %s] %s\n' "${LOG_TAG:-build}" "$(date +%H:%M:%S)" "$*" >&2; }

# run_parallel STEP...: runs each function in a subshell at once and waits for
# all of them. One build's downloads and links overlap another's compiles: on
# 2 cores they finish in about the time of the longest. Fails, after every
# step has ended, if any failed (its own error is above).
run_parallel() {
  local step pid failed=0
  local -a pids=()
  for step in "$@"; do ( "$step" ) & pids+=("$!"); done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ "$failed" -eq 0 ] || { log "a build failed (its error is above)"; exit 1; }
}
