import { quantTablesForQ } from "../protocol/jpeg-tables.ts";

/*
 * Reads a JPEG's picture size from its frame header, and the quality its
 * quantisation tables stand for, without decoding.
 *
 *   FF D8                         SOI
 *   FF xx  len(2)  ...            segments (APPn, DQT, DHT, ...), len counts itself
 *   FF DB  len(2)  PT(1) Q[64]... DQT: precision (high nibble, 0 = 8-bit) and
 *                                 table id (low), 64 values in zigzag order (128 bytes at 16-bit)
 *   FF Cn  len(2)  P(1) Y(2) X(2) SOFn: precision, height, width (big-endian)
 *
 * Everything here comes from the network: every read is bounds-checked.
 */

export interface JpegSize {
  width: number;
  height: number;
}

/** SOF markers (C0–CF) except DHT (C4), JPG (C8) and DAC (CC), which share the range. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * Calls `visit(marker, bodyOffset, bodyLength)` for each segment before the
 * scan, until it returns true; false when the bytes end or are not a JPEG.
 * Bodies visited lie within the bytes.
 */
function findSegment(jpeg: Uint8Array, visit: (marker: number, body: number, length: number) => boolean): boolean {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return false;
  let offset = 2;
  while (offset + 4 <= jpeg.length) {
    if (jpeg[offset] !== 0xff) return false;
    const marker = jpeg[offset + 1]!;
    if (marker === 0xff) {
      offset++; // fill byte
      continue;
    }
    // Standalone markers carry no length.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return false; // the scan, or the end: no more headers
    const length = (jpeg[offset + 2]! << 8) | jpeg[offset + 3]!;
    if (length < 2 || offset + 2 + length > jpeg.length) return false;
    if (visit(marker, offset + 4, length - 2)) return true;
    offset += 2 + length;
  }
  return false;
}

/** The size in the first SOF header, or undefined when the bytes hold none before the scan starts. */
export function readJpegSize(jpeg: Uint8Array): JpegSize | undefined {
  let size: JpegSize | undefined;
  findSegment(jpeg, (marker, body, length) => {
    if (!isStartOfFrame(marker)) return false;
    if (length < 5) return true;
    size = { height: (jpeg[body + 1]! << 8) | jpeg[body + 2]!, width: (jpeg[body + 3]! << 8) | jpeg[body + 4]! };
    return true;
  });
  return size;
}

/** Luma tables for qualities 1–99 (quantTablesForQ's), and 100 (all ones), built on first use. */
let lumaTables: Uint16Array[] | undefined;

/** The picture's 8-bit quantization table 0 (luma), zigzag order, as a view into `jpeg`; undefined when it has none. */
export function readLumaTable(jpeg: Uint8Array): Uint8Array | undefined {
  let table: Uint8Array | undefined;
  findSegment(jpeg, (marker, body, length) => {
    if (marker !== 0xdb) return false;
    // A DQT segment may hold several tables in a row.
    for (let at = body; at + 65 <= body + length; ) {
      const precision = jpeg[at]! >> 4;
      if (precision === 0 && (jpeg[at]! & 0x0f) === 0) {
        table = jpeg.subarray(at + 1, at + 65);
        return true;
      }
      at += precision === 0 ? 65 : 129;
    }
    return false;
  });
  return table;
}

/**
 * The JPEG quality (1–100) whose standard luminance table (libjpeg's scaling
 * of T.81 Annex K) is nearest the picture's, or undefined when it has no
 * 8-bit table 0 or a table no quality makes (another encoder's own tables).
 */
export function readJpegQuality(jpeg: Uint8Array): number | undefined {
  const table = readLumaTable(jpeg);
  return table && qualityOfLumaTable(table);
}

/** The quality whose standard luma table is nearest `table` (64 entries, zigzag order), or undefined when none is near. */
export function qualityOfLumaTable(table: Uint8Array): number | undefined {
  lumaTables ??= [...Array.from({ length: 99 }, (_, i) => quantTablesForQ(i + 1)[0]), new Uint16Array(64).fill(1)];
  let best = 0;
  let bestDistance = Infinity;
  for (let i = 0; i < lumaTables.length; i++) {
    let distance = 0;
    for (let k = 0; k < 64; k++) distance += Math.abs(lumaTables[i]![k]! - table[k]!);
    if (distance < bestDistance) [best, bestDistance] = [i, distance];
  }
  // Rounding makes neighbouring qualities differ by a few steps in all; another encoder's tables differ everywhere.
  return bestDistance <= 64 ? best + 1 : undefined;
}
