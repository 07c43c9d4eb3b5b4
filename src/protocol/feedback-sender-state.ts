import { ProtocolError } from "./protocol-error.ts";
import { clampU16, clampU32, clampU8 } from "./wire-clamp.ts";

/*
 * Sender state body (feedback type 4, the one message that goes from the
 * sender to its destinations, every half second): what the sender aims at
 * and why, so a receiver can show it. All integers are big-endian.
 *
 *    0                               4                               8
 *   +-------------------------------+-------------------------------+
 *   |         state number          |      target (kbit / s)        |
 *   +-------------------------------+-------------------------------+
 *    8       9       10              12              14              16
 *   +-------+-------+---------------+---------------+---------------+
 *   |reason |quality|     width     |    height     |  fps × 100    |
 *   +-------+-------+---------------+---------------+---------------+
 *
 *   state number  counts up from 0: an old or repeated one is ignored.
 *   target        the rate the stream may use; 0xFFFFFFFF: nothing limits it.
 *   reason        0 fixed (not adapting), 1 starting, 2 full quality,
 *                 3 loss repaired (full quality on a lossy link), 4 link
 *                 limit, 5 receiver busy. Others are read as unknown.
 *   quality, width, height, fps × 100
 *                 how the frames are encoded now.
 */
export const SENDER_STATE_SIZE = 16;
const UNCONSTRAINED = 0xffff_ffff;

export const SENDER_REASONS = ["fixed", "starting", "full quality", "loss repaired", "link limit", "receiver busy"] as const;
export type SenderReason = (typeof SENDER_REASONS)[number] | "unknown";

export interface SenderState {
  stateNumber: number;
  /** bits/s; undefined: unconstrained. */
  targetBps: number | undefined;
  reason: SenderReason;
  quality: number;
  width: number;
  height: number;
  fps: number;
}

export function serializeSenderState(state: SenderState): Uint8Array {
  const body = new Uint8Array(SENDER_STATE_SIZE);
  const view = new DataView(body.buffer);
  view.setUint32(0, state.stateNumber >>> 0);
  view.setUint32(4, state.targetBps === undefined ? UNCONSTRAINED : Math.min(UNCONSTRAINED - 1, clampU32(state.targetBps / 1000)));
  view.setUint8(8, Math.max(0, SENDER_REASONS.indexOf(state.reason as (typeof SENDER_REASONS)[number])));
  view.setUint8(9, clampU8(state.quality));
  view.setUint16(10, clampU16(state.width));
  view.setUint16(12, clampU16(state.height));
  view.setUint16(14, clampU16(state.fps * 100));
  return body;
}

/** Lengths are checked before reading; throws ProtocolError. */
export function deserializeSenderState(body: Uint8Array): SenderState {
  if (body.length !== SENDER_STATE_SIZE) throw new ProtocolError("bad-length", `sender state of ${body.length} bytes, not ${SENDER_STATE_SIZE}`);
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  const target = view.getUint32(4);
  return {
    stateNumber: view.getUint32(0),
    targetBps: target === UNCONSTRAINED ? undefined : target * 1000,
    reason: SENDER_REASONS[view.getUint8(8)] ?? "unknown",
    quality: view.getUint8(9),
    width: view.getUint16(10),
    height: view.getUint16(12),
    fps: view.getUint16(14) / 100,
  };
}
