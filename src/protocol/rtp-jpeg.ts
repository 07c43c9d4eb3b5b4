import { ProtocolError } from "./protocol-error.ts";

/*
 * The RTP/JPEG payload headers (RFC 2435 §3.1), after the RTP header.
 * All integers big-endian.
 *
 * Main JPEG header, in every packet:
 *    0                   1                   2                   3
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | Type-specific |              Fragment Offset                  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |      Type     |       Q       |     Width     |     Height    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Restart Marker header, when Type is 64–127:
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |       Restart Interval        |F|L|       Restart Count       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Quantization Table header, when Q is 128–255 and the offset is 0:
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |      MBZ      |   Precision   |             Length            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |        Quantization Table Data: Length bytes, zigzag order     |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * then the frame's entropy-coded scan data from Fragment Offset on.
 *
 *   Type        0: 4:2:2 (luma sampled 2×1), 1: 4:2:0 (2×2); +64 when the
 *               scan has restart markers. Other types are not defined.
 *   Q           1–99: tables derived from Q as libjpeg does (RFC 2435 App. A);
 *               128–255: tables in-band (255: they may change every frame).
 *   Width/Height the picture in 8-pixel units (so at most 2040).
 *   Precision   bit i set: table i holds 16-bit entries (128 bytes), else 8-bit (64).
 */
export const RTP_JPEG_HEADER_SIZE = 8;
export const RTP_JPEG_RESTART_HEADER_SIZE = 4;
export const RTP_JPEG_QTABLE_HEADER_SIZE = 4;
/** Width and height travel in 8-pixel units in one byte. */
export const RTP_JPEG_MAX_DIMENSION = 255 * 8;
export const RTP_JPEG_TYPE_422 = 0;
export const RTP_JPEG_TYPE_420 = 1;
export const RTP_JPEG_RESTART_TYPE_FLAG = 64;
/** Q values that carry their tables in-band. */
export const RTP_JPEG_Q_INBAND = 128;

const OFFSET = { typeSpecific: 0, fragmentOffset: 1, type: 4, q: 5, width: 6, height: 7 } as const;

export interface RtpJpegRestart {
  interval: number;
  first: boolean;
  last: boolean;
  count: number;
}

export interface RtpJpegPayload {
  typeSpecific: number;
  /** Byte offset of this packet's scan data within the frame's scan data. */
  fragmentOffset: number;
  /** 0 or 1 (the restart flag is folded into `restart`). */
  type: number;
  q: number;
  width: number;
  height: number;
  restart?: RtpJpegRestart;
  /** In-band tables (Q ≥ 128, first packet): 64 values each (zigzag order), 8- or 16-bit. */
  quantTables?: Uint16Array[];
  /** A view of this packet's part of the scan data. */
  scan: Uint8Array;
}

/** The headers' size for a packet, so a packetizer knows how much scan data fits. */
export function rtpJpegHeadersSize(payload: Pick<RtpJpegPayload, "restart" | "quantTables" | "fragmentOffset" | "q">): number {
  let size = RTP_JPEG_HEADER_SIZE;
  if (payload.restart) size += RTP_JPEG_RESTART_HEADER_SIZE;
  if (payload.q >= RTP_JPEG_Q_INBAND && payload.fragmentOffset === 0) size += RTP_JPEG_QTABLE_HEADER_SIZE + quantTablesLength(payload.quantTables ?? []);
  return size;
}

function quantTablesLength(tables: Uint16Array[]): number {
  return tables.reduce((sum, table) => sum + (isWide(table) ? 128 : 64), 0);
}

function isWide(table: Uint16Array): boolean {
  return table.some((value) => value > 255);
}

export function serializeRtpJpeg(payload: RtpJpegPayload): Uint8Array {
  const out = new Uint8Array(rtpJpegHeadersSize(payload) + payload.scan.length);
  const at = writeRtpJpegHeaders(out, 0, payload);
  out.set(payload.scan, at);
  return out;
}

