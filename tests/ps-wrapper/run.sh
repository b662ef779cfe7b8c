#!/usr/bin/env bash
# The PowerShell tier: Pester tests of the ProcConn module (ps-wrapper/ProcConn) with real
# PowerShell against the real engine on Linux.
#
#   bash tests/ps-wrapper/run.sh [test files...]    default: tests/ps-wrapper/*.Tests.ps1
#
# PowerShell and Pester come from the NuGet feed the machine's dotnet is set up with:
# `dotnet tool install PowerShell` and a restore that downloads the Pester package, both cached in
# $PROCCONN_PS_CACHE. Where that cannot be done (no dotnet, no feed) it prints
# "powershell tier skipped: <reason>" and exits 0, or fails when CI=true.
#
# Settings (environment):
#   PROCCONN_PWSH        a pwsh to use instead of installing one
#   PROCCONN_PS_CACHE    cache directory (default /var/cache/procconn as root, else ~/.cache/procconn)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PWSH_VERSION=7.6.9
PESTER_VERSION=5.7.1
if [ "$(id -u)" -eq 0 ]; then default_cache=/var/cache/procconn; else default_cache=$HOME/.cache/procconn; fi
CACHE=${PROCCONN_PS_CACHE:-$default_cache}

cannot_run() {
  if [ "${CI:-}" = "true" ]; then
    echo "powershell tier cannot run: $1 (required when CI=true)" >&2
    exit 1
  fi
  echo "powershell tier skipped: $1"
  exit 0
}

log() { echo "powershell tier: $*" >&2; }

mkdir -p "$CACHE"
# One installer at a time: concurrent runs share the cache.
exec 9>"$CACHE/powershell.lock"
flock 9

pwsh=${PROCCONN_PWSH:-}
if [ -z "$pwsh" ]; then
  tool_dir=$CACHE/pwsh-$PWSH_VERSION
  pwsh=$tool_dir/pwsh
  if [ ! -x "$pwsh" ]; then
    command -v dotnet >/dev/null || cannot_run "pwsh is not installed and dotnet (to install it) is not available"
    log "installing PowerShell $PWSH_VERSION (dotnet tool) into $tool_dir"
    rm -rf "$tool_dir.partial"
    if ! dotnet tool install PowerShell --version "$PWSH_VERSION" --tool-path "$tool_dir.partial" \
      >"$CACHE/pwsh-install.log" 2>&1; then
      tail -n 20 "$CACHE/pwsh-install.log" >&2
      cannot_run "dotnet tool install PowerShell --version $PWSH_VERSION failed (log above)"
    fi
    rm -rf "$tool_dir"
    mv "$tool_dir.partial" "$tool_dir"
  fi
fi

pester_dir=$CACHE/nuget-packages/pester/$PESTER_VERSION/tools
if [ ! -f "$pester_dir/Pester.psd1" ]; then
  command -v dotnet >/dev/null || cannot_run "Pester is not cached and dotnet (to fetch it) is not available"
  log "fetching Pester $PESTER_VERSION (NuGet package) into $CACHE/nuget-packages"
  project=$(mktemp -d)
  cat >"$project/fetch.csproj" <<PROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net$(dotnet --version | cut -d. -f1-1).0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="Pester" Version="[$PESTER_VERSION]" /></ItemGroup>
</Project>
PROJ
  if ! dotnet restore "$project/fetch.csproj" --packages "$CACHE/nuget-packages" \
    >"$CACHE/pester-restore.log" 2>&1; then
    rm -rf "$project"
    tail -n 20 "$CACHE/pester-restore.log" >&2
    cannot_run "the restore of the Pester $PESTER_VERSION package failed (log above)"
  fi
  rm -rf "$project"
fi
flock -u 9

if [ ! -x "$REPO/node_modules/deno/deno" ]; then
  cannot_run "the checkout's Deno is missing (node_modules/deno/deno): run npm ci first"
fi

log "$("$pwsh" -NoProfile -NonInteractive -Command '$PSVersionTable.PSVersion.ToString()' 2>&1 | sed 's/^/PowerShell /'), Pester $PESTER_VERSION"
export PROCCONN_PESTER="$pester_dir/Pester.psd1"
# The tests start more PowerShell processes with it (Get-Process -Id $PID shows the dotnet host).
export PROCCONN_TEST_PWSH="$pwsh"
export NO_COLOR=1
if [ $# -eq 0 ]; then set -- "$HERE"; fi
exec "$pwsh" -NoProfile -NonInteractive -File "$HERE/run.ps1" "$@"
