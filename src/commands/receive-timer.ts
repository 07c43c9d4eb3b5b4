/** What the timer drives: a session whose frames wait for their time on the sound's clock. */
export interface Presenting {
  nextPresentMs(nowMs: number): number | undefined;
  present(nowMs: number): void;
}

/**
 * Housekeeping (replies, the sound's queue, the readout) may run this much
 * early or late to share a wake-up with a frame's showing. Every wake-up of
 * the process costs some 60-100 µs on a small VM; a frame held for its
 * sound woke it once more each (30 a second). The sound's tick takes the
 * wider gaps into its slack (SoundOutput measures them).
 */
export const SHARE_MS = 4;

/** What the next wake-up is for, and when (local ms). */
export interface WakeUp {
  atMs: number;
  present: boolean;
  housekeeping: boolean;
}

/**
 * The next wake-up, given when housekeeping is next due and when the first
 * waiting frame is (undefined: none waits). A frame is shown at its time,
 * never moved; housekeeping due within SHARE_MS of it runs with it. Pure.
 */
export function nextWakeUp(housekeepingAtMs: number, presentAtMs: number | undefined): WakeUp {
  if (presentAtMs === undefined || presentAtMs > housekeepingAtMs + SHARE_MS) return { atMs: housekeepingAtMs, present: false, housekeeping: true };
  return { atMs: presentAtMs, present: true, housekeeping: housekeepingAtMs <= presentAtMs + SHARE_MS };
}

/**
 * The receiver's one timer: its housekeeping every `periodMs`, and each frame
 * that waits for its time shown at that time (the housekeeping alone would
 * show it up to a period late), the two sharing a wake-up where they fall
 * close (nextWakeUp). Re-armed after each wake-up, and whenever a frame
 * starts waiting or the clock moves its time (schedule()).
 */
export class ReceiveTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private planned: WakeUp | undefined;
  private housekeepingAtMs: number;
  private stopped = false;

  constructor(
    private readonly session: () => Presenting,
    private readonly housekeeping: () => void,
    private readonly periodMs: number,
  ) {
    this.housekeepingAtMs = performance.now() + periodMs;
    this.schedule();
  }

  /** A frame is waiting (or the clock moved its time): make sure the timer fires when the first one is due. */
  schedule(): void {
    if (this.stopped) return;
    const next = nextWakeUp(this.housekeepingAtMs, this.session().nextPresentMs(performance.now()));
    const planned = this.planned;
    if (planned && planned.atMs === next.atMs && planned.present === next.present && planned.housekeeping === next.housekeeping) return;
    clearTimeout(this.timer);
    this.planned = next;
    this.timer = setTimeout(() => this.fire(next), Math.max(0, next.atMs - performance.now()));
  }

  private fire(wakeUp: WakeUp): void {
    this.planned = undefined;
    try {
      // The frame first: it is the one with a time to keep.
      if (wakeUp.present) this.session().present(performance.now());
      if (wakeUp.housekeeping) {
        const now = performance.now();
        // From now, not from when it was due: a late timer (a busy loop) does not bring a burst of catching up.
        this.housekeepingAtMs = Math.max(this.housekeepingAtMs + this.periodMs, now + this.periodMs - SHARE_MS);
        this.housekeeping();
      }
    } finally {
      // Re-armed whatever happened: one timer carries all of it (an interval went on by itself).
      this.schedule();
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
