import type { TurboJpeg } from "../native/turbojpeg.ts";
import { TJSAMP_420 } from "../native/turbojpeg.ts";
import { i420Size } from "../encoder/plane-scaler.ts";
import { checkJpegSize, CorruptFrameError } from "./jpeg-decoder.ts";
import type { Picture } from "./picture.ts";

/**
 * Decodes a JPEG with TurboJPEG, on this thread. A 4:2:0 JPEG (what every
 * udpvid and ffmpeg sender makes) becomes its YUV planes when `wantI420`:
 * no colour conversion and 3/8 of RGBA's bytes, for the window's IYUV
 * texture or for nothing at all (headless). Anything else (4:4:4, grey,
 * CMYK) becomes RGBA. Strict as the sharp path is: any libjpeg warning (a
 * frame that lost or gained bytes) is an error, never a grey-patched picture.
 * `take` gives the planes' buffer (a recycled one: see PictureDecoder.release).
 */
export function decodeJpegWithTurbo(turbo: TurboJpeg, jpeg: Uint8Array, maxPixels: number, wantI420: boolean, take: (bytes: number) => Uint8Array = (bytes) => new Uint8Array(bytes)): Picture {
  const { width, height } = checkJpegSize(jpeg, maxPixels);
  try {
    const header = turbo.readHeader(jpeg);
    if (header.width !== width || header.height !== height) throw new CorruptFrameError(`JPEG header sizes disagree (${width}x${height} against ${header.width}x${header.height})`);
    if (wantI420 && header.subsampling === TJSAMP_420) {
      const i420 = take(i420Size(width, height));
      turbo.decompressI420(jpeg, width, height, i420);
      return { width, height, i420 };
    }
    const rgba = new Uint8Array(width * height * 4);
    turbo.decompressRgba(jpeg, width, height, rgba);
    return { width, height, rgba };
  } catch (error) {
    if (error instanceof CorruptFrameError) throw error;
    throw new CorruptFrameError((error as Error).message);
  }
}
