#!/usr/bin/env bash
# The main job on the bundled clip: a receiver window (or, with no display, a
# headless receiver) and a sender streaming video.mp4 to it over loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bun=node_modules/.bin/bun
port=${UDPVID_DEMO_PORT:-9999}
mode=()
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "demo: no display found, receiving headless (the summary shows what arrived)" >&2
  mode=(--headless)
fi
"$bun" src/cli.ts receive --port "$port" --idle-timeout 2 "${mode[@]}" &
receiver=$!
trap 'kill $receiver 2>/dev/null || true' EXIT
sleep 1
"$bun" src/cli.ts send video.mp4 --to "127.0.0.1:$port"
wait $receiver
trap - EXIT
