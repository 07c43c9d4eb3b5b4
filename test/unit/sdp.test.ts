import { expect, test } from "bun:test";
import { rtpJpegSdp } from "../../src/protocol/sdp.ts";

test("a unicast IPv4 session: JPEG, payload type 26, 90 kHz, CRLF lines", () => {
  expect(rtpJpegSdp({ address: "192.0.2.7", family: 4, port: 5004, sessionId: 0xdeadbeef, fps: 29.97 })).toBe(
    "v=0\r\no=- 3735928559 1 IN IP4 127.0.0.1\r\ns=udpvid\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\nm=video 5004 RTP/AVP 26\r\na=rtpmap:26 JPEG/90000\r\na=framerate:29.97\r\n",
  );
});

test("a multicast group carries its TTL; IPv6 says IP6", () => {
  expect(rtpJpegSdp({ address: "239.1.2.3", family: 4, port: 5004, sessionId: 1, ttl: 4 })).toContain("c=IN IP4 239.1.2.3/4\r\n");
  expect(rtpJpegSdp({ address: "::1", family: 6, port: 9, sessionId: 1 })).toContain("c=IN IP6 ::1\r\n");
});
