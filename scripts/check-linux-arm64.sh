#!/usr/bin/env bash
# Runs dist/udpvid-linux-arm64 under qemu-user on this x64 host: its own
# ffmpeg decodes a clip and its own sharp/libvips encodes it, into a receiver
# built from source. Needs root for Debian's qemu-user-static and arm64 libc.
#   bun run build --target linux-arm64 && bash scripts/check-linux-arm64.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v qemu-aarch64-static >/dev/null || [ ! -e /lib/ld-linux-aarch64.so.1 ]; then
  dpkg --add-architecture arm64
  apt-get update -qq
  apt-get install -y -qq qemu-user-static libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp dist/udpvid-linux-arm64 "$work/udpvid"
ffmpeg -v error -i video.mp4 -t 1 -vf scale=320:-2 -y "$work/clip.mp4"
node_modules/.bin/bun src/cli.ts receive --headless --port 0 --idle-timeout 2 --json >"$work/received.json" 2>"$work/receiver.log" &
sleep 1.5
port=$(grep -o 'Listening on [^ ]*' "$work/receiver.log" | grep -o '[0-9]*$')
(cd "$work" && XDG_CACHE_HOME="$work/cache" QEMU_LD_PREFIX=/ qemu-aarch64-static ./udpvid --version)
(cd "$work" && XDG_CACHE_HOME="$work/cache" QEMU_LD_PREFIX=/ qemu-aarch64-static ./udpvid send clip.mp4 --to "127.0.0.1:$port" --fps 5 --json | tail -1)
wait
tail -1 "$work/received.json"
shown=$(tail -1 "$work/received.json" | grep -o '"framesShown":[0-9]*' | grep -o '[0-9]*$')
[ "$shown" -ge 29 ] && echo "linux-arm64: $shown of 30 frames arrived and decoded strictly" || { echo "linux-arm64: only $shown frames arrived"; exit 1; }
