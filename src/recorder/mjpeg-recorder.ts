import { closeSync, openSync, writeSync } from "node:fs";

/**
 * Writes each shown frame's JPEG bytes back to back: a raw MJPEG stream
 * that `ffplay -f mjpeg FILE` and `ffmpeg -f mjpeg -i FILE` read.
 */
export class MjpegRecorder {
  framesWritten = 0;
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

  write(jpeg: Uint8Array): void {
    let offset = 0;
    while (offset < jpeg.length) offset += writeSync(this.fd, jpeg, offset);
    this.framesWritten++;
    this.bytesWritten += jpeg.length;
  }

  close(): void {
    closeSync(this.fd);
  }
}
