import { closeSync, openSync, writeSync } from "node:fs";
import type { RecordedPicture } from "./matroska-timeline.ts";
import type { Recorder } from "./recorder.ts";

/**
 * Writes each shown frame's JPEG bytes back to back: a raw MJPEG stream
 * that `ffplay -f mjpeg FILE` and `ffmpeg -f mjpeg -i FILE` read. No sound:
 * the format has no place for it (FILE.mkv has).
 */
export class MjpegRecorder implements Recorder {
  framesWritten = 0;
  readonly soundPacketsWritten = 0;
  bytesWritten = 0;

  private constructor(private readonly fd: number) {}

  static open(path: string): MjpegRecorder {
    try {
      return new MjpegRecorder(openSync(path, "w"));
    } catch (error) {
      const reason = (error as { code?: string }).code ?? String(error);
      throw new Error(`cannot write the recording to ${path} (${reason})`);
    }
  }

  addPicture({ jpeg }: RecordedPicture): void {
    let offset = 0;
    while (offset < jpeg.length) offset += writeSync(this.fd, jpeg, offset);
    this.framesWritten++;
    this.bytesWritten += jpeg.length;
  }

  addSound(): void {}

  async close(): Promise<void> {
    closeSync(this.fd);
  }
}
