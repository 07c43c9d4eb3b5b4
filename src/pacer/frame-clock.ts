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

export interface SendSlot {
  /** Milliseconds after the frame's due time. */
  atMs: number;
  /** Datagram index range [from, to). */
  from: number;
  to: number;
}

/** How long a pacing tick is: below that, timers are not precise enough to be worth it. */
export const PACING_TICK_MS = 2;

/**
 * Spreads a frame's datagrams evenly over `windowMs` in ticks, instead of
 * one burst that overflows a receiver's socket buffer or a router's queue.
 */
export function spreadSchedule(datagramCount: number, windowMs: number, tickMs = PACING_TICK_MS): SendSlot[] {
  const ticks = Math.max(1, Math.min(datagramCount, Math.floor(windowMs / tickMs)));
  const slots: SendSlot[] = [];
  for (let t = 0; t < ticks; t++) {
    const from = Math.floor((t * datagramCount) / ticks);
    const to = Math.floor(((t + 1) * datagramCount) / ticks);
    if (to > from) slots.push({ atMs: (t * windowMs) / ticks, from, to });
  }
  return slots;
}
