#!/usr/bin/env bash
# Prepares the Wine tier: a Debian 13 (trixie) chroot with Wine 10, a Wine prefix, and the
# Windows build of Deno.
#
#   bash tests/wine/setup.sh          build (or check) everything, then release all mounts
#   source tests/wine/setup.sh        only define the functions and settings (used by run.sh)
#
# Idempotent: a finished root carries a marker file and is reused; a root without the marker
# (an interrupted build) is deleted and rebuilt. Needs root.
#
# Settings (environment):
#   PROCCONN_WINE_CACHE   cache directory                (default /var/cache/procconn)
#   PROCCONN_WINE_ROOT    the chroot                     (default $PROCCONN_WINE_CACHE/wine-trixie)
#   PROCCONN_WINE_MIRROR  Debian mirror for debootstrap  (default: the host's own apt sources)

PROCCONN_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PROCCONN_WINE_CACHE=${PROCCONN_WINE_CACHE:-/var/cache/procconn}
PROCCONN_WINE_ROOT=${PROCCONN_WINE_ROOT:-$PROCCONN_WINE_CACHE/wine-trixie}
# Inside the chroot: where the repo and the cache directories appear.
WINE_REPO_MOUNT=/procconn
WINE_STATE_MOUNT=/opt/procconn
WINE_LOADER=/usr/lib/wine/wine64
WINE_READY_MARKER=.procconn-wine-ready

# The environment of the Windows processes. Wine takes WINEPREFIX as a Unix path; deno.exe
# takes DENO_DIR as a Windows one (Z: is Wine's drive for the chroot's /). Wine turns Windows
# names into Unix file names in the locale's character set: in the C locale a name outside
# ASCII cannot be created or read back, so the locale is UTF-8 (C.UTF-8 is built into glibc).
WINE_ENV=(
  HOME=/root
  LANG=C.UTF-8
  XDG_RUNTIME_DIR=/tmp
  WINEPREFIX="$WINE_STATE_MOUNT/wine-prefix"
  WINEDEBUG=-all
  DENO_DIR="Z:${WINE_STATE_MOUNT//\//\\}\\deno-dir"
  DENO_NO_UPDATE_CHECK=1
  NO_COLOR=1
)

wine_log() {
  echo "wine tier: $*" >&2
}

# Prints the Debian mirror that the host's apt already uses (first non-security deb source).
host_debian_mirror() {
  if [ -n "${PROCCONN_WINE_MIRROR:-}" ]; then
    echo "$PROCCONN_WINE_MIRROR"
    return
  fi
  local uri=""
  # deb822 files: one stanza per blank-line-separated block with Types/URIs/Suites fields.
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    uri=$(awk '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && suites !~ /-security/ && uris != "" && !found) {
          split(uris, u, " "); print u[1]; found = 1
        }
        types = ""; uris = ""; suites = ""
      }
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      tolower($1) == "types:"  { $1 = ""; types = $0 }
      tolower($1) == "uris:"   { $1 = ""; sub(/^ +/, ""); uris = $0 }
      tolower($1) == "suites:" { $1 = ""; suites = $0 }
      END { flush() }
    ' /etc/apt/sources.list.d/*.sources)
  fi
  # One-line format: deb [options] URI suite components...
  if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) !~ /-security/) { print $i; exit }
      }')
  fi
  if [ -z "$uri" ]; then
    wine_log "no Debian mirror found in /etc/apt/sources.list*; set PROCCONN_WINE_MIRROR"
    return 1
  fi
  echo "${uri%/}"
}

# Prints the exact Deno version pinned as the `deno` devDependency in package.json.
pinned_deno_version() {
  local version
  version=$(sed -nE 's/^[[:space:]]*"deno"[[:space:]]*:[[:space:]]*"[~^=v]*([^"]+)".*/\1/p' \
    "$PROCCONN_REPO/package.json" | head -n 1)
  if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    wine_log "package.json pins no exact deno devDependency (found \"$version\")"
    return 1
  fi
  echo "$version"
}

