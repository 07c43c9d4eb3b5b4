import { describe, expect, test } from "bun:test";
import { codeOf } from "../helpers/protocol-error-code.ts";
import { deserializeV2, serializeV2, V2_HEADER_SIZE } from "../../src/protocol/v2.ts";
import { classifyDatagram } from "../../src/protocol/classify.ts";
import { endOfStreamDatagram, packetizeV2, planLayout } from "../../src/packetizer/v2-packetizer.ts";
import { sendPosition } from "../../src/packetizer/send-order.ts";

const packet = {
  streamId: 0xdeadbeef,
  frameNumber: 0x01020304,
  chunkIndex: 2,
  parity: false,
  dataChunks: 3,
  groups: 1,
  parityPerGroup: 1,
  frameLength: 6,
  captureTimeUs: 0x0a0b0c0d,
  endOfStream: false,
  sealed: false,
  payload: Uint8Array.of(0xaa, 0xbb),
};

// 56 02 01 01 | de ad be ef | 01 02 03 04 | 00 02 | 00 03 | 01 | 00 00 06 | 0a 0b 0c 0d | aa bb
const golden = [
  0x56, 0x02, 0x01, 0x01, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x00, 0x02, 0x00, 0x03, 0x01, 0x00, 0x00, 0x06, 0x0a, 0x0b,
  0x0c, 0x0d, 0xaa, 0xbb,
];

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

  test("a parity chunk: PARITY flag, index among the parity chunks, full payload size", () => {
    const parity = serializeV2({ ...packet, parity: true, chunkIndex: 0 });
    expect(parity[2]).toBe(0x04);
    expect(deserializeV2(parity)).toMatchObject({ parity: true, chunkIndex: 0 });
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
    expect(codeOf(() => deserializeV2(mutate(2, 0x00)))).toBe("bad-flags"); // last data chunk without LAST
    const lastParity = serializeV2({ ...packet, parity: true, chunkIndex: 0 });
    lastParity[2] = 0x05;
    expect(codeOf(() => deserializeV2(lastParity))).toBe("bad-flags"); // LAST on a parity chunk
    expect(codeOf(() => deserializeV2(mutate(3, 0)))).toBe("bad-fec"); // no groups
    expect(codeOf(() => deserializeV2(mutate(3, 4)))).toBe("bad-fec"); // more groups than data chunks
    expect(codeOf(() => deserializeV2(mutate(16, 253)))).toBe("bad-fec"); // group + parity > 255
    expect(codeOf(() => deserializeV2(mutate(15, 0)))).toBe("bad-chunk-index"); // no data chunks
    expect(codeOf(() => deserializeV2(mutate(13, 9)))).toBe("bad-chunk-index"); // index ≥ count
    expect(codeOf(() => deserializeV2(mutate(19, 2)))).toBe("bad-length"); // 2 bytes cannot be 3 chunks
    expect(codeOf(() => deserializeV2(mutate(19, 9)))).toBe("bad-length"); // then the last chunk would be 3 bytes
    expect(codeOf(() => deserializeV2(good.subarray(0, 25)))).toBe("bad-length");
    expect(codeOf(() => deserializeV2(Uint8Array.of(...golden, 0)))).toBe("bad-length");
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
});

