"""The lab's video client, as a test peer: concatenates chunk payloads
until a datagram whose marker byte is 0x01, then decodes the JPEG with
OpenCV. Instead of a window it appends each frame's JPEG bytes to an MJPEG
file, and exits after IDLE seconds without data once a stream has begun.

usage: lab_client.py PORT OUT.mjpeg [IDLE]
"""
import socket
import sys

import cv2
import numpy as np

port, out_path = int(sys.argv[1]), sys.argv[2]
idle = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", port))
print(f"Listening on 127.0.0.1:{sock.getsockname()[1]}", flush=True)
buffer = b""
decoded = failed = 0
started = False
with open(out_path, "wb") as out:
    while True:
        sock.settimeout(idle if started else 30)
        try:
            packet, _ = sock.recvfrom(65536)
        except socket.timeout:
            break
        started = True
        buffer += packet[1:]
        if packet[0] == 1:
            frame = cv2.imdecode(np.frombuffer(buffer, dtype=np.uint8), cv2.IMREAD_COLOR)
            if frame is None:
                failed += 1
            else:
                decoded += 1
                out.write(buffer)
            buffer = b""
print(f"decoded {decoded} failed {failed}", flush=True)
