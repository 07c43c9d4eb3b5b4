import { expect, test } from "bun:test";
import { CorruptFrameError, decodeJpeg } from "../../src/decoder/jpeg-decoder.ts";
import { encodeJpeg } from "../../src/encoder/jpeg-encoder.ts";
import { packetizeLegacy } from "../../src/packetizer/legacy-packetizer.ts";

function gradient(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      rgb[i] = (x * 255) / width;
      rgb[i + 1] = (y * 255) / height;
      rgb[i + 2] = ((x + y) * 255) / (width + height);
    }
  return rgb;
}

test("encode then decode gives the picture back as RGBA", async () => {
  const rgb = gradient(320, 240);
  const jpeg = await encodeJpeg(rgb, 320, 240, 90);
  expect([...jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
  const image = await decodeJpeg(jpeg);
  expect([image.width, image.height]).toEqual([320, 240]);
  expect(image.rgba.length).toBe(320 * 240 * 4);
  let error = 0;
  for (let p = 0; p < 320 * 240; p++) for (let c = 0; c < 3; c++) error += Math.abs(image.rgba[p * 4 + c]! - rgb[p * 3 + c]!);
  expect(error / (320 * 240 * 3)).toBeLessThan(4);
});

test("a frame missing a middle slice, as a lost lab chunk leaves it, is refused", async () => {
  const jpeg = await encodeJpeg(gradient(1920, 1080), 1920, 1080, 95);
  const chunks = packetizeLegacy(jpeg).map((d) => d.subarray(1));
  expect(chunks.length).toBeGreaterThanOrEqual(3);
  const glued = Buffer.concat([chunks[0]!, ...chunks.slice(2)]);
  expect(glued.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
  await expect(decodeJpeg(glued)).rejects.toBeInstanceOf(CorruptFrameError);
});

test("a truncated frame and plain garbage are refused", async () => {
  const jpeg = await encodeJpeg(gradient(64, 64), 64, 64, 80);
  await expect(decodeJpeg(jpeg.subarray(0, jpeg.length - 40))).rejects.toBeInstanceOf(CorruptFrameError);
  await expect(decodeJpeg(Uint8Array.of(0xff, 0xd8, 0xff, 0xd9))).rejects.toBeInstanceOf(CorruptFrameError);
});

test("a picture over the pixel limit is refused", async () => {
  const jpeg = await encodeJpeg(gradient(200, 200), 200, 200, 80);
  await expect(decodeJpeg(jpeg, 100 * 100)).rejects.toBeInstanceOf(CorruptFrameError);
});

test("a greyscale JPEG still decodes to RGBA with equal colour channels", async () => {
  const sharp = (await import("sharp")).default;
  const grey = await sharp(Buffer.alloc(32 * 16, 200), { raw: { width: 32, height: 16, channels: 1 } }).jpeg().toBuffer();
  const image = await decodeJpeg(grey);
  expect([image.width, image.height, image.rgba.length]).toEqual([32, 16, 32 * 16 * 4]);
  expect(Math.abs(image.rgba[0]! - 200)).toBeLessThan(3);
  expect(image.rgba[0]).toBe(image.rgba[1]!);
  expect(image.rgba[3]).toBe(255);
});
