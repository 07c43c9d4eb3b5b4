/** Streams whose anchors are remembered at once (a picture and a sound, and a few past runs). */
const MAX_STREAMS = 8;
/** Past this many ticks from its anchor a stream is re-anchored (well inside the signed 32-bit distance). */
const REANCHOR_TICKS = 0x4000_0000;

/**
 * RTP streams' timestamps on one capture clock (µs, mod 2^32), so a sound
 * and a picture sent as two RTP streams can be played together. A stream
 * (by SSRC) is anchored by its sender's RTCP reports when they come (the
 * sender's wall clock: its streams line up exactly), else where its first
 * packet arrived, its timestamps counted on from there at its clock rate:
 * streams that start together then line up up to the difference in their
 * first packets' transit and the sender's start. Pure: given the arrival time.
 */
export class RtpCaptureClock {
  private readonly anchors = new Map<number, { timestamp: number; us: number; bySender?: true }>();

  /**
   * A sender report (RTCP) pairs stream `ssrc`'s `rtpTimestamp` with the
   * sender's wall clock (`wallClockUs`): the stream is anchored there from now on,
   * so streams of one sender line up exactly, whatever their first packets'
   * transit.
   */
  senderReport(ssrc: number, rtpTimestamp: number, wallClockUs: number): void {
    this.anchors.delete(ssrc);
    this.anchors.set(ssrc, { timestamp: rtpTimestamp >>> 0, us: Math.round(wallClockUs) >>> 0, bySender: true });
    if (this.anchors.size > MAX_STREAMS) this.anchors.delete(this.anchors.keys().next().value!);
  }

  /** Whether stream `ssrc` is timed by its sender's reports (else by where it arrived: its capture times say nothing of latency). */
  onSenderClock(ssrc: number): boolean {
    return this.anchors.get(ssrc)?.bySender === true;
  }

  /** The capture time (µs mod 2^32) of `timestamp` (at `rateHz`) on stream `ssrc`, a packet of which arrived at `arrivalUs`. */
  captureUs(ssrc: number, timestamp: number, rateHz: number, arrivalUs: number): number {
    let anchor = this.anchors.get(ssrc);
    if (!anchor) {
      anchor = { timestamp: timestamp >>> 0, us: Math.round(arrivalUs) >>> 0 };
      this.anchors.set(ssrc, anchor);
      if (this.anchors.size > MAX_STREAMS) this.anchors.delete(this.anchors.keys().next().value!);
    }
    const ticks = (timestamp - anchor.timestamp) | 0;
    const us = (anchor.us + Math.round((ticks * 1e6) / rateHz)) >>> 0;
    if (Math.abs(ticks) > REANCHOR_TICKS) this.anchors.set(ssrc, { ...anchor, timestamp: timestamp >>> 0, us });
    return us;
  }
}
