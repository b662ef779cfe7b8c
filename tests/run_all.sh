#!/usr/bin/env bash
# Runs every procconn test tier and ends with one line "tests: N passed, N failed".
#   static   deno check + deno lint + deno fmt --check
#   bundle   scripts/bundle_app.mjs: the bundle of the command line that main.ts runs
#   deno     unit tests, Linux engine on real sockets, the CLI as a subprocess, doc examples
#   wine     the Windows engine as Windows code under Wine 10 (tests/wine/run.sh; required when CI=true)
#   exe      the Windows Node single executable under Wine, compared with the Deno engine
#   pwsh     the PowerShell module with real PowerShell and Pester (tests/ps-wrapper/run.sh;
#            required when CI=true)
#   pwsh-win the PowerShell module as Windows code: PowerShell's SDK under Wine 10 with the
#            Windows engine (tests/ps-wrapper/wine.sh; required when CI=true)
# Run it through `npm test` after `npm ci`.
set -uo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1
DENO=./node_modules/.bin/deno
if [ ! -x "$DENO" ]; then
  echo "procconn tests: node_modules/.bin/deno is missing: run 'npm ci' first" >&2
  exit 1
fi

# The bench correctness check compares with `ss`; CI installs it rather than skip that check.
if [ "${CI:-}" = "true" ] && ! command -v ss >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq iproute2) >/dev/null 2>&1 ||
    echo "procconn tests: could not install iproute2 (ss); the correctness check will fail" >&2
fi

passed=0
failed=0
failures=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Adds the counts of every "ok | N passed ... | M failed" summary in the log of one tier.
count_deno() {
  local p f
  while read -r p f; do
    passed=$((passed + p))
    failed=$((failed + f))
  done < <(sed -nE 's/^(ok|FAILED) \| ([0-9]+) passed.*\| ([0-9]+) failed.*/\2 \3/p' "$log")
}

# Runs a command as one check: one pass or one fail.
check() {
  local name=$1
  shift
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

# Runs a deno test tier: its own pass/fail counts, plus a failure if it exits non-zero without any.
tier() {
  local name=$1
  shift
  echo "== $name"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local before=$failed
  count_deno
  if [ "$rc" -ne 0 ]; then
    failures+=("$name")
    [ "$failed" -eq "$before" ] && failed=$((failed + 1))
  fi
}

SOURCES=(mod.ts main.ts)
# main.ts runs the bundle of the command line while it matches the sources: bring it up to date,
# so that the CLI tests run this checkout's code through it, as a user's run does.
check "bundle the command line (scripts/bundle_app.mjs)" node scripts/bundle_app.mjs
check "deno check" "$DENO" check --quiet "${SOURCES[@]}" tests/ scripts/
check "deno lint" "$DENO" lint --quiet
check "deno fmt --check" "$DENO" fmt --check --quiet
tier "deno tests (unit, Linux real sockets, CLI, bench correctness vs ss)" "$DENO" test -A --quiet --ignore=tests/wine tests/ bench/
tier "doc examples" "$DENO" test -A --quiet --doc mod.ts core/ formatters/ ffi/ cli/
tier "wine tier (Windows engine under Wine 10)" bash tests/wine/run.sh
tier "windows node executable (Wine 10)" bash tests/exe/wine.sh
tier "powershell module (Pester, real pwsh, real engine)" bash tests/ps-wrapper/run.sh
tier "powershell module on Windows (Pester, PowerShell under Wine 10)" bash tests/ps-wrapper/wine.sh

echo
if [ ${#failures[@]} -gt 0 ]; then
  echo "failed tiers: ${failures[*]}"
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failures[@]} -eq 0 ]
