import { describe, expect, test } from "bun:test";
import { CorruptFrameError, decodeJpeg, OversizedFrameError } from "../../src/decoder/jpeg-decoder.ts";
import { isI420, type Picture } from "../../src/decoder/picture.ts";
import { choosePictureDecoder } from "../../src/decoder/picture-decoder.ts";
import { decodeJpegWithTurbo } from "../../src/decoder/turbo-jpeg-decoder.ts";
import { encodeJpeg } from "../../src/encoder/jpeg-encoder.ts";
import { i420Planes, i420Size } from "../../src/encoder/plane-scaler.ts";
import { encodeJpegFromPlanes } from "../../src/encoder/planes-jpeg-encoder.ts";
import { TurboJpeg } from "../../src/native/turbojpeg.ts";
import { packetizeLegacy } from "../../src/packetizer/legacy-packetizer.ts";
import { ffmpeg, psnr } from "../helpers/frames.ts";
import { VIDEO } from "../helpers/udpvid.ts";
import { FfmpegSource, scaleFilter } from "../../src/source/ffmpeg-source.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRandom } from "../../src/util/random.ts";

// The suite's machines have libturbojpeg (scripts/setup.sh installs it): its absence is a failure here, not a skip.
const turbo = TurboJpeg.load();

/** Frame `n` of video.mp4 at 1280x720, as FfmpegSource has ffmpeg hand it to each encoder: planes for TurboJPEG, RGB for sharp. */
function sourceFrame(format: "yuv420p" | "rgb24", n = 45): Uint8Array {
  const scale = scaleFilter(undefined, undefined, format);
  return ffmpeg(["-i", VIDEO, "-vf", `select=eq(n\\,${n})${scale ? `,${scale}` : ""}`, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", format, "pipe:1"]);
}

const toRgb = (rgba: Uint8Array) => rgba.filter((_, i) => i % 4 !== 3);

test("a real frame encoded from its planes matches its source as well as sharp's from RGB, at no more bytes", async () => {
  const planes = sourceFrame("yuv420p");
  const rgb = sourceFrame("rgb24");
  expect(planes.length).toBe(i420Size(1280, 720));
  const fromPlanes = encodeJpegFromPlanes(turbo, { width: 1280, height: 720, data: planes }, 80);
  const fromRgb = await encodeJpeg(rgb, 1280, 720, 80);
  const viaTurbo = await decodeJpeg(fromPlanes);
  const viaSharp = await decodeJpeg(fromRgb);
  expect([viaTurbo.width, viaTurbo.height]).toEqual([1280, 720]);
  const turboPsnr = psnr(toRgb(viaTurbo.rgba), rgb);
  const sharpPsnr = psnr(toRgb(viaSharp.rgba), rgb);
  expect(turboPsnr).toBeGreaterThan(31);
  expect(turboPsnr).toBeGreaterThan(sharpPsnr - 0.5);
  expect(fromPlanes.length).toBeLessThan(fromRgb.length * 1.1);
});

test("rate control's smaller sizes come out at that size and still match the source", async () => {
  const planes = sourceFrame("yuv420p");
  const jpeg = encodeJpegFromPlanes(turbo, { width: 1280, height: 720, data: planes }, 80, { width: 640, height: 360 });
  const image = await decodeJpeg(jpeg);
  expect([image.width, image.height]).toEqual([640, 360]);
  const reference = ffmpeg(["-i", VIDEO, "-vf", "select=eq(n\\,45),scale=640:360:flags=area", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]);
  // Against sharp's shrink of the same frame from RGB (the path it replaces), both judged by ffmpeg's area-averaged one.
  const viaSharp = await decodeJpeg(await encodeJpeg(sourceFrame("rgb24"), 1280, 720, 80, { width: 640, height: 360 }));
  const turboPsnr = psnr(toRgb(image.rgba), reference);
  expect(turboPsnr).toBeGreaterThan(27);
  expect(turboPsnr).toBeGreaterThan(psnr(toRgb(viaSharp.rgba), reference) - 1);
});

test("decoding to planes gives back the planes that were encoded", () => {
  const planes = sourceFrame("yuv420p");
  const jpeg = encodeJpegFromPlanes(turbo, { width: 1280, height: 720, data: planes }, 95);
  const picture = decodeJpegWithTurbo(turbo, jpeg, 1e8, true);
  expect(isI420(picture)).toBe(true);
  if (!isI420(picture)) return;
  const got = i420Planes({ width: 1280, height: 720, data: picture.i420 });
  const sent = i420Planes({ width: 1280, height: 720, data: planes });
  expect(psnr(got.y, sent.y)).toBeGreaterThan(38);
  expect(psnr(got.u, sent.u)).toBeGreaterThan(38);
  expect(psnr(got.v, sent.v)).toBeGreaterThan(38);
});

test("odd sizes round the chroma planes up, both ways", () => {
  const width = 33;
  const height = 17;
  const data = new Uint8Array(i420Size(width, height)).fill(128);
  i420Planes({ width, height, data }).y.fill(60);
  const jpeg = encodeJpegFromPlanes(turbo, { width, height, data }, 90);
  const picture = decodeJpegWithTurbo(turbo, jpeg, 1e8, true);
  expect([picture.width, picture.height]).toEqual([width, height]);
  if (!isI420(picture)) throw new Error("a 4:2:0 JPEG should decode to planes");
  expect(picture.i420.length).toBe(i420Size(width, height));
  expect(Math.abs(picture.i420[0]! - 60)).toBeLessThan(3);
});

test("a 4:4:4 JPEG (another sender's) and a grey one come out as RGBA, whatever was asked", () => {
  const full = ffmpeg(["-f", "lavfi", "-i", "color=c=0xc8c8c8:s=32x16", "-frames:v", "1", "-pix_fmt", "yuvj444p", "-f", "mjpeg", "pipe:1"]);
  const grey = ffmpeg(["-f", "lavfi", "-i", "color=c=0x5a5a5a:s=32x16", "-frames:v", "1", "-pix_fmt", "gray", "-f", "mjpeg", "pipe:1"]);
  for (const [jpeg, value] of [
    [full, 200],
    [grey, 90],
  ] as const) {
    const picture = decodeJpegWithTurbo(turbo, jpeg, 1e8, true);
    if (isI420(picture)) throw new Error("only 4:2:0 goes to planes");
    expect(picture.rgba.length).toBe(32 * 16 * 4);
    expect(Math.abs(picture.rgba[0]! - value)).toBeLessThan(3);
    expect(picture.rgba[3]).toBe(255);
  }
});

// Every refusal holds for both decoders: TurboJPEG (to planes and to RGBA) and sharp, the fallback.
const decoders: [string, (jpeg: Uint8Array, maxPixels?: number) => Promise<Picture>][] = [
  ["turbojpeg to planes", async (jpeg, maxPixels = 1e8) => decodeJpegWithTurbo(turbo, jpeg, maxPixels, true)],
  ["turbojpeg to RGBA", async (jpeg, maxPixels = 1e8) => decodeJpegWithTurbo(turbo, jpeg, maxPixels, false)],
  ["sharp", (jpeg, maxPixels) => decodeJpeg(jpeg, maxPixels)],
];

describe.each(decoders)("%s refuses damaged frames", (_name, decode) => {
  const planes = sourceFrame("yuv420p");
  const jpeg = encodeJpegFromPlanes(turbo, { width: 1280, height: 720, data: planes }, 90);

  test("a frame missing a middle slice, as a lost lab chunk leaves it", async () => {
    // A smooth picture at high quality, as in jpeg-codec.test.ts: whether a missing slice shows depends on the
    // content (the Huffman decoder may stay in step over it), which is why v2 frames carry their own lengths.
    const gradient = new Uint8Array(i420Size(1920, 1080));
    const y = i420Planes({ width: 1920, height: 1080, data: gradient }).y;
    for (let i = 0; i < y.length; i++) y[i] = ((i % 1920) * 255) / 1920;
    const smooth = encodeJpegFromPlanes(turbo, { width: 1920, height: 1080, data: gradient }, 95);
    const chunks = packetizeLegacy(smooth).map((d) => d.subarray(1));
    const glued = Buffer.concat([chunks[0]!, ...chunks.slice(2)]);
    await expect(decode(glued)).rejects.toBeInstanceOf(CorruptFrameError);
  });

  test("a truncated frame, a header alone and garbage", async () => {
    await expect(decode(jpeg.subarray(0, jpeg.length - 200))).rejects.toBeInstanceOf(CorruptFrameError);
    await expect(decode(Uint8Array.of(0xff, 0xd8, 0xff, 0xd9))).rejects.toBeInstanceOf(CorruptFrameError);
    await expect(decode(new Uint8Array(5000).fill(0x41))).rejects.toBeInstanceOf(CorruptFrameError);
  });

  test("a frame whose header claims more pixels than the limit, before any allocation", async () => {
    await expect(decode(jpeg, 1000 * 500)).rejects.toBeInstanceOf(OversizedFrameError);
  });

  test("a forged size in the frame header that the data does not fill", async () => {
    const forged = Uint8Array.from(jpeg);
    const sof = forged.findIndex((b, i) => b === 0xff && forged[i + 1] === 0xc0);
    // Height 720 → 1440: the scan ends half way down.
    forged[sof + 5] = 1440 >> 8;
    forged[sof + 6] = 1440 & 0xff;
    await expect(decode(forged)).rejects.toBeInstanceOf(CorruptFrameError);
  });
});

test("the planes encoder refuses planes too short for the size it is told", () => {
  expect(() => turbo.compressI420(new Uint8Array(10), new Uint8Array(10), new Uint8Array(10), 64, 64, 80)).toThrow(/too small/);
});

test("a run of damaged frames (bit flips anywhere, tables included) never stops the next good frame decoding", () => {
  const planes = sourceFrame("yuv420p");
  const good = encodeJpegFromPlanes(turbo, { width: 1280, height: 720, data: planes }, 80).subarray();
  const random = seededRandom(7);
  let refused = 0;
  for (let k = 0; k < 300; k++) {
    const bad = Uint8Array.from(good);
    // Mostly in the headers (the tables), where a flip makes libjpeg keep a bogus table.
    for (let m = 0; m < 4; m++) bad[2 + Math.floor(random() * (k % 2 ? 600 : bad.length - 2))] = Math.floor(random() * 256);
    try {
      decodeJpegWithTurbo(turbo, bad, 1e8, true);
    } catch (error) {
      expect(error).toBeInstanceOf(CorruptFrameError);
      refused++;
    }
    expect(isI420(decodeJpegWithTurbo(turbo, good, 1e8, true))).toBe(true);
  }
  expect(refused).toBeGreaterThan(100);
});

test("a released picture's planes are decoded into again; pictures still held never share a buffer", async () => {
  const decoder = choosePictureDecoder(true);
  expect(decoder.name).toBe("turbojpeg");
  await decoder.warmUp(); // its picture is its own: the stream's buffers start fresh
  const jpeg = encodeJpegFromPlanes(turbo, { width: 1280, height: 720, data: sourceFrame("yuv420p") }, 80);
  const planes = async () => {
    const picture = await decoder.decode(jpeg, 1e8);
    if (!isI420(picture)) throw new Error("a 4:2:0 JPEG should decode to planes");
    return picture;
  };
  const a = await planes();
  const b = await planes();
  expect(a.i420.buffer).not.toBe(b.i420.buffer);
  decoder.release(a);
  const c = await planes();
  expect(c.i420.buffer).toBe(a.i420.buffer);
  const d = await planes();
  expect(new Set([b.i420.buffer, c.i420.buffer, d.i420.buffer]).size).toBe(3);
  // The same picture released twice is kept once: two later frames never get the same buffer.
  decoder.release(b);
  decoder.release(b);
  const [e, f] = [await planes(), await planes()];
  expect(e.i420.buffer).not.toBe(f.i420.buffer);
});

test("a BT.709 source's colours survive the planes: converted to JPEG's BT.601, they match ffmpeg's RGB of the frame", async () => {
  const dir = mkdtempSync(join(tmpdir(), "udpvid-709-"));
  try {
    const clip = join(dir, "bt709.mp4");
    // Blurred, so the comparison measures colour, not how two decoders upsample chroma at sharp edges.
    ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=0.2", "-vf", "gblur=sigma=4,scale=out_color_matrix=bt709:out_range=tv", "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", clip]);
    const reference = ffmpeg(["-i", clip, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]);
    const source = await FfmpegSource.open({ ffmpeg: "ffmpeg", input: clip, pixelFormat: "yuv420p" });
    let jpeg: Uint8Array | undefined;
    for await (const frame of source.frames()) {
      jpeg = encodeJpegFromPlanes(turbo, { width: 320, height: 180, data: frame.pixels }, 95);
      break;
    }
    const picture = decodeJpegWithTurbo(turbo, jpeg!, 1e8, false);
    if (isI420(picture)) throw new Error("asked for RGBA");
    // Without the conversion: 27 dB (hues shifted); with it, 38.
    expect(psnr(toRgb(picture.rgba), reference)).toBeGreaterThan(35);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
