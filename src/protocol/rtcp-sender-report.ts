import { ProtocolError } from "./protocol-error.ts";

/*
 * The RTCP sender report (RFC 3550 §6.4.1), as much of it as pairs a
 * stream's RTP timestamps with the sender's wall clock; what follows it in a
 * compound packet (report blocks, SDES, ...) is not read. Big-endian.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |V=2|P|    RC   |   PT=SR=200   |   length (32-bit words - 1)   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                         SSRC of sender                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   NTP timestamp: seconds since 1900 (32) . fraction (32)      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                         RTP timestamp                         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                sender's packet count, octet count             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * On one port with RTP (RFC 5761), RTCP is told apart by its second byte:
 * packet types 192–223 (200–204 in use), which no RTP payload type with or
 * without the marker bit reaches that udpvid takes (26, 96–127 → 154, 224+).
 */
export const RTCP_SENDER_REPORT = 200;
const SENDER_REPORT_SIZE = 28;
/** NTP counts from 1900, the wall clock from 1970. */
const NTP_TO_UNIX_SECONDS = 2_208_988_800;

export interface SenderReport {
  ssrc: number;
  /** The sender's wall clock at the report: µs since 1970 (the NTP time less 70 years), mod 2^32, as capture times are kept. */
  wallClockUs: number;
  rtpTimestamp: number;
}

/** Whether a datagram on an RTP port is RTCP (RFC 5761's rule). */
export function looksLikeRtcp(datagram: Uint8Array): boolean {
  return datagram.length >= 2 && datagram[0]! >> 6 === 2 && datagram[1]! >= 192 && datagram[1]! <= 223;
}

/** The sender report at the head of an RTCP packet; undefined for another RTCP type. Lengths are checked first; throws ProtocolError. */
export function parseSenderReport(datagram: Uint8Array): SenderReport | undefined {
  if (datagram.length < 4) throw new ProtocolError("truncated", `RTCP packet of ${datagram.length} bytes`);
  if (datagram[0]! >> 6 !== 2) throw new ProtocolError("unsupported-version", `RTCP version ${datagram[0]! >> 6}`);
  if (datagram[1] !== RTCP_SENDER_REPORT) return undefined;
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.length);
  const declared = (view.getUint16(2) + 1) * 4;
  if (declared < SENDER_REPORT_SIZE || datagram.length < declared) throw new ProtocolError("bad-length", `RTCP sender report of ${datagram.length} bytes, saying ${declared}`);
  const seconds = view.getUint32(8);
  const fraction = view.getUint32(12);
  const us = (seconds - NTP_TO_UNIX_SECONDS) * 1e6 + Math.floor((fraction * 1e6) / 2 ** 32);
  return { ssrc: view.getUint32(4), wallClockUs: ((us % 2 ** 32) + 2 ** 32) % 2 ** 32, rtpTimestamp: view.getUint32(16) };
}
