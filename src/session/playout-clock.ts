import { RecentSamples } from "../util/percentiles.ts";

export interface PlayoutClockOptions {
  /** How far back the fastest transit is looked for: long enough to see a quiet moment, short enough to follow clock drift. */
  windowMs: number;
  /** Arrival variation allowed for: this percentile of how much later than the fastest packets arrive. */
  jitterPercentile: number;
  /** Added on top: time to decode and hand to the device. */
  marginMs: number;
}

const DEFAULTS: PlayoutClockOptions = { windowMs: 10_000, jitterPercentile: 99, marginMs: 10 };
/**
 * The jitter allowance never goes below one 20 ms packet: a lost packet is
 * known lost only when the next one was due, and concealing it then must
 * still be in time. Until enough arrivals have been seen to measure it, a
 * cautious 40 ms.
 */
const MIN_JITTER_MS = 20;
const STARTING_JITTER_MS = 40;
/** Transit samples kept for the jitter: 10 s of 20 ms packets. */
const JITTER_SAMPLES = 500;
/** The jitter is recomputed every this many arrivals (sorting 500 samples per packet would be waste). */
const JITTER_EVERY = 25;
/** The allowance shrinks by at most this per recomputation (2 ms a second at 50 packets a second). */
const JITTER_DECAY_MS = 1;
/** Capture times are re-based before the signed 32-bit distance from the base (±35 min) could wrap. */
const REBASE_AFTER_US = 0x4000_0000;

/**
 * When something captured at a given instant on the sender's clock should
 * be played here: the sender's capture clock (µs mod 2^32) mapped onto the
 * local clock (ms) by the fastest transit seen lately (the path's delay plus
 * the clocks' unknown offset) plus the jitter the recent packets showed.
 * Both tracks use one clock, so sound and picture captured together play
 * together. The fastest transit is taken over a sliding window, so a sender
 * clock that runs fast or slow is followed. Pure: given the local time.
 */
export class PlayoutClock {
  private readonly options: PlayoutClockOptions;
  private base: { captureUs: number; localMs: number } | undefined;
  /** (arrival, transit) pairs, transit increasing from front to back: the front is the window's fastest. */
  private readonly fastest: { atMs: number; transitMs: number }[] = [];
  private readonly excess = new RecentSamples(JITTER_SAMPLES);
  private jitterMs = STARTING_JITTER_MS;
  private arrivals = 0;

  constructor(options: Partial<PlayoutClockOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  /**
   * Something captured at `captureUs` (sender's clock) arrived at `nowMs`
   * (local clock). Something `late` by nature (rebuilt from parity, resent)
   * says how much later things may come, not how fast the path is.
   */
  arrived(captureUs: number, nowMs: number, late = false): void {
    if (late) {
      if (this.base && this.fastest.length > 0) this.excess.add(nowMs - this.base.localMs - this.relativeMs(captureUs) - this.fastest[0]!.transitMs);
      return;
    }
    if (!this.base) this.base = { captureUs, localMs: nowMs };
    else if (Math.abs(this.relativeMs(captureUs)) * 1000 > REBASE_AFTER_US) this.rebase(captureUs);
    const transitMs = nowMs - this.base.localMs - this.relativeMs(captureUs);
    while (this.fastest.length > 0 && this.fastest.at(-1)!.transitMs >= transitMs) this.fastest.pop();
    this.fastest.push({ atMs: nowMs, transitMs });
    while (this.fastest[0]!.atMs < nowMs - this.options.windowMs) this.fastest.shift();
    this.excess.add(transitMs - this.fastest[0]!.transitMs);
    if (++this.arrivals % JITTER_EVERY === 0) {
      // Up at once (sound that comes later than allowed is lost), down gently (every change is heard as a shift).
      const measured = Math.max(MIN_JITTER_MS, this.excess.percentile(this.options.jitterPercentile) ?? 0);
      this.jitterMs = measured >= this.jitterMs ? measured : Math.max(measured, this.jitterMs - JITTER_DECAY_MS);
    }
  }

  /** Local time (ms) at which what was captured at `captureUs` plays; undefined before anything arrived. */
  playoutMs(captureUs: number): number | undefined {
    if (!this.base || this.fastest.length === 0) return undefined;
    return this.base.localMs + this.relativeMs(captureUs) + this.fastest[0]!.transitMs + this.delayMs;
  }

  /** How long after the fastest packets things play: the jitter allowance and the margin. */
  get delayMs(): number {
    return this.jitterMs + this.options.marginMs;
  }

  /** Capture time `captureUs` in ms after the base's, by the signed 32-bit distance (capture times wrap every 71.6 min). */
  private relativeMs(captureUs: number): number {
    return ((captureUs - this.base!.captureUs) | 0) / 1000;
  }

  /** Moves the base to `captureUs`, keeping every transit as it was. */
  private rebase(captureUs: number): void {
    const shiftMs = this.relativeMs(captureUs);
    this.base = { captureUs, localMs: this.base!.localMs + shiftMs };
  }
}
