#!/usr/bin/env bash
# The PowerShell tier: Pester tests of the ProcConn module (ps-wrapper/ProcConn) with real
# PowerShell against the real engine on Linux.
#
#   bash tests/ps-wrapper/run.sh [test files...]    default: tests/ps-wrapper/*.Tests.ps1
#
# PowerShell and Pester come from the NuGet feed the machine's dotnet is set up with (see
# _tools.sh). Where that cannot be done (no dotnet, no feed) it prints
# "powershell tier skipped: <reason>" and exits 0, or fails when CI=true.
#
# Settings (environment): those of _tools.sh, plus
#   PROCCONN_PWSH        a pwsh to use instead of installing one
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

cannot_run() {
  if [ "${CI:-}" = "true" ]; then
    echo "powershell tier cannot run: $1 (required when CI=true)" >&2
    exit 1
  fi
  echo "powershell tier skipped: $1"
  exit 0
}

# shellcheck source=tests/ps-wrapper/_tools.sh
source "$HERE/_tools.sh"
ps_lock
pwsh=$(ensure_pwsh)
pester=$(ensure_pester)
ps_unlock

if [ ! -x "$REPO/node_modules/deno/deno" ]; then
  cannot_run "the checkout's Deno is missing (node_modules/deno/deno): run npm ci first"
fi

ps_log "$("$pwsh" -NoProfile -NonInteractive -Command '$PSVersionTable.PSVersion.ToString()' 2>&1 | sed 's/^/PowerShell /'), Pester $PESTER_VERSION"
export PROCCONN_PESTER="$pester/Pester.psd1"
# The tests start more PowerShell processes with it (Get-Process -Id $PID shows the dotnet host).
export PROCCONN_TEST_PWSH="$pwsh"
export NO_COLOR=1
if [ $# -eq 0 ]; then set -- "$HERE"/*.Tests.ps1; fi
exec "$pwsh" -NoProfile -NonInteractive -File "$HERE/run.ps1" "$@"
