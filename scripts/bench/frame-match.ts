// Judging what a receiver recorded against the source, for the network
// benchmarks: every source frame as a small greyscale thumbnail, and each
// recorded JPEG matched to its nearest source frame by PSNR.
import { readFileSync } from "node:fs";
import sharp from "sharp";
import { FfmpegSource } from "../../src/source/ffmpeg-source.ts";
import { splitMjpeg } from "../../src/recorder/mjpeg-split.ts";

const THUMB = { width: 160, height: 120 };
/** A recorded frame is intact when it matches its source frame at least this well. */
export const INTACT_DB = 30;

async function thumb(image: sharp.Sharp): Promise<Uint8Array> {
  return image.resize(THUMB.width, THUMB.height, { fit: "fill" }).greyscale().raw().toBuffer();
}

/** Peak signal-to-noise ratio of two same-size 8-bit images, in dB (99 when identical). */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return sum === 0 ? 99 : 10 * Math.log10((255 * 255 * a.length) / sum);
}

/** Every source frame: a thumbnail to find it by, and (when asked) its full-size luma to measure quality against. */
export interface Reference {
  thumbs: Uint8Array[];
  full?: { width: number; height: number; luma: Uint8Array[] };
  length: number;
}

/** Thumbnails of every frame of `clip` at width × height (ffmpeg's scaling, as the senders use), and with `full` their luma at that size. */
export async function referenceFrames(clip: string, width: number, height: number, full = false): Promise<Reference> {
  const thumbs: Uint8Array[] = [];
  const luma: Uint8Array[] = [];
  const source = await FfmpegSource.open({ ffmpeg: "ffmpeg", input: clip, width, height });
  for await (const frame of source.frames()) {
    thumbs.push(await thumb(sharp(frame.pixels, { raw: { width, height, channels: 3 } })));
    if (full) luma.push(await sharp(frame.pixels, { raw: { width, height, channels: 3 } }).greyscale().raw().toBuffer());
    source.recycle(frame);
  }
  return { thumbs, full: full ? { width, height, luma } : undefined, length: thumbs.length };
}

/**
 * Source frames that arrived intact in the recording, and recorded frames
 * that match no source frame (corrupt). Mean PSNR is over the thumbnails,
 * or, with the reference's full frames, over full-size luma: a picture that
 * arrived smaller (rate adaptation) is scaled back up first, so what the
 * smaller size cost shows.
 */
export interface RecordingVerdict {
  intact: number;
  corrupt: number;
  psnrMean: number | null;
  /** Intact frames that arrived at the reference's full size (null without full frames). */
  fullSize: number | null;
}

export async function evaluateRecording(mjpeg: string, reference: Reference): Promise<RecordingVerdict> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(mjpeg);
  } catch {
    return { intact: 0, corrupt: 0, psnrMean: null, fullSize: reference.full ? 0 : null };
  }
  const matched = new Map<number, number>();
  let corrupt = 0;
  let fullSize = 0;
  let from = 0;
  const thumbs = reference.thumbs;
  for (const jpeg of splitMjpeg(bytes)) {
    let picture: Uint8Array;
    try {
      picture = await thumb(sharp(jpeg, { failOn: "none" }));
    } catch {
      corrupt++;
      continue;
    }
    // Near the last match first; when frames were lost in a row, everything after it.
    let [best, bestDb] = bestMatch(thumbs, picture, Math.max(0, from - 2), Math.min(thumbs.length, from + 45));
    if (bestDb < INTACT_DB) [best, bestDb] = bestMatch(thumbs, picture, 0, thumbs.length);
    if (bestDb >= INTACT_DB) {
      const full = reference.full;
      if (full) {
        const { width, height } = await sharp(jpeg, { failOn: "none" }).metadata();
        if (width === full.width && height === full.height && !matched.has(best)) fullSize++;
        const luma = await sharp(jpeg, { failOn: "none" }).resize(full.width, full.height, { fit: "fill", kernel: "linear" }).greyscale().raw().toBuffer();
        bestDb = psnr(luma, full.luma[best]!);
      }
      matched.set(best, bestDb);
      from = best + 1;
    } else corrupt++;
  }
  const dbs = [...matched.values()];
  return { intact: matched.size, corrupt, psnrMean: dbs.length ? dbs.reduce((a, b) => a + b, 0) / dbs.length : null, fullSize: reference.full ? fullSize : null };
}

function bestMatch(reference: Uint8Array[], picture: Uint8Array, from: number, to: number): [number, number] {
  let best = -1;
  let bestDb = 0;
  for (let i = from; i < to; i++) {
    const db = psnr(picture, reference[i]!);
    if (db > bestDb) [best, bestDb] = [i, db];
  }
  return [best, bestDb];
}
