import { ahead32, forward32, isNewer32 } from "../protocol/serial-number.ts";

/** Stream ids that were taken over are remembered so their stray (or replayed) datagrams never take over again. */
const RETIRED_STREAMS = 64;

export type StreamVerdict =
  /** The stream being followed. */
  | "current"
  /** A new stream, now followed (the first, or one taking over a finished or silent stream). */
  | "new"
  /** Another stream's datagram while the current one is live, an old stream's, or a stray end marker: ignore it. */
  | "foreign";

/**
 * Which v2 stream the receiver follows. A different stream id takes over once
 * the current stream has ended or been silent for three of its frame
 * intervals (clamped to `switchAfterMs`): a restarted sender is followed at
 * once, and two live senders on one port do not make the picture flap.
 */
export class StreamFollower {
  private streamId: number | undefined;
  private ended = false;
  private lastActivityMs = -Infinity;
  private readonly retired: number[] = [];
  /** Mean capture-time gap between consecutive frames of this stream (EWMA), once two have been seen. */
  private frameIntervalMs: number | undefined;
  private lastCapture: { frameNumber: number; captureTimeUs: number } | undefined;
  streams = 0;

  constructor(private readonly switchAfterMs: { min: number; max: number }) {}

  get current(): number | undefined {
    return this.streamId;
  }

  get hasEnded(): boolean {
    return this.ended;
  }

  /** How long the current stream must be silent before another may take over. */
  get silenceBeforeSwitchMs(): number {
    const { min, max } = this.switchAfterMs;
    return this.frameIntervalMs === undefined ? max : Math.min(max, Math.max(min, 3 * this.frameIntervalMs));
  }

  /** Decides what a datagram of `streamId` is, and notes the activity of the stream it belongs to. */
  judge(streamId: number, endOfStream: boolean, nowMs: number): StreamVerdict {
    let verdict: StreamVerdict = "current";
    if (streamId !== this.streamId) {
      const live = this.streamId !== undefined && !this.ended && nowMs - this.lastActivityMs < this.silenceBeforeSwitchMs;
      // Stray end datagrams of an old stream must not start a "new" one, nor may a stream that was over.
      if (live || endOfStream || this.retired.includes(streamId)) return "foreign";
      this.follow(streamId);
      verdict = "new";
    }
    this.lastActivityMs = nowMs;
    return verdict;
  }

  /** The current stream sent its end marker. Returns false if it had already. */
  end(): boolean {
    if (this.ended) return false;
    this.ended = true;
    return true;
  }

  /** A frame of the current stream was handed on: its capture time refines the frame interval. */
  noteFrame(frameNumber: number, captureTimeUs: number): void {
    const previous = this.lastCapture;
    this.lastCapture = { frameNumber, captureTimeUs };
    if (!previous || !isNewer32(frameNumber, previous.frameNumber)) return;
    const frames = ahead32(frameNumber, previous.frameNumber);
    const gapUs = forward32(captureTimeUs, previous.captureTimeUs);
    if (gapUs === undefined) return; // captured before the previous one: no estimate from this pair
    const gapMs = gapUs / 1000 / frames;
    if (!(gapMs > 0 && gapMs < 10_000)) return; // clocks apart: no estimate from this pair
    this.frameIntervalMs = this.frameIntervalMs === undefined ? gapMs : 0.8 * this.frameIntervalMs + 0.2 * gapMs;
  }

  private follow(streamId: number): void {
    if (this.streamId !== undefined) {
      this.retired.push(this.streamId);
      if (this.retired.length > RETIRED_STREAMS) this.retired.shift();
    }
    this.streamId = streamId;
    this.ended = false;
    this.frameIntervalMs = undefined;
    this.lastCapture = undefined;
    this.streams++;
  }
}
