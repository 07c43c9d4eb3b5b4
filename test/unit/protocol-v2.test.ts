import { describe, expect, test } from "bun:test";
import { deserializeV2, isNewerFrame, serializeV2, V2_HEADER_SIZE } from "../../src/protocol/v2.ts";
import { ProtocolError } from "../../src/protocol/protocol-error.ts";
import { classifyDatagram } from "../../src/protocol/classify.ts";
import { endOfStreamDatagram, packetizeV2 } from "../../src/packetizer/v2-packetizer.ts";

const packet = {
  streamId: 0xdeadbeef,
  frameNumber: 0x01020304,
  chunkIndex: 2,
  chunkCount: 3,
  captureTimeUs: 1_700_000_000_123_456,
  endOfStream: false,
  payload: Uint8Array.of(0xaa, 0xbb),
};

// 56 02 01 00 | de ad be ef | 01 02 03 04 | 00 02 | 00 03 | 00 06 0a 24 18 20 22 40 | aa bb
const golden = [
  0x56, 0x02, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x00, 0x02, 0x00, 0x03, 0x00, 0x06, 0x0a, 0x24,
  0x18, 0x20, 0x22, 0x40, 0xaa, 0xbb,
];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e.code;
    throw e;
  }
  return undefined;
}

describe("v2 datagram codec", () => {
  test("golden bytes", () => {
    expect([...serializeV2(packet)]).toEqual(golden);
  });

  test("golden bytes parse back to the same packet", () => {
    const parsed = deserializeV2(Uint8Array.from(golden));
    expect({ ...parsed, payload: [...parsed.payload] }).toEqual({ ...packet, payload: [0xaa, 0xbb] });
  });

  test("end-of-stream datagram: END flag, no chunk, no payload", () => {
    const d = endOfStreamDatagram(7, 99, 5);
    expect([...d]).toEqual([0x56, 2, 0x02, 0, 0, 0, 0, 7, 0, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
    const parsed = deserializeV2(d);
    expect(parsed.endOfStream).toBe(true);
    expect(parsed.frameNumber).toBe(99);
  });

  test("rejects truncated and garbage datagrams with a typed error", () => {
    const good = Uint8Array.from(golden);
    const mutate = (at: number, value: number) => {
      const copy = good.slice();
      copy[at] = value;
      return copy;
    };
    expect(codeOf(() => deserializeV2(good.subarray(0, 23)))).toBe("truncated");
    expect(codeOf(() => deserializeV2(new Uint8Array(0)))).toBe("truncated");
    expect(codeOf(() => deserializeV2(mutate(0, 0x57)))).toBe("bad-magic");
    expect(codeOf(() => deserializeV2(mutate(1, 3)))).toBe("unsupported-version");
    expect(codeOf(() => deserializeV2(mutate(2, 0x81)))).toBe("bad-flags");
    expect(codeOf(() => deserializeV2(mutate(2, 0x00)))).toBe("bad-flags"); // last chunk without LAST
    expect(codeOf(() => deserializeV2(mutate(3, 1)))).toBe("bad-reserved");
    expect(codeOf(() => deserializeV2(mutate(15, 0)))).toBe("bad-chunk-index"); // count 0
    expect(codeOf(() => deserializeV2(mutate(13, 9)))).toBe("bad-chunk-index"); // index ≥ count
    expect(codeOf(() => deserializeV2(good.subarray(0, V2_HEADER_SIZE)))).toBe("empty-payload");
    expect(codeOf(() => deserializeV2(new Uint8Array(65508).fill(0x56)))).toBe("oversized");
    const endWithPayload = new Uint8Array(V2_HEADER_SIZE + 1);
    endWithPayload.set(endOfStreamDatagram(1, 1, 1));
    expect(codeOf(() => deserializeV2(endWithPayload))).toBe("bad-flags");
    expect(() => deserializeV2(good.subarray(0, 10))).toThrow("shorter than its 24-byte header");
  });

  test("first byte tells the protocol", () => {
    expect(classifyDatagram(Uint8Array.from(golden))).toBe("v2");
    expect(classifyDatagram(Uint8Array.of(0, 0xff))).toBe("legacy");
    expect(classifyDatagram(Uint8Array.of(1))).toBe("legacy");
    expect(classifyDatagram(Uint8Array.of(0x47))).toBeUndefined();
    expect(classifyDatagram(new Uint8Array(0))).toBeUndefined();
  });

  test("frame numbers compare across the 2^32 wrap", () => {
    expect(isNewerFrame(1, 0)).toBe(true);
    expect(isNewerFrame(0, 1)).toBe(false);
    expect(isNewerFrame(0, 0xffffffff)).toBe(true);
    expect(isNewerFrame(5, 0xfffffff0)).toBe(true);
    expect(isNewerFrame(0xfffffff0, 5)).toBe(false);
    expect(isNewerFrame(7, 7)).toBe(false);
  });
});

describe("v2 packetizer", () => {
  test("datagrams are at most the size asked, and parse back into the frame", () => {
    const jpeg = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff);
    const datagrams = packetizeV2(jpeg, { streamId: 1, frameNumber: 2, captureTimeUs: 3 }, 1400);
    expect(datagrams.length).toBe(Math.ceil(5000 / 1376));
    for (const d of datagrams) expect(d.length).toBeLessThanOrEqual(1400);
    const parsed = datagrams.map(deserializeV2);
    expect(parsed.map((p) => p.chunkIndex)).toEqual([0, 1, 2, 3]);
    expect(parsed.every((p) => p.chunkCount === 4 && p.frameNumber === 2 && p.streamId === 1)).toBe(true);
    const joined = Buffer.concat(parsed.map((p) => p.payload));
    expect(joined.equals(Buffer.from(jpeg))).toBe(true);
  });

  test("refuses a datagram size with no room for payload, and empty frames", () => {
    expect(() => packetizeV2(Uint8Array.of(1), { streamId: 1, frameNumber: 0, captureTimeUs: 0 }, 24)).toThrow("leaves no room");
    expect(() => packetizeV2(new Uint8Array(0), { streamId: 1, frameNumber: 0, captureTimeUs: 0 })).toThrow("empty frame");
  });
});
