/*
 * What goes over a browser viewer's WebSocket.
 *
 * Receiver → page, binary: a picture, the JPEG as it arrived. Integers
 * big-endian.
 *
 *    0       1       2       3       4                               8
 *   +-------+-------+-------+-------+-------------------------------+
 *   | 0x01  |version| flags | rsvd  |         frame number          |
 *   +-------+-------+-------+-------+-------------------------------+
 *    8                               12                              16
 *   +-------------------------------+-------------------------------+
 *   | capture time, µs (mod 2^32)   | age when sent, µs (0xffffffff: |
 *   |                               | unknown)                      |
 *   +-------------------------------+-------------------------------+
 *    16                                                              24
 *   +---------------------------------------------------------------+
 *   |      sent at: the receiver's clock, ms (float64)              |
 *   +---------------------------------------------------------------+
 *    24 ...  the JPEG
 *
 *   frame number  the receiver's count of frames shown (the page reports it back).
 *   age           capture → sent, on the sender's and receiver's wall clocks:
 *                 what the stream had already taken when the page got it.
 *   sent at       echoed back by the page with how long it held the frame
 *                 before it was drawn: the receiver then knows capture →
 *                 drawn without the page's clock (a phone's) agreeing with its own.
 *
 * Receiver → page, binary: a sound packet, decoded: 16-bit samples,
 * little-endian (as every browser's typed arrays read them), interleaved.
 * The receiver decodes the Opus once for every viewer: a page on a phone
 * at http://192.168.x.x is not a secure context, and browsers offer their
 * Opus decoder (WebCodecs) only to secure ones. 1.5 Mbit/s of stereo, beside
 * a picture of tens.
 *
 *    0       1       2       3       4                               8
 *   +-------+-------+-------+-------+-------------------------------+
 *   | 0x02  |version|chans. | rsvd  |        sequence number        |
 *   +-------+-------+-------+-------+-------------------------------+
 *    8                               12              14              16
 *   +-------------------------------+---------------+---------------+
 *   | capture time, µs (mod 2^32)   | frames (u16)  |     rsvd      |
 *   |  (the pictures' clock)        |               |               |
 *   +-------------------------------+---------------+---------------+
 *    16 ...  frames × chans. samples, int16 little-endian, interleaved (48 kHz)
 *
 *   The page plays each packet at its capture time on the sound's clock,
 *   and shows each picture when the sound captured with it is heard.
 *
 * Receiver → page, text: JSON, {"type":"stats", ...} (the numbers the
 * window's overlay shows, about twice a second) and {"type":"state",...}.
 *
 * Page → receiver, text: JSON. {"type":"got","frame":N} as each picture
 * arrives (the receiver sends a viewer at most two frames ahead of what it
 * has said it got: a slow viewer's frames never pile up unseen in the
 * network's buffers), and {"type":"drawn","frame":N,"sentAtMs":T,"heldMs":H}
 * once a frame is on the page. Everything from a page is hostile: parsed
 * with bounds, anything else is counted and dropped.
 */

export const WEB_MESSAGE_VERSION = 1;
export const PICTURE = 0x01;
export const PICTURE_HEADER_BYTES = 24;
const AGE_UNKNOWN = 0xffff_ffff;
/** A report is a few dozen bytes; a page that sends more is not ours. */
export const MAX_REPORT_BYTES = 512;
/** A frame held (or a report delayed) longer than this is not a measurement, it is a stall. */
const MAX_REPORT_MS = 60_000;

export interface PictureMessage {
  frameNumber: number;
  captureUs: number;
  /** Capture → sent, µs; undefined when not known (no capture time in the stream). */
  ageUs: number | undefined;
  sentAtMs: number;
  jpeg: Uint8Array;
}

export function encodePicture(m: PictureMessage): Uint8Array {
  const out = new Uint8Array(PICTURE_HEADER_BYTES + m.jpeg.length);
  const view = new DataView(out.buffer);
  out[0] = PICTURE;
  out[1] = WEB_MESSAGE_VERSION;
  view.setUint32(4, m.frameNumber >>> 0);
  view.setUint32(8, m.captureUs >>> 0);
  view.setUint32(12, m.ageUs === undefined ? AGE_UNKNOWN : Math.min(AGE_UNKNOWN - 1, Math.max(0, Math.round(m.ageUs))));
  view.setFloat64(16, m.sentAtMs);
  out.set(m.jpeg, PICTURE_HEADER_BYTES);
  return out;
}

