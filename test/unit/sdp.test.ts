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

test("with sound: a second stream, Opus (RFC 7587) on its own port, stereo said by sprop-stereo", () => {
  const sdp = rtpJpegSdp({ address: "192.0.2.7", family: 4, port: 5004, sessionId: 1, audio: { port: 5006, channels: 2 } });
  expect(sdp.endsWith("m=audio 5006 RTP/AVP 97\r\na=rtpmap:97 opus/48000/2\r\na=fmtp:97 sprop-stereo=1\r\na=ptime:20\r\n")).toBe(true);
  expect(rtpJpegSdp({ address: "192.0.2.7", family: 4, port: 5004, sessionId: 1, audio: { port: 5006, channels: 1 } })).toContain("a=rtpmap:97 opus/48000/2\r\na=fmtp:97 sprop-stereo=0\r\n");
  expect(rtpJpegSdp({ address: "192.0.2.7", family: 4, port: 5004, sessionId: 1 })).not.toContain("m=audio");
});
