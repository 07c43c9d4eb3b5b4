import { joinBytes } from "../util/bytes.ts";

/*
 * A live Matroska stream, as much of it as hands timestamped MJPEG frames and
 * Opus packets to ffmpeg through a pipe (ffmpeg then writes the file, with
 * its index). Matroska is EBML: every element is an ID, a size and a body.
 *
 *   element   +------------+-----------------+----------------------+
 *             | ID (1–4 B) | size (1–8 B)    | body (size bytes)    |
 *             +------------+-----------------+----------------------+
 *   size      a variable-length integer: the count of leading zero bits
 *             of its first byte says how many bytes follow (1xxxxxxx: 1
 *             byte, 01xxxxxx xxxxxxxx: 2, ...); the rest is the value. All
 *             value bits 1 is "unknown": a live stream's Segment has no end.
 *   uint      big-endian, as few bytes as the value needs (0: one 0 byte).
 *   float     8-byte IEEE 754, big-endian.   string  ASCII, unterminated.
 *
 * The stream:  EBML header · Segment (unknown size) { Info · Tracks ·
 * Cluster · Cluster · ... }. A Cluster: its Timestamp (ms) and SimpleBlocks:
 *
 *   SimpleBlock body  +-------------+------------------+-------+--------+
 *                     | track (vint)| timestamp (int16)| flags | frame  |
 *                     +-------------+------------------+-------+--------+
 *   timestamp  ms, signed, relative to the Cluster's; flags 0x80: keyframe.
 */

const ID = {
  EBML: 0x1a45dfa3,
  EBMLVersion: 0x4286,
  EBMLReadVersion: 0x42f7,
  EBMLMaxIDLength: 0x42f2,
  EBMLMaxSizeLength: 0x42f3,
  DocType: 0x4282,
  DocTypeVersion: 0x4287,
  DocTypeReadVersion: 0x4285,
  Segment: 0x18538067,
  Info: 0x1549a966,
  TimestampScale: 0x2ad7b1,
  MuxingApp: 0x4d80,
  WritingApp: 0x5741,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackUID: 0x73c5,
  TrackType: 0x83,
  FlagLacing: 0x9c,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  CodecDelay: 0x56aa,
  SeekPreRoll: 0x56bb,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  Cluster: 0x1f43b675,
  Timestamp: 0xe7,
  SimpleBlock: 0xa3,
} as const;

/** Blocks' timestamps are counted in ms (TimestampScale is in ns). */
export const MATROSKA_TIMESTAMP_SCALE_NS = 1_000_000;
/** The unknown size, in 8 bytes: a live Segment's. */
const UNKNOWN_SIZE = Uint8Array.of(0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

export type MatroskaTrack =
  | { kind: "video"; number: number; codecId: "V_MJPEG"; width: number; height: number }
  | { kind: "audio"; number: number; codecId: "A_OPUS"; channels: 1 | 2; sampleRate: 48000 };

export interface MatroskaBlock {
  track: number;
  /** ms on the stream's timeline. */
  timestampMs: number;
  data: Uint8Array;
}

function idBytes(id: number): Uint8Array {
  const length = id > 0xffffff ? 4 : id > 0xffff ? 3 : id > 0xff ? 2 : 1;
  return uintBytes(id, length);
}

function uintBytes(value: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v % 256;
  return out;
}

/** A size as a variable-length integer, in as few bytes as hold it (all-ones values are reserved for "unknown"). */
export function vint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`EBML size ${value}`);
  let length = 1;
  while (value >= 2 ** (7 * length) - 1) length++;
  if (length > 8) throw new RangeError(`EBML size ${value}`);
  const out = uintBytes(value, length);
  out[0]! |= 0x80 >> (length - 1);
  return out;
}

export function element(id: number, ...body: Uint8Array[]): Uint8Array {
  const content = joinBytes(body);
  return joinBytes([idBytes(id), vint(content.length), content]);
}

function uint(id: number, value: number): Uint8Array {
  let length = 1;
  while (length < 8 && value >= 2 ** (8 * length)) length++;
  return element(id, uintBytes(value, length));
}