describe("v2 packetizer", () => {
  const noFec = { datagramSize: 1400, fecPercent: 0 };

  test("without FEC: datagrams are at most the size asked, and parse back into the frame", () => {
    const jpeg = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff);
    const datagrams = packetizeV2(jpeg, { streamId: 1, frameNumber: 2, captureTimeUs: 3 }, noFec);
    expect(datagrams.length).toBe(Math.ceil(5000 / 1376));
    for (const d of datagrams) expect(d.length).toBeLessThanOrEqual(1400);
    const parsed = datagrams.map(deserializeV2);
    expect(parsed.map((p) => p.chunkIndex)).toEqual([0, 1, 2, 3]);
    expect(parsed.every((p) => p.dataChunks === 4 && p.frameNumber === 2 && p.streamId === 1 && !p.parity)).toBe(true);
    expect(Buffer.concat(parsed.map((p) => p.payload))).toEqual(Buffer.from(jpeg));
  });

  test("with FEC: small frames are cut finer, parity is about the percentage asked and spread among the data", () => {
    const jpeg = Uint8Array.from({ length: 23_500 }, (_, i) => (i * 7) & 0xff);
    const datagrams = packetizeV2(jpeg, { streamId: 1, frameNumber: 0, captureTimeUs: 0 }, { datagramSize: 1400, fecPercent: 25 });
    const parsed = datagrams.map(deserializeV2);
    const data = parsed.filter((p) => !p.parity);
    const parity = parsed.filter((p) => p.parity);
    expect(data.length).toBe(48);
    expect(parity.length).toBe(12);
    expect(Buffer.concat(data.map((p) => p.payload))).toEqual(Buffer.from(jpeg));
    // Spread: no run of more than 5 data chunks without parity.
    const runs = parsed.map((p) => (p.parity ? "p" : "d")).join("").split("p");
    expect(Math.max(...runs.map((r) => r.length))).toBeLessThanOrEqual(5);
  });

  test("big frames use full-size datagrams and several FEC groups of at most 64 data chunks", () => {
    const layout = planLayout(300_000, { datagramSize: 1400, fecPercent: 20 });
    expect(layout.dataChunks).toBe(Math.ceil(300_000 / 1376));
    expect(layout.groups).toBe(Math.ceil(layout.dataChunks / 64));
    expect(layout.parityPerGroup).toBe(Math.ceil(Math.ceil(layout.dataChunks / layout.groups) * 0.2));
  });

  test("every frame size gives a layout whose chunks the receiver's checks accept", () => {
    for (const length of [1, 2, 3, 47, 48, 399, 400, 1376, 1377, 19_200, 19_201, 23_500, 88_000, 1_000_003]) {
      for (const options of [noFec, { datagramSize: 1400, fecPercent: 25 }, { datagramSize: 100, fecPercent: 50 }]) {
        const jpeg = Uint8Array.from({ length }, (_, i) => i & 0xff);
        const parsed = packetizeV2(jpeg, { streamId: 1, frameNumber: 0, captureTimeUs: 0 }, options).map(deserializeV2);
        const data = parsed.filter((p) => !p.parity).sort((a, b) => a.chunkIndex - b.chunkIndex);
        expect(Buffer.concat(data.map((p) => p.payload))).toEqual(Buffer.from(jpeg));
      }
    }
  });

  test("refuses a datagram size with no room for payload, and empty frames", () => {
    expect(() => packetizeV2(Uint8Array.of(1), { streamId: 1, frameNumber: 0, captureTimeUs: 0 }, { datagramSize: 24, fecPercent: 0 })).toThrow(
      "leaves no room",
    );
    expect(() => packetizeV2(new Uint8Array(0), { streamId: 1, frameNumber: 0, captureTimeUs: 0 })).toThrow("empty frame");
  });
});

describe("send order", () => {
  test("positions are a permutation of 0 … n−1 for every shape", () => {
    for (let k = 1; k <= 70; k++)
      for (const parityCount of [0, 1, 2, 5, k, k + 3]) {
        const positions = [
          ...Array.from({ length: k }, (_, i) => sendPosition(k, parityCount, false, i)),
          ...Array.from({ length: parityCount }, (_, p) => sendPosition(k, parityCount, true, p)),
        ];
        expect([...positions].sort((a, b) => a - b)).toEqual(Array.from({ length: k + parityCount }, (_, i) => i));
      }
  });

  test("data keeps its order and parity is interleaved", () => {
    const order = Array.from({ length: 12 }, (_, pos) => pos).map((pos) => {
      for (let i = 0; i < 10; i++) if (sendPosition(10, 2, false, i) === pos) return `d${i}`;
      for (let p = 0; p < 2; p++) if (sendPosition(10, 2, true, p) === pos) return `p${p}`;
      return "?";
    });
    expect(order).toEqual(["d0", "d1", "d2", "d3", "d4", "p0", "d5", "d6", "d7", "d8", "d9", "p1"]);
  });
});
