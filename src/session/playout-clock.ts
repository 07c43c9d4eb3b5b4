import { RecentSamples } from "../util/percentiles.ts";

export interface PlayoutClockOptions {
  /** How far back the fastest transit is looked for: long enough to see a quiet moment, short enough to follow clock drift. */
  windowMs: number;
  /** Arrival variation allowed for: this percentile of how much later than the fastest packets arrive. */
  jitterPercentile: number;
  /** Added to the sound's jitter allowance: time to decode and hand to the device, and to conceal a lost packet in time. */
  marginMs: number;
}

const DEFAULTS: PlayoutClockOptions = { windowMs: 10_000, jitterPercentile: 99, marginMs: 10 };
/**
 * The sound's jitter allowance never goes below 5 ms (a lost packet is
 * concealed by its deadline, not when a later one shows it missing, so no
 * more is needed). Until enough arrivals have been seen to measure it, a
 * cautious 40 ms.
 */
const MIN_JITTER_MS = 5;
const STARTING_JITTER_MS = 40;
/** Transit samples kept for the jitter: 10 s of 20 ms packets. */
const JITTER_SAMPLES = 500;
/** Readiness samples kept for the picture: 8 s at 30 fps. */
const PICTURE_SAMPLES = 250;
/** The sound's jitter is recomputed every this many arrivals (sorting 500 samples per packet would be waste): twice a second. */
const JITTER_EVERY = 25;
/** The picture's readiness, every this many frames: three times a second at 30 fps. */
const PICTURE_EVERY = 10;
/**
 * For this long after the first sound packet the receiver is still warming
 * up (its window opening, its decoders compiling and loading): what comes
 * late then raises the allowances at once, so the start is heard and seen
 * together, but is not kept as a measure of the path, so latency comes back
 * down within seconds instead of keeping the start's delay for the whole run.
 */
const WARMUP_MS = 2500;
/**
 * The allowance shrinks per recomputation by 1 ms while it is within 50 ms
 * of what is measured (jitter's ups and downs: 2 ms a second at 50 packets
 * a second, unheard and unseen; coming down faster shows frames late as soon
 * as the picture is a little slower again). Further above, after a congested
 * spell, by a quarter of the excess, at most 25 ms: latency comes back
 * within seconds, each step small enough for the sound to leave out at a
 * quiet moment.
 */
const JITTER_DECAY_MIN_MS = 1;
const TRANSIENT_GAP_MS = 50;
const JITTER_DECAY_SHARE = 1 / 4;
const JITTER_DECAY_MAX_MS = 25;
/**
 * The path's delay as used comes down by this share of its excess over the
 * window's fastest a packet (about half the excess a second at 50 packets a
 * second: a busy start's 140 ms gone within 4 s, in steps the sound leaves
 * out at quiet moments), at least TRANSIT_DECAY_MS (5 ms a second; at that alone,
 * a busy start held the whole stream 140 ms late for half a minute). See
 * PlayoutClock.transitMs.
 */
const TRANSIT_DECAY_SHARE = 1 / 70;
const TRANSIT_DECAY_MS = 0.1;
/** A rebuilt packet raises the sound's allowance at once, to at most this (a group's parity comes within 100 ms; more is a stall). */
const MAX_SYSTEMATIC_MS = 200;
/** What warming up may add at most (a receiver stalled longer than this is shown late rather than delaying everything). */
const MAX_WARMUP_MS = 1000;
/** A frame shown at its time is drawn within a timer's lateness of it. */
const PICTURE_MARGIN_MS = 2;
/** Capture times are re-based before the signed 32-bit distance from the base (±35 min) could wrap. */
const REBASE_AFTER_US = 0x4000_0000;

/**
 * How much later than the fastest one track's things come (the 99th
 * percentile, say), kept as an allowance: up at once when things come later
 * (what comes later than allowed is lost or late), down gently (every change
 * is a shift the viewer or listener notices).
 */
class Allowance {
  private readonly excess: RecentSamples;
  private samples = 0;
  private previousMs = -Infinity;
  /**
   * The value was set, not measured (the cautious start, what warming up
   * raised it to): it comes down by the quarter share all the way to what
   * is measured. At 1 ms a recomputation, the start's 40 ms took 17 s and a
   * warm-up stall's last 50 ms 25 s, the whole stream that much later.
   */
  private provisional = true;

