import { forward32, isNewer32 } from "../protocol/serial-number.ts";
import { linearTrend } from "../util/linear-trend.ts";

/** One-way delay samples kept for the trend: about the last second of frames. */
const TREND_WINDOW_MS = 1000;
const MAX_TREND_SAMPLES = 256;
/** A frame's delivery rate is measured from this many datagrams up: fewer say little about the path. */
const MIN_TRAIN_DATAGRAMS = 4;
/** Arrivals kept per frame (a 1080p frame at quality 80 is about 250 datagrams). */
const MAX_TRAIN_DATAGRAMS = 2048;

/**
 * How fast a frame's datagrams came: over the second half of them, the bytes
 * after its first over the time they took. The first half is left out: a
 * token bucket (tc's tbf, a policer) lets its burst allowance through at line
 * rate and only then holds the rest to its rate. Undefined when too few came,
 * or all at once.
 */
function trainRate(train: { atMs: number[]; bytes: number[] }): number | undefined {
  const n = train.atMs.length;
  if (n < MIN_TRAIN_DATAGRAMS) return undefined;
  const middle = Math.floor(n / 2);
  const spanMs = train.atMs[n - 1]! - train.atMs[middle]!;
  if (spanMs <= 0) return undefined;
  let bytes = 0;
  for (let i = middle + 1; i < n; i++) bytes += train.bytes[i]!;
  return (bytes * 1000) / spanMs;
}

/**
 * What the receiver logs of each datagram of the stream it follows, for its
 * reports: the newest arrival (echoed, so the sender can time the round
 * trip), bytes for the receive rate, and each frame's first arrival against
 * its capture time for the one-way delay trend, and how fast each frame's
 * datagrams came (the path's delivery rate, at least as fast as they were
 * sent). Pure: given the time.
 */
export class ArrivalLog {
  private newest: { frameNumber: number; position: number; atMs: number } | undefined;
  private bytesSinceMark = 0;
  private markMs: number | undefined;
  private lastFrame: number | undefined;
  /** (arrival ms, one-way delay µs relative to the first sample), per frame's first datagram. */
  private readonly delays: { atMs: number; value: number }[] = [];
  private base: { atMs: number; captureUs: number } | undefined;
  /** The newest frame's datagrams so far (arrival times and sizes), for its delivery rate (a packet train's dispersion). */
  private train: { frameNumber: number; lastPosition: number; atMs: number[]; bytes: number[] } | undefined;
  /** The fastest delivery of a frame since the last report, bytes per second (0: none measured). */
  private fastestDelivery = 0;
  private firstArrivalMs: number | undefined;

  arrived(frameNumber: number, position: number, captureTimeUs: number, bytes: number, nowMs: number): void {
    this.newest = { frameNumber, position, atMs: nowMs };
    this.bytesSinceMark += bytes;
    this.markMs ??= nowMs;
    this.firstArrivalMs ??= nowMs;
    this.extendTrain(frameNumber, position, bytes, nowMs);
    // One sample per frame, from its first datagram: a resend of an older frame comes a round trip late, and on a
    // lossy link such samples made a queue of the repairs (and the next datagram of the newer frame a second sample).
    if (this.lastFrame !== undefined && !isNewer32(frameNumber, this.lastFrame)) return;
    this.lastFrame = frameNumber;
    this.base ??= { atMs: nowMs, captureUs: captureTimeUs };
    // The clocks' offset is unknown but constant: only the change in delay matters.
    const sinceCaptureUs = forward32(captureTimeUs, this.base.captureUs);
    if (sinceCaptureUs === undefined) return; // a frame captured before the base: out of order, skip
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

  /** A frame was handed on whole: its train is complete, and measured now rather than when the next frame starts. */
  frameDone(frameNumber: number): void {
    if (this.train?.frameNumber === frameNumber) this.closeTrain();
  }

  /** The fastest frame delivery since the previous call, bytes per second (0: none measured); starts a new interval. */
  takeDeliveryRate(): number {
    // Nothing closed yet (the first frame still coming in, its tail perhaps lost to a full queue): what came of it so far.
    if (this.fastestDelivery === 0 && this.train) this.fastestDelivery = trainRate(this.train) ?? 0;
    const fastest = this.fastestDelivery;
    this.fastestDelivery = 0;
    return fastest;
  }

  /** Whether a delivery rate waits to be reported: the first report waits for one (the sender's probe). */
  get deliveryMeasured(): boolean {
    return this.fastestDelivery > 0;
  }

  /** How long ago the stream's first datagram came (undefined before it). */
  sinceFirstArrivalMs(nowMs: number): number | undefined {
    return this.firstArrivalMs === undefined ? undefined : nowMs - this.firstArrivalMs;
  }

  private extendTrain(frameNumber: number, position: number, bytes: number, nowMs: number): void {
    const train = this.train;
    if (train && train.frameNumber === frameNumber) {
      // Only datagrams in send order: one that comes after a later one is a resend (or reordered), a round trip late.
      if (position <= train.lastPosition) return;
      train.lastPosition = position;
      if (train.atMs.length < MAX_TRAIN_DATAGRAMS) {
        train.atMs.push(nowMs);
        train.bytes.push(bytes);
      }
      return;
    }
    // Only a newer frame starts a train: a resend of an older one arrives on its own.
    if (train && isNewer32(train.frameNumber, frameNumber)) return;
    this.closeTrain();
    this.train = { frameNumber, lastPosition: position, atMs: [nowMs], bytes: [bytes] };
  }

  private closeTrain(): void {
    const rate = this.train && trainRate(this.train);
    this.train = undefined;
    if (rate !== undefined) this.fastestDelivery = Math.max(this.fastestDelivery, rate);
  }

  /** A new stream: nothing of the old one applies. */
  reset(): void {
    this.newest = undefined;
    this.bytesSinceMark = 0;
    this.markMs = undefined;
    this.lastFrame = undefined;
    this.delays.length = 0;
    this.base = undefined;
    this.train = undefined;
    this.fastestDelivery = 0;
    this.firstArrivalMs = undefined;
  }
}
