# PowerShell, Pester and the Windows PowerShell host for the PowerShell tiers, from the NuGet feed
# the machine's dotnet is set up with, cached in $PS_CACHE. Sourced by run.sh and wine/run.sh,
# which define cannot_run (skip, or fail under CI=true).
#
# Settings (environment):
#   PROCCONN_PS_CACHE    cache directory (default /var/cache/procconn as root, else ~/.cache/procconn)

PWSH_VERSION=7.6.9
PESTER_VERSION=5.7.1
if [ "$(id -u)" -eq 0 ]; then PS_CACHE=${PROCCONN_PS_CACHE:-/var/cache/procconn}; else
  PS_CACHE=${PROCCONN_PS_CACHE:-$HOME/.cache/procconn}
fi
PS_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

ps_log() { echo "powershell tier: $*" >&2; }

# Holds the cache's install lock on descriptor 9 until ps_unlock; runs that share the cache wait.
ps_lock() {
  mkdir -p "$PS_CACHE"
  exec 9>"$PS_CACHE/powershell.lock"
  flock 9
}
ps_unlock() { flock -u 9; }

# Prints the pwsh to use: $PROCCONN_PWSH, or the PowerShell dotnet tool, installed once.
ensure_pwsh() {
  if [ -n "${PROCCONN_PWSH:-}" ]; then
    echo "$PROCCONN_PWSH"
    return
  fi
  local dir=$PS_CACHE/pwsh-$PWSH_VERSION
  if [ ! -x "$dir/pwsh" ]; then
    command -v dotnet >/dev/null || cannot_run "pwsh is not installed and dotnet (to install it) is not available"
    ps_log "installing PowerShell $PWSH_VERSION (dotnet tool) into $dir"
    rm -rf "$dir.partial"
    if ! dotnet tool install PowerShell --version "$PWSH_VERSION" --tool-path "$dir.partial" \
      >"$PS_CACHE/pwsh-install.log" 2>&1; then
      tail -n 20 "$PS_CACHE/pwsh-install.log" >&2
      cannot_run "dotnet tool install PowerShell --version $PWSH_VERSION failed (log above)"
    fi
    rm -rf "$dir"
    mv "$dir.partial" "$dir"
  fi
  echo "$dir/pwsh"
}

# Prints the folder holding Pester.psd1, restoring the Pester NuGet package once.
ensure_pester() {
  local dir=$PS_CACHE/nuget-packages/pester/$PESTER_VERSION/tools
  if [ ! -f "$dir/Pester.psd1" ]; then
    command -v dotnet >/dev/null || cannot_run "Pester is not cached and dotnet (to fetch it) is not available"
    ps_log "fetching Pester $PESTER_VERSION (NuGet package) into $PS_CACHE/nuget-packages"
    local project
    project=$(mktemp -d)
    cat >"$project/fetch.csproj" <<PROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net$(dotnet --version | cut -d. -f1).0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="Pester" Version="[$PESTER_VERSION]" /></ItemGroup>
</Project>
PROJ
    if ! dotnet restore "$project/fetch.csproj" --packages "$PS_CACHE/nuget-packages" \
      >"$PS_CACHE/pester-restore.log" 2>&1; then
      rm -rf "$project"
      tail -n 20 "$PS_CACHE/pester-restore.log" >&2
      cannot_run "the restore of the Pester $PESTER_VERSION package failed (log above)"
    fi
    rm -rf "$project"
  fi
  echo "$dir"
}

# Builds the Windows PowerShell host (wine/host: PowerShell $PWSH_VERSION's SDK, published
# self-contained for win-x64) into DIR, unless DIR already holds a build of the same sources.
ensure_windows_host() {
  local dir=$1 src=$PS_TOOLS/wine/host key
  key=$( (echo "$PWSH_VERSION"; cat "$src"/*.csproj "$src"/*.cs) | sha256sum | cut -c1-16)
  if [ -f "$dir/pwsh.exe" ] && [ "$(cat "$dir/.source-key" 2>/dev/null)" = "$key" ]; then
    return
  fi
  command -v dotnet >/dev/null || cannot_run "dotnet (to build the Windows PowerShell host) is not available"
  ps_log "building the Windows PowerShell host (Microsoft.PowerShell.SDK $PWSH_VERSION, win-x64) into $dir"
  local work log
  work=$(mktemp -d)
  log=$work/build.log
  cp "$src"/*.csproj "$src"/*.cs "$work/"
  rm -rf "$dir"
  if ! dotnet publish "$work" -c Release -o "$dir" -p:PowerShellVersion="$PWSH_VERSION" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    rm -rf "$work" "$dir"
    cannot_run "building the Windows PowerShell host failed (log above)"
  fi
  rm -rf "$work"
  echo "$key" >"$dir/.source-key"
}
