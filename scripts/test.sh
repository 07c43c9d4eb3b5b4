#!/usr/bin/env bash
# Runs the whole bun:test suite and ends with the line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
node_modules/.bin/bun test --timeout 60000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+')
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+')
echo "${passed:-0} passed, ${failed:-0} failed"
# A run that died before its summary is a failure even if it printed no "fail".
if [ "$status" -eq 0 ] && [ -z "$passed" ]; then exit 1; fi
exit "$status"
