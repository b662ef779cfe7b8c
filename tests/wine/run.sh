#!/usr/bin/env bash
# The Wine tier: runs Deno tests as Windows code (the Windows deno.exe under Wine 10, in a
# Debian trixie chroot), so the Windows engine talks to real IP Helper and kernel32 DLLs.
#
#   bash tests/wine/run.sh [test files...]    default: tests/wine/*_test.ts
#
# Test files are paths inside the repo. Where the tier cannot run (not root, not Linux x86_64,
# no way to build the chroot) it prints "wine tier skipped: <reason>" and exits 0, or fails
# when CI=true. Exits non-zero when a test fails.
#
# Settings (environment): those of setup.sh, plus
#   PROCCONN_WINE_TIMEOUT  seconds before a hung run is killed (default 900)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TIMEOUT=${PROCCONN_WINE_TIMEOUT:-900}

# Not being able to run is a failure in CI and a notice elsewhere.
cannot_run() {
  if [ "${CI:-}" = "true" ]; then
    echo "wine tier cannot run: $1 (required when CI=true)" >&2
    exit 1
  fi
  echo "wine tier skipped: $1"
  exit 0
}

[ "$(uname -s)" = "Linux" ] || cannot_run "not Linux ($(uname -s))"
[ "$(uname -m)" = "x86_64" ] || cannot_run "not x86_64 ($(uname -m))"
[ "$(id -u)" -eq 0 ] || cannot_run "needs root (chroot and mount)"
for tool in chroot mount umount mountpoint flock timeout tar; do
  command -v "$tool" >/dev/null || cannot_run "$tool is not installed"
done
if ! command -v debootstrap >/dev/null && ! command -v apt-get >/dev/null; then
  cannot_run "neither debootstrap nor apt-get (to install it) is available"
fi
command -v npm >/dev/null || cannot_run "npm is not installed (needed to fetch deno.exe)"

# shellcheck source=tests/wine/setup.sh
source "$HERE/setup.sh"

# Repo-relative test paths, checked on the host before anything starts. By default every
# *_test.ts here: the harness checks, then the scenario.
if [ $# -eq 0 ]; then
  set -- "$HERE"/*_test.ts
fi
tests=()
for arg in "$@"; do
  path=$(realpath -m "$arg")
  case "$path" in
    "$PROCCONN_REPO"/*) ;;
    *)
      echo "wine tier: test file \"$arg\" is not inside the repo $PROCCONN_REPO" >&2
      exit 2
      ;;
  esac
  if [ ! -f "$path" ]; then
    echo "wine tier: test file \"$arg\" does not exist" >&2
    exit 2
  fi
  tests+=("${path#"$PROCCONN_REPO"/}")
done

# What the Windows processes see, besides setup.sh's WINE_ENV: the harness checks run only here.
wine_env=("${WINE_ENV[@]}" PROCCONN_WINE_TIER=1)

run_pid=""
wine_started=""
# Stops the Wine run if it is still going, and its wineserver, which outlives the run otherwise.
stop_wine() {
  if [ -n "$run_pid" ]; then
    kill -TERM "$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
    run_pid=""
  fi
  if [ -n "$wine_started" ]; then
    in_root "${wine_env[@]}" "${WINE_LOADER%/*}/wineserver" -k 2>/dev/null || true
    wine_started=""
  fi
}

# From here on every exit, error or signal stops Wine and releases the mounts.
trap 'stop_wine; release_mounts' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The lock is held until this script ends; setup.sh, started below, inherits it.
check_settings
lock_cache
export WINE_LOCK_FD
# setup.sh runs as its own process so that `set -e` stops it at the first failed step.
if ! bash "$HERE/setup.sh"; then
  cannot_run "building the Wine chroot failed (see the messages above)"
fi
mount_for_run

echo "wine tier: deno.exe $(pinned_deno_version) under wine \
$(cat "$PROCCONN_WINE_ROOT/$WINE_READY_MARKER"): ${tests[*]}" >&2

# The working directory is the repo (Z:\procconn) so deno.exe finds deno.json and node_modules.
# --no-lock: the repo is mounted read-only, and a run must not write a lockfile into it anyway.
# Started in the background and waited for, so INT and TERM are handled at once (bash delays
# traps until a foreground command ends); timeout forwards the TERM to the Wine processes.
timeout --kill-after=30 "$TIMEOUT" \
  chroot "$PROCCONN_WINE_ROOT" /usr/bin/env -i --chdir="$WINE_REPO_MOUNT" \
  PATH=/usr/sbin:/usr/bin:/sbin:/bin "${wine_env[@]}" \
  "$WINE_LOADER" "$WINE_STATE_MOUNT/deno/deno.exe" test -A --no-lock "${tests[@]}" \
  {WINE_LOCK_FD}>&- &
run_pid=$!
wine_started=1
status=0
wait "$run_pid" || status=$?
run_pid=""
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "wine tier: the run did not finish within ${TIMEOUT} s and was killed" >&2
fi
exit "$status"
