import { normalizeAddress } from "../socket/address.ts";
import { classifyDatagram, type WireProtocol } from "../protocol/classify.ts";
import { FEEDBACK_MAGIC } from "../protocol/feedback.ts";
import { ProtocolError, type ProtocolErrorCode } from "../protocol/protocol-error.ts";
import { LegacyDatagramReassembler } from "./legacy-datagram-reassembler.ts";
import { addCounts, NO_COUNTS, RefusedAfterUse, type AssemblerEvent, type DatagramReassembler, type ReassemblyCounts } from "./datagram-reassembler.ts";
import { RtpJpegDatagramReassembler } from "./rtp-jpeg-datagram-reassembler.ts";
import { V2DatagramReassembler } from "./v2-datagram-reassembler.ts";
import type { V2ReassemblerOptions } from "./v2-reassembler-types.ts";
import { AudioDatagramReassembler } from "./audio-datagram-reassembler.ts";
import { AUDIO_MAGIC } from "../protocol/v2-audio.ts";
import { deserializeRtp, RTP_PAYLOAD_TYPE_JPEG } from "../protocol/rtp.ts";
import { RtpCaptureClock } from "./rtp-capture-clock.ts";
import { looksLikeRtcp, parseSenderReport } from "../protocol/rtcp-sender-report.ts";
import { RtpOpusReassembler } from "./rtp-opus-reassembler.ts";
import type { ReceiverFeedback } from "../feedback/receiver-feedback.ts";
import type { OutgoingDatagram } from "../socket/endpoint.ts";

export type { AssembledFrame, AssemblerEvent } from "./datagram-reassembler.ts";

export interface StreamAssemblerOptions {
  /** Cap on all bytes held for frames being assembled, all protocols together. */
  maxMemoryBytes: number;
  v2?: Partial<V2ReassemblerOptions>;
  /** Pre-shared AES-256 key: only sealed v2 datagrams that authenticate under it are accepted. */
  key?: Uint8Array;
  /** Only datagrams from this source address are accepted. */
  allowFrom?: string;
  /** v2's return path: NACKs and reports back to the stream's source (unicast only). */
  feedback?: ReceiverFeedback;
}

/** Everything the receiver counts of the datagrams it was given, whatever their protocol. */
export interface AssemblyStats extends ReassemblyCounts {
  datagramsReceived: number;
  bytesReceived: number;
  datagramsRejected: number;
  rejectedByReason: Partial<Record<ProtocolErrorCode, number>>;
  bufferedBytes: number;
}

/** Largest frame either protocol may assemble (v2's 24-bit length field allows 16 MiB), and at most a quarter of the memory cap. */
export function maxFrameBytesFor(maxMemoryBytes: number): number {
  return Math.min(16 * 1024 * 1024, Math.floor(maxMemoryBytes / 4));
}

/**
 * Takes raw datagrams of any protocol, datagram by datagram, and turns them
 * into whole frames through that protocol's DatagramReassembler. Pure: no sockets,
 * the caller passes the clock. Every datagram that is refused is counted by
 * reason.
 */
export class StreamAssembler {
  private readonly byProtocol: Record<WireProtocol, DatagramReassembler>;
  private readonly v2: V2DatagramReassembler;
  /** v2's sound track, beside its picture. */
  private readonly audio: AudioDatagramReassembler;
  /** An RTP sound stream (Opus, RFC 7587) beside RTP/JPEG, on the capture clock they share. */
  private readonly rtpSound: RtpOpusReassembler;
  /** The RTP streams' shared capture clock, set by their sender's RTCP reports where they come to this port. */
  private readonly rtpClock = new RtpCaptureClock();
  private readonly received = {
    datagramsReceived: 0,
    bytesReceived: 0,
    datagramsRejected: 0,
    rejectedByReason: {} as Partial<Record<ProtocolErrorCode, number>>,
  };
  private readonly key: Uint8Array | undefined;
  private readonly feedback: ReceiverFeedback | undefined;
  private readonly allowFrom: string | undefined;

  constructor(options: StreamAssemblerOptions) {
    // Legacy holds one frame at most, RTP/JPEG gets as much again; v2 gets the rest of the cap.
    const maxFrameBytes = maxFrameBytesFor(options.maxMemoryBytes);
    this.v2 = new V2DatagramReassembler({ maxBufferedBytes: options.maxMemoryBytes - 2 * maxFrameBytes, ...options.v2 }, options.key, options.feedback);
    this.byProtocol = { legacy: new LegacyDatagramReassembler(maxFrameBytes), rtp: new RtpJpegDatagramReassembler(maxFrameBytes, this.rtpClock), v2: this.v2 };
    this.rtpSound = new RtpOpusReassembler(this.rtpClock);
    this.audio = new AudioDatagramReassembler(options.key);
    this.key = options.key;
    this.feedback = options.feedback;
    this.allowFrom = options.allowFrom === undefined ? undefined : normalizeAddress(options.allowFrom);
  }

