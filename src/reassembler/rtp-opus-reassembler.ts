import { opusPacketSamples } from "../protocol/opus-toc.ts";
import { RTP_OPUS_CLOCK_HZ, type RtpPacket } from "../protocol/rtp.ts";
import type { ReceivedAudio } from "./audio-reassembler.ts";
import type { RtpCaptureClock } from "./rtp-capture-clock.ts";

/** A followed sound stream silent this long gives way to another SSRC (a new run of the sender). */
const TAKEOVER_MS = 2000;
/** Sequence numbers remembered for spotting duplicates. */
const REMEMBERED = 256;

/**
 * An RTP Opus stream (RFC 7587: one Opus packet per RTP packet, no payload
 * header), as ffmpeg, GStreamer or udpvid's own `--protocol rtp` send it:
 * each packet handed on as it arrives, numbered on from its 16-bit sequence
 * number, timed on the shared capture clock, its duration read from the
 * Opus TOC. Order and concealment are the jitter buffer's. Pure: given the
 * time; anything malformed throws ProtocolError.
 */
export class RtpOpusReassembler {
  private ssrc: number | undefined;
  private lastArrivalMs = 0;
  /** The highest extended (32-bit) sequence number seen. */
  private highest: number | undefined;
  private readonly seen = new Set<number>();
  readonly stats = { packetsReceived: 0, packetsDuplicate: 0, packetsOtherStream: 0 };

  constructor(private readonly clock: RtpCaptureClock) {}

  push(packet: RtpPacket, nowMs: number, nowUs: number): ReceivedAudio[] {
    const durationSamples = opusPacketSamples(packet.payload);
    if (this.ssrc !== packet.ssrc) {
      if (this.ssrc !== undefined && nowMs - this.lastArrivalMs < TAKEOVER_MS) {
        this.stats.packetsOtherStream++;
        return [];
      }
      this.ssrc = packet.ssrc;
      this.highest = undefined;
      this.seen.clear();
    }
    this.lastArrivalMs = nowMs;
    const sequence = this.extend(packet.sequence);
    if (this.seen.has(sequence)) {
      this.stats.packetsDuplicate++;
      return [];
    }
    this.seen.add(sequence);
    if (this.seen.size > REMEMBERED) this.seen.delete(this.seen.values().next().value!);
    this.stats.packetsReceived++;
    const captureTimeUs = this.clock.captureUs(packet.ssrc, packet.timestamp, RTP_OPUS_CLOCK_HZ, nowUs);
    // The TOC's s bit: a stereo packet (the decoder makes stereo of either).
    const channels = (packet.payload[0]! & 0x04) !== 0 ? 2 : 1;
    return [{ data: packet.payload, captureTimeUs, durationSamples, sequence, channels, recovered: false, captureAnchoredOnArrival: !this.clock.onSenderClock(packet.ssrc) }];
  }

  /** The 16-bit sequence number extended to 32 bits: the one nearest the highest seen. */
  private extend(sequence16: number): number {
    if (this.highest === undefined) {
      this.highest = sequence16;
      return sequence16;
    }
    const delta = ((sequence16 - this.highest) << 16) >> 16;
    const extended = (this.highest + delta) >>> 0;
    if (delta > 0) this.highest = extended;
    return extended;
  }
}
