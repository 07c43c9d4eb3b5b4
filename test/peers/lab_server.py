"""The lab's video server, as a test peer: reads a video with OpenCV,
JPEG-encodes each frame and sends it in 65500-byte chunks behind a 1-byte
marker (0x01 on the last chunk, 0x00 otherwise), then sleeps 1/fps.

usage: lab_server.py VIDEO HOST PORT [MAX_FRAMES] [--resize WxH] [--no-sleep]

--resize and --no-sleep make it the benchmark's baseline: decode, resize,
encode and send as fast as it goes, on one core, as the lab pair does.
"""
import argparse
import socket
import time

import cv2

CHUNK = 65500

parser = argparse.ArgumentParser()
parser.add_argument("video")
parser.add_argument("host")
parser.add_argument("port", type=int)
parser.add_argument("max_frames", type=int, nargs="?")
parser.add_argument("--resize")
parser.add_argument("--no-sleep", action="store_true")
args = parser.parse_args()
size = tuple(int(n) for n in args.resize.split("x")) if args.resize else None

capture = cv2.VideoCapture(args.video)
fps = capture.get(cv2.CAP_PROP_FPS) or 30
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print(f"Streaming video to {args.host}:{args.port}", flush=True)
sent = 0
started = time.monotonic()
while args.max_frames is None or sent < args.max_frames:
    ok, frame = capture.read()
    if not ok:
        break
    if size:
        frame = cv2.resize(frame, size)
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
    data = jpeg.tobytes()
    for start in range(0, len(data), CHUNK):
        chunk = data[start:start + CHUNK]
        last = len(chunk) < CHUNK
        sock.sendto((b"\x01" if last else b"\x00") + chunk, (args.host, args.port))
    if len(data) % CHUNK == 0:
        sock.sendto(b"\x01", (args.host, args.port))
    sent += 1
    if not args.no_sleep:
        time.sleep(1 / fps)
print(f"sent {sent} frames in {time.monotonic() - started:.3f} s", flush=True)
