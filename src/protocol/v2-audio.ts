import { hex, ProtocolError } from "./protocol-error.ts";
import { MAX_UDP_PAYLOAD } from "./udp.ts";
import { V2_SEAL_OVERHEAD } from "./v2.ts";

/*
 * udpvid v2 audio datagram: the sound track of a v2 stream. A 20-byte
 * header, then one encoded audio packet (data) or Reed–Solomon parity over
 * a group of them (parity). All integers are big-endian.
 *
 *    0       1       2       3       4                               8
 *   +-------+-------+-------+-------+-------------------------------+
 *   | magic |version| flags | codec |           stream id           |
 *   +-------+-------+-------+-------+-------------------------------+
 *    8                               12                              16
 *   +-------------------------------+-------------------------------+
 *   |        sequence number        |  capture time, µs (mod 2^32)  |
 *   +-------------------------------+-------------------------------+
 *    16      17      18              20
 *   +-------+-------+---------------+
 *   | shape | index |   duration    |
 *   +-------+-------+---------------+
 *    20 ...  payload: data: the encoded packet; parity: a parity shard;
 *            when SEALED, the stream's 16-byte salt, that encrypted, and a
 *            16-byte authentication tag (as v2 video)
 *
 *   magic        0x41 ('A'): apart from v2 video (0x56), feedback (0x52),
 *                legacy (0x00/0x01) and RTP (0x80–0xBF).
 *   version      1.
 *   flags        bit 2 PARITY, bit 3 SEALED (the same bits as v2 video).
 *   codec        high nibble: 1 = Opus at 48 kHz; low nibble: channels (1–2).
 *   stream id    the v2 stream it belongs to: the picture's stream id.
 *   sequence     data: the packet's number (0, 1, 2, … mod 2^32); parity:
 *                the number of its group's first data packet.
 *   capture time data: when its first sample was captured, on the same clock
 *                as the picture's capture times; parity: its group's first.
 *   shape        high nibble: k, data packets per group (1–15); low nibble:
 *                m, parity packets per group (0–15). Group g holds data
 *                packets g·k … g·k+k−1.
 *   index        data: sequence mod k; parity: its row, 0 … m−1.
 *   duration     data: samples per channel at 48 kHz (Opus: 120–5760);
 *                parity: 0, or, for a group the track ended before it was
 *                full, how many data packets it holds (1 … k−1): the rest
 *                count as empty shards (all zeros), never sent.
 *
 * Parity shards are Reed–Solomon over the group's data shards, each shard
 * being capture time (4 bytes), duration (2), payload length (2) and the
 * payload, zero-padded to the group's longest: a rebuilt packet comes back
 * with its timing.
 */
export const AUDIO_MAGIC = 0x41;
export const AUDIO_VERSION = 1;
export const AUDIO_HEADER_SIZE = 20;
export const AUDIO_FLAG_PARITY = 0x04;
export const AUDIO_FLAG_SEALED = 0x08;
const KNOWN_FLAGS = AUDIO_FLAG_PARITY | AUDIO_FLAG_SEALED;
export const AUDIO_CODEC_OPUS = 1;
/** Opus packets last 2.5 to 120 ms: 120 to 5760 samples at 48 kHz. */
export const OPUS_MIN_SAMPLES = 120;
export const OPUS_MAX_SAMPLES = 5760;
/** Bytes ahead of the payload in a data shard: capture time, duration, length. */
export const AUDIO_SHARD_HEADER = 8;

const OFFSET = { magic: 0, version: 1, flags: 2, codec: 3, streamId: 4, sequence: 8, captureTime: 12, shape: 16, index: 17, duration: 18 } as const;

export interface AudioPacket {
  streamId: number;
  /** Data: the packet's number; parity: its group's first data packet's. */
  sequence: number;
  /** Microseconds, modulo 2^32, on the picture's clock. */
  captureTimeUs: number;
  codec: typeof AUDIO_CODEC_OPUS;
  channels: 1 | 2;
  /** Data packets per FEC group. */
  groupData: number;
  /** Parity packets per FEC group (0: none). */
  groupParity: number;
  /** Data: sequence mod groupData; parity: its row. */
  index: number;
  /** Samples per channel at 48 kHz (data); 0 for parity. */
  durationSamples: number;
  parity: boolean;
  sealed: boolean;
  payload: Uint8Array;
}

export function serializeAudio(packet: AudioPacket): Uint8Array {
  const datagram = new Uint8Array(AUDIO_HEADER_SIZE + packet.payload.length);
  writeAudioHeader(datagram, packet);
  datagram.set(packet.payload, AUDIO_HEADER_SIZE);
  return datagram;
}