  constructor(
    private valueMs: number,
    private readonly floorMs: number,
    private readonly percentile: number,
    private readonly every: number,
    kept: number,
    /** Two samples in a row above the allowance raise it at once (see add). */
    private readonly followShifts = false,
  ) {
    this.excess = new RecentSamples(kept);
  }

  /**
   * One sample. `systematic`: it comes of how the track is carried (a packet
   * rebuilt from parity or resent), not of a hiccup, so a later one is
   * covered at once. `warming-up`: covered at once, but not kept.
   */
  add(excessMs: number, how: "sample" | "systematic" | "warming-up" = "sample"): void {
    if (how === "warming-up") {
      this.raiseTo(excessMs);
      return;
    }
    this.excess.add(excessMs);
    if (how === "systematic" && excessMs > this.valueMs) this.valueMs = Math.min(excessMs, MAX_SYSTEMATIC_MS);
    // The picture: one frame late is a hiccup (the percentile sees to it); two in a row, a shift (larger frames after
    // the rate came back up, a slower spell) that would otherwise show frames late until the next recomputation.
    if (this.followShifts && excessMs > this.valueMs && this.previousMs > this.valueMs) this.valueMs = Math.min(excessMs, this.previousMs, MAX_SYSTEMATIC_MS);
    this.previousMs = excessMs;
    if (++this.samples % this.every !== 0) return;
    const measured = Math.max(this.floorMs, this.excess.percentile(this.percentile) ?? 0);
    const gap = this.valueMs - measured;
    const step = gap > TRANSIENT_GAP_MS || this.provisional ? Math.min(JITTER_DECAY_MAX_MS, Math.max(JITTER_DECAY_MIN_MS, gap * JITTER_DECAY_SHARE)) : JITTER_DECAY_MIN_MS;
    this.valueMs = gap <= 0 ? measured : this.valueMs - Math.min(gap, step);
    if (this.valueMs <= measured) this.provisional = false;
  }

  get ms(): number {
    return this.valueMs;
  }

  /** Set, not measured: at least `ms` now, brought down to what is measured as after warming up. */
  raiseTo(ms: number): void {
    if (ms <= this.valueMs) return;
    this.valueMs = Math.min(ms, MAX_WARMUP_MS);
    this.provisional = true;
  }

}

/**
 * When something captured at a given instant on the sender's clock should
 * be played or shown here: the sender's capture clock (µs mod 2^32) mapped
 * onto the local clock (ms) by the fastest sound packet seen lately (the
 * path's delay plus the clocks' unknown offset), plus what each track needs
 * beyond that: the sound its arrival jitter and the device's margin, the
 * picture the time its frames take to arrive whole and be decoded. The
 * larger wins, so sound and picture captured together are heard and seen
 * together. The fastest transit is taken over a sliding window, so a sender
 * clock that runs fast or slow is followed. Pure: given the local time.
 */
export class PlayoutClock {
  private readonly options: PlayoutClockOptions;
  private base: { captureUs: number; localMs: number } | undefined;
  /** When the first sound packet arrived (local ms). */
  private firstMs: number | undefined;
  /** (arrival, transit) pairs, transit increasing from front to back: the front is the window's fastest. */
  private readonly fastest: { atMs: number; transitMs: number }[] = [];
  private readonly sound: Allowance;
  /**
   * The path's delay as the clock uses it: the window's fastest transit,
   * followed at once when it grows (later sound would be lost) and gently
   * when it shrinks: a receiver busy as the first packets come reads them
   * late, in a burst, so the start looks slow; following the faster ones
   * at once would leave out the sound that came in that burst.
   */
  private transitMs: number | undefined;
  /** The 99.5th percentile: a frame shown late is a flash seen apart from its beep (bench/results/av-picture-p995.md: p95 offsets about halved against the 99th). */
  private readonly picture = new Allowance(0, 0, 99.5, PICTURE_EVERY, PICTURE_SAMPLES, true);
  private pictureCounted = false;
  /** How late the sound's writer may run (a busy process's timers fire late): added to the sound's margin. */
  private slackMs = 0;

  constructor(options: Partial<PlayoutClockOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.sound = new Allowance(STARTING_JITTER_MS, MIN_JITTER_MS, this.options.jitterPercentile, JITTER_EVERY, JITTER_SAMPLES);
  }

