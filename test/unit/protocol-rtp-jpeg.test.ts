import { expect, test } from "bun:test";
import { deserializeRtpJpeg, rtpJpegHeadersSize, serializeRtpJpeg, type RtpJpegPayload } from "../../src/protocol/rtp-jpeg.ts";
import { ProtocolError } from "../../src/protocol/protocol-error.ts";

const scan = new Uint8Array([0xaa, 0xbb, 0xcc]);

test("a middle fragment: golden bytes, no tables", () => {
  const payload: RtpJpegPayload = { typeSpecific: 0, fragmentOffset: 0x012345, type: 1, q: 255, width: 640, height: 480, scan };
  const bytes = serializeRtpJpeg(payload);
  expect(bytes).toEqual(new Uint8Array([0, 0x01, 0x23, 0x45, 1, 255, 80, 60, 0xaa, 0xbb, 0xcc]));
  expect(deserializeRtpJpeg(bytes)).toEqual({ ...payload, restart: undefined, quantTables: undefined });
});

test("the first fragment with Q 255 carries two 8-bit tables in-band", () => {
  const luma = Uint16Array.from({ length: 64 }, (_, i) => i + 1);
  const chroma = Uint16Array.from({ length: 64 }, (_, i) => 200 - i);
  const payload: RtpJpegPayload = { typeSpecific: 0, fragmentOffset: 0, type: 0, q: 255, width: 1920, height: 1080, quantTables: [luma, chroma], scan };
  const bytes = serializeRtpJpeg(payload);
  expect(bytes.length).toBe(8 + 4 + 128 + 3);
  expect([...bytes.subarray(0, 12)]).toEqual([0, 0, 0, 0, 0, 255, 240, 135, 0, 0, 0, 128]);
  expect(rtpJpegHeadersSize(payload)).toBe(140);
  expect(deserializeRtpJpeg(bytes)).toEqual({ ...payload, restart: undefined });
});

test("a 16-bit table sets its precision bit and takes 128 bytes", () => {
  const wide = Uint16Array.from({ length: 64 }, (_, i) => 256 + i);
  const narrow = new Uint16Array(64).fill(7);
  const payload: RtpJpegPayload = { typeSpecific: 0, fragmentOffset: 0, type: 1, q: 200, width: 16, height: 16, quantTables: [narrow, wide], scan };
  const bytes = serializeRtpJpeg(payload);
  expect([...bytes.subarray(8, 12)]).toEqual([0, 0b10, 0, 192]);
  expect(deserializeRtpJpeg(bytes).quantTables).toEqual([narrow, wide]);
});

test("restart marker header: type + 64, interval, first/last flags and count", () => {
  const payload: RtpJpegPayload = { typeSpecific: 0, fragmentOffset: 8, type: 1, q: 50, width: 64, height: 32, restart: { interval: 4, first: true, last: false, count: 0x3fff }, scan };
  const bytes = serializeRtpJpeg(payload);
  expect([...bytes.subarray(0, 12)]).toEqual([0, 0, 0, 8, 65, 50, 8, 4, 0, 4, 0xbf, 0xff]);
  expect(deserializeRtpJpeg(bytes)).toEqual({ ...payload, quantTables: undefined });
});

test("pictures RFC 2435 cannot describe are refused when sending", () => {
  const base: RtpJpegPayload = { typeSpecific: 0, fragmentOffset: 0, type: 1, q: 80, width: 640, height: 480, scan };
  expect(() => serializeRtpJpeg({ ...base, width: 2048 })).toThrow("width 2048 is outside 8…2040");
  expect(() => serializeRtpJpeg({ ...base, width: 642 })).toThrow("whole 8-pixel blocks");
  expect(() => serializeRtpJpeg({ ...base, fragmentOffset: 1 << 24 })).toThrow("fragment offset");
});

test("hostile payloads are refused with a reason", () => {
  const code = (bytes: number[]) => {
    try {
      deserializeRtpJpeg(new Uint8Array(bytes));
      return "parsed";
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
      return (error as ProtocolError).code;
    }
  };
  expect(code([0, 0, 0, 0, 1, 80, 8])).toBe("truncated");
  expect(code([0, 0, 0, 0, 2, 80, 8, 8])).toBe("bad-flags"); // type 2
  expect(code([0, 0, 0, 0, 129, 80, 8, 8])).toBe("bad-flags"); // type 129
  expect(code([0, 0, 0, 0, 1, 0, 8, 8])).toBe("bad-flags"); // Q 0
  expect(code([0, 0, 0, 0, 1, 110, 8, 8])).toBe("bad-flags"); // Q reserved
  expect(code([0, 0, 0, 0, 1, 80, 0, 8])).toBe("bad-length"); // width 0
  expect(code([0, 0, 0, 0, 65, 80, 8, 8, 0, 1])).toBe("truncated"); // restart header cut
  expect(code([0, 0, 0, 0, 1, 255, 8, 8, 0, 0])).toBe("truncated"); // table header cut
  expect(code([0, 0, 0, 0, 1, 255, 8, 8, 0, 0, 0, 128, 1, 2])).toBe("truncated"); // tables claimed, absent
  expect(code([0, 0, 0, 0, 1, 255, 8, 8, 0, 0, 0, 65, ...new Array(65).fill(1)])).toBe("bad-length"); // 65 bytes: not whole tables
  expect(code([0, 0, 0, 8, 1, 255, 8, 8, 1])).toBe("parsed"); // not the first fragment: no table header
});
