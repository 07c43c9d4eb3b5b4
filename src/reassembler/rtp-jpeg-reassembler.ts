import { ahead16, isNewer16, isNewer32 } from "../protocol/serial-number.ts";
import { buildBaselineJpeg } from "../protocol/jpeg-baseline.ts";
import { quantTablesForQ } from "../protocol/jpeg-tables.ts";
import { ProtocolError } from "../protocol/protocol-error.ts";
import { RTP_PAYLOAD_TYPE_JPEG, type RtpPacket } from "../protocol/rtp.ts";
import { deserializeRtpJpeg, RTP_JPEG_Q_INBAND, type RtpJpegPayload } from "../protocol/rtp-jpeg.ts";
import { PendingFrames } from "./pending-frames.ts";

export interface RtpJpegReassemblerOptions {
  /** Cap on scan bytes held for frames being assembled. */
  maxBufferedBytes: number;
  /** Largest frame (scan bytes) accepted. */
  maxFrameBytes: number;
  /** Frames assembled at once; the oldest incomplete one is dropped for a newer. */
  maxFramesInFlight: number;
  /** Another SSRC takes over once the followed one has been silent this long. */
  takeOverAfterMs: number;
}

export const DEFAULT_RTP_JPEG_OPTIONS: RtpJpegReassemblerOptions = {
  maxBufferedBytes: 48 * 1024 * 1024,
  maxFrameBytes: 16 * 1024 * 1024,
  maxFramesInFlight: 4,
  takeOverAfterMs: 1000,
};

export interface RtpJpegAssembledFrame {
  jpeg: Uint8Array;
  ssrc: number;
  /** 90 kHz RTP timestamp. */
  timestamp: number;
}

/** A frame being collected; keyed by its RTP timestamp. */
interface RtpJpegPendingFrame {
  readonly key: number;
  /** Fragments by offset. */
  fragments: Map<number, Uint8Array>;
  /** Scan bytes held. */
  bytes: number;
  /** What they cost against the memory cap, bookkeeping included (charged by PendingFrames). */
  chargedBytes: number;
  /** The scan's length, known once the marker packet arrives. */
  length?: number;
  /** From the packet at offset 0, which alone carries in-band tables. */
  first?: RtpJpegPayload;
}

/** Map entry, view and object per fragment, charged so a flood of tiny fragments is bounded too. */
const FRAGMENT_OVERHEAD_BYTES = 128;

/**
 * Rebuilds JPEG frames from RTP/JPEG packets (RFC 2435), from udpvid or any
 * other sender. Pure: the caller passes the clock. Follows one SSRC at a
 * time; uses sequence numbers for loss and reordering, fragment offsets for
 * assembly, and returns loss as counts, never as a broken frame.
 */
export class RtpJpegReassembler {
  readonly stats = {
    packets: 0,
    packetsLost: 0,
    packetsReordered: 0,
    packetsDuplicate: 0,
    framesCompleted: 0,
    framesDroppedIncomplete: 0,
    /** Packets of frames older than one already shown. */
    packetsLate: 0,
    /** Packets from an SSRC other than the one followed. */
    packetsOtherStream: 0,
  };
  private ssrc: number | undefined;
  private lastHeardMs = 0;
  private highestSequence = -1;
  private newestShown: number | undefined;
  private readonly pending: PendingFrames<RtpJpegPendingFrame>;
  /** Tables last sent in-band for each Q 128–254: a sender may send them once. */
  private readonly tablesByQ = new Map<number, Uint16Array[]>();
  private readonly options: RtpJpegReassemblerOptions;

  constructor(options: Partial<RtpJpegReassemblerOptions> = {}) {
    this.options = { ...DEFAULT_RTP_JPEG_OPTIONS, ...options };
    this.pending = new PendingFrames({ maxFrames: this.options.maxFramesInFlight, maxBytes: this.options.maxBufferedBytes }, () => this.stats.framesDroppedIncomplete++);
  }

