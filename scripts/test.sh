#!/usr/bin/env bash
# Runs the whole bun:test suite and ends with the line "N passed, N failed".
#   bash scripts/test.sh [--under-load[=N]] [bun test arguments...]
# --under-load runs the suite beside two (or N) CPU-bound processes, started
# and stopped here, as on a shared CI machine where other jobs are compiling:
# the suite must pass there as it does on a quiet machine.
set -uo pipefail
cd "$(dirname "$0")/.."
load=()
stop_load() {
  if [ ${#load[@]} -gt 0 ]; then kill "${load[@]}" 2>/dev/null; wait "${load[@]}" 2>/dev/null; fi
  load=()
}
log=$(mktemp)
trap 'stop_load; rm -f "$log"' EXIT
trap 'exit 130' INT TERM

args=()
busy=0
for arg in "$@"; do
  case "$arg" in
    --under-load) busy=2 ;; # one per core of this machine kind: every process of the suite competes for CPU
    --under-load=*) busy=${arg#--under-load=} ;;
    *) args+=("$arg") ;;
  esac
done
if [ "$busy" -gt 0 ]; then
  for _ in $(seq "$busy"); do
    # CPU-bound, and gone once this script is (even if it is killed outright).
    sh -c 'parent=$1; i=0; while :; do i=$((i + 1)); [ "$i" -lt 50000 ] && continue; i=0; kill -0 "$parent" 2>/dev/null || exit 0; done' load $$ &
    load+=($!)
  done
  echo "test.sh: under load: busy processes ${load[*]} beside the suite"
fi

node_modules/.bin/bun test --timeout 60000 "${args[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
stop_load
passed=$(grep -aEo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+')
failed=$(grep -aEo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+')
echo "${passed:-0} passed, ${failed:-0} failed"
# A run that died before its summary is a failure even if it printed no "fail".
if [ "$status" -eq 0 ] && [ -z "$passed" ]; then exit 1; fi
exit "$status"
