import { turboJpeg, turboJpegUnavailable } from "../native/turbojpeg.ts";
import { decodeJpeg, warmUpDecoder } from "./jpeg-decoder.ts";
import { FramePool } from "../source/frame-pool.ts";
import { isI420, type Picture } from "./picture.ts";
import { decodeJpegWithTurbo } from "./turbo-jpeg-decoder.ts";
import { i420Planes, i420Size } from "../encoder/plane-scaler.ts";

/** The picture the TurboJPEG path is warmed up with, this many pixels square. */
const WARM_UP_SIZE = 64;

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
  /** A picture nothing looks at any more: its buffer may be decoded into again. */
  release(picture: Picture): void;
}

/** TurboJPEG where libturbojpeg loads (to planes when the output takes them: `wantI420`), else sharp. */
export function choosePictureDecoder(wantI420: boolean): PictureDecoder {
  const turbo = turboJpeg();
  if (turbo) {
    // Planes are decoded into recycled buffers: a fresh 3 MB one per 1080p frame made the collector
    // stall decoding (p90 15.6 ms against a 4.5 ms median here). One pool for the stream's current size.
    let pool = new FramePool(0);
    const take = (bytes: number) => {
      if (pool.frameSize !== bytes) pool = new FramePool(bytes);
      return pool.take();
    };
    return {
      name: "turbojpeg",
      output: wantI420 ? "i420" : "rgba",
      detail: turbo.origin,
      decode: async (jpeg, maxPixels) => decodeJpegWithTurbo(turbo, jpeg, maxPixels, wantI420, take),
      // The first frame's decode took 5-11 ms at 720p against about 1.5 for those after (code and FFI calls not yet warm), and
      // the frame was that much late: a small picture through the same calls first.
      warmUp: async () => {
        const grey = new Uint8Array(i420Size(WARM_UP_SIZE, WARM_UP_SIZE)).fill(128);
        const { y, u, v } = i420Planes({ width: WARM_UP_SIZE, height: WARM_UP_SIZE, data: grey });
        decodeJpegWithTurbo(turbo, turbo.compressI420(y, u, v, WARM_UP_SIZE, WARM_UP_SIZE, 80), WARM_UP_SIZE * WARM_UP_SIZE, wantI420);
      },
      release: (picture) => {
        if (isI420(picture)) pool.give(picture.i420);
      },
    };
  }
  return { name: "sharp", output: "rgba", detail: turboJpegUnavailable() ?? "", decode: decodeJpeg, warmUp: warmUpDecoder, release: () => {} };
}