/** The page's reading of a picture message (here for the round-trip tests; viewer.js reads the same bytes). */
export function decodePicture(bytes: Uint8Array): PictureMessage | undefined {
  if (bytes.length < PICTURE_HEADER_BYTES || bytes[0] !== PICTURE || bytes[1] !== WEB_MESSAGE_VERSION) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const age = view.getUint32(12);
  return {
    frameNumber: view.getUint32(4),
    captureUs: view.getUint32(8),
    ageUs: age === AGE_UNKNOWN ? undefined : age,
    sentAtMs: view.getFloat64(16),
    jpeg: bytes.subarray(PICTURE_HEADER_BYTES),
  };
}

export const SOUND = 0x02;
export const SOUND_HEADER_BYTES = 16;

export interface SoundMessage {
  sequence: number;
  channels: number;
  captureUs: number;
  /** Interleaved samples, -1 to 1 (clipped beyond). */
  samples: Float32Array;
}

export function encodeSound(m: SoundMessage): Uint8Array {
  const frames = Math.min(0xffff, Math.floor(m.samples.length / m.channels));
  const out = new Uint8Array(SOUND_HEADER_BYTES + frames * m.channels * 2);
  const view = new DataView(out.buffer);
  out[0] = SOUND;
  out[1] = WEB_MESSAGE_VERSION;
  out[2] = m.channels;
  view.setUint32(4, m.sequence >>> 0);
  view.setUint32(8, m.captureUs >>> 0);
  view.setUint16(12, frames);
  for (let i = 0; i < frames * m.channels; i++) view.setInt16(SOUND_HEADER_BYTES + 2 * i, Math.round(Math.max(-1, Math.min(1, m.samples[i]!)) * 32767), true);
  return out;
}

/** The page's reading of a sound message (for the round-trip tests; viewer.js reads the same bytes). */
export function decodeSound(bytes: Uint8Array): SoundMessage | undefined {
  if (bytes.length < SOUND_HEADER_BYTES || bytes[0] !== SOUND || bytes[1] !== WEB_MESSAGE_VERSION) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const channels = bytes[2]!;
  const frames = view.getUint16(12);
  if (channels < 1 || bytes.length < SOUND_HEADER_BYTES + frames * channels * 2) return undefined;
  const samples = Float32Array.from({ length: frames * channels }, (_, i) => view.getInt16(SOUND_HEADER_BYTES + 2 * i, true) / 32767);
  return { sequence: view.getUint32(4), channels, captureUs: view.getUint32(8), samples };
}

export interface DrawnReport {
  frameNumber: number;
  /** The picture message's "sent at", echoed. */
  sentAtMs: number;
  /** From the page receiving the frame to it being drawn, the page's clock. */
  heldMs: number;
}

export interface GotReport {
  frameNumber: number;
}

export type ViewerMessage = ({ type: "got" } & GotReport) | ({ type: "drawn" } & DrawnReport);

/**
 * A page's message, checked: `nowMs` is the receiver's clock, and a "sent
 * at" from its future or from long ago is forged or stale. Undefined for
 * anything that is not a well-formed report.
 */
export function parseViewerMessage(text: string | Uint8Array, nowMs: number): ViewerMessage | undefined {
  if (typeof text !== "string" || text.length > MAX_REPORT_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { type, frame, sentAtMs, heldMs } = value as Record<string, unknown>;
  if (typeof frame !== "number" || !Number.isInteger(frame) || frame < 0 || frame > 0xffff_ffff) return undefined;
  if (type === "got") return { type, frameNumber: frame };
  if (type !== "drawn") return undefined;
  if (typeof sentAtMs !== "number" || !Number.isFinite(sentAtMs) || sentAtMs > nowMs || sentAtMs < nowMs - MAX_REPORT_MS) return undefined;
  if (typeof heldMs !== "number" || !Number.isFinite(heldMs) || heldMs < 0 || heldMs > MAX_REPORT_MS) return undefined;
  // Held longer than the whole round trip: impossible, so forged.
  if (heldMs > nowMs - sentAtMs) return undefined;
  return { type, frameNumber: frame, sentAtMs, heldMs };
}

/**
 * Capture → drawn on the page, ms: the age when sent, the way there (half
 * of the round trip left once the page's holding is taken out: the way back
 * is taken to be as long) and the holding. `receivedAtMs`: when the report came.
 */
export function drawnLatencyMs(ageUs: number, report: DrawnReport, receivedAtMs: number): number {
  const roundTripMs = Math.max(0, receivedAtMs - report.sentAtMs - report.heldMs);
  return ageUs / 1000 + roundTripMs / 2 + report.heldMs;
}
