import { ProtocolError } from "./protocol-error.ts";
import { clampU16, clampU32 } from "./wire-clamp.ts";

/*
 * Receiver state body (feedback type 3), sent beside each receiver report:
 * what the receiver's own side does to the stream, so the sender can tell a
 * receiver short of CPU from a congested path, and how fast the path
 * delivered the latest frames' datagrams (a packet train's dispersion: the
 * first frame measures the path before the stream picks its rate).
 * All integers are big-endian.
 *
 *    0                               4                               8
 *   +-------------------------------+-------------------------------+
 *   |         report number         |   delivery rate (bytes / s)   |
 *   +-------------------------------+-------------------------------+
 *    8               10              12                              16
 *   +---------------+---------------+-------------------------------+
 *   |decode lag (ms)|   reserved    |   frames skipped for time     |
 *   +---------------+---------------+-------------------------------+
 *
 *   report number     the report this state goes with: an old or repeated
 *                     one is recognisable, and ignored.
 *   delivery rate     the fastest any frame since the last report arrived,
 *                     from its first datagram to its last (0: none measured).
 *   decode lag        how long the frame waiting longest for the decoder has
 *                     waited (0: the decoder keeps up).
 *   reserved          0 when sent, ignored when read.
 *   frames skipped    cumulative: frames the receiver left out because
 *     for time        decoding or display could not keep up (wraps at 2^32).
 */
export const RECEIVER_STATE_SIZE = 16;

export interface ReceiverState {
  reportNumber: number;
  deliveryBytesPerSecond: number;
  decodeLagMs: number;
  framesSkippedForTime: number;
}


export function serializeReceiverState(state: ReceiverState): Uint8Array {
  const body = new Uint8Array(RECEIVER_STATE_SIZE);
  const view = new DataView(body.buffer);
  view.setUint32(0, state.reportNumber >>> 0);
  view.setUint32(4, clampU32(state.deliveryBytesPerSecond));
  view.setUint16(8, clampU16(state.decodeLagMs));
  view.setUint32(12, state.framesSkippedForTime >>> 0);
  return body;
}

/** Lengths are checked before reading; throws ProtocolError. */
export function deserializeReceiverState(body: Uint8Array): ReceiverState {
  if (body.length !== RECEIVER_STATE_SIZE) throw new ProtocolError("bad-length", `receiver state of ${body.length} bytes, not ${RECEIVER_STATE_SIZE}`);
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  return {
    reportNumber: view.getUint32(0),
    deliveryBytesPerSecond: view.getUint32(4),
    decodeLagMs: view.getUint16(8),
    framesSkippedForTime: view.getUint32(12),
  };
}