/** Writes the payload headers (not the scan data) at `offset`; returns where the scan data goes. */
export function writeRtpJpegHeaders(out: Uint8Array, offset: number, payload: Omit<RtpJpegPayload, "scan">): number {
  checkRange("width", payload.width, 8, RTP_JPEG_MAX_DIMENSION);
  checkRange("height", payload.height, 8, RTP_JPEG_MAX_DIMENSION);
  if (payload.width % 8 || payload.height % 8) throw new RangeError(`RTP/JPEG needs a picture in whole 8-pixel blocks, not ${payload.width}x${payload.height}`);
  checkRange("fragment offset", payload.fragmentOffset, 0, 0xff_ffff);
  const view = new DataView(out.buffer, out.byteOffset + offset);
  view.setUint8(OFFSET.typeSpecific, payload.typeSpecific);
  view.setUint8(OFFSET.fragmentOffset, payload.fragmentOffset >>> 16);
  view.setUint16(OFFSET.fragmentOffset + 1, payload.fragmentOffset & 0xffff);
  view.setUint8(OFFSET.type, payload.type + (payload.restart ? RTP_JPEG_RESTART_TYPE_FLAG : 0));
  view.setUint8(OFFSET.q, payload.q);
  view.setUint8(OFFSET.width, payload.width / 8);
  view.setUint8(OFFSET.height, payload.height / 8);
  let at = RTP_JPEG_HEADER_SIZE;
  if (payload.restart) {
    const { interval, first, last, count } = payload.restart;
    view.setUint16(at, interval);
    view.setUint16(at + 2, (first ? 0x8000 : 0) | (last ? 0x4000 : 0) | (count & 0x3fff));
    at += RTP_JPEG_RESTART_HEADER_SIZE;
  }
  if (payload.q >= RTP_JPEG_Q_INBAND && payload.fragmentOffset === 0) {
    const tables = payload.quantTables ?? [];
    let precision = 0;
    tables.forEach((table, i) => (precision |= isWide(table) ? 1 << i : 0));
    view.setUint8(at, 0);
    view.setUint8(at + 1, precision);
    view.setUint16(at + 2, quantTablesLength(tables));
    at += RTP_JPEG_QTABLE_HEADER_SIZE;
    for (const table of tables) {
      const wide = isWide(table);
      for (const value of table) {
        if (wide) {
          view.setUint16(at, value);
          at += 2;
        } else view.setUint8(at++, value);
      }
    }
  }
  return offset + at;
}

/** Parses an RTP/JPEG payload (the RTP packet's payload), checking every length before reading. */
export function deserializeRtpJpeg(data: Uint8Array): RtpJpegPayload {
  if (data.length < RTP_JPEG_HEADER_SIZE) throw new ProtocolError("truncated", `RTP/JPEG payload of ${data.length} bytes is shorter than its 8-byte header`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const fragmentOffset = (view.getUint8(OFFSET.fragmentOffset) << 16) | view.getUint16(OFFSET.fragmentOffset + 1);
  const rawType = view.getUint8(OFFSET.type);
  const type = rawType & ~RTP_JPEG_RESTART_TYPE_FLAG;
  if (rawType >= 128 || (type !== RTP_JPEG_TYPE_422 && type !== RTP_JPEG_TYPE_420)) {
    throw new ProtocolError("bad-flags", `RTP/JPEG type ${rawType} is not one RFC 2435 defines (0, 1, 64, 65)`);
  }
  const q = view.getUint8(OFFSET.q);
  if (q === 0 || (q >= 100 && q < RTP_JPEG_Q_INBAND)) throw new ProtocolError("bad-flags", `RTP/JPEG Q ${q} is reserved`);
  const width = view.getUint8(OFFSET.width) * 8;
  const height = view.getUint8(OFFSET.height) * 8;
  if (width === 0 || height === 0) throw new ProtocolError("bad-length", `RTP/JPEG picture of ${width}x${height}`);
  let at = RTP_JPEG_HEADER_SIZE;
  let restart: RtpJpegRestart | undefined;
  if (rawType & RTP_JPEG_RESTART_TYPE_FLAG) {
    if (data.length < at + RTP_JPEG_RESTART_HEADER_SIZE) throw new ProtocolError("truncated", "RTP/JPEG restart marker header cut short");
    const flags = view.getUint16(at + 2);
    restart = { interval: view.getUint16(at), first: (flags & 0x8000) !== 0, last: (flags & 0x4000) !== 0, count: flags & 0x3fff };
    at += RTP_JPEG_RESTART_HEADER_SIZE;
  }
  let quantTables: Uint16Array[] | undefined;
  if (q >= RTP_JPEG_Q_INBAND && fragmentOffset === 0) {
    if (data.length < at + RTP_JPEG_QTABLE_HEADER_SIZE) throw new ProtocolError("truncated", "RTP/JPEG quantization table header cut short");
    const precision = view.getUint8(at + 1);
    const length = view.getUint16(at + 2);
    at += RTP_JPEG_QTABLE_HEADER_SIZE;
    if (data.length < at + length) throw new ProtocolError("truncated", `RTP/JPEG quantization tables claim ${length} bytes, ${data.length - at} follow`);
    quantTables = [];
    for (let i = 0, left = length; left > 0; i++) {
      const wide = (precision >> i) & 1;
      const size = wide ? 128 : 64;
      if (left < size || i >= 4) throw new ProtocolError("bad-length", `RTP/JPEG quantization table length ${length} does not match precision 0x${precision.toString(16)}`);
      const table = new Uint16Array(64);
      for (let j = 0; j < 64; j++) table[j] = wide ? view.getUint16(at + 2 * j) : data[at + j]!;
      quantTables.push(table);
      at += size;
      left -= size;
    }
  }
  return { typeSpecific: view.getUint8(OFFSET.typeSpecific), fragmentOffset, type, q, width, height, restart, quantTables, scan: data.subarray(at) };
}

function checkRange(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`RTP/JPEG ${what} ${value} is outside ${min}…${max}`);
}
