import { ProtocolError } from "./protocol-error.ts";

/*
 * The RTP fixed header (RFC 3550 §5.1). All integers big-endian.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                           timestamp                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                             SSRC                              |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |            CSRC list: CC × 32 bits (read past, not used)      |
 *   |  extension (X): 16-bit profile, 16-bit length in words, data  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  payload ... | padding (P): its last byte counts the padding  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   M (marker)  for JPEG (RFC 2435): the last packet of a frame.
 *   PT          26 = JPEG, with a 90 kHz timestamp clock; 97 = Opus (as the
 *               SDP says: RFC 7587), with a 48 kHz clock.
 */
export const RTP_VERSION = 2;
export const RTP_HEADER_SIZE = 12;
export const RTP_PAYLOAD_TYPE_JPEG = 26;
export const RTP_JPEG_CLOCK_HZ = 90_000;
/** Opus (RFC 7587) has no static payload type: udpvid's SDP names 97, the first dynamic one ffmpeg picks too. */
export const RTP_OPUS_PAYLOAD_TYPE = 97;
export const RTP_OPUS_CLOCK_HZ = 48_000;

const OFFSET = { flags: 0, markerAndType: 1, sequence: 2, timestamp: 4, ssrc: 8 } as const;

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  /** 16-bit, wraps. */
  sequence: number;
  /** 32-bit, wraps; in the payload type's clock. */
  timestamp: number;
  ssrc: number;
  /** A view into the datagram, CSRCs, extension and padding removed. */
  payload: Uint8Array;
}

/** Whether a datagram's first byte says RTP version 2 (0x80–0xBF). */
export function looksLikeRtp(datagram: Uint8Array): boolean {
  return datagram.length > 0 && datagram[0]! >> 6 === RTP_VERSION;
}

/** Writes a 12-byte header (no CSRCs, extension or padding) at `offset`; returns its size. */
export function writeRtpHeader(out: Uint8Array, offset: number, header: Omit<RtpPacket, "payload">): number {
  const view = new DataView(out.buffer, out.byteOffset + offset, RTP_HEADER_SIZE);
  view.setUint8(OFFSET.flags, RTP_VERSION << 6);
  view.setUint8(OFFSET.markerAndType, (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f));
  view.setUint16(OFFSET.sequence, header.sequence & 0xffff);
  view.setUint32(OFFSET.timestamp, header.timestamp >>> 0);
  view.setUint32(OFFSET.ssrc, header.ssrc >>> 0);
  return RTP_HEADER_SIZE;
}

export function serializeRtp(packet: RtpPacket): Uint8Array {
  const datagram = new Uint8Array(RTP_HEADER_SIZE + packet.payload.length);
  writeRtpHeader(datagram, 0, packet);
  datagram.set(packet.payload, RTP_HEADER_SIZE);
  return datagram;
}

/** Parses one datagram, checking every length before reading it; the payload is a view, not a copy. */
export function deserializeRtp(datagram: Uint8Array): RtpPacket {
  if (datagram.length < RTP_HEADER_SIZE) throw new ProtocolError("truncated", `RTP packet of ${datagram.length} bytes is shorter than its 12-byte header`);
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const flags = view.getUint8(OFFSET.flags);
  if (flags >> 6 !== RTP_VERSION) throw new ProtocolError("unsupported-version", `RTP version ${flags >> 6}, expected 2`);
  const padded = (flags & 0x20) !== 0;
  const extended = (flags & 0x10) !== 0;
  const csrcCount = flags & 0x0f;
  let start = RTP_HEADER_SIZE + 4 * csrcCount;
  if (extended) {
    if (datagram.length < start + 4) throw new ProtocolError("truncated", "RTP header extension cut short");
    start += 4 + 4 * view.getUint16(start + 2);
  }
  let end = datagram.length;
  if (padded) {
    const padding = datagram[end - 1]!;
    if (padding === 0) throw new ProtocolError("bad-length", "RTP padding count of 0");
    end -= padding;
  }
  if (end < start) throw new ProtocolError("truncated", `RTP packet of ${datagram.length} bytes is shorter than its headers (${start}) and padding`);
  const markerAndType = view.getUint8(OFFSET.markerAndType);
  return {
    marker: (markerAndType & 0x80) !== 0,
    payloadType: markerAndType & 0x7f,
    sequence: view.getUint16(OFFSET.sequence),
    timestamp: view.getUint32(OFFSET.timestamp),
    ssrc: view.getUint32(OFFSET.ssrc),
    payload: datagram.subarray(start, end),
  };
}
