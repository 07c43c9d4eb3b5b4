import type { ReceiverReport } from "../protocol/feedback-report.ts";

export interface FecControllerOptions {
  /** The share used while no receiver reports (no return path, or it went quiet): today's fixed parity. */
  blindPercent: number;
  maxPercent: number;
  /** Reports older than this no longer steer: the sender falls back to blindPercent. */
  staleAfterMs: number;
}

const DEFAULTS: FecControllerOptions = { blindPercent: 25, maxPercent: 60, staleAfterMs: 1000 };
/** Time a receiver needs to see that a chunk is lost before it can ask (a frame's send window and the reorder grace). */
const DETECT_MS = 30;
/** Changes smaller than this many points are not worth a new layout. */
const HYSTERESIS_POINTS = 2;

/**
 * The parity share, following the loss that retransmission cannot cover in
 * time (libwebrtc's idea: NACK where the round trip is short, FEC where it is
 * long). From each report: the loss over its interval (smoothed: up fast,
 * down slowly), and how many NACK rounds fit in the receiver's latency budget
 * at the measured RTT. None on a clean path; a little when retransmission
 * has rounds to spare; more as the rounds run out. Pure: given the time.
 */
export class FecController {
  private readonly options: FecControllerOptions;
  private loss = 0;
  private previous: ReceiverReport | undefined;
  private lastReportMs: number | undefined;
  private current: number;

  constructor(options: Partial<FecControllerOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.current = this.options.blindPercent;
  }

  /** A report arrived (already checked to be newer than the last), with the sender's RTT estimate. */
  report(report: ReceiverReport, rttMs: number, nowMs: number): void {
    const before = this.previous;
    this.previous = report;
    this.lastReportMs = nowMs;
    if (!before) return;
    const expected = (report.chunksExpected - before.chunksExpected) >>> 0;
    const lost = (report.chunksLost - before.chunksLost) >>> 0;
    if (expected === 0 || lost > expected) return;
    const sample = lost / expected;
    this.loss = sample > this.loss ? 0.5 * this.loss + 0.5 * sample : 0.95 * this.loss + 0.05 * sample;
    const rounds = Math.max(0, Math.floor((report.latencyBudgetMs - DETECT_MS) / Math.max(1, rttMs)));
    const wanted = this.shareFor(this.loss, rounds);
    if (Math.abs(wanted - this.current) >= HYSTERESIS_POINTS || (wanted === 0 && this.current !== 0)) this.current = wanted;
  }

  /** The parity percentage to use for the next frame. */
  percent(nowMs: number): number {
    if (this.lastReportMs === undefined || nowMs - this.lastReportMs > this.options.staleAfterMs) return this.options.blindPercent;
    return this.current;
  }

  /** Smoothed loss fraction, for the stats. */
  get lossFraction(): number {
    return this.loss;
  }

  private shareFor(loss: number, rounds: number): number {
    if (loss < 0.002 && rounds >= 1) return 0;
    const factor = rounds >= 2 ? 1 : rounds === 1 ? 2 : 3;
    const floor = rounds >= 2 ? 0 : rounds === 1 ? 0.01 : 0.02;
    return Math.min(this.options.maxPercent, Math.ceil(100 * (factor * loss + floor)));
  }
}