  /** Takes one parsed RTP packet; returns the frame it completed, if any. Throws ProtocolError for a packet it refuses. */
  push(packet: RtpPacket, nowMs: number): RtpJpegAssembledFrame | undefined {
    if (packet.payloadType !== RTP_PAYLOAD_TYPE_JPEG) throw new ProtocolError("bad-flags", `RTP payload type ${packet.payloadType}, not JPEG (26)`);
    const payload = deserializeRtpJpeg(packet.payload);
    if (packet.ssrc !== this.ssrc) {
      if (this.ssrc !== undefined && nowMs - this.lastHeardMs < this.options.takeOverAfterMs) {
        this.stats.packetsOtherStream++;
        return undefined;
      }
      this.follow(packet.ssrc);
    }
    this.lastHeardMs = nowMs;
    this.stats.packets++;
    this.countSequence(packet.sequence);

    if (this.newestShown !== undefined && !isNewer32(packet.timestamp, this.newestShown)) {
      this.stats.packetsLate++;
      return undefined;
    }
    const frame = this.frameFor(packet.timestamp);
    if (!frame) return undefined;
    if (frame.fragments.has(payload.fragmentOffset)) {
      this.stats.packetsDuplicate++;
      return undefined;
    }
    if (frame.bytes + payload.scan.length > this.options.maxFrameBytes) {
      this.pending.drop(frame);
      throw new ProtocolError("bad-length", `RTP/JPEG frame over ${this.options.maxFrameBytes} bytes`);
    }
    if (!this.pending.charge(frame, payload.scan.length + FRAGMENT_OVERHEAD_BYTES)) {
      this.pending.drop(frame);
      throw new ProtocolError("bad-length", `RTP/JPEG frame does not fit the ${this.options.maxBufferedBytes}-byte assembly cap`);
    }
    frame.fragments.set(payload.fragmentOffset, payload.scan);
    frame.bytes += payload.scan.length;
    if (payload.fragmentOffset === 0) frame.first = payload;
    if (packet.marker) frame.length = payload.fragmentOffset + payload.scan.length;
    return this.complete(frame);
  }

  private follow(ssrc: number): void {
    this.pending.dropWhere(() => true);
    this.ssrc = ssrc;
    this.highestSequence = -1;
    this.newestShown = undefined;
  }

  private countSequence(sequence: number): void {
    if (this.highestSequence < 0) {
      this.highestSequence = sequence;
      return;
    }
    if (sequence === this.highestSequence) return;
    if (isNewer16(sequence, this.highestSequence)) {
      const ahead = ahead16(sequence, this.highestSequence);
      this.stats.packetsLost += ahead - 1;
      this.highestSequence = sequence;
    } else {
      // Behind the highest: a packet counted lost has arrived late.
      this.stats.packetsReordered++;
      if (this.stats.packetsLost > 0) this.stats.packetsLost--;
    }
  }

  private frameFor(timestamp: number): RtpJpegPendingFrame | undefined {
    const frame = this.pending.get(timestamp);
    if (frame) return frame;
    // Every slot taken by newer frames: this one is too late to be shown.
    const admitted = this.pending.admit({ key: timestamp, fragments: new Map(), bytes: 0, chargedBytes: 0 });
    if (!admitted) this.stats.packetsLate++;
    return admitted;
  }

  private complete(frame: RtpJpegPendingFrame): RtpJpegAssembledFrame | undefined {
    if (frame.length === undefined || !frame.first || frame.bytes < frame.length) return undefined;
    const scan = new Uint8Array(frame.length);
    for (let offset = 0; offset < frame.length; ) {
      const fragment = frame.fragments.get(offset);
      // Overlapping or missing pieces (a hostile or broken sender): never a guessed frame.
      if (!fragment || fragment.length === 0) return undefined;
      scan.set(fragment, offset);
      offset += fragment.length;
    }
    const first = frame.first;
    const tables = this.tablesFor(first);
    if (!tables) return undefined;
    this.pending.remove(frame);
    // Older incomplete frames can only be shown out of order now: drop them.
    this.pending.dropWhere((other) => isNewer32(frame.key, other.key));
    this.newestShown = frame.key;
    this.stats.framesCompleted++;
    const jpeg = buildBaselineJpeg({
      width: first.width,
      height: first.height,
      type: first.type as 0 | 1,
      quantTables: tables,
      restartInterval: first.restart?.interval ?? 0,
      scan,
    });
    return { jpeg, ssrc: this.ssrc!, timestamp: frame.key };
  }

  private tablesFor(first: RtpJpegPayload): Uint16Array[] | undefined {
    if (first.q < RTP_JPEG_Q_INBAND) return quantTablesForQ(first.q);
    if (first.quantTables && first.quantTables.length > 0) {
      if (first.q < 255) this.tablesByQ.set(first.q, first.quantTables);
      return first.quantTables;
    }
    return this.tablesByQ.get(first.q);
  }

  get bufferedBytes(): number {
    return this.pending.bytes;
  }

  toJSON() {
    return { ...this.stats, ssrc: this.ssrc ?? null, framesInFlight: this.pending.size, bufferedBytes: this.pending.bytes };
  }
}
