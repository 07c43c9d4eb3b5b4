import { RecentSamples } from "../util/percentiles.ts";

/** What the timer drives: a session whose frames wait for their time on the sound's clock. */
export interface Presenting {
  nextPresentMs(nowMs: number): number | undefined;
  present(nowMs: number): void;
}

/** Aimed early by at most this (ms): a timer later than that is a stall, not how this one runs. */
const MAX_AIM_EARLY_MS = 8;

/**
 * How late a timer fires against when it was set for, as it has lately:
 * the median of the last few. Under Xvfb with the bench's recorders beside
 * it, a 5 ms timer fired 10-12 ms late as a stream started, and the first
 * frame was seen that much after its beep. Pure.
 */
export class TimerLateness {
  private readonly samples = new RecentSamples(20);

  /** A timer set for `aimedMs` fired at `firedMs`. */
  add(aimedMs: number, firedMs: number): void {
    this.samples.add(Math.max(0, firedMs - aimedMs));
  }

  /** How much earlier to aim, ms (0 before anything was measured). */
  get earlyMs(): number {
    return Math.min(MAX_AIM_EARLY_MS, this.samples.percentile(50) ?? 0);
  }
}

/**
 * Shows a frame that waits for its time on a timer of its own, set for its
 * due time (the receiver's 10 ms housekeeping tick would show it up to 10 ms
 * late), aimed early by the timer's usual lateness. Re-armed after each
 * showing for the next frame due.
 */
export class PresentTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private atMs: number | undefined;
  private readonly lateness = new TimerLateness();

  constructor(private readonly session: () => Presenting) {}

  /** A frame is waiting (or the clock moved its time): make sure the timer fires when the first one is due. */
  schedule(): void {
    const next = this.session().nextPresentMs(performance.now());
    if (next === undefined || next === this.atMs) return;
    clearTimeout(this.timer);
    this.atMs = next;
    const aimedMs = next - this.lateness.earlyMs;
    this.timer = setTimeout(() => {
      const firedMs = performance.now();
      this.lateness.add(aimedMs, firedMs);
      this.atMs = undefined;
      // Fired as aimed, that is early by the lateness it usually has: the frame due at `next` goes now.
      this.session().present(Math.max(firedMs, next));
      this.schedule();
    }, Math.max(0, aimedMs - performance.now()));
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
