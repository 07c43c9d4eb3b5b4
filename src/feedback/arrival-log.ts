import { ahead32 } from "../protocol/serial-number.ts";
import { linearTrend } from "../util/linear-trend.ts";

/** One-way delay samples kept for the trend: about the last second of frames. */
const TREND_WINDOW_MS = 1000;
const MAX_TREND_SAMPLES = 256;

/**
 * What the receiver logs of each datagram of the stream it follows, for its
 * reports: the newest arrival (echoed, so the sender can time the round
 * trip), bytes for the receive rate, and each frame's first arrival against
 * its capture time for the one-way delay trend. Pure: given the time.
 */
export class ArrivalLog {
  private newest: { frameNumber: number; position: number; atMs: number } | undefined;
  private bytesSinceMark = 0;
  private markMs: number | undefined;
  private lastFrame: number | undefined;
  /** (arrival ms, one-way delay µs relative to the first sample), per frame's first datagram. */
  private readonly delays: { atMs: number; value: number }[] = [];
  private base: { atMs: number; captureUs: number } | undefined;

  arrived(frameNumber: number, position: number, captureTimeUs: number, bytes: number, nowMs: number): void {
    this.newest = { frameNumber, position, atMs: nowMs };
    this.bytesSinceMark += bytes;
    this.markMs ??= nowMs;
    if (frameNumber === this.lastFrame) return;
    this.lastFrame = frameNumber;
    this.base ??= { atMs: nowMs, captureUs: captureTimeUs };
    // The clocks' offset is unknown but constant: only the change in delay matters.
    const sinceCaptureUs = ahead32(captureTimeUs, this.base.captureUs);
    if (sinceCaptureUs >= 0x8000_0000) return; // a frame captured before the base: out of order, skip
    this.delays.push({ atMs: nowMs, value: (nowMs - this.base.atMs) * 1000 - sinceCaptureUs });
    while (this.delays.length > MAX_TREND_SAMPLES || (this.delays.length > 2 && nowMs - this.delays[0]!.atMs > TREND_WINDOW_MS)) this.delays.shift();
  }

  /** The newest datagram and how long ago it came, for the report's echo. */
  echo(nowMs: number): { frameNumber: number; position: number; holdUs: number } | undefined {
    return this.newest && { frameNumber: this.newest.frameNumber, position: this.newest.position, holdUs: (nowMs - this.newest.atMs) * 1000 };
  }

  /** Bytes per second since the previous call (the report interval); starts a new interval. */
  takeReceiveRate(nowMs: number): number {
    const since = this.markMs;
    const bytes = this.bytesSinceMark;
    this.markMs = nowMs;
    this.bytesSinceMark = 0;
    return since === undefined || nowMs <= since ? 0 : (bytes * 1000) / (nowMs - since);
  }

  /** How fast the one-way delay changes, µs per second (least squares over the last second): > 0 while a queue builds. */
  delayTrendUsPerS(): number {
    return linearTrend(this.delays) * 1000; // µs per ms → µs per s
  }

  /** A new stream: nothing of the old one applies. */
  reset(): void {
    this.newest = undefined;
    this.bytesSinceMark = 0;
    this.markMs = undefined;
    this.lastFrame = undefined;
    this.delays.length = 0;
    this.base = undefined;
  }
}
