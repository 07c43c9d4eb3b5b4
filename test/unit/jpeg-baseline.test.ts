import { expect, test } from "bun:test";
import sharp from "sharp";
import { buildBaselineJpeg, NotRtpJpegError, parseBaselineJpeg } from "../../src/protocol/jpeg-baseline.ts";
import { quantTablesForQ, ZIGZAG } from "../../src/protocol/jpeg-tables.ts";

/** A picture with detail in every block, so every table and code is exercised. */
async function picture(width = 160, height = 96): Promise<Uint8Array> {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37 + ((i / 3) >> 4) * 11) & 0xff;
  return rgb;
}

const encode = async (options: sharp.JpegOptions, width = 160, height = 96) =>
  new Uint8Array(await sharp(await picture(width, height), { raw: { width, height, channels: 3 } }).jpeg(options).toBuffer());
const pixels = async (jpeg: Uint8Array) => new Uint8Array(await sharp(jpeg, { failOn: "warning" }).raw().toBuffer());

test("zigzag order visits every coefficient once, along the anti-diagonals", () => {
  expect(ZIGZAG.slice(0, 10)).toEqual([0, 1, 8, 16, 9, 2, 3, 10, 17, 24]);
  expect(ZIGZAG.at(-1)).toBe(63);
  expect(new Set(ZIGZAG).size).toBe(64);
});

test("tables for Q are the ones libjpeg writes at that quality (sharp's encoder, Annex K tables)", async () => {
  for (const quality of [10, 50, 80, 95]) {
    const parts = parseBaselineJpeg(await encode({ quality, optimiseCoding: false, chromaSubsampling: "4:2:0" }));
    expect(parts.quantTables).toEqual(quantTablesForQ(quality));
  }
  expect(() => quantTablesForQ(100)).toThrow("does not stand for tables");
});

test("a sharp frame: 4:2:0, standard Huffman tables; rebuilt from its parts it decodes to the same pixels", async () => {
  const jpeg = await encode({ quality: 80, optimiseCoding: false, chromaSubsampling: "4:2:0" });
  const parts = parseBaselineJpeg(jpeg);
  expect(parts).toMatchObject({ width: 160, height: 96, type: 1, restartInterval: 0, standardHuffman: true });
  expect(parts.scan.length).toBeGreaterThan(100);
  const rebuilt = buildBaselineJpeg(parts);
  expect(await pixels(rebuilt)).toEqual(await pixels(jpeg));
});

function ffmpegJpeg(pixelFormat: string): Uint8Array {
  const run = Bun.spawnSync(
    ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=128x64", "-frames:v", "1", "-pix_fmt", pixelFormat, "-c:v", "mjpeg", "-huffman", "default", "-q:v", "4", "-f", "mjpeg", "-"],
    { stdin: "ignore" },
  );
  return new Uint8Array(run.stdout);
}

test("an ffmpeg frame: its Huffman tables are Annex K's too (a second encoder agrees); rebuilt, same pixels", async () => {
  const jpeg = ffmpegJpeg("yuvj420p");
  const parts = parseBaselineJpeg(jpeg);
  expect(parts).toMatchObject({ width: 128, height: 64, type: 1, standardHuffman: true });
  expect(await pixels(buildBaselineJpeg(parts))).toEqual(await pixels(jpeg));
});

test("4:2:2 (type 0) and a restart interval survive the rebuild", async () => {
  const parts = { ...parseBaselineJpeg(await encode({ quality: 80, optimiseCoding: false })), restartInterval: 0 };
  const rebuilt = parseBaselineJpeg(buildBaselineJpeg({ ...parts, type: 0, restartInterval: 12 }));
  expect(rebuilt).toMatchObject({ type: 0, restartInterval: 12, standardHuffman: true });
  expect(rebuilt.scan).toEqual(parts.scan);
});

test("optimised Huffman tables are noticed, so the sender re-encodes", async () => {
  expect(parseBaselineJpeg(await encode({ quality: 80, optimiseCoding: true })).standardHuffman).toBe(false);
});

test("pictures RTP/JPEG cannot carry are refused with the reason", async () => {
  const refuse = async (jpeg: Uint8Array | Promise<Uint8Array>, reason: string) => {
    const bytes = await jpeg;
    expect(() => parseBaselineJpeg(bytes)).toThrow(NotRtpJpegError);
    expect(() => parseBaselineJpeg(bytes)).toThrow(reason);
  };
  await refuse(encode({ progressive: true }), "not baseline");
  await refuse(encode({ quality: 95, chromaSubsampling: "4:4:4" }), "neither 4:2:0 nor 4:2:2");
  // ffmpeg's 4:2:2 samples luma 2×2 and chroma 1×2: not the layout RFC 2435's type 0 stands for.
  await refuse(ffmpegJpeg("yuvj422p"), "chroma must be sampled 1×1");
  const grey = new Uint8Array(await sharp(await picture(), { raw: { width: 160, height: 96, channels: 3 } }).toColourspace("b-w").jpeg().toBuffer());
  await refuse(grey, "three-component");
  await refuse(new Uint8Array([1, 2, 3, 4]), "not a JPEG");
  const jpeg = await encode({ quality: 80 });
  await refuse(jpeg.subarray(0, 100), "runs past the end");
});
