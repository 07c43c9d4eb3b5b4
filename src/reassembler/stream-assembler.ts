import { classifyDatagram, type WireProtocol } from "../protocol/classify.ts";
import { deserializeLegacy } from "../protocol/legacy.ts";
import { ProtocolError, type ProtocolErrorCode } from "../protocol/protocol-error.ts";
import { deserializeV2 } from "../protocol/v2.ts";
import { LegacyReassembler } from "./legacy-reassembler.ts";
import { V2Reassembler, type V2Event, type V2ReassemblerOptions } from "./v2-reassembler.ts";

export interface AssembledFrame {
  protocol: WireProtocol;
  jpeg: Uint8Array;
  /** v2 only: the sender's frame number and capture time (µs mod 2^32). */
  frameNumber?: number;
  captureTimeUs?: number;
  /** v2 only: FEC filled in lost chunks. */
  recovered?: boolean;
}

export type AssemblerEvent = { kind: "frame"; frame: AssembledFrame } | { kind: "end" };

export interface StreamAssemblerOptions {
  /** Largest frame accepted on either protocol, in bytes. */
  maxFrameBytes: number;
  v2?: Partial<V2ReassemblerOptions>;
}

/**
 * Takes raw datagrams of either protocol, datagram by datagram, and turns
 * them into whole frames. Pure: no sockets, the caller passes the clock.
 * Every datagram that is refused is counted by reason.
 */
export class StreamAssembler {
  readonly legacy: LegacyReassembler;
  readonly v2: V2Reassembler;
  readonly stats = {
    datagramsReceived: 0,
    bytesReceived: 0,
    datagramsRejected: 0,
    rejectedByReason: {} as Partial<Record<ProtocolErrorCode, number>>,
  };

  constructor(options: StreamAssemblerOptions) {
    this.legacy = new LegacyReassembler({ maxFrameBytes: options.maxFrameBytes });
    this.v2 = new V2Reassembler({ maxBufferedBytes: options.maxFrameBytes * 2, ...options.v2 });
  }

  /** Feeds one datagram; returns the frames it completed and the end of stream, if it signalled one. */
  push(datagram: Uint8Array, nowMs: number): AssemblerEvent[] {
    this.stats.datagramsReceived++;
    this.stats.bytesReceived += datagram.length;
    try {
      switch (classifyDatagram(datagram)) {
        case "legacy": {
          const jpeg = this.legacy.push(deserializeLegacy(datagram));
          return jpeg ? [{ kind: "frame", frame: { protocol: "legacy", jpeg } }] : [];
        }
        case "v2":
          return fromV2(this.v2.push(deserializeV2(datagram), nowMs));
        default:
          throw new ProtocolError(datagram.length === 0 ? "empty" : "unknown-protocol", "not a udpvid datagram");
      }
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.stats.datagramsRejected++;
      this.stats.rejectedByReason[error.code] = (this.stats.rejectedByReason[error.code] ?? 0) + 1;
      return [];
    }
  }

  expire(nowMs: number): AssemblerEvent[] {
    return fromV2(this.v2.expire(nowMs));
  }

  /** Frames completed by either reassembler. */
  get framesReceived(): number {
    return this.legacy.stats.framesCompleted + this.v2.stats.framesCompleted;
  }

  get framesDroppedIncomplete(): number {
    return this.legacy.stats.framesDroppedIncomplete + this.legacy.stats.framesDroppedOversized + this.v2.stats.framesDroppedIncomplete;
  }

  get bufferedBytes(): number {
    return this.legacy.bufferedBytes + this.v2.bufferedBytes;
  }

  toJSON() {
    return { ...this.stats, legacy: this.legacy.toJSON(), v2: this.v2.toJSON() };
  }
}

function fromV2(events: V2Event[]): AssemblerEvent[] {
  const out: AssemblerEvent[] = [];
  for (const event of events) {
    if (event.kind === "frame") {
      const { jpeg, frameNumber, captureTimeUs, recovered } = event.frame;
      out.push({ kind: "frame", frame: { protocol: "v2", jpeg, frameNumber, captureTimeUs, recovered } });
    } else if (event.kind === "end") {
      out.push({ kind: "end" });
    }
  }
  return out;
}
