import { RTP_JPEG_CLOCK_HZ, RTP_OPUS_CLOCK_HZ, RTP_OPUS_PAYLOAD_TYPE, RTP_PAYLOAD_TYPE_JPEG } from "./rtp.ts";

export interface RtpJpegSession {
  /** Where the stream goes: a unicast receiver or a multicast group. */
  address: string;
  family: 4 | 6;
  port: number;
  /** Identifies the session (the SSRC does nicely). */
  sessionId: number;
  fps?: number;
  /** Multicast TTL, for the c= line of an IPv4 group. */
  ttl?: number;
  /** The sound, as a second RTP stream of Opus (RFC 7587) on its own port. */
  audio?: { port: number; channels: 1 | 2 };
}

/**
 * The SDP (RFC 8866) a player needs to receive udpvid's RTP/JPEG stream and
 * its sound (RTP/Opus on the next port pair),
 * e.g. `ffplay -protocol_whitelist file,udp,rtp stream.sdp` or VLC.
 */
export function rtpJpegSdp(session: RtpJpegSession): string {
  const ip = session.family === 6 ? "IP6" : "IP4";
  const multicastV4 = session.family === 4 && Number(session.address.split(".")[0]) >= 224 && Number(session.address.split(".")[0]) <= 239;
  const connection = multicastV4 ? `${session.address}/${session.ttl ?? 1}` : session.address;
  return [
    "v=0",
    `o=- ${session.sessionId >>> 0} 1 IN ${ip} ${session.family === 6 ? "::1" : "127.0.0.1"}`,
    "s=udpvid",
    `c=IN ${ip} ${connection}`,
    "t=0 0",
    `m=video ${session.port} RTP/AVP ${RTP_PAYLOAD_TYPE_JPEG}`,
    `a=rtpmap:${RTP_PAYLOAD_TYPE_JPEG} JPEG/${RTP_JPEG_CLOCK_HZ}`,
    ...(session.fps ? [`a=framerate:${Math.round(session.fps * 100) / 100}`] : []),
    // RFC 7587: always opus/48000/2 in the rtpmap; whether the sender sends stereo is sprop-stereo.
    ...(session.audio
      ? [
          `m=audio ${session.audio.port} RTP/AVP ${RTP_OPUS_PAYLOAD_TYPE}`,
          `a=rtpmap:${RTP_OPUS_PAYLOAD_TYPE} opus/${RTP_OPUS_CLOCK_HZ}/2`,
          `a=fmtp:${RTP_OPUS_PAYLOAD_TYPE} sprop-stereo=${session.audio.channels === 2 ? 1 : 0}`,
          "a=ptime:20",
        ]
      : []),
    "",
  ].join("\r\n");
}
