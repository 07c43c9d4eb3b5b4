#!/usr/bin/env bash
# Regenerates video.mp4: 10 s of 1280x720 at 30 fps, made entirely by
# ffmpeg's lavfi sources (no third-party footage, so no licence question).
# testsrc2 moves in every frame; the mandelbrot zoom in the corner adds
# texture so JPEG sizes look like real video rather than flat colour.
set -euo pipefail
out=${1:-video.mp4}
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=10" \
  -f lavfi -i "mandelbrot=size=480x270:rate=30" \
  -filter_complex "[0:v][1:v]overlay=x=W-w-40:y=H-h-40:shortest=1,format=yuv420p[v]" \
  -map "[v]" -c:v libx264 -preset slow -crf 26 -g 60 -movflags +faststart \
  -metadata title="udpvid test clip (ffmpeg testsrc2 + mandelbrot)" "$out"
ls -l "$out" >&2
