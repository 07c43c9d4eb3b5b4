import { deserializeRtp, RTP_JPEG_CLOCK_HZ } from "../protocol/rtp.ts";
import type { RtpCaptureClock } from "./rtp-capture-clock.ts";
import { RtpJpegReassembler } from "./rtp-jpeg-reassembler.ts";
import { NO_COUNTS, type AssemblerEvent, type DatagramReassembler, type ReassemblyCounts } from "./datagram-reassembler.ts";

/**
 * RTP/JPEG (RFC 2435) datagrams, parsed and put together into frames; loss
 * and order counted by sequence number. Each frame is timed on the capture
 * clock an RTP sound beside it shares (anchored at the stream's first packet).
 */
export class RtpJpegDatagramReassembler implements DatagramReassembler {
  private readonly reassembler: RtpJpegReassembler;

  constructor(
    maxFrameBytes: number,
    private readonly clock: RtpCaptureClock,
  ) {
    this.reassembler = new RtpJpegReassembler({ maxFrameBytes, maxBufferedBytes: maxFrameBytes });
  }

  push(datagram: Uint8Array, nowMs: number): AssemblerEvent[] {
    const packet = deserializeRtp(datagram);
    const frame = this.reassembler.push(packet, nowMs);
    // Anchored on the stream's first packet that was taken, not its first whole frame (which came later by its own spread).
    const captureTimeUs = this.clock.captureUs(packet.ssrc, frame?.timestamp ?? packet.timestamp, RTP_JPEG_CLOCK_HZ, nowMs * 1000);
    return frame ? [{ kind: "frame", frame: { protocol: "rtp", jpeg: frame.jpeg, captureTimeUs, captureAnchoredOnArrival: !this.clock.onSenderClock(packet.ssrc) } }] : [];
  }

  expire(): AssemblerEvent[] {
    return [];
  }

  counts(): ReassemblyCounts {
    const s = this.reassembler.stats;
    return {
      ...NO_COUNTS,
      datagramsExpected: s.packets + s.packetsLost,
      datagramsLost: s.packetsLost,
      datagramsDuplicated: s.packetsDuplicate,
      datagramsReordered: s.packetsReordered,
      datagramsLate: s.packetsLate,
      framesCompleted: s.framesCompleted,
      framesDroppedIncomplete: s.framesDroppedIncomplete,
    };
  }

  get bufferedBytes(): number {
    return this.reassembler.bufferedBytes;
  }

  toJSON() {
    return this.reassembler.toJSON();
  }
}
