interface SentFrame {
  frameNumber: number;
  /** The frame's datagrams as sent, in send order: index = send position. */
  datagrams: readonly Uint8Array[];
  startMs: number;
  endMs: number;
  bytes: number;
  /** Send positions resent, when last and how often: an echo of a resent datagram times the round trip from its resend. */
  resends?: Map<number, { atMs: number; times: number }>;
}

/**
 * The datagrams a sender sent lately, capped in bytes, so that it can resend
 * what a receiver lost byte for byte (a sealed datagram resent as it was
 * never reuses a nonce) and time the round trip from a report's echo.
 */
export class RetransmitHistory {
  /** Oldest first; a Map keeps insertion order, and finds a frame without a scan (a NACK flood must stay cheap). */
  private readonly frames = new Map<number, SentFrame>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** A frame's datagrams went out between startMs and endMs (spread by the pacer). */
  record(frameNumber: number, datagrams: readonly Uint8Array[], startMs: number, endMs: number): void {
    const bytes = datagrams.reduce((sum, d) => sum + d.length, 0);
    const replaced = this.frames.get(frameNumber);
    if (replaced) {
      this.bytes -= replaced.bytes;
      this.frames.delete(frameNumber);
    }
    this.frames.set(frameNumber, { frameNumber, datagrams, startMs, endMs, bytes });
    this.bytes += bytes;
    while (this.bytes > this.maxBytes && this.frames.size > 1) {
      const [oldest, frame] = this.frames.entries().next().value!;
      this.frames.delete(oldest);
      this.bytes -= frame.bytes;
    }
  }

  /** The datagram at `position` of frame `frameNumber`, if still held. */
  datagram(frameNumber: number, position: number): Uint8Array | undefined {
    return this.frames.get(frameNumber)?.datagrams[position];
  }

  /** The datagram at `position` of frame `frameNumber` went out again at `nowMs`. */
  resent(frameNumber: number, position: number, nowMs: number): void {
    const frame = this.frames.get(frameNumber);
    if (!frame || position >= frame.datagrams.length) return;
    const resends = (frame.resends ??= new Map());
    resends.set(position, { atMs: nowMs, times: (resends.get(position)?.times ?? 0) + 1 });
  }

  /** How often that datagram was resent already. */
  timesResent(frameNumber: number, position: number): number {
    return this.frames.get(frameNumber)?.resends?.get(position)?.times ?? 0;
  }

  /** About when that datagram last went out (the pacer spreads a frame evenly over its window; a resend is its own time). */
  sentAtMs(frameNumber: number, position: number): number | undefined {
    const frame = this.frames.get(frameNumber);
    if (!frame || position >= frame.datagrams.length) return undefined;
    const resent = frame.resends?.get(position);
    if (resent !== undefined) return resent.atMs;
    const share = frame.datagrams.length > 1 ? position / (frame.datagrams.length - 1) : 1;
    return frame.startMs + share * (frame.endMs - frame.startMs);
  }

  get heldBytes(): number {
    return this.bytes;
  }
}
