#!/usr/bin/env bash
# Regenerates video.mp4: 10 s of 1280x720 at 30 fps with sound, made
# entirely by ffmpeg's lavfi sources (no third-party footage or recordings,
# so no licence question). testsrc2 moves in every frame; the mandelbrot
# zoom in the corner adds texture so JPEG sizes look like real video rather
# than flat colour. Sync made visible: for the first 100 ms of every second
# a white square flashes in the top left corner while a 1 kHz beep sounds;
# the rest of the second is a quiet 330 Hz hum, so there is always sound.
# A second argument makes a longer clip of the same kind (bench:av uses 30 s).
set -euo pipefail
out=${1:-video.mp4}
seconds=${2:-10}
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=${seconds}" \
  -f lavfi -i "mandelbrot=size=480x270:rate=30" \
  -f lavfi -i "aevalsrc=if(lt(mod(t\,1)\,0.1)\,0.5*sin(2*PI*1000*t)\,0.05*sin(2*PI*330*t))|if(lt(mod(t\,1)\,0.1)\,0.5*sin(2*PI*1000*t)\,0.05*sin(2*PI*330*t)):s=48000:c=stereo:d=${seconds}" \
  -filter_complex "[0:v][1:v]overlay=x=W-w-40:y=H-h-40:shortest=1,drawbox=x=40:y=40:w=160:h=160:color=white:t=fill:enable='lt(mod(t,1),0.1)',format=yuv420p[v]" \
  -map "[v]" -map 2:a -c:v libx264 -preset slow -crf 26 -g 60 -c:a aac -b:a 96k -shortest -movflags +faststart \
  -metadata title="udpvid test clip (ffmpeg testsrc2 + mandelbrot, a flash and a beep every second)" "$out"
ls -l "$out" >&2
