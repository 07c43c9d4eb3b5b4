import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { resolveFfmpeg } from "../source/ffmpeg-path.ts";
import { MatroskaTimeline, type RecordedPicture, type RecordedSound } from "./matroska-timeline.ts";
import type { Recorder } from "./recorder.ts";

/** ffmpeg copies blocks as fast as they come; past this many bytes waiting for it, frames are left out rather than held. */
const MAX_UNWRITTEN_BYTES = 256 * 1024 * 1024;

/**
 * Records picture and sound as they were received (JPEGs as shown, Opus
 * packets as they came, neither re-encoded) into a Matroska file: a live
 * Matroska stream (MatroskaTimeline) piped to the embedded ffmpeg, which
 * writes the file with its index. ffmpeg runs in its own process group, so
 * Ctrl-C reaches udpvid alone and the recording is finished, not cut.
 */
export class MkvRecorder implements Recorder {
  private readonly timeline = new MatroskaTimeline("udpvid");
  private stderr = "";
  private exited: Promise<number | null>;
  private broken = false;
  /** Left out because ffmpeg fell behind, or had stopped. */
  private unwrittenChunks = 0;

  private constructor(private readonly path: string, private readonly child: ChildProcess) {
    child.stderr!.on("data", (data: Buffer) => (this.stderr = (this.stderr + data.toString()).slice(-2000)));
    // A write after ffmpeg has gone (EPIPE) says so here; close() reports why.
    child.stdin!.on("error", () => (this.broken = true));
    this.exited = new Promise((resolve) => {
      child.on("exit", (code) => {
        this.broken = true;
        resolve(code);
      });
      child.on("error", (error) => {
        this.broken = true;
        this.stderr += String(error);
        resolve(null);
      });
    });
  }

  static open(path: string): MkvRecorder {
    // Said now, not when ffmpeg first writes: a path that cannot be written fails before the stream starts.
    try {
      closeSync(openSync(path, "w"));
    } catch (error) {
      throw new Error(`cannot write the recording to ${path} (${(error as { code?: string }).code ?? String(error)})`);
    }
    const ffmpeg = resolveFfmpeg(undefined)[0]!.path;
    const args = ["-hide_banner", "-loglevel", "error", "-nostdin", "-f", "matroska", "-i", "pipe:0", "-map", "0", "-c", "copy", "-f", "matroska", "-y", path];
    // (On Windows a detached child gets a console window of its own; there Ctrl-C reaches ffmpeg too, and it finishes the file itself.)
    return new MkvRecorder(path, spawn(ffmpeg, args, { stdio: ["pipe", "ignore", "pipe"], detached: process.platform !== "win32", windowsHide: true }));
  }

  get framesWritten(): number {
    return this.timeline.counts.frames;
  }

  get soundPacketsWritten(): number {
    return this.timeline.counts.soundPackets;
  }

  addPicture(picture: RecordedPicture): void {
    this.write(this.timeline.addPicture(picture));
  }

  addSound(sound: RecordedSound): void {
    this.write(this.timeline.addSound(sound));
  }

  async close(): Promise<void> {
    this.write(this.timeline.finish());
    this.child.stdin!.end();
    const code = await this.exited;
    if (code !== 0) throw new Error(`ffmpeg could not write the recording ${this.path} (exit ${code}): ${this.stderr.trim() || "no message"}`);
    if (this.unwrittenChunks > 0) console.warn(`udpvid receive: ${this.unwrittenChunks} parts of the recording were left out: ffmpeg fell behind`);
  }

  private write(chunks: Uint8Array[]): void {
    for (const chunk of chunks) {
      // The stream's start is never left out: without it, nothing after it can be read.
      if (this.broken || (this.timeline.started && this.child.stdin!.writableLength > MAX_UNWRITTEN_BYTES && chunks[0] !== chunk)) {
        this.unwrittenChunks++;
        continue;
      }
      this.child.stdin!.write(chunk);
    }
  }
}
