import { statSync } from "node:fs";
import { FifoFrameReader } from "./fifo-frame-reader.ts";
import { FramePool } from "./frame-pool.ts";

export interface VideoInfo {
  width: number;
  height: number;
  /** Frames per second of the decoded output. */
  fps: number;
  /** Length of the input, when ffmpeg knows it. */
  durationSeconds: number | undefined;
}

/**
 * What ffmpeg hands over: planar 4:2:0 (Y, then U and V at half size each
 * way, rounded up: a quarter of RGB's bytes, and what JPEG encodes anyway)
 * for TurboJPEG, or packed RGB (3 bytes a pixel) for sharp.
 */
export type PixelFormat = "yuv420p" | "rgb24";

/** How frames come from ffmpeg: a FIFO read ahead by a worker thread, or its stdout on the calling thread. */
export type FrameReaderKind = "fifo worker" | "stdout";

/** Bytes in one frame of `format` at this size. */
export function frameBytes(format: PixelFormat, width: number, height: number): number {
  return format === "rgb24" ? width * height * 3 : width * height + 2 * ((width + 1) >> 1) * ((height + 1) >> 1);
}

export interface RawFrame {
  /** 0-based count of frames read from this source. */
  index: number;
  /** The frame in the source's pixel format (frameBytes long). */
  pixels: Uint8Array;
}

/** An ffmpeg found by resolveFfmpeg: where, from which place, and whether it predates -fps_mode. */
export interface FoundFfmpegLike {
  path: string;
  source: string;
  legacyVsync: boolean;
}

export interface SourceOptions {
  ffmpeg: string;
  /** A file, a URL, a device or a lavfi graph: anything ffmpeg opens. */
  input: string;
  /** ffmpeg's -f for the input (e.g. lavfi, v4l2). */
  inputFormat?: string;
  /** Options for the input, passed as -KEY VALUE before -i. */
  inputOptions?: [string, string][];
  width?: number;
  height?: number;
  loop?: boolean;
  /** This ffmpeg is known to predate -fps_mode (5.1): use -vsync from the start. */
  legacyVsync?: boolean;
  /** Default rgb24. */
  pixelFormat?: PixelFormat;
  /** How frames come from ffmpeg: default a FIFO read by a worker where there are FIFOs, else its stdout. */
  frameReader?: FrameReaderKind;
  /** The source's colours are BT.709's: planes for JPEG are converted to BT.601's. Undefined: open() finds out; false: left as they are. */
  fromBt709?: boolean;
}

export class SourceError extends Error {}

/** The ffmpeg could not even start: the system cannot run it here (noexec, another processor's binary). */
export class FfmpegDidNotStart extends SourceError {}

/** Checks the input before ffmpeg does, so the common mistakes get a plain message. */
export function checkInputFile(input: string): void {
  let stats;
  try {
    stats = statSync(input);
  } catch {
    throw new SourceError(`${input}: no such file`);
  }
  if (stats.isDirectory()) throw new SourceError(`${input} is a directory, not a video file`);
}

/**
 * JFIF's YCbCr is full range: video's limited range (Y 16–235, chroma
 * 16–240), passed on as it is, came out of every decoder washed out (24 dB
 * against 33). ffmpeg's own range conversion (scale=out_range=full) cost
 * 1.9 ms a 720p frame here, more than the whole conversion to RGB; a lookup
 * table does it for 0.5 ms and matches it within 1. `format=yuv420p` first,
 * so a source already full range (a camera's MJPEG) is brought to limited
 * range and expanded once, not twice.
 */
const FULL_RANGE = "format=yuv420p,lutyuv=y=clip((val-16)*255/219\\,0\\,255):u=clip((val-128)*255/224+128\\,0\\,255):v=clip((val-128)*255/224+128\\,0\\,255)";

