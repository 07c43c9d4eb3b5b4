import { deserializeRtp } from "../protocol/rtp.ts";
import { RtpJpegReassembler } from "./rtp-jpeg-reassembler.ts";
import { NO_COUNTS, type AssemblerEvent, type DatagramReassembler, type ReassemblyCounts } from "./datagram-reassembler.ts";

/** RTP/JPEG (RFC 2435) datagrams, parsed and put together into frames; loss and order counted by sequence number. */
export class RtpJpegDatagramReassembler implements DatagramReassembler {
  private readonly reassembler: RtpJpegReassembler;

  constructor(maxFrameBytes: number) {
    this.reassembler = new RtpJpegReassembler({ maxFrameBytes, maxBufferedBytes: maxFrameBytes });
  }

  push(datagram: Uint8Array, nowMs: number): AssemblerEvent[] {
    const frame = this.reassembler.push(deserializeRtp(datagram), nowMs);
    return frame ? [{ kind: "frame", frame: { protocol: "rtp", jpeg: frame.jpeg } }] : [];
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
