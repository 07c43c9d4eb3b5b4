import { FrameClock } from "../pacer/frame-clock.ts";
import type { WireFormat } from "../packetizer/wire-format.ts";
import { round } from "../util/round.ts";

/** Share of each frame interval over which its datagrams are spread: most of it, with slack for timer jitter. */
export const SPREAD_SHARE = 0.7;
/** A frame later than this (or one interval, if longer) is skipped: a hiccup is absorbed, a sustained overload is not. */
export const LATE_SLACK_MS = 50;

export interface SendSessionOptions {
  /** Frames per second to pace at; undefined sends each frame as soon as it is encoded (--fps max, live sources). */
  fps: number | undefined;
  /** Send each frame in one burst instead of spreading it over its interval. */
  lowLatency: boolean;
  wire: WireFormat;
}

export type FrameDecision =
  /** Too far behind: sending it would only delay every later frame. */
  | { kind: "skip" }
  /**
   * Frame number `index`'s datagrams, to be spread over `windowMs` (0: at once);
   * `lateMs`: how long after its capture time it goes out (the sender's own
   * lag, which the receiver sees as one-way delay).
   */
  | { kind: "send"; index: number; datagrams: Uint8Array[]; windowMs: number; lateMs: number };

export interface SendCounts {
  protocol: string;
  /** Frames sent. */
  frames: number;
  /** Frames not sent because the sender had fallen more than a frame interval behind (CPU or --max-rate). */
  framesSkipped: number;
  /** Frames not sent because rate adaptation lowered the frame rate, or left them out until the probe was answered. */
  framesSkippedForRate: number;
  /** JPEG bytes of the frames sent. */
  payloadBytes: number;
  /** Headers and parity beyond the JPEGs, as a percentage of them (whether or not the OS took every datagram). */
  overheadPercent: number;
  /** Parity of the last frame sent, % of its data. */
  fecPercent: number;
}

/**
 * One sender's pacing and counts, socket-free and given the time: when
 * frame number `index` is due, whether a late one is skipped, how long its
 * datagrams may be spread over, what capture time it carries. The caller
 * numbers the frames (SendPipeline keeps the one counter); a number never
 * comes back, so the clock follows the source even when frames are left out.
 * The clock starts when the first frame is ready, not when the source was
 * opened: otherwise start-up time would make the first frames late and they
 * would go out in a burst.
 */
export class SendSession {
  private clock: FrameClock | undefined;
  private startMs = 0;
  private startUs = 0;
  private started = false;
  /** One past the highest frame number seen, sent or skipped: how far into the source the stream is. */
  private next = 0;
  private sent = 0;
  private skipped = 0;
  private skippedForRate = 0;
  private payloadBytes = 0;
  private wireBytes = 0;
  private lastParityPercent = 0;

  constructor(private readonly options: SendSessionOptions) {}

  /** When frame number `index` is due (undefined when unpaced). The first call starts the stream's clock. */
  dueMs(index: number, nowMs: number, nowUs: number): number | undefined {
    if (!this.started) {
      this.started = true;
      this.startMs = nowMs;
      this.startUs = nowUs;
      if (this.options.fps !== undefined) this.clock = new FrameClock(this.options.fps, nowMs);
    }
    return this.clock?.dueMs(index);
  }

  /** Frame number `index`, encoded, at `nowMs` (once its due time has come): skip it, or send its datagrams with `parityPercent` parity. */
  frame(index: number, jpeg: Uint8Array, nowMs: number, nowUs: number, parityPercent: number): FrameDecision {
    const dueMs = this.dueMs(index, nowMs, nowUs);
    this.next = Math.max(this.next, index + 1);
    // Capture time is the frame's presentation instant on this sender's clock, as a camera would stamp it.
    let captureTimeUs = nowUs;
    let windowMs = 0;
    let lateMs = 0;
    if (this.clock && dueMs !== undefined) {
      lateMs = Math.max(0, nowMs - dueMs);
      captureTimeUs = this.startUs + Math.round((dueMs - this.startMs) * 1000);
      if (nowMs > dueMs + Math.max(this.clock.intervalMs, LATE_SLACK_MS)) {
        this.skipped++;
        return { kind: "skip" };
      }
      if (!this.options.lowLatency) windowMs = Math.max(0, Math.min(this.clock.intervalMs * SPREAD_SHARE, this.clock.dueMs(index + 1) - nowMs));
    }
    const parity = this.options.wire.carriesParity ? parityPercent : 0;
    const datagrams = this.options.wire.packetize(jpeg, index, captureTimeUs, parity);
    this.sent++;
    this.lastParityPercent = parity;
    this.payloadBytes += jpeg.length;
    for (const d of datagrams) this.wireBytes += d.length;
    return { kind: "send", index, datagrams, windowMs, lateMs };
  }

  /** Frame number `index` is left out, for rate (a lowered frame rate, or the probe not yet answered). Its time slot passes unused. */
  skipForRate(index: number): void {
    this.next = Math.max(this.next, index + 1);
    this.skippedForRate++;
  }

  /** When the last frame's interval on screen ends: a 10 s file takes 10 s. Undefined when unpaced. */
  endDueMs(): number | undefined {
    return this.clock?.dueMs(this.next);
  }

  /** The datagrams that tell receivers the stream is over. */
  endOfStream(nowUs: number): Uint8Array[] {
    return this.options.wire.endOfStream(this.next, nowUs);
  }

  /** When the stream's clock started (the first frame's due time, locally and on the wall clock), once it has: what sound is placed against. */
  get start(): { ms: number; us: number } | undefined {
    return this.started ? { ms: this.startMs, us: this.startUs } : undefined;
  }

  /** Seconds since the first frame was ready. */
  elapsedSeconds(nowMs: number): number {
    return this.started ? (nowMs - this.startMs) / 1000 : 0;
  }

  /** Frames taken from the source, sent or skipped: how far into the source the stream is. */
  get position(): number {
    return this.next;
  }

  counts(): SendCounts {
    const { payloadBytes, wireBytes } = this;
    return {
      protocol: this.options.wire.protocol,
      frames: this.sent,
      framesSkipped: this.skipped,
      framesSkippedForRate: this.skippedForRate,
      payloadBytes,
      overheadPercent: payloadBytes > 0 ? round((100 * (wireBytes - payloadBytes)) / payloadBytes, 1) : 0,
      fecPercent: this.lastParityPercent,
    };
  }
}