# The cache and the root must be absolute and free of white space: release_mounts finds the
# mount points below the root by its path in /proc/self/mountinfo, which escapes white space.
check_settings() {
  local dir
  for dir in "$PROCCONN_WINE_CACHE" "$PROCCONN_WINE_ROOT"; do
    if [[ "$dir" != /* || "$dir" =~ [[:space:]] ]]; then
      wine_log "\"$dir\" must be an absolute path without white space"
      return 1
    fi
  done
}

# Mounts SOURCE at ROOT/TARGET (the target inside the root). Extra arguments go to mount.
mount_into_root() {
  local source=$1 target=$2
  shift 2
  local where="$PROCCONN_WINE_ROOT$target"
  mkdir -p "$where"
  if mountpoint -q "$where"; then
    wine_log "$where is already a mount point"
    return 1
  fi
  mount "$@" "$source" "$where"
}

# Unmounts everything below the root, ours or left over from a killed run. Safe to call twice.
release_mounts() {
  local root status=0 point
  root=$(realpath -m "$PROCCONN_WINE_ROOT")
  kill_root_processes
  # Every mount point below the root, deepest first (the kernel's table, not only our list).
  while read -r point; do
    [ -n "$point" ] || continue
    if ! umount "$point" 2>/dev/null; then
      # Still busy after the processes were ended: detach it so nothing stays behind.
      umount --lazy "$point" || status=1
    fi
  done < <(awk -v root="$root" '$5 == root || index($5, root "/") == 1 { print $5 }' \
    /proc/self/mountinfo | sort -r)
  return $status
}

# Ends processes whose root directory is the chroot (a hung Wine, a leftover wineserver), by pid.
kill_root_processes() {
  local root pids=() dir signal
  root=$(realpath -m "$PROCCONN_WINE_ROOT")
  for signal in TERM KILL; do
    pids=()
    for dir in /proc/[0-9]*; do
      [ "$(readlink "$dir/root" 2>/dev/null)" = "$root" ] && pids+=("${dir#/proc/}")
    done
    [ ${#pids[@]} -eq 0 ] && return 0
    wine_log "ending leftover processes in the chroot (SIG$signal): ${pids[*]}"
    kill -s "$signal" "${pids[@]}" 2>/dev/null || true
    sleep 2
  done
}

# Deletes a half-built root. Mounts are released first and rm stays on the root's filesystem,
# so a bind mount of /dev or of the repo can never be deleted through it.
remove_root() {
  local root
  root=$(realpath -m "$PROCCONN_WINE_ROOT")
  case "$root" in
    / | /usr | /var | /var/cache | /home | /tmp | /root | "$PROCCONN_REPO")
      wine_log "refusing to delete \"$root\" (PROCCONN_WINE_ROOT)"
      return 1
      ;;
  esac
  release_mounts
  rm -rf --one-file-system "$root"
}

# Runs a command without the cache lock's descriptor, so a daemon it leaves (wineserver) cannot
# hold the lock after this script ends.
without_lock_fd() {
  if [ -n "${WINE_LOCK_FD:-}" ]; then
    "$@" {WINE_LOCK_FD}>&-
  else
    "$@"
  fi
}

# Runs a command inside the root with a clean environment.
in_root() {
  without_lock_fd chroot "$PROCCONN_WINE_ROOT" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"
}

# debootstrap comes from the host's apt; `apt-get update` runs once, only when it is missing.
ensure_debootstrap() {
  command -v debootstrap >/dev/null && return 0
  wine_log "installing debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}

# Builds the trixie root with Wine unless a finished one is there.
ensure_root() {
  if [ -f "$PROCCONN_WINE_ROOT/$WINE_READY_MARKER" ]; then
    return 0
  fi
  if [ -e "$PROCCONN_WINE_ROOT" ]; then
    wine_log "$PROCCONN_WINE_ROOT is incomplete (no marker): rebuilding it"
    remove_root
  fi
  ensure_debootstrap
  local mirror
  mirror=$(host_debian_mirror)
  wine_log "debootstrap trixie into $PROCCONN_WINE_ROOT from $mirror"
  mkdir -p "$(dirname "$PROCCONN_WINE_ROOT")"
  without_lock_fd debootstrap --variant=minbase --include=ca-certificates \
    trixie "$PROCCONN_WINE_ROOT" "$mirror" >"$PROCCONN_WINE_CACHE/debootstrap.log" 2>&1 || {
    wine_log "debootstrap failed; last lines of $PROCCONN_WINE_CACHE/debootstrap.log:"
    tail -n 20 "$PROCCONN_WINE_CACHE/debootstrap.log" >&2
    return 1
  }
  # apt inside the root needs /proc, /dev and name resolution.
  mount_system
  wine_log "installing wine64 and wine inside the root"
  in_root sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends wine64 wine' \
    >"$PROCCONN_WINE_CACHE/wine-install.log" 2>&1 || {
    wine_log "wine install failed; last lines of $PROCCONN_WINE_CACHE/wine-install.log:"
    tail -n 20 "$PROCCONN_WINE_CACHE/wine-install.log" >&2
    return 1
  }
  in_root apt-get clean
  if [ ! -x "$PROCCONN_WINE_ROOT$WINE_LOADER" ]; then
    wine_log "the Wine loader $WINE_LOADER is missing after the install"
    return 1
  fi
  # Written last: its presence means the root is complete.
  in_root dpkg-query -W -f '${Version}\n' wine64 >"$PROCCONN_WINE_ROOT/$WINE_READY_MARKER"
}

# Fetches the Windows deno.exe of the pinned version from npm into the cache (once).
ensure_windows_deno() {
  local version dir work tarball
  version=$(pinned_deno_version)
  dir=$(windows_deno_dir)
  [ -f "$dir/deno.exe" ] && return 0
  wine_log "fetching @deno/win32-x64@$version from npm"
  mkdir -p "$PROCCONN_WINE_CACHE"
  rm -rf "$PROCCONN_WINE_CACHE"/.deno-pack.* # left by an interrupted fetch
  work=$(mktemp -d "$PROCCONN_WINE_CACHE/.deno-pack.XXXXXX")
  tarball=$(cd "$work" && npm pack --silent "@deno/win32-x64@$version" | tail -n 1) || {
    wine_log "npm pack @deno/win32-x64@$version failed"
    return 1
  }
  tar -xzf "$work/$tarball" -C "$work"
  if [ ! -f "$work/package/deno.exe" ]; then
    wine_log "@deno/win32-x64@$version has no package/deno.exe"
    return 1
  fi
  # Renamed into place in one step, so an interrupted fetch never leaves a partial deno.exe.
  mkdir -p "$work/out"
  mv "$work/package/deno.exe" "$work/out/deno.exe"
  rm -rf "$dir"
  mv "$work/out" "$dir"
  rm -rf "$work"
}

# Creates the Wine prefix (the Windows directory tree and registry, about 15 s) once, so that
# test runs start fast and without Wine's first-start messages.
ensure_wine_prefix() {
  local prefix="$PROCCONN_WINE_CACHE/wine-prefix"
  [ -f "$prefix/$WINE_READY_MARKER" ] && return 0
  wine_log "creating the Wine prefix"
  rm -rf "$prefix" # an interrupted wineboot leaves a prefix that is not worth trusting
  mkdir -p "$prefix"
  mount_system
  mount_into_root "$prefix" "$WINE_STATE_MOUNT/wine-prefix" --bind
  in_root "${WINE_ENV[@]}" "$WINE_LOADER" wineboot --init \
    >"$PROCCONN_WINE_CACHE/wineboot.log" 2>&1 || {
    wine_log "wineboot failed; last lines of $PROCCONN_WINE_CACHE/wineboot.log:"
    tail -n 20 "$PROCCONN_WINE_CACHE/wineboot.log" >&2
    return 1
  }
  # wineboot returns before the registry is flushed: wait for wineserver to finish and exit.
  in_root "${WINE_ENV[@]}" "${WINE_LOADER%/*}/wineserver" -w
  release_mounts
  touch "$prefix/$WINE_READY_MARKER"
}

# /proc, /dev and the host's resolv.conf: what apt and Wine need inside the root.
mount_system() {
  mountpoint -q "$PROCCONN_WINE_ROOT/proc" || mount_into_root proc /proc -t proc
  mountpoint -q "$PROCCONN_WINE_ROOT/dev" || mount_into_root /dev /dev --bind
  cp /etc/resolv.conf "$PROCCONN_WINE_ROOT/etc/resolv.conf"
}

# Everything a test run needs: system mounts, the repo (read-only, so a run cannot change the
# checkout), deno.exe (read-only) and the Wine prefix and DENO_DIR, which live in the cache so
# that a rebuilt root keeps them.
mount_for_run() {
  mount_system
  mkdir -p "$PROCCONN_WINE_CACHE/wine-prefix" "$PROCCONN_WINE_CACHE/deno-dir"
  mount_into_root "$PROCCONN_REPO" "$WINE_REPO_MOUNT" --bind
  mount -o remount,bind,ro "$PROCCONN_WINE_ROOT$WINE_REPO_MOUNT"
  mount_into_root "$(windows_deno_dir)" "$WINE_STATE_MOUNT/deno" --bind
  mount -o remount,bind,ro "$PROCCONN_WINE_ROOT$WINE_STATE_MOUNT/deno"
  mount_into_root "$PROCCONN_WINE_CACHE/wine-prefix" "$WINE_STATE_MOUNT/wine-prefix" --bind
  mount_into_root "$PROCCONN_WINE_CACHE/deno-dir" "$WINE_STATE_MOUNT/deno-dir" --bind
}

# Serialises runs that share the cache: a second run waits (up to 20 minutes) for the first.
# A process started by a run that holds the lock (run.sh calling this script) inherits the
# locked descriptor through WINE_LOCK_FD and just confirms it.
lock_cache() {
  if [ -n "${WINE_LOCK_FD:-}" ] && flock -n "$WINE_LOCK_FD" 2>/dev/null; then
    return 0
  fi
  mkdir -p "$PROCCONN_WINE_CACHE"
  exec {WINE_LOCK_FD}>"$PROCCONN_WINE_CACHE/.lock"
  if ! flock -w 1200 "$WINE_LOCK_FD"; then
    wine_log "another run has held $PROCCONN_WINE_CACHE/.lock for 20 minutes"
    return 1
  fi
}

# Prints where the Windows deno.exe of the pinned version is cached.
windows_deno_dir() {
  local version
  version=$(pinned_deno_version)
  echo "$PROCCONN_WINE_CACHE/deno-win32-$version"
}

# Builds the root and the Wine prefix and fetches deno.exe; leaves no mounts behind. Run it
# with `set -e` in force (as this script does when executed), not inside an `if`, where bash
# would ignore failures.
wine_prepare() {
  check_settings
  lock_cache
  # A run killed with SIGKILL may have left mounts; the lock says nobody else uses them.
  release_mounts
  ensure_root
  ensure_wine_prefix
  ensure_windows_deno
  release_mounts
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  if [ "$(id -u)" -ne 0 ]; then
    wine_log "setup needs root"
    exit 1
  fi
  trap 'release_mounts' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  wine_prepare
  wine_log "ready: $PROCCONN_WINE_ROOT (wine $(cat "$PROCCONN_WINE_ROOT/$WINE_READY_MARKER")), \
$(windows_deno_dir)/deno.exe"
fi
