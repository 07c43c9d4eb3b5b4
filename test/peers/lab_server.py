"""The lab's video server, as a test peer: reads a video with OpenCV,
JPEG-encodes each frame and sends it in 65500-byte chunks behind a 1-byte
marker (0x01 on the last chunk, 0x00 otherwise), then sleeps 1/fps.

usage: lab_server.py VIDEO HOST PORT [MAX_FRAMES]
"""
import socket
import sys
import time

import cv2

CHUNK = 65500

video, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
max_frames = int(sys.argv[4]) if len(sys.argv) > 4 else None

capture = cv2.VideoCapture(video)
fps = capture.get(cv2.CAP_PROP_FPS) or 30
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print(f"Streaming video to {host}:{port}", flush=True)
sent = 0
while max_frames is None or sent < max_frames:
    ok, frame = capture.read()
    if not ok:
        break
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
    data = jpeg.tobytes()
    for start in range(0, len(data), CHUNK):
        chunk = data[start:start + CHUNK]
        last = len(chunk) < CHUNK
        sock.sendto((b"\x01" if last else b"\x00") + chunk, (host, port))
    if len(data) % CHUNK == 0:
        sock.sendto(b"\x01", (host, port))
    sent += 1
    time.sleep(1 / fps)
print(f"sent {sent} frames", flush=True)