/** Writes `packet`'s header at the start of `target`. */
export function writeAudioHeader(target: Uint8Array, packet: Omit<AudioPacket, "payload">): void {
  const view = new DataView(target.buffer, target.byteOffset, AUDIO_HEADER_SIZE);
  view.setUint8(OFFSET.magic, AUDIO_MAGIC);
  view.setUint8(OFFSET.version, AUDIO_VERSION);
  view.setUint8(OFFSET.flags, (packet.parity ? AUDIO_FLAG_PARITY : 0) | (packet.sealed ? AUDIO_FLAG_SEALED : 0));
  view.setUint8(OFFSET.codec, (packet.codec << 4) | packet.channels);
  view.setUint32(OFFSET.streamId, packet.streamId >>> 0);
  view.setUint32(OFFSET.sequence, packet.sequence >>> 0);
  view.setUint32(OFFSET.captureTime, packet.captureTimeUs >>> 0);
  view.setUint8(OFFSET.shape, (packet.groupData << 4) | packet.groupParity);
  view.setUint8(OFFSET.index, packet.index);
  view.setUint16(OFFSET.duration, packet.durationSamples);
}

/**
 * Parses and checks one audio datagram; the payload is a view into it. What
 * can be checked without state is: a packet that passes has a known codec,
 * a group shape that can exist, an index inside it, a sequence that agrees
 * with it, and a duration Opus can have.
 */
export function deserializeAudio(datagram: Uint8Array): AudioPacket {
  if (datagram.length < AUDIO_HEADER_SIZE) throw new ProtocolError("truncated", `audio datagram of ${datagram.length} bytes is shorter than its ${AUDIO_HEADER_SIZE}-byte header`);
  if (datagram.length > MAX_UDP_PAYLOAD) throw new ProtocolError("oversized", `audio datagram of ${datagram.length} bytes exceeds ${MAX_UDP_PAYLOAD}`);
  const view = new DataView(datagram.buffer, datagram.byteOffset, AUDIO_HEADER_SIZE);
  const magic = view.getUint8(OFFSET.magic);
  if (magic !== AUDIO_MAGIC) throw new ProtocolError("bad-magic", `audio magic must be 0x${hex(AUDIO_MAGIC)}, got 0x${hex(magic)}`);
  const version = view.getUint8(OFFSET.version);
  if (version !== AUDIO_VERSION) throw new ProtocolError("unsupported-version", `unsupported audio version ${version}`);
  const flags = view.getUint8(OFFSET.flags);
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new ProtocolError("bad-flags", `unknown audio flags 0x${hex(flags)}`);
  const codecByte = view.getUint8(OFFSET.codec);
  const codec = codecByte >> 4;
  const channels = codecByte & 0x0f;
  if (codec !== AUDIO_CODEC_OPUS) throw new ProtocolError("bad-flags", `unknown audio codec ${codec}`);
  if (channels !== 1 && channels !== 2) throw new ProtocolError("bad-flags", `audio with ${channels} channels`);
  const shape = view.getUint8(OFFSET.shape);
  const packet: AudioPacket = {
    streamId: view.getUint32(OFFSET.streamId),
    sequence: view.getUint32(OFFSET.sequence),
    captureTimeUs: view.getUint32(OFFSET.captureTime),
    codec,
    channels,
    groupData: shape >> 4,
    groupParity: shape & 0x0f,
    index: view.getUint8(OFFSET.index),
    durationSamples: view.getUint16(OFFSET.duration),
    parity: (flags & AUDIO_FLAG_PARITY) !== 0,
    sealed: (flags & AUDIO_FLAG_SEALED) !== 0,
    payload: datagram.subarray(AUDIO_HEADER_SIZE),
  };
  if (packet.groupData === 0) throw new ProtocolError("bad-fec", "an audio group needs at least one data packet");
  if (packet.parity) {
    if (packet.index >= packet.groupParity) throw new ProtocolError("bad-chunk-index", `parity row ${packet.index} is not below ${packet.groupParity}`);
    if (packet.sequence % packet.groupData !== 0) throw new ProtocolError("bad-chunk-index", `parity for a group starting at ${packet.sequence}, not a multiple of ${packet.groupData}`);
    if (packet.durationSamples >= packet.groupData) throw new ProtocolError("bad-length", `parity for a group of ${packet.durationSamples} data packets, not fewer than ${packet.groupData}`);
  } else {
    if (packet.index !== packet.sequence % packet.groupData) throw new ProtocolError("bad-chunk-index", `packet ${packet.sequence} at index ${packet.index} of a group of ${packet.groupData}`);
    if (packet.durationSamples < OPUS_MIN_SAMPLES || packet.durationSamples > OPUS_MAX_SAMPLES) {
      throw new ProtocolError("bad-length", `an Opus packet of ${packet.durationSamples} samples (${OPUS_MIN_SAMPLES}–${OPUS_MAX_SAMPLES})`);
    }
  }
  const least = (packet.parity ? AUDIO_SHARD_HEADER : 1) + (packet.sealed ? V2_SEAL_OVERHEAD : 0);
  if (packet.payload.length < least) throw new ProtocolError("empty-payload", `audio ${packet.parity ? "parity" : "packet"} of ${packet.payload.length} bytes, at least ${least}`);
  return packet;
}

/** How many data packets a parity packet's group holds: k, or fewer for the track's last group (see the diagram's "duration"). */
export function groupDataSent(parity: AudioPacket): number {
  return parity.durationSamples === 0 ? parity.groupData : parity.durationSamples;
}

/** Whether a datagram claims to be v2 audio (its first byte). */
export function looksLikeAudio(datagram: Uint8Array): boolean {
  return datagram[0] === AUDIO_MAGIC;
}
