import { classifyDatagram, type WireProtocol } from "../protocol/classify.ts";
import { deserializeLegacy } from "../protocol/legacy.ts";
import { ProtocolError, type ProtocolErrorCode } from "../protocol/protocol-error.ts";
import { deserializeV2 } from "../protocol/v2.ts";
import { openV2 } from "../protocol/v2-seal.ts";
import { LegacyReassembler } from "./legacy-reassembler.ts";
import { V2Reassembler, type V2Event, type V2ReassemblerOptions } from "./v2-reassembler.ts";
import { RtpJpegReassembler } from "./rtp-jpeg-reassembler.ts";
import { deserializeRtp } from "../protocol/rtp.ts";

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
  /** Cap on all bytes held for frames being assembled, both protocols together. */
  maxMemoryBytes: number;
  v2?: Partial<V2ReassemblerOptions>;
  /** Pre-shared AES-256 key: only sealed v2 datagrams that authenticate under it are accepted. */
  key?: Uint8Array;
  /** Only datagrams from this source address are accepted. */
  allowFrom?: string;
}

/** Largest frame either protocol may assemble (v2's 24-bit length field allows 16 MiB), and at most a quarter of the memory cap. */
export function maxFrameBytesFor(maxMemoryBytes: number): number {
  return Math.min(16 * 1024 * 1024, Math.floor(maxMemoryBytes / 4));
}

/** "::ffff:10.0.0.1" and "10.0.0.1" are the same sender. */
export function normalizeAddress(address: string): string {
  return address.toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
}

/**
 * Takes raw datagrams of either protocol, datagram by datagram, and turns
 * them into whole frames. Pure: no sockets, the caller passes the clock.
 * Every datagram that is refused is counted by reason.
 */
export class StreamAssembler {
  readonly legacy: LegacyReassembler;
  readonly v2: V2Reassembler;
  readonly rtp: RtpJpegReassembler;
  readonly stats = {
    datagramsReceived: 0,
    bytesReceived: 0,
    datagramsRejected: 0,
    rejectedByReason: {} as Partial<Record<ProtocolErrorCode, number>>,
  };

  private readonly key: Uint8Array | undefined;
  private readonly allowFrom: string | undefined;

  constructor(options: StreamAssemblerOptions) {
    // Legacy holds one frame at most, RTP/JPEG gets as much again; v2 gets the rest of the cap.
    const maxFrameBytes = maxFrameBytesFor(options.maxMemoryBytes);
    this.legacy = new LegacyReassembler({ maxFrameBytes });
    this.rtp = new RtpJpegReassembler({ maxFrameBytes, maxBufferedBytes: maxFrameBytes });
    this.v2 = new V2Reassembler({ maxBufferedBytes: options.maxMemoryBytes - 2 * maxFrameBytes, ...options.v2 });
    this.key = options.key;
    this.allowFrom = options.allowFrom === undefined ? undefined : normalizeAddress(options.allowFrom);
  }

  /** Feeds one datagram (from `source`, when known); returns the frames it completed and the end of stream, if it signalled one. */
  push(datagram: Uint8Array, nowMs: number, source?: string): AssemblerEvent[] {
    this.stats.datagramsReceived++;
    this.stats.bytesReceived += datagram.length;
    try {
      if (this.allowFrom !== undefined && (source === undefined || normalizeAddress(source) !== this.allowFrom)) {
        throw new ProtocolError("stranger", `datagram from ${source}, not from ${this.allowFrom}`);
      }
      switch (classifyDatagram(datagram)) {
        case "legacy": {
          if (this.key) throw new ProtocolError("not-sealed", "the legacy protocol cannot be authenticated");
          const jpeg = this.legacy.push(deserializeLegacy(datagram));
          return jpeg ? [{ kind: "frame", frame: { protocol: "legacy", jpeg } }] : [];
        }
        case "v2":
          return this.pushV2(datagram, nowMs);
        case "rtp": {
          if (this.key) throw new ProtocolError("not-sealed", "RTP/JPEG cannot be authenticated");
          const frame = this.rtp.push(deserializeRtp(datagram), nowMs);
          return frame ? [{ kind: "frame", frame: { protocol: "rtp", jpeg: frame.jpeg } }] : [];
        }
        default:
          throw new ProtocolError(datagram.length === 0 ? "empty" : "unknown-protocol", "not a udpvid datagram");
      }
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.reject(error.code);
      return [];
    }
  }

  private pushV2(datagram: Uint8Array, nowMs: number): AssemblerEvent[] {
    const packet = deserializeV2(datagram);
    if (!this.key) {
      if (packet.sealed) throw new ProtocolError("sealed-no-key", "the stream is encrypted and this receiver has no key");
      return fromV2(this.v2.push(packet, nowMs));
    }
    if (!packet.sealed) throw new ProtocolError("not-sealed", "a plain datagram at a receiver that requires a key");
    const staleBefore = this.v2.staleChunks;
    const events = fromV2(this.v2.push(openV2(datagram, packet, this.key), nowMs));
    // With a key, anything authentic but already used is refused as a possible replay.
    if (this.v2.staleChunks > staleBefore) this.reject("stale");
    return events;
  }

  private reject(code: ProtocolErrorCode): void {
    this.stats.datagramsRejected++;
    this.stats.rejectedByReason[code] = (this.stats.rejectedByReason[code] ?? 0) + 1;
  }

  expire(nowMs: number): AssemblerEvent[] {
    return fromV2(this.v2.expire(nowMs));
  }

  /** Frames completed by either reassembler. */
  get framesReceived(): number {
    return this.legacy.stats.framesCompleted + this.v2.stats.framesCompleted + this.rtp.stats.framesCompleted;
  }

  get framesDroppedIncomplete(): number {
    return this.legacy.stats.framesDroppedIncomplete + this.legacy.stats.framesDroppedOversized + this.v2.stats.framesDroppedIncomplete + this.rtp.stats.framesDroppedIncomplete;
  }

  get bufferedBytes(): number {
    return this.legacy.bufferedBytes + this.v2.bufferedBytes + this.rtp.bufferedBytes;
  }

  toJSON() {
    return { ...this.stats, legacy: this.legacy.toJSON(), v2: this.v2.toJSON(), rtp: this.rtp.toJSON() };
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
