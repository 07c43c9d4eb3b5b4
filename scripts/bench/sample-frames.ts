// Real 1080p JPEGs for the per-frame cost benchmarks: a frame of video.mp4 at
// quality 80 and 95, and pure noise, the pathological worst case for JPEG
// size (and so for per-byte work such as FEC and encryption).
import { join } from "node:path";
import { encodeJpeg } from "../../src/encoder/jpeg-encoder.ts";
import { FfmpegSource } from "../../src/source/ffmpeg-source.ts";
import { seededRandom } from "../../src/util/random.ts";

export async function sampleFrames1080p(): Promise<[name: string, jpeg: Uint8Array][]> {
  const source = await FfmpegSource.open({ ffmpeg: "ffmpeg", input: join(import.meta.dir, "..", "..", "video.mp4"), width: 1920, height: 1080 });
  let q80: Uint8Array | undefined;
  let q95: Uint8Array | undefined;
  for await (const frame of source.frames()) {
    if (frame.index === 150) {
      q80 = await encodeJpeg(frame.pixels, 1920, 1080, 80);
      q95 = await encodeJpeg(frame.pixels, 1920, 1080, 95);
      break;
    }
  }
  source.close();
  if (!q80 || !q95) throw new Error("video.mp4 has fewer than 151 frames");
  const random = seededRandom(1);
  const noise = await encodeJpeg(Uint8Array.from({ length: 1920 * 1080 * 3 }, () => random() * 256), 1920, 1080, 80);
  return [
    ["video.mp4 frame 150, q80", q80],
    ["video.mp4 frame 150, q95", q95],
    ["noise, q80 (pathological)", noise],
  ];
}

/** Mean milliseconds per call of `fn`, after a warm-up. */
export function meanMs(fn: () => void, runs: number): number {
  for (let i = 0; i < 10; i++) fn();
  const start = performance.now();
  for (let i = 0; i < runs; i++) fn();
  return (performance.now() - start) / runs;
}
