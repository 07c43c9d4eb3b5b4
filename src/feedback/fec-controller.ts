import type { ReceiverReport } from "../protocol/feedback-report.ts";
import { ReceiverReports, type ReportTiming } from "./receiver-reports.ts";

export interface FecControllerOptions {
  /** The share used while no receiver reports (no return path, or it went quiet): send --fec's fixed share. */
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
  /** Per receiver (send --to A,B): one stream serves them all, so the parity is the most any of them needs. */
  private readonly receivers: ReceiverReports<{ loss: number; share: number }>;

  constructor(options: Partial<FecControllerOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.receivers = new ReceiverReports(this.options.staleAfterMs);
  }

  /** A report from `receiverId` arrived (already checked to be newer than its last), with the sender's RTT estimate. */
  report(receiverId: number, report: ReceiverReport, { nowMs, rttMs = 0 }: ReportTiming): void {
    const { state, delta } = this.receivers.add(receiverId, report, nowMs, () => ({ loss: 0, share: this.options.blindPercent }));
    if (!delta || delta.expected === 0) return;
    const { expected, lost } = delta;
    const sample = lost / expected;
    state.loss = sample > state.loss ? 0.5 * state.loss + 0.5 * sample : 0.95 * state.loss + 0.05 * sample;
    const rounds = Math.max(0, Math.floor((report.latencyBudgetMs - DETECT_MS) / Math.max(1, rttMs)));
    const wanted = this.shareFor(state.loss, rounds);
    if (Math.abs(wanted - state.share) >= HYSTERESIS_POINTS || (wanted === 0 && state.share !== 0)) state.share = wanted;
  }

  /** The parity percentage to use for the next frame: the most any receiver that still reports needs. */
  percent(nowMs: number): number {
    const fresh = [...this.receivers.fresh(nowMs)];
    if (fresh.length === 0) return this.options.blindPercent;
    return Math.max(...fresh.map((r) => r.share));
  }

  /** Smoothed loss fraction of the worst receiver, for the stats. */
  get lossFraction(): number {
    return Math.max(0, ...[...this.receivers.all()].map((r) => r.state.loss));
  }

  private shareFor(loss: number, rounds: number): number {
    if (loss < 0.002 && rounds >= 1) return 0;
    const factor = rounds >= 2 ? 1 : rounds === 1 ? 2 : 3;
    const floor = rounds >= 2 ? 0 : rounds === 1 ? 0.01 : 0.02;
    return Math.min(this.options.maxPercent, Math.ceil(100 * (factor * loss + floor)));
  }
}