  /** Feeds one datagram (from `source`:`sourcePort`, when known); returns the frames it completed and the end of stream, if it signalled one. */
  push(datagram: Uint8Array, nowMs: number, source?: string, sourcePort?: number): AssemblerEvent[] {
    this.received.datagramsReceived++;
    this.received.bytesReceived += datagram.length;
    try {
      if (this.allowFrom !== undefined && (source === undefined || normalizeAddress(source) !== this.allowFrom)) {
        throw new ProtocolError("stranger", `datagram from ${source}, not from ${this.allowFrom}`);
      }
      // The sender's state, beside the stream it sends (v2 with a return path): for the readout, never a frame.
      if (datagram[0] === FEEDBACK_MAGIC && this.feedback) {
        this.feedback.senderState(datagram, source !== undefined && sourcePort !== undefined ? { address: source, port: sourcePort } : undefined);
        return [];
      }
      if (datagram[0] === AUDIO_MAGIC) return this.pushAudio(datagram, nowMs);
      const protocol = classifyDatagram(datagram);
      if (protocol === undefined) throw new ProtocolError(datagram.length === 0 ? "empty" : "unknown-protocol", "not a udpvid datagram");
      if (this.key && protocol !== "v2") throw new ProtocolError("not-sealed", `${protocol === "rtp" ? "RTP/JPEG" : "the legacy protocol"} cannot be authenticated`);
      if (protocol === "rtp" && looksLikeRtcp(datagram)) return this.rtcp(datagram);
      if (protocol === "rtp" && isRtpSound(datagram)) return this.rtpSound.push(deserializeRtp(datagram), nowMs, nowMs * 1000).map((audio) => ({ kind: "audio", audio }));
      return this.byProtocol[protocol].push(datagram, nowMs, source !== undefined && sourcePort !== undefined ? { address: source, port: sourcePort } : undefined);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.reject(error.code);
      return error instanceof RefusedAfterUse ? error.events : [];
    }
  }

  /** A sound datagram: its packets, each marked when it came in answer to an audio NACK (the return path asks for the missing). */
  private pushAudio(datagram: Uint8Array, nowMs: number): AssemblerEvent[] {
    const packets = this.audio.push(datagram, this.v2.currentStreamId);
    const feedback = this.feedback;
    const newest = this.audio.newestSent;
    if (!feedback || newest === undefined) return packets.map((audio) => ({ kind: "audio", audio }));
    feedback.audioSent(newest, nowMs);
    return packets.map((audio) => ({ kind: "audio", audio: feedback.audioArrived(audio.sequence, nowMs) ? { ...audio, resent: true } : audio }));
  }

  /** RTCP beside RTP on one port (RFC 5761): a sender report sets its stream on the sender's clock; the rest is not used. */
  private rtcp(datagram: Uint8Array): AssemblerEvent[] {
    const report = parseSenderReport(datagram);
    if (report) this.rtpClock.senderReport(report.ssrc, report.rtpTimestamp, report.wallClockUs);
    return [];
  }

  expire(nowMs: number): AssemblerEvent[] {
    return Object.values(this.byProtocol).flatMap((reassembler) => reassembler.expire(nowMs));
  }

  /** The run is over: frames held for repair go out, incomplete ones are dropped and counted. */
  flush(): AssemblerEvent[] {
    return Object.values(this.byProtocol).flatMap((reassembler) => reassembler.flush?.() ?? []);
  }

  /** Feedback to send now, to whichever stream sources have a return path. */
  replies(nowMs: number): OutgoingDatagram[] {
    return Object.values(this.byProtocol).flatMap((reassembler) => reassembler.replies?.(nowMs) ?? []);
  }

  /** The counts of every protocol, added up, with what was received and refused. */
  stats(): AssemblyStats {
    const counts = Object.values(this.byProtocol).reduce((sum, r) => addCounts(sum, r.counts()), NO_COUNTS);
    return { ...this.received, rejectedByReason: { ...this.received.rejectedByReason }, ...counts, bufferedBytes: this.bufferedBytes };
  }

  /** Refusals by reason so far, without adding up every count (read per refused datagram, so it must stay cheap). */
  get rejectedByReason(): Readonly<Partial<Record<ProtocolErrorCode, number>>> {
    return this.received.rejectedByReason;
  }

  get datagramsRejected(): number {
    return this.received.datagramsRejected;
  }

  get bufferedBytes(): number {
    return Object.values(this.byProtocol).reduce((sum, r) => sum + r.bufferedBytes, this.audio.bufferedBytes);
  }

  /** What the sound track's reassembly counted (v2's, with an RTP sound stream's added). */
  audioStats(): Readonly<AudioDatagramReassembler["stats"]> {
    const rtp = this.rtpSound.stats;
    const v2 = this.audio.stats;
    return { ...v2, packetsReceived: v2.packetsReceived + rtp.packetsReceived, packetsDuplicate: v2.packetsDuplicate + rtp.packetsDuplicate, packetsOtherStream: v2.packetsOtherStream + rtp.packetsOtherStream };
  }

  private reject(code: ProtocolErrorCode): void {
    this.received.datagramsRejected++;
    this.received.rejectedByReason[code] = (this.received.rejectedByReason[code] ?? 0) + 1;
  }

  toJSON() {
    return { ...this.received, legacy: this.byProtocol.legacy.toJSON(), v2: this.byProtocol.v2.toJSON(), rtp: this.byProtocol.rtp.toJSON(), audio: this.audio.stats, rtpSound: this.rtpSound.stats };
  }
}

/**
 * An RTP packet of the sound rather than the picture: a dynamic payload type
 * (96-127, which an SDP would name; udpvid and ffmpeg put Opus there), where
 * RTP/JPEG has its static 26. The payload is then read as Opus.
 */
function isRtpSound(datagram: Uint8Array): boolean {
  const payloadType = (datagram[1] ?? 0) & 0x7f;
  return payloadType !== RTP_PAYLOAD_TYPE_JPEG && payloadType >= 96;
}