  /**
   * A sound packet captured at `captureUs` (sender's clock) arrived at
   * `nowMs` (local clock). One `late` by nature (rebuilt from parity,
   * resent) says how much later sound may come, not how fast the path is.
   */
  arrived(captureUs: number, nowMs: number, late = false): void {
    if (late) {
      const excess = this.excessMs(captureUs, nowMs);
      if (excess !== undefined) this.sound.add(excess, this.warmingUp(nowMs) ? "warming-up" : "systematic");
      return;
    }
    this.firstMs ??= nowMs;
    if (!this.base) this.base = { captureUs, localMs: nowMs };
    else if (Math.abs(this.relativeMs(captureUs)) * 1000 > REBASE_AFTER_US) this.rebase(captureUs);
    const transitMs = nowMs - this.base.localMs - this.relativeMs(captureUs);
    while (this.fastest.length > 0 && this.fastest.at(-1)!.transitMs >= transitMs) this.fastest.pop();
    this.fastest.push({ atMs: nowMs, transitMs });
    while (this.fastest[0]!.atMs < nowMs - this.options.windowMs) this.fastest.shift();
    const fastestMs = this.fastest[0]!.transitMs;
    if (this.transitMs === undefined || fastestMs > this.transitMs) this.transitMs = fastestMs;
    else this.transitMs = Math.max(fastestMs, this.transitMs - Math.max(TRANSIT_DECAY_MS, (this.transitMs - fastestMs) * TRANSIT_DECAY_SHARE));
    this.sound.add(transitMs - this.transitMs, this.warmingUp(nowMs) ? "warming-up" : "sample");
  }

  /** Whether `nowMs` falls in the first WARMUP_MS after the first sound packet (the receiver still warming up). */
  warmingUp(nowMs: number): boolean {
    return this.firstMs !== undefined && nowMs - this.firstMs < WARMUP_MS;
  }

  /** The sound's writer runs up to `ms` late (its timer's lateness, measured): the device's queue must hold that much more. */
  set writerSlackMs(ms: number) {
    this.slackMs = Math.max(0, ms);
  }

  /**
   * The sound's first packet was queued `lateMs` after its playout time
   * (the receiver busy as it starts): everything plays that much later, as
   * when warming up (raised at once, brought back down gently).
   */
  startedLate(lateMs: number): void {
    if (lateMs > 0) this.sound.raiseTo(this.delayMs + lateMs - this.options.marginMs - this.slackMs);
  }

  /** A frame captured at `captureUs` is decoded and ready to show at `nowMs`: how long the picture takes counts too. */
  pictureReady(captureUs: number, nowMs: number): void {
    const excess = this.excessMs(captureUs, nowMs);
    if (excess === undefined) return;
    this.picture.add(excess, this.warmingUp(nowMs) ? "warming-up" : "sample");
    this.pictureCounted = true;
  }

  /**
   * Whether sound should still wait for the first frame at `nowMs`: no
   * frame's readiness counted yet (the delay says nothing yet of what the
   * picture needs), and less than `maxWaitMs` since the first sound packet.
   */
  awaitsPicture(nowMs: number, maxWaitMs: number): boolean {
    return !this.pictureCounted && this.firstMs !== undefined && nowMs - this.firstMs < maxWaitMs;
  }

  /** Local time (ms) at which what was captured at `captureUs` plays; undefined before anything arrived. */
  playoutMs(captureUs: number): number | undefined {
    if (!this.base || this.transitMs === undefined) return undefined;
    return this.base.localMs + this.relativeMs(captureUs) + this.transitMs + this.delayMs;
  }

  /** How long after the fastest sound packets things play: the larger of what the sound and the picture need. */
  get delayMs(): number {
    return Math.max(this.sound.ms + this.options.marginMs + this.slackMs, this.picture.ms + PICTURE_MARGIN_MS);
  }

  /** How much later than the path's delay something captured at `captureUs` came (undefined before any sound). */
  private excessMs(captureUs: number, nowMs: number): number | undefined {
    if (!this.base || this.transitMs === undefined) return undefined;
    return nowMs - this.base.localMs - this.relativeMs(captureUs) - this.transitMs;
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
