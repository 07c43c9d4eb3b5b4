import { afterAll, beforeAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { VIDEO } from "./udpvid.ts";

export function tempDir(prefix = "udpvid-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function ffmpeg(args: string[]): Buffer {
  const result = Bun.spawnSync(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", ...args], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`ffmpeg ${args.join(" ")} failed: ${result.stderr.toString()}`);
  return result.stdout;
}

/** Cuts the first `seconds` of video.mp4, scaled to `width` wide, into a new file: "part of video.mp4" for quick tests. */
export function makeClip(dir: string, seconds: number, width: number, name = "clip.mp4", sound = false): string {
  const out = join(dir, name);
  const audio = sound ? ["-c:a", "aac", "-b:a", "128k"] : ["-an"];
  ffmpeg(["-i", VIDEO, "-t", String(seconds), "-vf", `scale=${width}:-2`, "-c:v", "libx264", "-crf", "18", "-preset", "veryfast", ...audio, "-y", out]);
  return out;
}

/** Decodes every frame of a video (or MJPEG stream) to packed RGB frames of width × height. */
export function decodeFrames(input: string, width: number, height: number, inputFormat?: string): Uint8Array[] {
  const raw = ffmpeg([
    ...(inputFormat ? ["-f", inputFormat] : []),
    "-i",
    input,
    "-vf",
    `scale=${width}:${height}`,
    "-fps_mode",
    "passthrough",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "rgb24",
    "pipe:1",
  ]);
  const size = width * height * 3;
  const frames: Uint8Array[] = [];
  for (let offset = 0; offset + size <= raw.length; offset += size) frames.push(raw.subarray(offset, offset + size));
  return frames;
}

/** Peak signal-to-noise ratio of two same-size 8-bit images, in dB (Infinity when identical). */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`images differ in size: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  const mse = sum / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

export interface Match {
  sourceIndex: number;
  psnr: number;
  /** PSNR against the next-best source frame: a margin shows the match is not a coincidence. */
  runnerUp: number;
}

/**
 * For each received frame, the source frame it matches best, searching forward
 * from the previous match to the end: a sender that fell behind on a busy or
 * emulated machine may have skipped any number of frames in between.
 */
export function matchFrames(received: Uint8Array[], source: Uint8Array[]): Match[] {
  const matches: Match[] = [];
  let from = 0;
  for (const frame of received) {
    let best: Match = { sourceIndex: -1, psnr: -Infinity, runnerUp: -Infinity };
    for (let i = from; i < source.length; i++) {
      const value = psnr(frame, source[i]!);
      if (value > best.psnr) best = { sourceIndex: i, psnr: value, runnerUp: best.psnr };
      else if (value > best.runnerUp) best.runnerUp = value;
    }
    matches.push(best);
    if (best.sourceIndex >= 0) from = best.sourceIndex + 1;
  }
  return matches;
}

export interface SourceClip {
  dir: string;
  clip: string;
  /** The clip's frames as packed RGB, decoded by ffmpeg: what received frames are compared with. */
  frames: Uint8Array[];
}

/** For a test file: a scratch folder with a short cut of video.mp4 and its decoded frames, removed afterwards. */
export function useSourceClip(seconds: number, width: number, height: number): SourceClip {
  const fixture = { dir: "", clip: "", frames: [] } as SourceClip;
  beforeAll(() => {
    fixture.dir = tempDir();
    fixture.clip = makeClip(fixture.dir, seconds, width);
    fixture.frames = decodeFrames(fixture.clip, width, height);
  });
  afterAll(() => rmSync(fixture.dir, { recursive: true, force: true }));
  return fixture;
}

/** Packed RGBA (what udpvid draws) as packed RGB (what screenshots and decodeFrames give), for comparing the two. */
export function rgbaToRgb(rgba: Uint8Array): Uint8Array {
  return Uint8Array.from({ length: (rgba.length / 4) * 3 }, (_, i) => rgba[Math.floor(i / 3) * 4 + (i % 3)]!);
}

/** A recorded picture matched to a source frame at the size it arrived (rate adaptation may have shrunk it). */
export interface SizedMatch extends Match {
  width: number;
  height: number;
}

/**
 * Each JPEG against the source frames (packed RGB, `width` × `height`) shrunk
 * to its own size as the sender shrinks them (sharp, bilinear), searching
 * forward from the previous match through the next `window` frames.
 */
export async function matchFramesAtTheirSize(jpegs: Uint8Array[], source: Uint8Array[], width: number, height: number, window = 30): Promise<SizedMatch[]> {
  // Shrunk source frames, per source index, kept only while in the search window.
  const shrunk = new Map<number, Map<string, Uint8Array>>();
  const sourceAt = async (index: number, w: number, h: number) => {
    if (w === width && h === height) return source[index]!;
    const sizes = shrunk.get(index) ?? new Map<string, Uint8Array>();
    shrunk.set(index, sizes);
    let frame = sizes.get(`${w}x${h}`);
    if (!frame) {
      frame = new Uint8Array(await sharp(source[index]!, { raw: { width, height, channels: 3 } }).resize(w, h, { fit: "fill", kernel: "linear" }).raw().toBuffer());
      sizes.set(`${w}x${h}`, frame);
    }
    return frame;
  };
  const matches: SizedMatch[] = [];
  let from = 0;
  for (const jpeg of jpegs) {
    const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    let best: SizedMatch = { sourceIndex: -1, psnr: -Infinity, runnerUp: -Infinity, width: info.width, height: info.height };
    for (let i = from; i < Math.min(source.length, from + window); i++) {
      const value = psnr(new Uint8Array(data), await sourceAt(i, info.width, info.height));
      if (value > best.psnr) best = { ...best, sourceIndex: i, psnr: value, runnerUp: best.psnr };
      else if (value > best.runnerUp) best.runnerUp = value;
    }
    matches.push(best);
    if (best.sourceIndex >= 0) from = best.sourceIndex + 1;
    for (const index of shrunk.keys()) if (index < from) shrunk.delete(index);
  }
  return matches;
}
