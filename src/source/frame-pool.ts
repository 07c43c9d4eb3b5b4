/**
 * Recycles raw frame buffers. A fresh 2.7 MB (720p) or 6 MB (1080p) buffer per
 * frame, 30 times a second, is freed only when the GC gets round to it, and a
 * sender's RSS crept 17% over a 30-minute soak that way. A frame comes back once
 * its JPEG is encoded; a buffer that never comes back is simply replaced.
 */
export class FramePool {
  private readonly free: Uint8Array[] = [];
  private allocatedCount = 0;

  constructor(
    readonly frameSize: number,
    /** Free buffers kept; more in flight than this are left to the GC. */
    readonly maxFree = 4,
  ) {}

  take(): Uint8Array {
    const reused = this.free.pop();
    if (reused) return reused;
    this.allocatedCount++;
    return new Uint8Array(this.frameSize);
  }

  /** Hands a buffer back. Only whole buffers of this pool's size are kept, each once. */
  give(buffer: Uint8Array): void {
    if (buffer.byteLength !== this.frameSize || buffer.byteOffset !== 0 || buffer.buffer.byteLength !== this.frameSize) return;
    if (this.free.length >= this.maxFree || this.free.includes(buffer)) return;
    this.free.push(buffer);
  }

  toJSON() {
    return { frameSize: this.frameSize, allocated: this.allocatedCount, free: this.free.length };
  }
}
