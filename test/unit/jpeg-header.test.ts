import { describe, expect, test } from "bun:test";
import { decodeJpeg, OversizedFrameError, CorruptFrameError } from "../../src/decoder/jpeg-decoder.ts";
import { readJpegQuality, readJpegSize } from "../../src/decoder/jpeg-header.ts";
import { encodeJpeg } from "../../src/encoder/jpeg-encoder.ts";

/** A JPEG's bytes with the size in its SOF header replaced: the scan data stays that of the real picture. */
function withClaimedSize(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const copy = new Uint8Array(jpeg);
  for (let i = 2; i + 9 < copy.length; i++) {
    if (copy[i] === 0xff && copy[i + 1] === 0xc0) {
      copy.set([height >> 8, height & 0xff, width >> 8, width & 0xff], i + 5);
      return copy;
    }
  }
  throw new Error("no SOF0 in test JPEG");
}

describe("readJpegSize", () => {
  test("reads the size of a real JPEG", async () => {
    const jpeg = await encodeJpeg(new Uint8Array(320 * 200 * 3).fill(90), 320, 200, 80);
    expect(readJpegSize(jpeg)).toEqual({ width: 320, height: 200 });
  });

  test("golden bytes: SOI, an APP0 segment, fill bytes, then SOF2 (progressive)", () => {
    const bytes = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0xaa, 0xbb, 0xff, 0xff, 0xc2, 0x00, 0x0b, 0x08, 0x01, 0x02, 0x03, 0x04, 0x01, 0x01, 0x11, 0x00]);
    expect(readJpegSize(bytes)).toEqual({ width: 0x0304, height: 0x0102 });
  });

  test.each([
    ["empty", []],
    ["not a JPEG", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]],
    ["SOI only", [0xff, 0xd8]],
    ["segment running past the end", [0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff, 0x00]],
    ["SOF cut short", [0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x01]],
    ["segment length below 2", [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0xff, 0xc0]],
    ["scan before any frame header", [0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 0, 0, 0, 0, 0, 0]],
    ["garbage between segments", [0xff, 0xd8, 0x12, 0x34, 0x56, 0x78]],
  ])("%s → undefined", (_name, bytes) => {
    expect(readJpegSize(Uint8Array.from(bytes))).toBeUndefined();
  });

  test("never reads out of bounds on any prefix of a real JPEG", async () => {
    const jpeg = await encodeJpeg(new Uint8Array(64 * 48 * 3).fill(30), 64, 48, 80);
    let found = 0;
    for (let end = 0; end <= jpeg.length; end++) if (readJpegSize(jpeg.subarray(0, end))) found++;
    // Found from the prefix that holds the whole SOF onwards, never before.
    expect(found).toBeGreaterThan(0);
    expect(found).toBeLessThan(jpeg.length);
  });
});

describe("decode limits", () => {
  test("a header claiming 60000x60000 is refused before decoding, as oversized", async () => {
    const jpeg = await encodeJpeg(new Uint8Array(64 * 48 * 3).fill(30), 64, 48, 80);
    const forged = withClaimedSize(jpeg, 60000, 60000);
    await expect(decodeJpeg(forged)).rejects.toBeInstanceOf(OversizedFrameError);
    await expect(decodeJpeg(forged)).rejects.toThrow("60000x60000 pixels, over the 33177600-pixel limit");
  });

  test("the limit is the caller's: a 64x48 picture passes at 3072 pixels, not at 3071", async () => {
    const jpeg = await encodeJpeg(new Uint8Array(64 * 48 * 3).fill(30), 64, 48, 80);
    expect((await decodeJpeg(jpeg, 64 * 48)).width).toBe(64);
    await expect(decodeJpeg(jpeg, 64 * 48 - 1)).rejects.toBeInstanceOf(OversizedFrameError);
  });

  test("a size that disagrees with the scan is corrupt, not shown", async () => {
    const jpeg = await encodeJpeg(new Uint8Array(64 * 48 * 3).fill(30), 64, 48, 80);
    await expect(decodeJpeg(withClaimedSize(jpeg, 640, 480))).rejects.toBeInstanceOf(CorruptFrameError);
    await expect(decodeJpeg(withClaimedSize(jpeg, 0, 48))).rejects.toThrow("0x48 picture");
  });
});

describe("readJpegQuality", () => {
  const picture = new Uint8Array(32 * 32 * 3).map((_, i) => (i * 13) % 251);

  test("reads back the quality sharp encoded with", async () => {
    for (const quality of [5, 10, 30, 50, 62, 75, 80, 95, 100]) {
      expect(readJpegQuality(await encodeJpeg(picture, 32, 32, quality))).toBe(quality);
    }
  });

  test("tables from another recipe than libjpeg's, a cut-off DQT or no JPEG at all: undefined", async () => {
    const jpeg = await encodeJpeg(picture, 32, 32, 80);
    const dqt = jpeg.indexOf(0xdb, 2);
    const foreign = jpeg.slice();
    for (let k = 0; k < 64; k++) foreign[dqt + 4 + k] = 3 + ((k * 37) % 90);
    expect(readJpegQuality(foreign)).toBeUndefined();
    expect(readJpegQuality(jpeg.subarray(0, dqt + 20))).toBeUndefined();
    expect(readJpegQuality(new Uint8Array([0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x10]))).toBeUndefined();
    expect(readJpegQuality(new Uint8Array(100))).toBeUndefined();
  });
});
