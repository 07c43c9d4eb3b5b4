import { hex, ProtocolError } from "./protocol-error.ts";

/*
 * The lab ("legacy") datagram, byte for byte what the original Python
 * server and client exchange:
 *
 *    0        1                                        1 + n
 *   +--------+----------------------------------------+
 *   | marker | next n bytes of the JPEG file, n ≤ 65500 |
 *   +--------+----------------------------------------+
 *
 *   marker: 0x01 = this is the last chunk of a frame, 0x00 = more follow.
 *
 * No frame number, no length, no stream id: a lost chunk is invisible at
 * this layer, which is why the reassembler checks JPEG structure instead.
 */
export const LEGACY_MARKER_MORE = 0x00;
export const LEGACY_MARKER_LAST = 0x01;
export const LEGACY_HEADER_SIZE = 1;
export const LEGACY_CHUNK_PAYLOAD = 65500;

export interface LegacyChunk {
  last: boolean;
  payload: Uint8Array;
}

export function serializeLegacy(chunk: LegacyChunk): Uint8Array {
  if (chunk.payload.length > LEGACY_CHUNK_PAYLOAD) {
    throw new RangeError(`legacy chunk payload is ${chunk.payload.length} bytes, at most ${LEGACY_CHUNK_PAYLOAD}`);
  }
  const datagram = new Uint8Array(LEGACY_HEADER_SIZE + chunk.payload.length);
  datagram[0] = chunk.last ? LEGACY_MARKER_LAST : LEGACY_MARKER_MORE;
  datagram.set(chunk.payload, LEGACY_HEADER_SIZE);
  return datagram;
}

/** Parses one datagram; the payload is a view into it, not a copy. */
export function deserializeLegacy(datagram: Uint8Array): LegacyChunk {
  if (datagram.length < LEGACY_HEADER_SIZE) throw new ProtocolError("empty", "empty datagram");
  if (datagram.length > LEGACY_HEADER_SIZE + LEGACY_CHUNK_PAYLOAD) {
    throw new ProtocolError(
      "oversized",
      `legacy datagram of ${datagram.length} bytes exceeds ${LEGACY_HEADER_SIZE + LEGACY_CHUNK_PAYLOAD}`,
    );
  }
  const marker = datagram[0];
  if (marker !== LEGACY_MARKER_MORE && marker !== LEGACY_MARKER_LAST) {
    throw new ProtocolError("bad-marker", `legacy marker must be 0x00 or 0x01, got 0x${hex(marker!)}`);
  }
  return { last: marker === LEGACY_MARKER_LAST, payload: datagram.subarray(LEGACY_HEADER_SIZE) };
}
