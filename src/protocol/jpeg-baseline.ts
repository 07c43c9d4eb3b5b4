import { STANDARD_HUFFMAN_TABLES, type HuffmanTable } from "./jpeg-tables.ts";

/*
 * The parts of a baseline JPEG that RTP/JPEG (RFC 2435) carries, and the
 * headers a receiver rebuilds around them:
 *
 *   FF D8                                   SOI
 *   FF DB len  (Pq<<4|Tq) 64|128 values …    DQT, zigzag order
 *   FF DD 00 04 interval                    DRI (only with restart markers)
 *   FF C0 len  8 Y(2) X(2) 3 [id HV Tq]×3    SOF0: Y sampled 2×2 (4:2:0) or 2×1 (4:2:2), Cb and Cr 1×1
 *   FF C4 len  (Tc<<4|Th) counts(16) symbols  DHT
 *   FF DA len  3 [id (Td<<4|Ta)]×3 0 63 0     SOS
 *   … entropy-coded scan data …
 *   FF D9                                   EOI
 *
 * RTP/JPEG sends only the scan data, the picture's size and sampling, and
 * (Q ≥ 128) the quantization tables; the Huffman tables must be Annex K's.
 */

export type RtpJpegSampling = 0 | 1;

export interface BaselineJpeg {
  width: number;
  height: number;
  /** RFC 2435 type: 0 = 4:2:2, 1 = 4:2:0. */
  type: RtpJpegSampling;
  /** Luma table, then the chroma table (zigzag order, as in DQT). */
  quantTables: Uint16Array[];
  /** MCUs between restart markers; 0 = none. */
  restartInterval: number;
  /** Whether every Huffman table is Annex K's: RTP/JPEG cannot carry others. */
  standardHuffman: boolean;
  /** The entropy-coded data between the SOS header and EOI. */
  scan: Uint8Array;
}

/** A JPEG RTP/JPEG cannot carry as it is; the reason says why, so the sender can re-encode it. */
export class NotRtpJpegError extends Error {}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const DQT = 0xdb;
const DHT = 0xc4;
const DRI = 0xdd;
const SOF0 = 0xc0;
const SOF1 = 0xc1;

/** Splits a JPEG into what RTP/JPEG carries. Throws NotRtpJpegError for anything RFC 2435 cannot describe. */
export function parseBaselineJpeg(jpeg: Uint8Array): BaselineJpeg {
  const fail = (why: string): never => {
    throw new NotRtpJpegError(why);
  };
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== SOI) fail("not a JPEG (no SOI marker)");
  const tables = new Map<number, Uint16Array>();
  const huffman: HuffmanTable[] = [];
  let frame: { width: number; height: number; type: RtpJpegSampling; lumaTable: number; chromaTable: number } | undefined;
  let restartInterval = 0;
  let offset = 2;
  for (;;) {
    if (offset + 4 > jpeg.length) fail("ends before its scan");
    if (jpeg[offset] !== 0xff) fail(`no marker at byte ${offset}`);
    const marker = jpeg[offset + 1]!;
    if (marker === 0xff) {
      offset++;
      continue;
    }
    const length = (jpeg[offset + 2]! << 8) | jpeg[offset + 3]!;
    const body = offset + 4;
    const end = offset + 2 + length;
    if (length < 2 || end > jpeg.length) fail(`segment FF${hexByte(marker)} runs past the end`);
    if (marker === DQT) {
      for (let at = body; at < end; ) {
        const wide = jpeg[at]! >> 4;
        const id = jpeg[at]! & 0x0f;
        const size = wide ? 128 : 64;
        if (wide > 1 || at + 1 + size > end) fail("malformed DQT segment");
        tables.set(id, Uint16Array.from({ length: 64 }, (_, i) => (wide ? (jpeg[at + 1 + 2 * i]! << 8) | jpeg[at + 2 + 2 * i]! : jpeg[at + 1 + i]!)));
        at += 1 + size;
      }
    } else if (marker === DHT) {
      for (let at = body; at < end; ) {
        if (at + 17 > end) fail("malformed DHT segment");
        const counts = [...jpeg.subarray(at + 1, at + 17)];
        const n = counts.reduce((sum, c) => sum + c, 0);
        if (at + 17 + n > end) fail("malformed DHT segment");
        huffman.push({ tableClass: (jpeg[at]! >> 4) as 0 | 1, id: (jpeg[at]! & 0x0f) as 0 | 1, counts, symbols: [...jpeg.subarray(at + 17, at + 17 + n)] });
        at += 17 + n;
      }
    } else if (marker === DRI) {
      if (length !== 4) fail("malformed DRI segment");
      restartInterval = (jpeg[body]! << 8) | jpeg[body + 1]!;
    } else if (marker === SOF0 || marker === SOF1) {
      if (length !== 17 || jpeg[body] !== 8 || jpeg[body + 5] !== 3) fail("RTP/JPEG carries 8-bit, three-component (YCbCr) pictures only");
      const component = (i: number) => ({ sampling: jpeg[body + 7 + 3 * i]!, table: jpeg[body + 8 + 3 * i]! });
      const [y, cb, cr] = [component(0), component(1), component(2)];
      if (cb.sampling !== 0x11 || cr.sampling !== 0x11 || cb.table !== cr.table) fail("chroma must be sampled 1×1 and share one quantization table");
      const type = y.sampling === 0x22 ? 1 : y.sampling === 0x21 ? 0 : fail(`luma sampling ${hexByte(y.sampling)} is neither 4:2:0 nor 4:2:2`);
      frame = { height: (jpeg[body + 1]! << 8) | jpeg[body + 2]!, width: (jpeg[body + 3]! << 8) | jpeg[body + 4]!, type, lumaTable: y.table, chromaTable: cb.table };
    } else if (marker >= 0xc2 && marker <= 0xcf && marker !== DHT && marker !== 0xc8 && marker !== 0xcc) {
      fail("not baseline (progressive, lossless or arithmetic-coded)");
    } else if (marker === SOS) {
      if (!frame) fail("scan before any frame header");
      if (jpeg[body] !== 3) fail("RTP/JPEG needs one interleaved scan of all three components");
      const scanEnd = jpeg.length >= 2 && jpeg[jpeg.length - 2] === 0xff && jpeg[jpeg.length - 1] === EOI ? jpeg.length - 2 : jpeg.length;
      const luma = tables.get(frame!.lumaTable);
      const chroma = tables.get(frame!.chromaTable);
      if (!luma || !chroma) fail("a component's quantization table is missing");
      return {
        width: frame!.width,
        height: frame!.height,
        type: frame!.type,
        quantTables: [luma!, chroma!],
        restartInterval,
        standardHuffman: isStandardHuffman(huffman),
        scan: jpeg.subarray(end, scanEnd),
      };
    } else if (marker === EOI) {
      fail("ends before its scan");
    }
    offset = end;
  }
}