function float(id: number, value: number): Uint8Array {
  const body = new Uint8Array(8);
  new DataView(body.buffer).setFloat64(0, value);
  return element(id, body);
}

function string(id: number, value: string): Uint8Array {
  return element(id, new TextEncoder().encode(value));
}

/**
 * Opus's identification header (RFC 7845 §5.1), which Matroska carries as
 * A_OPUS's CodecPrivate: "OpusHead", version 1, channels, pre-skip, the
 * input's rate, gain 0, channel mapping 0 (mono or stereo).
 */
export function opusHead(channels: 1 | 2, preSkip = 0): Uint8Array {
  const head = new Uint8Array(19);
  head.set(new TextEncoder().encode("OpusHead"));
  const view = new DataView(head.buffer);
  view.setUint8(8, 1);
  view.setUint8(9, channels);
  view.setUint16(10, preSkip, true);
  view.setUint32(12, 48000, true);
  return head;
}

function trackEntry(track: MatroskaTrack): Uint8Array {
  const common = [uint(ID.TrackNumber, track.number), uint(ID.TrackUID, track.number), uint(ID.FlagLacing, 0), string(ID.CodecID, track.codecId)];
  if (track.kind === "video") {
    return element(ID.TrackEntry, ...common, uint(ID.TrackType, 1), element(ID.Video, uint(ID.PixelWidth, track.width), uint(ID.PixelHeight, track.height)));
  }
  return element(
    ID.TrackEntry,
    ...common,
    uint(ID.TrackType, 2),
    element(ID.CodecPrivate, opusHead(track.channels)),
    uint(ID.CodecDelay, 0),
    // Opus needs 80 ms decoded before a seek point to converge (RFC 7845 §4.6).
    uint(ID.SeekPreRoll, 80_000_000),
    element(ID.Audio, float(ID.SamplingFrequency, track.sampleRate), uint(ID.Channels, track.channels)),
  );
}

/** What starts the stream: the EBML header, the Segment's opening (its size unknown), Info and Tracks. */
export function matroskaStart(tracks: MatroskaTrack[], writingApp: string): Uint8Array {
  if (tracks.length === 0) throw new RangeError("a Matroska stream needs a track");
  const header = element(
    ID.EBML,
    uint(ID.EBMLVersion, 1),
    uint(ID.EBMLReadVersion, 1),
    uint(ID.EBMLMaxIDLength, 4),
    uint(ID.EBMLMaxSizeLength, 8),
    string(ID.DocType, "matroska"),
    uint(ID.DocTypeVersion, 4),
    uint(ID.DocTypeReadVersion, 2),
  );
  const info = element(ID.Info, uint(ID.TimestampScale, MATROSKA_TIMESTAMP_SCALE_NS), string(ID.MuxingApp, writingApp), string(ID.WritingApp, writingApp));
  return joinBytes([header, idBytes(ID.Segment), UNKNOWN_SIZE, info, element(ID.Tracks, ...tracks.map(trackEntry))]);
}

/**
 * One Cluster of blocks, every one a keyframe (a JPEG and an Opus packet
 * each decode alone). Its timestamp is its first block's; the others must be
 * within an int16 of ms of it (the caller's clusters span about a second).
 */
export function matroskaCluster(blocks: MatroskaBlock[]): Uint8Array {
  if (blocks.length === 0) throw new RangeError("a Cluster needs a block");
  const base = blocks[0]!.timestampMs;
  if (!Number.isInteger(base) || base < 0) throw new RangeError(`Cluster timestamp ${base}`);
  const simpleBlocks = blocks.map(({ track, timestampMs, data }) => {
    const relative = timestampMs - base;
    if (!Number.isInteger(relative) || relative < -32768 || relative > 32767) throw new RangeError(`block ${relative} ms from its Cluster's timestamp`);
    if (!Number.isInteger(track) || track < 1 || track > 126) throw new RangeError(`track number ${track}`);
    const head = new Uint8Array(4);
    head[0] = 0x80 | track;
    new DataView(head.buffer).setInt16(1, relative);
    head[3] = 0x80;
    return element(ID.SimpleBlock, head, data);
  });
  return element(ID.Cluster, uint(ID.Timestamp, base), ...simpleBlocks);
}
