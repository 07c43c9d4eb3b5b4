import { ProtocolError } from "./protocol-error.ts";

/*
 * How many samples an Opus packet holds, from its table-of-contents byte
 * (RFC 6716 §3.1), without decoding it: an RTP Opus packet (RFC 7587)
 * carries no duration of its own, and the jitter buffer needs one.
 *
 *    0 1 2 3 4 5 6 7
 *   +-+-+-+-+-+-+-+-+
 *   | config  |s| c |
 *   +-+-+-+-+-+-+-+-+
 *
 *   config  0–11 SILK (10, 20, 40, 60 ms by config mod 4); 12–15 hybrid
 *           (10, 20 ms by config mod 2); 16–31 CELT (2.5, 5, 10, 20 ms by
 *           config mod 4).
 *   c       0: one frame; 1, 2: two frames; 3: a count in the next byte's
 *           low 6 bits (1–48).
 *
 * A packet holds at most 120 ms (RFC 6716 §3.2.5).
 */
const MAX_SAMPLES = 5760;

/** Samples per channel at 48 kHz in one frame of `config`. */
function frameSamples(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config % 4]!;
  if (config < 16) return [480, 960][config % 2]!;
  return [120, 240, 480, 960][config % 4]!;
}

/** Samples per channel at 48 kHz in an Opus packet. Throws ProtocolError for an empty packet, a missing count, or more than 120 ms. */
export function opusPacketSamples(packet: Uint8Array): number {
  if (packet.length === 0) throw new ProtocolError("truncated", "an empty Opus packet");
  const toc = packet[0]!;
  const code = toc & 0x03;
  let frames = code === 0 ? 1 : code === 3 ? 0 : 2;
  if (code === 3) {
    if (packet.length < 2) throw new ProtocolError("truncated", "an Opus packet of code 3 without its frame count");
    frames = packet[1]! & 0x3f;
    if (frames === 0) throw new ProtocolError("bad-length", "an Opus packet of 0 frames");
  }
  const samples = frames * frameSamples(toc >> 3);
  if (samples > MAX_SAMPLES) throw new ProtocolError("bad-length", `an Opus packet of ${samples / 48} ms, more than 120`);
  return samples;
}
