#!/usr/bin/env bash
# Makes a fresh clone runnable: Debian packages, npm packages, Bun, and the
# SDL window addon (whose own installer downloads from GitHub, unreachable
# here, so we build it against Debian's libsdl2-dev instead).
#   bash scripts/setup.sh run    what `udpvid send/receive` need
#   bash scripts/setup.sh build  that, plus the toolchains `bun run build` needs for every binary's window
#   bash scripts/setup.sh test   that, plus the peers the test suite uses
set -euo pipefail
mode=${1:-run}
cd "$(dirname "$0")/.."
say() { printf 'setup: %s\n' "$*" >&2; }
# Where the time goes on a fresh machine: one "name Ns" entry per step that ran.
spent=()
phase_start=$SECONDS
phase_done() { spent+=("$1 $((SECONDS - phase_start))s"); phase_start=$SECONDS; }

missing=()
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
[ -f /usr/include/SDL2/SDL.h ] || missing+=(libsdl2-dev)
# The window's text (overlay, "Waiting for stream") is SVG drawn by sharp: it needs a font.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
# JPEG straight from and to YUV planes (src/native/turbojpeg.ts); without it udpvid falls back to sharp.
/sbin/ldconfig -p 2>/dev/null | grep -q "libturbojpeg.so.0 (.*x86-64" || missing+=(libturbojpeg0)
# The receiver's Opus decoder (src/native/opus.ts); without it udpvid uses libopus's WebAssembly build.
/sbin/ldconfig -p 2>/dev/null | grep -q "libopus.so.0 (.*x86-64" || missing+=(libopus0)
if [ "$mode" = build ] || [ "$mode" = test ]; then
  # The binaries' own SDL is built from Debian's source package (scripts/build-sdl.ts):
  # Linux with zig (from npm), Windows with mingw-w64's posix-thread g++.
  command -v cmake >/dev/null || missing+=(cmake)
  command -v dpkg-source >/dev/null || missing+=(dpkg-dev)
  command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
  command -v x86_64-w64-mingw32-g++-posix >/dev/null || missing+=(g++-mingw-w64-x86-64-posix)
  # libjpeg-turbo's SIMD for x86-64 (scripts/build-turbojpeg.ts).
  command -v nasm >/dev/null || missing+=(nasm)
  sources=/etc/apt/sources.list.d/debian.sources
  if [ "$(id -u)" = 0 ] && [ -f "$sources" ] && ! grep -q '^Types:.*deb-src' "$sources"; then
    say "enabling Debian's source packages (deb-src) in $sources"
    sed -i 's/^Types: deb$/Types: deb deb-src/' "$sources"
    refresh_sources=1 # apt-get update below reads the source indexes
  fi
fi
if [ "$mode" = test ]; then
  command -v Xvfb >/dev/null || missing+=(xvfb)
  command -v xdotool >/dev/null || missing+=(xdotool)
  # A window manager for the fullscreen test: leaving fullscreen needs one.
  command -v openbox >/dev/null || missing+=(openbox)
  /usr/bin/python3 -c 'import cv2' 2>/dev/null || missing+=(python3-opencv)
  # GStreamer as an RTP/JPEG peer: gst-launch-1.0, and rtpjpegpay/jpegenc/udpsink from plugins-good.
  gst-inspect-1.0 rtpjpegpay >/dev/null 2>&1 || missing+=(gstreamer1.0-tools gstreamer1.0-plugins-good)
  # A real browser for receive --web's viewer, driven headless by puppeteer-core (no browser download).
  command -v chromium >/dev/null || missing+=(chromium)
  # Reads the QR code on the window's waiting card back, as a phone would.
  command -v zbarimg >/dev/null || missing+=(zbar-tools)
  # The other platforms' binaries, run on this host: windows-x64 under wine (mingw builds a
  # test-only DLL wine 8 lacks), linux-arm64 under qemu-user with Debian's arm64 C library,
  # and the arm64 libX11 its window loads (as any arm64 desktop has).
  command -v wine >/dev/null || missing+=(wine wine64)
  command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
  [ -f /usr/lib/aarch64-linux-gnu/libstdc++.so.6 ] || missing+=(libc6:arm64 libstdc++6:arm64)
  [ -f /usr/lib/aarch64-linux-gnu/libXext.so.6 ] || missing+=(libx11-6:arm64 libxext6:arm64)
