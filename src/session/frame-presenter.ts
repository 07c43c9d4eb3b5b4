import { RecentSamples } from "../util/percentiles.ts";
import { round } from "../util/round.ts";

/** Frames waiting for their time at most: a newer one due sooner replaces the older (a live picture must not fall behind). */
const MAX_WAITING = 3;
/** A frame due further ahead than this is not held (the clock is wrong, or has just been set): shown at once. */
const MAX_HOLD_MS = 500;

export interface PresenterStats {
  /** Frames held for their time before being shown. */
  held: number;
  /** Frames dropped while waiting: a newer one came due first. */
  skipped: number;
  /** When frames were shown against when they were due, ms (positive: the picture late against the sound). */
  offsetMs: { p50: number; p95: number; max: number } | null;
  /** How long frames waited for their time, median. */
  waitedMs: number | null;
}

/**
 * Shows each decoded frame at its time on the sound's clock (when there is
 * sound: its playout time, undefined otherwise): a frame ready early waits,
 * one ready late is shown at once. Pure: given the time; the shell sets a
 * timer for `nextDueMs` and calls `due()`.
 */
export class FramePresenter<F> {
  private readonly waiting: { frame: F; dueMs: number; sinceMs: number }[] = [];
  private readonly offsets = new RecentSamples(2000);
  /** The last frames' offsets, for the live readout. */
  private readonly recentOffsets = new RecentSamples(30);
  private readonly waits = new RecentSamples(2000);
  private held = 0;
  private skipped = 0;

  /** A decoded frame due at `dueMs` (undefined: no sound to follow); returns what to show now. */
  add(frame: F, dueMs: number | undefined, nowMs: number): F[] {
    if (dueMs === undefined || dueMs <= nowMs || dueMs - nowMs > MAX_HOLD_MS) {
      if (dueMs !== undefined && dueMs - nowMs <= MAX_HOLD_MS) this.recordOffset(nowMs - dueMs);
      // Anything still waiting was due earlier: it goes first, or is overtaken.
      return [...this.due(nowMs), frame];
    }
    this.waiting.push({ frame, dueMs, sinceMs: nowMs });
    this.held++;
    while (this.waiting.length > MAX_WAITING) {
      this.waiting.shift();
      this.skipped++;
    }
    return this.due(nowMs);
  }

  /** The frames whose time has come (the newest of them last; older ones due too are shown on the way). */
  due(nowMs: number): F[] {
    const out: F[] = [];
    while (this.waiting.length > 0 && this.waiting[0]!.dueMs <= nowMs) {
      const { frame, dueMs, sinceMs } = this.waiting.shift()!;
      this.recordOffset(nowMs - dueMs);
      this.waits.add(nowMs - sinceMs);
      out.push(frame);
    }
    return out;
  }

  /** When the next waiting frame is due (undefined: none waits). */
  get nextDueMs(): number | undefined {
    return this.waiting[0]?.dueMs;
  }

  /** The median offset of the last frames shown against their time (undefined before any). */
  get recentOffsetMs(): number | undefined {
    return this.recentOffsets.count > 0 ? this.recentOffsets.percentile(50) : undefined;
  }

  private recordOffset(ms: number): void {
    this.offsets.add(ms);
    this.recentOffsets.add(ms);
  }

  stats(): PresenterStats {
    const p = (s: RecentSamples, n: number) => round(s.percentile(n)!, 1);
    return {
      held: this.held,
      skipped: this.skipped,
      offsetMs: this.offsets.count > 0 ? { p50: p(this.offsets, 50), p95: p(this.offsets, 95), max: p(this.offsets, 100) } : null,
      waitedMs: this.waits.count > 0 ? p(this.waits, 50) : null,
    };
  }
}
