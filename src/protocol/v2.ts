import { forward32 } from "./serial-number.ts";
import { hex, ProtocolError } from "./protocol-error.ts";
import { MAX_UDP_PAYLOAD } from "./udp.ts";
import { MAX_SHARDS } from "../fec/reed-solomon.ts";

/*
 * udpvid v2 datagram: a 24-byte header, then one chunk of a JPEG frame
 * (a data chunk) or of Reed–Solomon parity over its group (a parity chunk).
 * All integers are big-endian.
 *
 *    0       1       2       3       4                               8
 *   +-------+-------+-------+-------+-------------------------------+
 *   | magic |version| flags |groups |           stream id           |
 *   +-------+-------+-------+-------+-------------------------------+
 *    8                               12              14              16
 *   +-------------------------------+---------------+---------------+
 *   |         frame number          |  chunk index  |  data chunks  |
 *   +-------------------------------+---------------+---------------+
 *    16      17                      20                              24
 *   +-------+-----------------------+-------------------------------+
 *   |parity | frame length (bytes)  |  capture time, µs (mod 2^32)  |
 *   +-------+-----------------------+-------------------------------+
 *    24 ...  payload: P bytes (the last data chunk: what is left); when
 *            SEALED, the stream's 16-byte salt, the P bytes encrypted and a
 *            16-byte authentication tag
 *
 *   magic        0x56 ('V'): never 0x00/0x01, which start legacy datagrams.
 *   version      2.
 *   flags        bit 0 LAST: the frame's last data chunk. bit 1 END: end of
 *                stream (everything else 0, no payload). bit 2 PARITY.
 *                bit 3 SEALED: the payload is the stream's salt, AES-256-GCM
 *                ciphertext and a 16-byte tag; header and salt are the
 *                associated data (v2-seal.ts).
 *   groups       G ≥ 1 FEC groups. Data chunk i is in group i mod G;
 *                parity chunk p belongs to group p mod G, as its row p div G.
 *   chunk index  data: 0 … k−1; parity: 0 … G·m−1.
 *   data chunks  k ≥ 1.
 *   parity       m: parity chunks per group (0 = no FEC).
 *   frame length L: the JPEG's size. Every chunk's size follows from it:
 *                P = ceil(L / k); data chunks are P bytes but the last,
 *                which is L − (k−1)·P ≥ 1; parity chunks are P bytes.
 *   capture time the frame's presentation instant on the sender's clock.
 */
export const V2_MAGIC = 0x56;
export const V2_VERSION = 2;
export const V2_HEADER_SIZE = 24;
export const V2_FLAG_LAST = 0x01;
export const V2_FLAG_END = 0x02;
export const V2_FLAG_PARITY = 0x04;
export const V2_FLAG_SEALED = 0x08;
const KNOWN_FLAGS = V2_FLAG_LAST | V2_FLAG_END | V2_FLAG_PARITY | V2_FLAG_SEALED;
/** AES-GCM tag after a sealed datagram's payload. */
export const V2_TAG_SIZE = 16;
/** The stream's salt (naming its key) after a sealed datagram's header. */
export const V2_SALT_SIZE = 16;
/** What sealing adds to a datagram: salt and tag. */
export const V2_SEAL_OVERHEAD = V2_SALT_SIZE + V2_TAG_SIZE;
export const V2_MAX_FRAME_LENGTH = 0xff_ffff;

const OFFSET = {
  magic: 0,
  version: 1,
  flags: 2,
  groups: 3,
  streamId: 4,
  frameNumber: 8,
  chunkIndex: 12,
  dataChunks: 14,
  parityPerGroup: 16,
  frameLength: 17,
  captureTime: 20,
} as const;

/** How a frame is cut and protected: the same in every datagram of the frame. */
export interface V2FrameLayout {
  dataChunks: number;
  groups: number;
  parityPerGroup: number;
  frameLength: number;
}

export interface V2Packet extends V2FrameLayout {
  streamId: number;
  frameNumber: number;
  /** Index among the data chunks, or among the parity chunks when `parity`. */
  chunkIndex: number;
  parity: boolean;
  /** Microseconds, modulo 2^32 (wraps every 71.6 minutes): compare with wrapping arithmetic. */
  captureTimeUs: number;
  endOfStream: boolean;
  /** The payload is the stream's salt, ciphertext and a tag (see v2-seal.ts). */
  sealed: boolean;
  payload: Uint8Array;
}

/** Payload size of every chunk but the last data chunk. */
export function chunkPayloadSize(layout: Pick<V2FrameLayout, "dataChunks" | "frameLength">): number {
  return Math.ceil(layout.frameLength / layout.dataChunks);
}

/** The payload size a chunk must have, from its frame's layout. */
export function expectedPayloadSize(layout: V2FrameLayout, parity: boolean, chunkIndex: number): number {
  const size = chunkPayloadSize(layout);
  return !parity && chunkIndex === layout.dataChunks - 1 ? layout.frameLength - (layout.dataChunks - 1) * size : size;
}

/** Data chunks in FEC group g. */
export function groupDataChunks(layout: Pick<V2FrameLayout, "dataChunks" | "groups">, group: number): number {
  return Math.ceil((layout.dataChunks - group) / layout.groups);
}