/**
 * ffmpeg's `-vf` for the requested size and pixel format; -1 keeps the
 * aspect ratio for the side not given. Area averaging: the right filter for
 * shrinking (no aliasing), and here it scaled and converted 720p to 640x480
 * RGB for half the CPU of ffmpeg's default bicubic, on the thread that limits
 * how fast frames come out. Planes for JPEG are made full range (FULL_RANGE).
 */
export function scaleFilter(width: number | undefined, height: number | undefined, pixelFormat: PixelFormat = "rgb24", fromBt709 = false): string | undefined {
  const size = width === undefined && height === undefined ? undefined : `scale=${width ?? -1}:${height ?? -1}:flags=area`;
  // JPEG decoders read YCbCr with BT.601's matrix; an HD video's BT.709 colours passed on as they are came out
  // with shifted hues (28 dB against ffmpeg's RGB of the same frame, 49 with the conversion).
  const matrix = pixelFormat === "yuv420p" && fromBt709 ? "colormatrix=bt709:bt601" : undefined;
  const jfif = pixelFormat === "yuv420p" ? FULL_RANGE : undefined;
  const filters = [size, matrix, jfif].filter(Boolean);
  return filters.length ? filters.join(",") : undefined;
}

/**
 * Whether ffmpeg's log says the input's picture is tagged BT.709 (its colour
 * space, the first of the tags in "yuv420p(tv, bt709, progressive)" or
 * "yuv420p(tv, bt709/bt709/bt709)"). Untagged and BT.601 sources: false.
 */
export function inputIsBt709(log: string): boolean {
  const input = log.slice(0, Math.max(0, log.indexOf("Output #0")) || log.length);
  const video = /Stream #\d+:\d+.*?: Video: [^\n]*?\b(?:yuv|nv|p0)\w*\(([^)]*)\)/.exec(input);
  if (!video) return false;
  return video[1]!.split(",").some((tag) => tag.trim().split("/")[0] === "bt709");
}

/** Reads the raw-video output stream's size and rate, and the input duration, from ffmpeg's log. */
export function parseFfmpegHeader(log: string): VideoInfo | undefined {
  const output = log.indexOf("Output #0");
  if (output < 0) return undefined;
  const stream = /Stream #\d+:\d+.*?: Video: .*?, (\d+)x(\d+).*?, ([\d.]+) (k?)fps/.exec(log.slice(output));
  if (!stream) return undefined;
  const duration = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(log.slice(0, output));
  return {
    width: Number(stream[1]),
    height: Number(stream[2]),
    fps: Number(stream[3]) * (stream[4] ? 1000 : 1),
    durationSeconds: duration ? Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]) : undefined,
  };
}

type FfmpegProcess = Bun.Subprocess<"ignore", "pipe" | "ignore", "pipe">;

/**
 * A video file decoded by an ffmpeg child process into raw frames.
 * ffmpeg does the scaling, so only the size we send crosses the pipe: a
 * FIFO read by a worker thread where there are FIFOs, its stdout elsewhere.
 */
export class FfmpegSource {
  private readonly pool: FramePool;

  private constructor(
    readonly info: VideoInfo,
    private readonly process: FfmpegProcess,
    private readonly log: { tail: string; head: string },
    readonly pixelFormat: PixelFormat,
    private readonly reader: FifoFrameReader | undefined,
  ) {
    this.pool = new FramePool(frameBytes(pixelFormat, info.width, info.height));
  }

  /** How frames come from ffmpeg: a FIFO read ahead by a worker thread, or its stdout on this thread. */
  get frameReader(): FrameReaderKind {
    return this.reader ? "fifo worker" : "stdout";
  }

  /** Gives a frame's buffer back once nothing reads it any more, so a later frame reuses it. */
  recycle(frame: RawFrame): void {
    if (this.reader) this.reader.give(frame.pixels);
    else this.pool.give(frame.pixels);
  }

  get poolStats(): { allocated: number } {
    return this.reader ? { allocated: this.reader.allocated } : this.pool.toJSON();
  }

