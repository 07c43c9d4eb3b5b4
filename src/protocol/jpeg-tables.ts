/**
 * The tables baseline JPEG and RTP/JPEG (RFC 2435) share: the zigzag scan
 * order, ITU-T T.81 Annex K's example quantization tables and its
 * "typical" Huffman tables, which RTP/JPEG assumes every frame uses.
 */

/** ZIGZAG[i] is the natural (row-major) index of the i-th coefficient in zigzag order. */
export const ZIGZAG: readonly number[] = (() => {
  const order: number[] = [];
  for (let sum = 0; sum < 15; sum++) {
    const cells: number[] = [];
    for (let row = Math.max(0, sum - 7); row <= Math.min(7, sum); row++) cells.push(row * 8 + (sum - row));
    // Even diagonals run bottom-left to top-right, odd ones top-right to bottom-left.
    order.push(...(sum % 2 === 0 ? cells.reverse() : cells));
  }
  return order;
})();

/** Annex K.1, natural order: luminance. */
const LUMA_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77,
  24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
/** Annex K.2, natural order: chrominance. */
const CHROMA_QUANT = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99, ...new Array(32).fill(99),
];

/**
 * The luma and chroma tables, zigzag order, that RTP/JPEG's Q 1–99 stands for
 * (RFC 2435 Appendix A): Annex K's tables scaled as libjpeg scales them for a quality.
 */
export function quantTablesForQ(q: number): [Uint16Array, Uint16Array] {
  if (!Number.isInteger(q) || q < 1 || q > 99) throw new RangeError(`RTP/JPEG Q ${q} does not stand for tables (1–99 do)`);
  const factor = q < 50 ? Math.floor(5000 / q) : 200 - 2 * q;
  const scaled = (natural: number[]) => Uint16Array.from(ZIGZAG, (index) => Math.min(255, Math.max(1, Math.floor((natural[index]! * factor + 50) / 100))));
  return [scaled(LUMA_QUANT), scaled(CHROMA_QUANT)];
}

export interface HuffmanTable {
  /** 0 = DC, 1 = AC. */
  tableClass: 0 | 1;
  /** 0 = luminance, 1 = chrominance. */
  id: 0 | 1;
  /** How many codes have each length 1…16. */
  counts: readonly number[];
  /** The symbols, in code order. */
  symbols: readonly number[];
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Annex K.3: the typical tables, DC then AC, luminance then chrominance. */
export const STANDARD_HUFFMAN_TABLES: readonly HuffmanTable[] = [
  { tableClass: 0, id: 0, counts: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], symbols: range(0, 11) },
  { tableClass: 0, id: 1, counts: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], symbols: range(0, 11) },
  {
    tableClass: 1,
    id: 0,
    counts: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
    symbols: [
      0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1,
      0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a,
      // From here Annex K lists whole runs of consecutive symbols.
      ...[range(0x34, 0x3a), range(0x43, 0x4a), range(0x53, 0x5a), range(0x63, 0x6a), range(0x73, 0x7a), range(0x83, 0x8a), range(0x92, 0x9a), range(0xa2, 0xaa), range(0xb2, 0xba), range(0xc2, 0xca), range(0xd2, 0xda), range(0xe1, 0xea), range(0xf1, 0xfa)].flat(),
    ],
  },
  {
    tableClass: 1,
    id: 1,
    counts: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
    symbols: [
      0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1,
      0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a,
      // From here Annex K lists whole runs of consecutive symbols.
      ...[range(0x35, 0x3a), range(0x43, 0x4a), range(0x53, 0x5a), range(0x63, 0x6a), range(0x73, 0x7a), range(0x82, 0x8a), range(0x92, 0x9a), range(0xa2, 0xaa), range(0xb2, 0xba), range(0xc2, 0xca), range(0xd2, 0xda), range(0xe2, 0xea), range(0xf2, 0xfa)].flat(),
    ],
  },
];
