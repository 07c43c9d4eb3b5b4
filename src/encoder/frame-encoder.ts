import { turboJpeg, turboJpegUnavailable } from "../native/turbojpeg.ts";
import { loadSharp } from "../native/sharp.ts";
import type { PixelFormat, RawFrame } from "../source/ffmpeg-source.ts";
import { encodeJpeg } from "./jpeg-encoder.ts";
import { encodeJpegFromPlanes } from "./planes-jpeg-encoder.ts";

/** How a sender makes its JPEGs: which pixels it asks the source for, and what encodes them. */
export interface FrameEncoder {
  /** "turbojpeg" (from YUV planes) or "sharp" (from RGB, the fallback). */
  readonly name: "turbojpeg" | "sharp";
  /** Where the encoder's library came from, or why the fast path is not in use. */
  readonly detail: string;
  readonly pixelFormat: PixelFormat;
  encode(frame: RawFrame, width: number, height: number, quality: number, output?: { width: number; height: number }): Promise<Uint8Array>;
}

/** TurboJPEG from planes where libturbojpeg loads; sharp from RGB where it does not (or UDPVID_JPEG=sharp). */
export async function chooseFrameEncoder(): Promise<FrameEncoder> {
  const turbo = turboJpeg();
  if (turbo) {
    return {
      name: "turbojpeg",
      detail: turbo.origin,
      pixelFormat: "yuv420p",
      encode: async (frame, width, height, quality, output) => encodeJpegFromPlanes(turbo, { width, height, data: frame.pixels }, quality, output),
    };
  }
  await loadSharp();
  return {
    name: "sharp",
    detail: turboJpegUnavailable() ?? "",
    pixelFormat: "rgb24",
    encode: (frame, width, height, quality, output) => encodeJpeg(frame.pixels, width, height, quality, output),
  };
}
