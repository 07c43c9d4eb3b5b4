/**
 * When each frame is due, from one start time: frame i at start + i/fps.
 * Deadlines are absolute, so a late frame never pushes later ones back and
 * the stream cannot drift (the lab's sleep-after-send drifted 16% slow).
 */
export class FrameClock {
  readonly intervalMs: number;

  constructor(
    fps: number,
    private readonly startMs: number,
  ) {
    if (!(fps > 0)) throw new RangeError(`fps must be positive, got ${fps}`);
    this.intervalMs = 1000 / fps;
  }

  dueMs(frameIndex: number): number {
    return this.startMs + frameIndex * this.intervalMs;
  }
}