/** Writes the header for `packet` into `target` at `offset` and returns the header size. */
export function writeV2Header(target: Uint8Array, offset: number, packet: Omit<V2Packet, "payload" | "sealed"> & { sealed?: boolean }): number {
  const view = new DataView(target.buffer, target.byteOffset + offset, V2_HEADER_SIZE);
  const last = !packet.endOfStream && !packet.parity && packet.chunkIndex === packet.dataChunks - 1;
  view.setUint8(OFFSET.magic, V2_MAGIC);
  view.setUint8(OFFSET.version, V2_VERSION);
  view.setUint8(
    OFFSET.flags,
    (last ? V2_FLAG_LAST : 0) | (packet.endOfStream ? V2_FLAG_END : 0) | (packet.parity ? V2_FLAG_PARITY : 0) | (packet.sealed ? V2_FLAG_SEALED : 0),
  );
  view.setUint8(OFFSET.groups, packet.groups);
  view.setUint32(OFFSET.streamId, packet.streamId >>> 0);
  view.setUint32(OFFSET.frameNumber, packet.frameNumber >>> 0);
  view.setUint16(OFFSET.chunkIndex, packet.chunkIndex);
  view.setUint16(OFFSET.dataChunks, packet.dataChunks);
  view.setUint8(OFFSET.parityPerGroup, packet.parityPerGroup);
  view.setUint8(OFFSET.frameLength, packet.frameLength >>> 16);
  view.setUint16(OFFSET.frameLength + 1, packet.frameLength & 0xffff);
  view.setUint32(OFFSET.captureTime, packet.captureTimeUs >>> 0);
  return V2_HEADER_SIZE;
}

export function serializeV2(packet: V2Packet): Uint8Array {
  const datagram = new Uint8Array(V2_HEADER_SIZE + packet.payload.length);
  writeV2Header(datagram, 0, packet);
  datagram.set(packet.payload, V2_HEADER_SIZE);
  return datagram;
}

/**
 * Parses and validates one datagram; the payload is a view into it, not a copy.
 * Everything that can be checked without state is: a datagram that passes
 * has a self-consistent layout and exactly the payload size it implies.
 */
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

  const packet: V2Packet = {
    streamId: view.getUint32(OFFSET.streamId),
    frameNumber: view.getUint32(OFFSET.frameNumber),
    chunkIndex: view.getUint16(OFFSET.chunkIndex),
    parity: (flags & V2_FLAG_PARITY) !== 0,
    dataChunks: view.getUint16(OFFSET.dataChunks),
    groups: view.getUint8(OFFSET.groups),
    parityPerGroup: view.getUint8(OFFSET.parityPerGroup),
    frameLength: (view.getUint8(OFFSET.frameLength) << 16) | view.getUint16(OFFSET.frameLength + 1),
    captureTimeUs: view.getUint32(OFFSET.captureTime),
    endOfStream: (flags & V2_FLAG_END) !== 0,
    sealed: (flags & V2_FLAG_SEALED) !== 0,
    payload: datagram.subarray(V2_HEADER_SIZE),
  };
  const last = (flags & V2_FLAG_LAST) !== 0;
  const tag = packet.sealed ? V2_SEAL_OVERHEAD : 0;
  if (packet.endOfStream) {
    const empty = !last && !packet.parity && packet.chunkIndex === 0 && packet.dataChunks === 0 && packet.groups === 0;
    if (!empty || packet.parityPerGroup !== 0 || packet.frameLength !== 0 || packet.payload.length !== tag) {
      throw new ProtocolError("bad-flags", "end-of-stream datagram must carry no chunk and no payload");
    }
    return packet;
  }
  checkLayout(packet);
  const limit = packet.parity ? packet.groups * packet.parityPerGroup : packet.dataChunks;
  if (packet.chunkIndex >= limit) {
    throw new ProtocolError("bad-chunk-index", `${packet.parity ? "parity" : "data"} chunk index ${packet.chunkIndex} is not below ${limit}`);
  }
  if (last !== (!packet.parity && packet.chunkIndex === packet.dataChunks - 1)) {
    throw new ProtocolError("bad-flags", `LAST flag ${last ? "set" : "clear"} on ${packet.parity ? "parity" : "data"} chunk ${packet.chunkIndex}`);
  }
  const expected = expectedPayloadSize(packet, packet.parity, packet.chunkIndex) + tag;
  if (packet.payload.length !== expected) {
    throw new ProtocolError("bad-length", `chunk payload is ${packet.payload.length} bytes, the frame layout says ${expected}`);
  }
  return packet;
}

function checkLayout(layout: V2FrameLayout): void {
  const { dataChunks: k, groups, parityPerGroup: m, frameLength } = layout;
  if (k === 0) throw new ProtocolError("bad-chunk-index", "a frame needs at least one data chunk");
  if (groups === 0 || groups > k) throw new ProtocolError("bad-fec", `${groups} FEC groups for ${k} data chunks`);
  if (m > 0 && groupDataChunks(layout, 0) + m > MAX_SHARDS) {
    throw new ProtocolError("bad-fec", `FEC group of ${groupDataChunks(layout, 0)} + ${m} chunks exceeds ${MAX_SHARDS}`);
  }
  if (frameLength < k || (k - 1) * chunkPayloadSize(layout) >= frameLength) {
    throw new ProtocolError("bad-length", `frame length ${frameLength} cannot be cut into ${k} chunks`);
  }
}

/** Microseconds from capture time `thenUs` (mod 2^32) to `nowUs`; undefined when it looks negative (clocks apart). */
export function elapsedSinceCaptureUs(nowUs: number, thenUs: number): number | undefined {
  return forward32(nowUs, thenUs);
}