function isStandardHuffman(tables: HuffmanTable[]): boolean {
  if (tables.length === 0) return false;
  return tables.every((table) => {
    const standard = STANDARD_HUFFMAN_TABLES.find((s) => s.tableClass === table.tableClass && s.id === table.id);
    return standard !== undefined && sameNumbers(standard.counts, table.counts) && sameNumbers(standard.symbols, table.symbols);
  });
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** Rebuilds a complete JPEG from what RTP/JPEG carried, with Annex K's Huffman tables. */
export function buildBaselineJpeg(parts: Omit<BaselineJpeg, "standardHuffman">): Uint8Array {
  const segments: number[] = [0xff, SOI];
  const segment = (marker: number, body: number[]) => segments.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  const dqt: number[] = [];
  parts.quantTables.forEach((table, id) => {
    const wide = table.some((value) => value > 255);
    dqt.push(((wide ? 1 : 0) << 4) | id);
    for (const value of table) wide ? dqt.push(value >> 8, value & 0xff) : dqt.push(value);
  });
  segment(DQT, dqt);
  if (parts.restartInterval) segment(DRI, [parts.restartInterval >> 8, parts.restartInterval & 0xff]);
  const chromaTable = parts.quantTables.length > 1 ? 1 : 0;
  const lumaSampling = parts.type === 1 ? 0x22 : 0x21;
  segment(SOF0, [8, parts.height >> 8, parts.height & 0xff, parts.width >> 8, parts.width & 0xff, 3, 1, lumaSampling, 0, 2, 0x11, chromaTable, 3, 0x11, chromaTable]);
  segment(DHT, STANDARD_HUFFMAN_TABLES.flatMap((t) => [(t.tableClass << 4) | t.id, ...t.counts, ...t.symbols]));
  segment(SOS, [3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
  const scan = parts.scan;
  const hasEoi = scan.length >= 2 && scan[scan.length - 2] === 0xff && scan[scan.length - 1] === EOI;
  const out = new Uint8Array(segments.length + scan.length + (hasEoi ? 0 : 2));
  out.set(segments, 0);
  out.set(scan, segments.length);
  if (!hasEoi) out.set([0xff, EOI], segments.length + scan.length);
  return out;
}

function hexByte(value: number): string {
  return value.toString(16).padStart(2, "0").toUpperCase();
}