  /** Opens the source with the first of `ffmpegs` that starts; `warn` hears of each that could not. */
  static async openWithFirstThatRuns(ffmpegs: FoundFfmpegLike[], options: Omit<SourceOptions, "ffmpeg" | "legacyVsync">, warn: (line: string) => void): Promise<FfmpegSource> {
    for (const [i, ffmpeg] of ffmpegs.entries()) {
      try {
        return await FfmpegSource.open({ ...options, ffmpeg: ffmpeg.path, legacyVsync: ffmpeg.legacyVsync });
      } catch (error) {
        if (!(error instanceof FfmpegDidNotStart) || i === ffmpegs.length - 1) throw error;
        warn(`${error.message}; using ${ffmpegs[i + 1]!.path} (${ffmpegs[i + 1]!.source}) instead`);
      }
    }
    throw new SourceError("no ffmpeg to open the source with");
  }

  static async open(options: SourceOptions, legacyVsync = options.legacyVsync ?? false): Promise<FfmpegSource> {
    const scale = scaleFilter(options.width, options.height, options.pixelFormat, options.fromBt709);
    const args = [
      options.ffmpeg,
      "-hide_banner",
      "-nostdin",
      "-nostats",
      ...(options.loop ? ["-stream_loop", "-1"] : []),
      ...(options.inputOptions ?? []).flatMap(([key, value]) => [`-${key}`, value]),
      ...(options.inputFormat ? ["-f", options.inputFormat] : []),
      "-i",
      options.input,
      ...(scale ? ["-vf", scale] : []),
      // Each decoded frame once: no duplicates or drops to force a constant rate (we pace ourselves).
      // ffmpeg before 5.1 (e.g. the static builds some packages ship) names this option -vsync.
      legacyVsync ? "-vsync" : "-fps_mode",
      "passthrough",
      "-map",
      "0:v:0",
      "-f",
      "rawvideo",
      "-pix_fmt",
      options.pixelFormat ?? "rgb24",
    ];
    const reader = options.frameReader === "stdout" ? undefined : FifoFrameReader.create();
    let child: FfmpegProcess;
    try {
      // -y: the FIFO is there already (ffmpeg would ask whether to overwrite it).
      child = Bun.spawn(reader ? [...args, "-y", reader.path] : [...args, "pipe:1"], { stdin: "ignore", stdout: reader ? "ignore" : "pipe", stderr: "pipe" });
    } catch (error) {
      reader?.close();
      // Found, but the system cannot run it (another platform's binary, a broken file).
      throw new FfmpegDidNotStart(`ffmpeg (${options.ffmpeg}) does not run: ${(error as Error).message}`);
    }
    try {
      reader?.holdOpen();
    } catch {
      // The FIFO made but not to be opened (a temporary folder gone from under it): ffmpeg's stdout, as on Windows.
      child.kill();
      reader!.close();
      return FfmpegSource.open({ ...options, frameReader: "stdout" }, legacyVsync);
    }
    const log = { tail: "", head: "" };
    const info = await readHeader(child, log);
    const restartForBt709 = info !== undefined && options.pixelFormat === "yuv420p" && options.fromBt709 === undefined && inputIsBt709(log.head);
    if (!info || restartForBt709) reader?.close();
    // Planes from a BT.709 source need the matrix converted, which ffmpeg can only be told once it has looked: start again, telling it.
    if (restartForBt709) {
      child.kill();
      await child.exited;
      // An ffmpeg built without the (GPL) colormatrix filter still plays the source, its hues a little off.
      return FfmpegSource.open({ ...options, fromBt709: true }, legacyVsync).catch((error: unknown) =>
        error instanceof SourceError && /colormatrix/.test(error.message) ? FfmpegSource.open({ ...options, fromBt709: false }, legacyVsync) : Promise.reject(error),
      );
    }
    if (!info) {
      const exitCode = await child.exited;
      if (!legacyVsync && /Unrecognized option 'fps_mode'/.test(log.tail)) return FfmpegSource.open(options, true);
      // "-map 0:v:0" finds nothing: the file opened but holds no picture (audio only, say).
      if (/Stream map '0:v:0' matches no streams/.test(log.tail)) {
        throw new SourceError(`${options.input} has no video stream (audio only?): give a video file`);
      }
      // 126/127 with nothing said: the child could not exec ffmpeg at all.
      if ((exitCode === 126 || exitCode === 127) && log.tail.trim() === "") throw new FfmpegDidNotStart(`ffmpeg (${options.ffmpeg}) does not run here (exit ${exitCode})`);
      const reason = lastLines(log.tail) || `ffmpeg exited with code ${exitCode}`;
      throw new SourceError(`cannot decode ${options.input}: ${reason}`);
    }
    return new FfmpegSource(info, child, log, options.pixelFormat ?? "rgb24", reader);
  }