fi
if [ ${#missing[@]} -gt 0 ] || [ "${refresh_sources:-0}" = 1 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian packages: ${missing[*]:-none (updating the package lists)}"
    export DEBIAN_FRONTEND=noninteractive
    if [[ " ${missing[*]}" == *:arm64* ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
      dpkg --add-architecture arm64
    fi
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${missing[@]}" >/dev/null
    phase_done "Debian packages"
  else
    say "missing system packages: ${missing[*]}"
    say "install them first, e.g.: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

# npm packages; install scripts are skipped because two of them download
# from GitHub. Bun's own postinstall only unpacks a package, so run it here.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  phase_done "npm packages"
fi
if ! node_modules/.bin/bun --version >/dev/null 2>&1; then
  say "unpacking Bun"
  node node_modules/bun/install.js >/dev/null
  phase_done "Bun"
fi

sdl=node_modules/@kmamal/sdl
if [ ! -f "$sdl/dist/sdl.node" ]; then
  say "building the SDL window addon against the system's SDL2"
  nodedir=()
  [ -f /usr/include/node/node_api.h ] && nodedir=(--nodedir=/usr)
  # The host's own SDL2: with foreign multiarch packages installed (arm64 for
  # cross-builds), a search of /usr/lib can find another architecture's first.
  sdl_lib=$(pkg-config --variable=libdir sdl2 2>/dev/null || true)
  [ -n "$sdl_lib" ] || sdl_lib=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
  [ -f "$sdl_lib/libSDL2.so" ] || { say "no libSDL2.so for this machine in $sdl_lib"; exit 1; }
  (cd "$sdl" && SDL_INC=/usr/include/SDL2 SDL_LIB="$sdl_lib" \
    ../../.bin/node-gyp rebuild -j max "${nodedir[@]}" --loglevel=error >/dev/null \
    && mkdir -p dist && cp build/Release/sdl.node dist/sdl.node)
  phase_done "SDL addon"
fi
if [ "$mode" = build ] || [ "$mode" = test ]; then
  # Each binary's own SDL, built once into build/sdl/ (minutes the first time); the
  # binary tests then compile the binaries themselves in seconds.
  for target in linux-x64 linux-arm64 windows-x64; do
    if [ ! -f "build/sdl/$target/sdl.node" ]; then
      say "building SDL for the $target binary"
      node_modules/.bin/bun scripts/build-sdl.ts "$target" >/dev/null
      phase_done "SDL for $target"
    fi
    # And its libturbojpeg, from Debian's libjpeg-turbo source the same way (seconds).
    if [ ! -f "build/turbojpeg/$target/.built" ]; then
      say "building libturbojpeg for the $target binary"
      node_modules/.bin/bun scripts/build-turbojpeg.ts "$target" >/dev/null && touch "build/turbojpeg/$target/.built"
      phase_done "libturbojpeg for $target"
    fi
    # And its libopus, from Debian's opus source (seconds).
    if [ ! -f "build/opus/$target/.built" ]; then
      say "building libopus for the $target binary"
      node_modules/.bin/bun scripts/build-opus.ts "$target" >/dev/null && touch "build/opus/$target/.built"
      phase_done "libopus for $target"
    fi
  done
fi
if [ ${#spent[@]} -gt 0 ]; then
  say "ready ($(printf '%s, ' "${spent[@]}" | sed 's/, $//'))"
else
  say "ready"
fi
