import { ProtocolError } from "./protocol-error.ts";

/*
 * Audio NACK body (feedback type 5): which sound packets a receiver is
 * missing and asks for again, by the sound track's own sequence numbers.
 *
 *    0               2               4
 *   +---------------+---------------+
 *   |  entries (N)  |  reserved (0) |
 *   +---------------+---------------+
 *   then N entries of 6 bytes:
 *    0                               4               6
 *   +-------------------------------+---------------+
 *   |        sequence number        |    bitmask    |
 *   +-------------------------------+---------------+
 *
 *   sequence   a missing data packet; bit i of bitmask (least significant
 *              first) set: sequence + 1 + i is missing too (RFC 4585's
 *              generic NACK, with 32-bit numbers), wrapping at 2^32.
 *   N          1 … 64.
 */
export const MAX_AUDIO_NACK_ENTRIES = 64;
const ENTRY_SIZE = 6;

/** Packs missing sequence numbers into entries of a first number and the 16 after it. Throws RangeError for none, or more than 64 entries' worth. */
export function serializeAudioNack(sequences: readonly number[]): Uint8Array {
  const entries: { sequence: number; mask: number }[] = [];
  // Sorted by distance from the smallest in serial order: a run across the wrap stays one run.
  const unique = [...new Set(sequences.map((s) => s >>> 0))];
  const first = unique.reduce((lowest, s) => (((s - lowest) | 0) < 0 ? s : lowest), unique[0] ?? 0);
  unique.sort((a, b) => ((a - first) >>> 0) - ((b - first) >>> 0));
  for (const sequence of unique) {
    const open = entries.at(-1);
    const ahead = open ? (sequence - open.sequence) >>> 0 : 0;
    if (open && ahead >= 1 && ahead <= 16) open.mask |= 1 << (ahead - 1);
    else entries.push({ sequence, mask: 0 });
  }
  if (entries.length === 0 || entries.length > MAX_AUDIO_NACK_ENTRIES) throw new RangeError(`an audio NACK carries 1 to ${MAX_AUDIO_NACK_ENTRIES} entries, not ${entries.length}`);
  const body = new Uint8Array(4 + entries.length * ENTRY_SIZE);
  const view = new DataView(body.buffer);
  view.setUint16(0, entries.length);
  entries.forEach((entry, i) => {
    view.setUint32(4 + i * ENTRY_SIZE, entry.sequence);
    view.setUint16(8 + i * ENTRY_SIZE, entry.mask);
  });
  return body;
}

/** The sequence numbers an audio NACK body asks for. Lengths are checked before reading; throws ProtocolError. */
export function deserializeAudioNack(body: Uint8Array): number[] {
  if (body.length < 4) throw new ProtocolError("truncated", `audio NACK body of ${body.length} bytes`);
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  const count = view.getUint16(0);
  if (count === 0 || count > MAX_AUDIO_NACK_ENTRIES) throw new ProtocolError("bad-length", `audio NACK with ${count} entries`);
  if (view.getUint16(2) !== 0) throw new ProtocolError("bad-flags", "audio NACK's reserved field is not 0");
  if (body.length !== 4 + count * ENTRY_SIZE) throw new ProtocolError("bad-length", `audio NACK of ${count} entries is ${body.length} bytes, not ${4 + count * ENTRY_SIZE}`);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const sequence = view.getUint32(4 + i * ENTRY_SIZE);
    const mask = view.getUint16(8 + i * ENTRY_SIZE);
    out.push(sequence);
    for (let bit = 0; bit < 16; bit++) if (mask & (1 << bit)) out.push((sequence + 1 + bit) >>> 0);
  }
  return out;
}
