import { RTP_OPUS_PAYLOAD_TYPE, serializeRtp } from "../protocol/rtp.ts";
import type { EncodedAudio } from "./audio-packetizer.ts";
import { RtpStream } from "./rtp-jpeg-packetizer.ts";

/**
 * The sound track as RTP (RFC 7587): each Opus packet whole in one RTP
 * packet, no payload header, the timestamp counting 48 kHz samples from a
 * random start, the marker on the first packet (the start of a talkspurt).
 * What ffmpeg, ffplay, VLC and GStreamer play beside RTP/JPEG from one SDP.
 * No parity and no resends: RTP players have neither. Pure.
 *
 *    0              12
 *   +--------------+------------------------+
 *   | RTP header   |  Opus packet           |
 *   | PT 97, M     |  (RFC 6716)            |
 *   +--------------+------------------------+
 */
export class RtpOpusPacketizer {
  readonly stream = RtpStream.random();
  private timestamp = crypto.getRandomValues(new Uint32Array(1))[0]!;
  private sent = 0;

  /** The RTP packet for one encoded Opus packet. */
  packetize(audio: EncodedAudio): Uint8Array[] {
    if (audio.data.length === 0) throw new RangeError("an empty Opus packet");
    const datagram = serializeRtp({ marker: this.sent === 0, payloadType: RTP_OPUS_PAYLOAD_TYPE, sequence: this.stream.nextSequence, timestamp: this.timestamp, ssrc: this.stream.ssrc, payload: audio.data });
    this.stream.nextSequence = (this.stream.nextSequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + audio.durationSamples) >>> 0;
    this.sent++;
    return [datagram];
  }

  /** Nothing protects RTP's last packets: nothing to add at the end. */
  flush(): Uint8Array[] {
    return [];
  }

  /** Packets numbered so far (RTP's own sequence numbers are 16-bit and start at random). */
  get nextSequence(): number {
    return this.sent;
  }
}
