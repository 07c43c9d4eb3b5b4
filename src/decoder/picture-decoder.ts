import { turboJpeg, turboJpegUnavailable } from "../native/turbojpeg.ts";
import { decodeJpeg, warmUpDecoder } from "./jpeg-decoder.ts";
import type { Picture } from "./picture.ts";
import { decodeJpegWithTurbo } from "./turbo-jpeg-decoder.ts";

/** How a receiver decodes its frames, and which path that is (for the summary and --json). */
export interface PictureDecoder {
  /** "turbojpeg" (to YUV planes or RGBA, on the JS thread) or "sharp" (RGBA, libvips' threads: the fallback). */
  readonly name: "turbojpeg" | "sharp";
  /** What the decoder makes of a 4:2:0 JPEG: "i420" or "rgba". */
  readonly output: "i420" | "rgba";
  /** Where the library came from, or why the fast path is not in use. */
  readonly detail: string;
  decode(jpeg: Uint8Array, maxPixels: number): Promise<Picture>;
  warmUp(): Promise<void>;
}

/** TurboJPEG where libturbojpeg loads (to planes when the output takes them: `wantI420`), else sharp. */
export function choosePictureDecoder(wantI420: boolean): PictureDecoder {
  const turbo = turboJpeg();
  if (turbo) {
    return {
      name: "turbojpeg",
      output: wantI420 ? "i420" : "rgba",
      detail: turbo.origin,
      decode: async (jpeg, maxPixels) => decodeJpegWithTurbo(turbo, jpeg, maxPixels, wantI420),
      warmUp: async () => {},
    };
  }
  return { name: "sharp", output: "rgba", detail: turboJpegUnavailable() ?? "", decode: decodeJpeg, warmUp: warmUpDecoder };
}
