import sharp from "sharp";

export const DEFAULT_JPEG_QUALITY = 80;

/** Encodes one packed-RGB frame as a baseline JPEG (libvips/libjpeg-turbo via sharp, off the JS thread). */
export async function encodeJpeg(rgb: Uint8Array, width: number, height: number, quality = DEFAULT_JPEG_QUALITY): Promise<Uint8Array> {
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: "4:2:0" })
    .toBuffer();
}
