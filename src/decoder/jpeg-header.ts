/*
 * Reads a JPEG's picture size from its frame header, without decoding.
 *
 *   FF D8                         SOI
 *   FF xx  len(2)  ...            segments (APPn, DQT, DHT, ...), len counts itself
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

/** The size in the first SOF header, or undefined when the bytes hold none before the scan starts. */
export function readJpegSize(jpeg: Uint8Array): JpegSize | undefined {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return undefined;
  let offset = 2;
  while (offset + 4 <= jpeg.length) {
    if (jpeg[offset] !== 0xff) return undefined;
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
    const length = (jpeg[offset + 2]! << 8) | jpeg[offset + 3]!;
    if (length < 2) return undefined;
    if (isStartOfFrame(marker)) {
      if (offset + 9 > jpeg.length || length < 7) return undefined;
      const height = (jpeg[offset + 5]! << 8) | jpeg[offset + 6]!;
      const width = (jpeg[offset + 7]! << 8) | jpeg[offset + 8]!;
      return { width, height };
    }
    if (marker === 0xda || marker === 0xd9) return undefined; // scan or end before any frame header
    offset += 2 + length;
  }
  return undefined;
}
