import { RecentSamples } from "../util/percentiles.ts";
import { round } from "../util/round.ts";

/**
 * Decoded frames waiting for their time take at most this much memory (a
 * 720p frame is 3.7 MB: 51 of them, 1.7 s at 30 fps, the sound's wait after
 * a congested spell; a 4K one 33 MB: five); beyond it the oldest is
 * dropped. At least two always wait.
 */
const MAX_WAITING_BYTES = 192 * 1024 * 1024;
const MIN_WAITING = 2;
/**
 * A frame due further ahead than this is not held (the clock is wrong):
 * shown at once. The sound waits as long as the frames do, and after a
 * congested spell that is most of a second (the bottleneck's queue and the
 * repairs): a frame shown before its time then pairs with the wrong sound.
 */
const MAX_HOLD_MS = 2000;

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

/** When a frame captured at `captureUs` is to be shown, as the sound's clock stands at `nowMs` (undefined: at once, no sound to follow). */
export type DueTime = (captureUs: number, nowMs: number) => number | undefined;

/**
 * Shows each decoded frame at its time on the sound's clock: a frame ready
 * early waits, one ready late is shown at once. A waiting frame's time is
 * asked of the clock again each time it is looked at: the clock moves while
 * frames wait (its delay comes down after the start, up after a late
 * spell), and the sound follows it, so a time fixed when the frame was
 * decoded would show it that much apart from its sound. Bounded in memory:
 * past MAX_WAITING_BYTES of frames waiting, the oldest is dropped. Pure:
 * given the time; the shell sets a timer for `nextDueMs(now)` and calls `due()`.
 */
export class FramePresenter<F> {
  private readonly waiting: { frame: F; captureUs: number; sinceMs: number; bytes: number }[] = [];
  private waitingBytes = 0;
  private readonly offsets = new RecentSamples(2000);
  /** The last frames' offsets, for the live readout. */
  private readonly recentOffsets = new RecentSamples(30);
  private readonly waits = new RecentSamples(2000);
  private held = 0;
  private skippedCount = 0;

  constructor(private readonly dueOf: DueTime = () => undefined) {}

  /** A decoded frame (`bytes` of it) captured at `captureUs` (undefined: unknown, shown at once); returns what to show now. */
  add(frame: F, captureUs: number | undefined, nowMs: number, bytes = 0): F[] {
    const dueMs = captureUs === undefined ? undefined : this.dueOf(captureUs, nowMs);
    if (captureUs === undefined || dueMs === undefined || dueMs <= nowMs || dueMs - nowMs > MAX_HOLD_MS) {
      if (dueMs !== undefined && dueMs - nowMs <= MAX_HOLD_MS) this.recordOffset(nowMs - dueMs);
      // Anything still waiting was due earlier: it goes first, or is overtaken.
      return [...this.due(nowMs), frame];
    }
    this.waiting.push({ frame, captureUs, sinceMs: nowMs, bytes });
    this.waitingBytes += bytes;
    this.held++;
    while (this.waiting.length > MIN_WAITING && this.waitingBytes > MAX_WAITING_BYTES) {
      this.waitingBytes -= this.waiting.shift()!.bytes;
      this.skippedCount++;
    }
    return this.due(nowMs);
  }

  /** The frames whose time has come (the newest of them last; older ones due too are shown on the way). */
  due(nowMs: number): F[] {
    const out: F[] = [];
    while (this.waiting.length > 0) {
      const { frame, captureUs, sinceMs, bytes } = this.waiting[0]!;
      const dueMs = this.dueOf(captureUs, nowMs);
      if (dueMs !== undefined && dueMs > nowMs) break;
      this.waiting.shift();
      this.waitingBytes -= bytes;
      if (dueMs !== undefined) this.recordOffset(nowMs - dueMs);
      this.waits.add(nowMs - sinceMs);
      out.push(frame);
    }
    return out;
  }

  /** The run is over: whatever still waits, at once (not counted as shown at its time). */
  flush(): F[] {
    const out = this.waiting.map((w) => w.frame);
    this.waiting.length = 0;
    this.waitingBytes = 0;
    return out;
  }

  /** When the next waiting frame is due, as the clock stands at `nowMs` (undefined: none waits). */
  nextDueMs(nowMs: number): number | undefined {
    const next = this.waiting[0];
    return next === undefined ? undefined : (this.dueOf(next.captureUs, nowMs) ?? nowMs);
  }

  /** The median offset of the last frames shown against their time (undefined before any). */
  get recentOffsetMs(): number | undefined {
    return this.recentOffsets.count > 0 ? this.recentOffsets.percentile(50) : undefined;
  }

  private recordOffset(ms: number): void {
    this.offsets.add(ms);
    this.recentOffsets.add(ms);
  }

  /** Frames overtaken while waiting for their time (stats() has it too, but sorts its percentiles: this is read twice a second). */
  get skipped(): number {
    return this.skippedCount;
  }

  stats(): PresenterStats {
    const p = (s: RecentSamples, n: number) => round(s.percentile(n)!, 1);
    return {
      held: this.held,
      skipped: this.skippedCount,
      offsetMs: this.offsets.count > 0 ? { p50: p(this.offsets, 50), p95: p(this.offsets, 95), max: p(this.offsets, 100) } : null,
      waitedMs: this.waits.count > 0 ? p(this.waits, 50) : null,
    };
  }
}
