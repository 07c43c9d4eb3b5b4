import { ProtocolError } from "./protocol-error.ts";

/*
 * NACK body (feedback type 1): which chunks of which frames a receiver is
 * missing and asks for again. Chunks are named by their send position in
 * the frame (0 … data + parity − 1, see packetizer/send-order.ts), so one
 * number covers data and parity alike.
 *
 *    0               2               4
 *   +---------------+---------------+
 *   |  entries (N)  |  reserved (0) |
 *   +---------------+---------------+
 *   then N entries of 8 bytes:
 *    0                               4               6               8
 *   +-------------------------------+---------------+---------------+
 *   |         frame number          |   position    |    bitmask    |
 *   +-------------------------------+---------------+---------------+
 *
 *   position   a missing chunk; bit i of bitmask (least significant first)
 *              set: position + 1 + i is missing too (as RTCP's generic
 *              NACK does for sequence numbers, RFC 4585).
 *   N          1 … 128.
 */
export const MAX_NACK_ENTRIES = 128;
const ENTRY_SIZE = 8;

export interface NackEntry {
  frameNumber: number;
  /** Send positions within the frame, each at most 65535. */
  positions: number[];
}

/** Packs missing positions into entries of a first position and the 16 after it. */
export function serializeNack(missing: NackEntry[]): Uint8Array {
  const entries: { frameNumber: number; position: number; mask: number }[] = [];
  for (const { frameNumber, positions } of missing) {
    const sorted = [...new Set(positions)].sort((a, b) => a - b);
    for (const position of sorted) {
      const open = entries.at(-1);
      if (open && open.frameNumber === frameNumber && position > open.position && position <= open.position + 16) {
        open.mask |= 1 << (position - open.position - 1);
      } else {
        entries.push({ frameNumber, position, mask: 0 });
      }
    }
  }
  if (entries.length === 0 || entries.length > MAX_NACK_ENTRIES) throw new RangeError(`a NACK carries 1 to ${MAX_NACK_ENTRIES} entries, not ${entries.length}`);
  const body = new Uint8Array(4 + entries.length * ENTRY_SIZE);
  const view = new DataView(body.buffer);
  view.setUint16(0, entries.length);
  entries.forEach((entry, i) => {
    view.setUint32(4 + i * ENTRY_SIZE, entry.frameNumber >>> 0);
    view.setUint16(8 + i * ENTRY_SIZE, entry.position);
    view.setUint16(10 + i * ENTRY_SIZE, entry.mask);
  });
  return body;
}

/** The positions a NACK body asks for, per frame. Lengths are checked before reading; throws ProtocolError. */
export function deserializeNack(body: Uint8Array): NackEntry[] {
  if (body.length < 4) throw new ProtocolError("truncated", `NACK body of ${body.length} bytes`);
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  const count = view.getUint16(0);
  if (count === 0 || count > MAX_NACK_ENTRIES) throw new ProtocolError("bad-length", `NACK with ${count} entries`);
  if (body.length !== 4 + count * ENTRY_SIZE) throw new ProtocolError("bad-length", `NACK of ${count} entries is ${body.length} bytes, not ${4 + count * ENTRY_SIZE}`);
  const byFrame = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const frameNumber = view.getUint32(4 + i * ENTRY_SIZE);
    const position = view.getUint16(8 + i * ENTRY_SIZE);
    const mask = view.getUint16(10 + i * ENTRY_SIZE);
    const positions = byFrame.get(frameNumber) ?? [];
    positions.push(position);
    for (let bit = 0; bit < 16; bit++) if (mask & (1 << bit) && position + 1 + bit <= 0xffff) positions.push(position + 1 + bit);
    byFrame.set(frameNumber, positions);
  }
  return [...byFrame].map(([frameNumber, positions]) => ({ frameNumber, positions }));
}
