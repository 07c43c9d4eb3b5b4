import { joinBytes } from "../util/bytes.ts";

/*
 * Reading the Opus packets out of an Ogg stream (RFC 3533, RFC 7845): what
 * ffmpeg writes with `-c:a libopus -f ogg`. Incremental and pure: feed it
 * bytes as they come, take packets out.
 *
 * An Ogg page:
 *
 *    0               4       5       6                               14
 *   +---------------+-------+-------+-------------------------------+
 *   |    "OggS"     |version| type  | granule position (int64, LE)  |
 *   +---------------+-------+-------+-------------------------------+
 *    14              18              22              26      27
 *   +---------------+---------------+---------------+-------+-----------------+
 *   | serial (LE)   | page seq (LE) |  CRC (LE)     | n segs| n lacing values |
 *   +---------------+---------------+---------------+-------+-----------------+
 *    27 + n ...  the segments. A packet is a run of segments ending in one
 *                shorter than 255 bytes; a page may end mid-packet (type
 *                bit 0 on the next page: continued).
 *
 * The first packet of an Opus stream is "OpusHead" (channels, pre-skip),
 * the second "OpusTags"; the rest are audio.
 */

const CAPTURE = [0x4f, 0x67, 0x67, 0x53]; // "OggS"
const PAGE_HEADER = 27;
/** A page is at most 27 + 255 + 255·255 bytes; a stream that says otherwise is not Ogg. */
const MAX_PAGE = PAGE_HEADER + 255 + 255 * 255;

export class OggFormatError extends Error {}

export interface OpusHead {
  channels: number;
  /** Samples (at 48 kHz) the decoder's first output must drop. */
  preSkip: number;
  inputSampleRate: number;
}

/**
 * Pulls whole packets out of Ogg pages fed in any slicing. Holds at most
 * one page and one packet in progress.
 */
export class OggPacketReader {
  private buffer: Uint8Array = new Uint8Array(0);
  private partial: Uint8Array[] = [];

  /** Bytes from the stream; returns the packets they completed, in order. */
  push(bytes: Uint8Array): Uint8Array[] {
    this.buffer = concat([this.buffer, bytes]);
    const packets: Uint8Array[] = [];
    for (;;) {
      const page = this.nextPage();
      if (!page) return packets;
      let offset = 0;
      let run: number[] = [];
      for (const lacing of page.lacing) {
        run.push(lacing);
        if (lacing < 255) {
          const length = run.reduce((a, b) => a + b, 0);
          this.partial.push(page.body.subarray(offset, offset + length));
          offset += length;
          packets.push(concat(this.partial));
          this.partial = [];
          run = [];
        }
      }
      // A packet that goes on in the next page.
      const rest = run.reduce((a, b) => a + b, 0);
      if (rest > 0) this.partial.push(page.body.slice(offset, offset + rest));
    }
  }

  private nextPage(): { lacing: Uint8Array; body: Uint8Array } | undefined {
    const b = this.buffer;
    if (b.length < PAGE_HEADER) return undefined;
    for (let i = 0; i < 4; i++) if (b[i] !== CAPTURE[i]) throw new OggFormatError("not an Ogg page (no OggS capture pattern)");
    if (b[4] !== 0) throw new OggFormatError(`Ogg version ${b[4]}`);
    const segments = b[26]!;
    if (b.length < PAGE_HEADER + segments) return undefined;
    const lacing = b.slice(PAGE_HEADER, PAGE_HEADER + segments);
    const bodyLength = lacing.reduce((a, v) => a + v, 0);
    const total = PAGE_HEADER + segments + bodyLength;
    if (total > MAX_PAGE) throw new OggFormatError("Ogg page too long");
    if (b.length < total) return undefined;
    const body = b.slice(PAGE_HEADER + segments, total);
    this.buffer = b.slice(total);
    return { lacing, body };
  }
}

/** The OpusHead packet's fields (RFC 7845 §5.1), or undefined if the packet is not one. */
export function parseOpusHead(packet: Uint8Array): OpusHead | undefined {
  if (packet.length < 19 || new TextDecoder().decode(packet.subarray(0, 8)) !== "OpusHead") return undefined;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.length);
  return { channels: view.getUint8(9), preSkip: view.getUint16(10, true), inputSampleRate: view.getUint32(12, true) };
}

/** Whether a packet is Opus's comment header (OpusTags), which carries no sound. */
export function isOpusTags(packet: Uint8Array): boolean {
  return packet.length >= 8 && new TextDecoder().decode(packet.subarray(0, 8)) === "OpusTags";
}

/**
 * Samples per channel (at 48 kHz) one Opus packet decodes to, from its TOC
 * byte (RFC 6716 §3.1); undefined for a packet that cannot be Opus.
 */
export function opusPacketSamples(packet: Uint8Array): number | undefined {
  if (packet.length === 0) return undefined;
  const toc = packet[0]!;
  const config = toc >> 3;
  // SILK-only (0–11): 10, 20, 40, 60 ms; hybrid (12–15): 10, 20 ms; CELT-only (16–31): 2.5, 5, 10, 20 ms.
  const frameSamples = config < 12 ? [480, 960, 1920, 2880][config % 4]! : config < 16 ? [480, 960][config % 2]! : [120, 240, 480, 960][config % 4]!;
  const code = toc & 0x03;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code === 1 || code === 2) frames = 2;
  else {
    if (packet.length < 2) return undefined;
    frames = packet[1]! & 0x3f;
    if (frames === 0) return undefined;
  }
  const samples = frames * frameSamples;
  return samples <= 5760 ? samples : undefined;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : joinBytes(parts);
}
