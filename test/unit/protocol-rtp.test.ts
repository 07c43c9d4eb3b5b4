import { expect, test } from "bun:test";
import { deserializeRtp, looksLikeRtp, serializeRtp, type RtpPacket } from "../../src/protocol/rtp.ts";
import { ProtocolError } from "../../src/protocol/protocol-error.ts";

const PACKET: RtpPacket = { marker: true, payloadType: 26, sequence: 0xbeef, timestamp: 0x01020304, ssrc: 0xdeadbeef, payload: new Uint8Array([9, 8, 7]) };
// V=2, no padding/extension/CSRC | M=1, PT=26 | seq | timestamp | SSRC | payload
const GOLDEN = new Uint8Array([0x80, 0x9a, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0xde, 0xad, 0xbe, 0xef, 9, 8, 7]);

test("serializes to the golden bytes and reads them back", () => {
  expect(serializeRtp(PACKET)).toEqual(GOLDEN);
  expect(deserializeRtp(GOLDEN)).toEqual(PACKET);
});

test("no marker, another payload type", () => {
  const packet = { ...PACKET, marker: false, payloadType: 96 };
  const bytes = serializeRtp(packet);
  expect(bytes[1]).toBe(96);
  expect(deserializeRtp(bytes)).toEqual(packet);
});

test("reads past CSRCs and a header extension, and drops padding", () => {
  const bytes = new Uint8Array([
    0xb2, 0x1a, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, // V=2 P=1 X=1 CC=2
    1, 1, 1, 1, 2, 2, 2, 2, // two CSRCs
    0xbe, 0xde, 0, 1, 5, 5, 5, 5, // extension: profile, 1 word
    42, 43, // payload
    0, 0, 3, // padding: 3 bytes, the last says so
  ]);
  const packet = deserializeRtp(bytes);
  expect([...packet.payload]).toEqual([42, 43]);
  expect(packet).toMatchObject({ marker: false, payloadType: 26, sequence: 1, timestamp: 2, ssrc: 3 });
});

test("tells RTP version 2 from udpvid's own first bytes", () => {
  expect(looksLikeRtp(GOLDEN)).toBe(true);
  expect(looksLikeRtp(new Uint8Array([0x56]))).toBe(false); // v2 magic
  expect(looksLikeRtp(new Uint8Array([0x01]))).toBe(false); // legacy marker
  expect(looksLikeRtp(new Uint8Array(0))).toBe(false);
});

test("hostile lengths are refused with a reason, never read past the end", () => {
  const code = (bytes: Uint8Array) => {
    try {
      deserializeRtp(bytes);
      return "parsed";
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
      return (error as ProtocolError).code;
    }
  };
  expect(code(GOLDEN.subarray(0, 11))).toBe("truncated");
  expect(code(new Uint8Array([0x40, ...GOLDEN.subarray(1)]))).toBe("unsupported-version");
  expect(code(new Uint8Array([0x8f, ...GOLDEN.subarray(1)]))).toBe("truncated"); // 15 CSRCs claimed
  expect(code(new Uint8Array([0x90, ...GOLDEN.subarray(1, 12), 0, 0]))).toBe("truncated"); // extension header cut
  expect(code(new Uint8Array([0x90, ...GOLDEN.subarray(1, 12), 0, 0, 0, 9]))).toBe("truncated"); // extension claims 9 words
  expect(code(new Uint8Array([0xa0, ...GOLDEN.subarray(1, 12), 1, 2, 0]))).toBe("bad-length"); // padding count 0
  expect(code(new Uint8Array([0xa0, ...GOLDEN.subarray(1, 12), 200]))).toBe("truncated"); // more padding than packet
  expect(code(GOLDEN.subarray(0, 12))).toBe("parsed"); // a header alone is an empty payload
});
