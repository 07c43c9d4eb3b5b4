import type { TurboJpeg } from "../native/turbojpeg.ts";
import { i420Planes, scaleI420, type I420Picture } from "./plane-scaler.ts";

/**
 * Encodes a 4:2:0 frame as it came from ffmpeg, straight from its Y, U and
 * V planes (TurboJPEG): no RGB is made on the way, and JPEG's own colour
 * model is YCbCr 4:2:0, so nothing is converted at all. Rate control's
 * smaller sizes are made on the planes first. Synchronous: a 720p frame
 * takes a few milliseconds on this thread, less than handing it to a
 * worker and back would save.
 */
export function encodeJpegFromPlanes(turbo: TurboJpeg, picture: I420Picture, quality: number, output?: { width: number; height: number }): Uint8Array {
  const scaled = output ? scaleI420(picture, output.width, output.height) : picture;
  const { y, u, v } = i420Planes(scaled);
  return turbo.compressI420(y, u, v, scaled.width, scaled.height, quality);
}
