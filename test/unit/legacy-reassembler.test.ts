import { describe, expect, test } from "bun:test";
import { deserializeLegacy } from "../../src/protocol/legacy.ts";
import { packetizeLegacy } from "../../src/packetizer/legacy-packetizer.ts";
import { LegacyReassembler } from "../../src/reassembler/legacy-reassembler.ts";

/** A JPEG-shaped byte string: SOI, filler that never contains FF D8, EOI. */
function fakeJpeg(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed + i * 13) % 0xfe;
  out.set([0xff, 0xd8, 0xff, 0xe0], 0);
  out.set([0xff, 0xd9], length - 2);
  return out;
}

const chunksOf = (jpeg: Uint8Array) => packetizeLegacy(jpeg).map(deserializeLegacy);

describe("LegacyReassembler", () => {
  test("glues chunks into the original frames", () => {
    const r = new LegacyReassembler({ maxFrameBytes: 1 << 24 });
    const frames = [fakeJpeg(150_000, 1), fakeJpeg(65500, 2), fakeJpeg(10, 3), fakeJpeg(131_000, 4)];
    const out = frames.flatMap((f) => chunksOf(f)).map((c) => r.push(c)).filter((f) => f !== undefined);
    expect(out.length).toBe(4);
    out.forEach((f, i) => expect(Buffer.from(f)).toEqual(Buffer.from(frames[i]!)));
  });

  test("a lost last chunk never glues two frames: the next SOI starts afresh", () => {
    const r = new LegacyReassembler({ maxFrameBytes: 1 << 24 });
    const a = chunksOf(fakeJpeg(150_000, 1));
    const b = fakeJpeg(140_000, 2);
    const out = [...a.slice(0, -1), ...chunksOf(b)].map((c) => r.push(c)).filter((f) => f !== undefined);
    expect(out.length).toBe(1);
    expect(Buffer.from(out[0]!)).toEqual(Buffer.from(b));
    expect(r.stats.framesDroppedIncomplete).toBe(1);
  });

  test("a lost first chunk makes the rest stray, not a frame", () => {
    const r = new LegacyReassembler({ maxFrameBytes: 1 << 24 });
    const a = chunksOf(fakeJpeg(150_000, 1));
    const out = a.slice(1).map((c) => r.push(c)).filter((f) => f !== undefined);
    expect(out).toEqual([]);
    expect(r.stats.strayChunks).toBe(2);
  });

  test("a frame that does not end with EOI is dropped", () => {
    const r = new LegacyReassembler({ maxFrameBytes: 1 << 24 });
    const broken = fakeJpeg(1000, 5);
    broken[999] = 0;
    expect(chunksOf(broken).map((c) => r.push(c))).toEqual([undefined]);
    expect(r.stats.framesDroppedIncomplete).toBe(1);
  });

  test("a frame larger than the cap is dropped and memory is released", () => {
    const r = new LegacyReassembler({ maxFrameBytes: 100_000 });
    const more = deserializeLegacy(Uint8Array.of(0, ...fakeJpeg(60_000, 1).subarray(0, 60_000 - 2)));
    r.push(more);
    r.push(deserializeLegacy(new Uint8Array(60_001)));
    expect(r.stats.framesDroppedOversized).toBe(1);
    expect(r.bufferedBytes).toBe(0);
  });
});
