#!/usr/bin/env bash
# The ProcConn module as Windows code: PowerShell 7 (its SDK, in a small self-contained win-x64
# host) runs the Windows Pester tests (tests/ps-wrapper/wine/*.Tests.ps1) under Wine 10, and the
# module runs the Windows engine (deno.exe main.ts) against the test's own sockets.
#
#   bash tests/ps-wrapper/wine.sh
#
# Builds the host and fetches Pester into .cache/ps-windows (the Wine tier mounts the repo, so
# Windows sees them at Z:\procconn\.cache\ps-windows), then runs tests/ps-wrapper/wine/
# windows_test.ts through the Wine tier (tests/wine/run.sh). Where either cannot run it says why
# and exits 0, or fails when CI=true.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

cannot_run() {
  if [ "${CI:-}" = "true" ]; then
    echo "windows powershell tier cannot run: $1 (required when CI=true)" >&2
    exit 1
  fi
  echo "windows powershell tier skipped: $1"
  exit 0
}

# shellcheck source=tests/ps-wrapper/_tools.sh
source tests/ps-wrapper/_tools.sh
out=.cache/ps-windows
mkdir -p "$out"
ps_lock
pester=$(ensure_pester)
ensure_windows_host "$out/host"
ps_unlock
rm -rf "$out/pester"
cp -r "$pester" "$out/pester"
exec bash tests/wine/run.sh tests/ps-wrapper/wine/windows_test.ts