  /** Yields frames until the input ends; throws if ffmpeg fails mid-way. Leaving early stops ffmpeg. */
  async *frames(): AsyncGenerator<RawFrame> {
    let count = 0;
    for await (const frame of this.reader ? this.framesFromFifo(this.reader) : this.framesFromStdout(this.process.stdout as ReadableStream<Uint8Array>)) {
      count++;
      yield frame;
    }
    const exitCode = await this.process.exited;
    if (exitCode !== 0 && !this.process.killed) {
      throw new SourceError(`ffmpeg failed after ${count} frames: ${lastLines(this.log.tail) || `exit code ${exitCode}`}`);
    }
  }

  private async *framesFromFifo(reader: FifoFrameReader): AsyncGenerator<RawFrame> {
    reader.start(frameBytes(this.pixelFormat, this.info.width, this.info.height));
    let index = 0;
    let ended = false;
    try {
      let next = await reader.next();
      for (; next instanceof Uint8Array; next = await reader.next()) yield { index: index++, pixels: next };
      ended = true;
    } finally {
      // Left early: ffmpeg is still writing. At the end it has closed its output and exits by itself, with its own code.
      if (!ended) this.close();
      reader.close();
    }
  }

  private async *framesFromStdout(stdout: ReadableStream<Uint8Array>): AsyncGenerator<RawFrame> {
    const frameSize = frameBytes(this.pixelFormat, this.info.width, this.info.height);
    const reader = stdout.getReader();
    let frame = this.pool.take();
    let filled = 0;
    let index = 0;
    try {
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        const chunk = read.value;
        let offset = 0;
        while (offset < chunk.length) {
          const take = Math.min(frameSize - filled, chunk.length - offset);
          frame.set(chunk.subarray(offset, offset + take), filled);
          filled += take;
          offset += take;
          if (filled === frameSize) {
            yield { index: index++, pixels: frame };
            frame = this.pool.take();
            filled = 0;
          }
        }
      }
    } finally {
      // On an early exit ffmpeg is still writing: stop it rather than wait for a stream cancel.
      this.close();
      // Cancel (not just release) what is left in the pipe, so nothing keeps the process alive; never wait on it.
      reader.cancel().catch(() => {});
    }
  }

  close(): void {
    if (this.process.exitCode === null) this.process.kill();
  }
}

/** Reads stderr until the output stream is described; keeps draining it afterwards so ffmpeg never blocks on it. */
async function readHeader(child: FfmpegProcess, log: { tail: string; head: string }): Promise<VideoInfo | undefined> {
  const reader = child.stderr.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) {
      log.tail = text;
      return undefined;
    }
    text += decoder.decode(value, { stream: true });
    const info = parseFfmpegHeader(text);
    if (info) {
      log.head = text;
      void drain(reader, decoder, log);
      return info;
    }
  }
}

async function drain(reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> }, decoder: TextDecoder, log: { tail: string }) {
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    log.tail = (log.tail + decoder.decode(r.value, { stream: true })).slice(-4096);
  }
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-2).join(" ").trim();
}
