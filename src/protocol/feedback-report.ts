import { ProtocolError } from "./protocol-error.ts";
import { clampI32, clampU16, clampU32 } from "./wire-clamp.ts";

/*
 * Receiver report body (feedback type 2), sent about every 100 ms: what a
 * receiver got of a stream, for retransmission timing, FEC and rate control.
 * Counters are cumulative since the receiver started following the stream
 * (the sender takes differences between reports); all wrap at 2^32.
 *
 *    0                               4                               8
 *   +-------------------------------+-------------------------------+
 *   |         report number         |     highest frame number      |
 *   +-------------------------------+-------------------------------+
 *    8                               12                              16
 *   +-------------------------------+-------------------------------+
 *   |        chunks expected        |          chunks lost          |
 *   +-------------------------------+-------------------------------+
 *    16                              20                              24
 *   +-------------------------------+-------------------------------+
 *   |        chunks rebuilt         |        frames complete        |
 *   +-------------------------------+-------------------------------+
 *    24                              28                              32
 *   +-------------------------------+-------------------------------+
 *   |        frames dropped         |   receive rate (bytes / s)    |
 *   +-------------------------------+-------------------------------+
 *    32                              36                              40
 *   +-------------------------------+-------------------------------+
 *   |  delay trend (µs / s, signed) |      echo frame number        |
 *   +-------------------------------+-------------------------------+
 *    40              42              44                              48
 *   +---------------+---------------+-------------------------------+
 *   | echo position |latency (ms)   |        echo hold (µs)         |
 *   +---------------+---------------+-------------------------------+
 *
 *   report number     counts up from 0 per report: an old or repeated one is
 *                     recognisable, and ignored.
 *   chunks lost       announced chunks that never arrived, before FEC or
 *                     retransmission made up for them.
 *   chunks rebuilt    of those, rebuilt by FEC.
 *   frames dropped    given up incomplete at their deadline.
 *   receive rate      over the interval since the previous report.
 *   delay trend       how fast the one-way delay grows (a queue building: > 0)
 *                     or shrinks, from frames' capture times against their
 *                     arrival, over the last second.
 *   echo              the newest datagram that arrived (frame number, send
 *                     position) and how long ago, at sending this report:
 *                     the sender, which knows when it sent that datagram,
 *                     takes the round-trip time from it (as RTCP's LSR/DLSR).
 *   latency           the receiver's latency budget (receive --latency).
 */
export const REPORT_SIZE = 48;

export interface ReceiverReport {
  reportNumber: number;
  highestFrame: number;
  chunksExpected: number;
  chunksLost: number;
  chunksRebuilt: number;
  framesComplete: number;
  framesDropped: number;
  receiveBytesPerSecond: number;
  /** µs of one-way delay gained per second; negative when it shrinks. */
  delayTrendUsPerS: number;
  echoFrameNumber: number;
  echoPosition: number;
  echoHoldUs: number;
  latencyBudgetMs: number;
}


export function serializeReport(report: ReceiverReport): Uint8Array {
  const body = new Uint8Array(REPORT_SIZE);
  const view = new DataView(body.buffer);
  view.setUint32(0, report.reportNumber >>> 0);
  view.setUint32(4, report.highestFrame >>> 0);
  view.setUint32(8, report.chunksExpected >>> 0);
  view.setUint32(12, report.chunksLost >>> 0);
  view.setUint32(16, report.chunksRebuilt >>> 0);
  view.setUint32(20, report.framesComplete >>> 0);
  view.setUint32(24, report.framesDropped >>> 0);
  view.setUint32(28, clampU32(report.receiveBytesPerSecond));
  view.setInt32(32, clampI32(report.delayTrendUsPerS));
  view.setUint32(36, report.echoFrameNumber >>> 0);
  view.setUint16(40, clampU16(report.echoPosition));
  view.setUint16(42, clampU16(report.latencyBudgetMs));
  view.setUint32(44, clampU32(report.echoHoldUs));
  return body;
}

/** Lengths are checked before reading; throws ProtocolError. */
export function deserializeReport(body: Uint8Array): ReceiverReport {
  if (body.length !== REPORT_SIZE) throw new ProtocolError("bad-length", `receiver report of ${body.length} bytes, not ${REPORT_SIZE}`);
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  return {
    reportNumber: view.getUint32(0),
    highestFrame: view.getUint32(4),
    chunksExpected: view.getUint32(8),
    chunksLost: view.getUint32(12),
    chunksRebuilt: view.getUint32(16),
    framesComplete: view.getUint32(20),
    framesDropped: view.getUint32(24),
    receiveBytesPerSecond: view.getUint32(28),
    delayTrendUsPerS: view.getInt32(32),
    echoFrameNumber: view.getUint32(36),
    echoPosition: view.getUint16(40),
    latencyBudgetMs: view.getUint16(42),
    echoHoldUs: view.getUint32(44),
  };
}
