import sharp from "sharp";

export interface RgbImage {
  width: number;
  height: number;
  /** Packed RGB, width × height × 3 bytes. */
  rgb: Uint8Array;
}

/** 8K (7680 × 4320): the largest picture a receiver decodes by default. */
export const DEFAULT_MAX_PIXELS = 7680 * 4320;

export class CorruptFrameError extends Error {}

/**
 * Decodes a JPEG to packed RGB. Strict on purpose: libjpeg normally papers
 * over damaged data with grey blocks, but a frame that lost or gained bytes
 * must be dropped, never shown, so any decoder warning is an error here.
 */
export async function decodeJpeg(jpeg: Uint8Array, maxPixels = DEFAULT_MAX_PIXELS): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(jpeg, { failOn: "warning", limitInputPixels: maxPixels })
      .toColourspace("srgb")
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, rgb: data };
  } catch (error) {
    throw new CorruptFrameError(error instanceof Error ? error.message : String(error));
  }
}
