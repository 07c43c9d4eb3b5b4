import { hex, MAX_UDP_PAYLOAD, ProtocolError } from "./protocol-error.ts";

/*
 * udpvid v2 datagram: a 24-byte header, then one chunk of a JPEG frame.
 * All integers are big-endian.
 *
 *    0       1       2       3       4               8
 *   +-------+-------+-------+-------+---------------+
 *   | magic |version| flags | rsvd  |   stream id   |
 *   +-------+-------+-------+-------+---------------+
 *    8               12      14      16                              24
 *   +---------------+-------+-------+-------------------------------+
 *   | frame number  | chunk | chunk |  capture time, µs since epoch |
 *   |               | index | count |                               |
 *   +---------------+-------+-------+-------------------------------+
 *    24 ...
 *   +------------------------------------------+
 *   | payload: chunk `index` of the JPEG bytes |
 *   +------------------------------------------+
 *
 *   magic    0x56 ('V'): never 0x00 or 0x01, so a receiver tells v2 from
 *            a legacy datagram by its first byte alone.
 *   version  2.
 *   flags    bit 0 LAST: chunk index == chunk count − 1 (the lab marker).
 *            bit 1 END: end of stream; index and count are 0, no payload.
 *            Other bits must be 0.
 *   rsvd     must be 0.
 *   stream id     random per sender run: a restarted sender is a new stream.
 *   frame number  counts from 0, wraps at 2^32; compared wraparound-safe.
 *   chunk index / count  which of how many chunks this is (count ≥ 1).
 *   capture time  when the sender read the frame, for latency.
 */
export const V2_MAGIC = 0x56;
export const V2_VERSION = 2;
export const V2_HEADER_SIZE = 24;
export const V2_FLAG_LAST = 0x01;
export const V2_FLAG_END = 0x02;
const KNOWN_FLAGS = V2_FLAG_LAST | V2_FLAG_END;

const OFFSET = {
  magic: 0,
  version: 1,
  flags: 2,
  reserved: 3,
  streamId: 4,
  frameNumber: 8,
  chunkIndex: 12,
  chunkCount: 14,
  captureTimeUs: 16,
} as const;

export interface V2Packet {
  streamId: number;
  frameNumber: number;
  chunkIndex: number;
  chunkCount: number;
  /** Microseconds since the Unix epoch; fits a double exactly for ~285 years. */
  captureTimeUs: number;
  endOfStream: boolean;
  payload: Uint8Array;
}

/** Writes the header for `packet` into `target` at `offset` and returns the header size. */
export function writeV2Header(target: Uint8Array, offset: number, packet: Omit<V2Packet, "payload">): number {
  const view = new DataView(target.buffer, target.byteOffset + offset, V2_HEADER_SIZE);
  const last = !packet.endOfStream && packet.chunkIndex === packet.chunkCount - 1;
  view.setUint8(OFFSET.magic, V2_MAGIC);
  view.setUint8(OFFSET.version, V2_VERSION);
  view.setUint8(OFFSET.flags, (last ? V2_FLAG_LAST : 0) | (packet.endOfStream ? V2_FLAG_END : 0));
  view.setUint8(OFFSET.reserved, 0);
  view.setUint32(OFFSET.streamId, packet.streamId >>> 0);
  view.setUint32(OFFSET.frameNumber, packet.frameNumber >>> 0);
  view.setUint16(OFFSET.chunkIndex, packet.chunkIndex);
  view.setUint16(OFFSET.chunkCount, packet.chunkCount);
  view.setBigUint64(OFFSET.captureTimeUs, BigInt(Math.max(0, Math.floor(packet.captureTimeUs))));
  return V2_HEADER_SIZE;
}

export function serializeV2(packet: V2Packet): Uint8Array {
  const datagram = new Uint8Array(V2_HEADER_SIZE + packet.payload.length);
  writeV2Header(datagram, 0, packet);
  datagram.set(packet.payload, V2_HEADER_SIZE);
  return datagram;
}

/** Parses and validates one datagram; the payload is a view into it, not a copy. */
export function deserializeV2(datagram: Uint8Array): V2Packet {
  if (datagram.length < V2_HEADER_SIZE) {
    throw new ProtocolError("truncated", `v2 datagram of ${datagram.length} bytes is shorter than its ${V2_HEADER_SIZE}-byte header`);
  }
  if (datagram.length > MAX_UDP_PAYLOAD) {
    throw new ProtocolError("oversized", `v2 datagram of ${datagram.length} bytes exceeds ${MAX_UDP_PAYLOAD}`);
  }
  const view = new DataView(datagram.buffer, datagram.byteOffset, V2_HEADER_SIZE);
  const magic = view.getUint8(OFFSET.magic);
  if (magic !== V2_MAGIC) throw new ProtocolError("bad-magic", `v2 magic must be 0x${hex(V2_MAGIC)}, got 0x${hex(magic)}`);
  const version = view.getUint8(OFFSET.version);
  if (version !== V2_VERSION) throw new ProtocolError("unsupported-version", `unsupported protocol version ${version}`);
  const flags = view.getUint8(OFFSET.flags);
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new ProtocolError("bad-flags", `unknown flags 0x${hex(flags)}`);
  if (view.getUint8(OFFSET.reserved) !== 0) throw new ProtocolError("bad-reserved", "reserved byte must be 0");

  const chunkIndex = view.getUint16(OFFSET.chunkIndex);
  const chunkCount = view.getUint16(OFFSET.chunkCount);
  const endOfStream = (flags & V2_FLAG_END) !== 0;
  const last = (flags & V2_FLAG_LAST) !== 0;
  const payload = datagram.subarray(V2_HEADER_SIZE);
  if (endOfStream) {
    if (last || chunkIndex !== 0 || chunkCount !== 0 || payload.length !== 0) {
      throw new ProtocolError("bad-flags", "end-of-stream datagram must have no chunk and no payload");
    }
  } else {
    if (chunkCount === 0 || chunkIndex >= chunkCount) {
      throw new ProtocolError("bad-chunk-index", `chunk index ${chunkIndex} is not below chunk count ${chunkCount}`);
    }
    if (last !== (chunkIndex === chunkCount - 1)) {
      throw new ProtocolError("bad-flags", `LAST flag ${last ? "set" : "clear"} on chunk ${chunkIndex} of ${chunkCount}`);
    }
    if (payload.length === 0) throw new ProtocolError("empty-payload", "v2 data chunk has no payload");
  }
  return {
    streamId: view.getUint32(OFFSET.streamId),
    frameNumber: view.getUint32(OFFSET.frameNumber),
    chunkIndex,
    chunkCount,
    captureTimeUs: Number(view.getBigUint64(OFFSET.captureTimeUs)),
    endOfStream,
    payload,
  };
}

/** True when frame number `a` comes after `b`, across the 2^32 wrap (RFC 1982 style). */
export function isNewerFrame(a: number, b: number): boolean {
  const distance = (a - b) >>> 0;
  return distance !== 0 && distance < 0x8000_0000;
}
