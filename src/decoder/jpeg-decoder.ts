import type Sharp from "sharp";
import { loadSharp } from "../native/sharp.ts";
import { readJpegSize } from "./jpeg-header.ts";

export interface RgbaImage {
  width: number;
  height: number;
  /** Packed RGBA, width × height × 4 bytes. Four bytes a pixel because SDL's
   * 24-bit upload path measured 8x slower than its 32-bit one. */
  rgba: Uint8Array;
}

/** 8K (7680 × 4320): the largest picture a receiver decodes by default. */
export const DEFAULT_MAX_PIXELS = 7680 * 4320;

export class CorruptFrameError extends Error {}

/** A frame whose header claims more pixels than the receiver will allocate for: refused before decoding. */
export class OversizedFrameError extends CorruptFrameError {}

/**
 * Decodes a JPEG to packed RGBA. Strict on purpose: libjpeg normally papers
 * over damaged data with grey blocks, but a frame that lost or gained bytes
 * must be dropped, never shown, so any decoder warning is an error here.
 */
export async function decodeJpeg(jpeg: Uint8Array, maxPixels = DEFAULT_MAX_PIXELS): Promise<RgbaImage> {
  checkJpegSize(jpeg, maxPixels);
  const sharp = await loadSharp();
  try {
    const decoded = await toRgba(sharp(jpeg, { failOn: "warning", limitInputPixels: maxPixels }));
    // Colour JPEGs decode to sRGB already; converting every frame cost a third of the decode.
    // Grey or CMYK pictures come out with other channel counts and take the slower path.
    const { data, info } = decoded.info.channels === 4 ? decoded : await toRgba(sharp(jpeg, { failOn: "warning", limitInputPixels: maxPixels }).toColourspace("srgb"));
    return { width: info.width, height: info.height, rgba: data };
  } catch (error) {
    throw new CorruptFrameError(error instanceof Error ? error.message : String(error));
  }
}

/** The size a JPEG's frame header names, refused when absent, empty or over `maxPixels`: from the header alone, so a forged 60000x60000 frame costs no allocation at all. */
export function checkJpegSize(jpeg: Uint8Array, maxPixels: number): { width: number; height: number } {
  const size = readJpegSize(jpeg);
  if (!size) throw new CorruptFrameError("no JPEG frame header");
  if (size.width === 0 || size.height === 0) throw new CorruptFrameError(`JPEG claims a ${size.width}x${size.height} picture`);
  if (size.width * size.height > maxPixels) {
    throw new OversizedFrameError(`JPEG claims ${size.width}x${size.height} pixels, over the ${maxPixels}-pixel limit (--max-pixels)`);
  }
  return size;
}

function toRgba(image: Sharp.Sharp) {
  return image.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
}

/** Runs one tiny encode/decode so libvips' first-use set-up does not land on the first real frame. */
export async function warmUpDecoder(): Promise<void> {
  const sharp = await loadSharp();
  const jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: "#000" } }).jpeg().toBuffer();
  await decodeJpeg(jpeg);
}
