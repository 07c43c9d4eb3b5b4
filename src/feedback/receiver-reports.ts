import type { ReceiverReport } from "../protocol/feedback-report.ts";
import { forward32 } from "../protocol/serial-number.ts";

/** Receivers followed at once: ids come from the network, and without --key anyone can claim one. */
export const MAX_RECEIVERS = 64;

/** When a report came, and what the sender knows of the round trip then. */
export interface ReportTiming {
  nowMs: number;
  /** The sender's smoothed round-trip estimate (undefined before any sample). */
  rttMs?: number;
  /** The round trip this report's echo measured (undefined when it measured none). */
  rttSampleMs?: number;
}

/** What changed since a receiver's previous report. */
export interface ReportDelta {
  /** Datagrams the receiver learnt of in the interval, and how many of them it lost. */
  expected: number;
  lost: number;
  intervalMs: number;
}

/**
 * The receivers a sender hears, each with its latest report, for the
 * controllers that steer by them (parity, rate): the change since the
 * previous report, across the counters' wrap; staleness; and a cap, the
 * stalest going first. Each receiver carries the controller's own state.
 * Pure: given the time.
 */
export class ReceiverReports<State> {
  private readonly receivers = new Map<number, { previous: ReceiverReport; lastMs: number; state: State }>();
  /** Reports whose counts went backwards, or lost more than expected: confused or forged. */
  ignored = 0;

  constructor(
    /** A receiver not heard from for this long no longer steers. */
    private readonly staleAfterMs: number,
    private readonly maxReceivers = MAX_RECEIVERS,
  ) {}

  /**
   * A report from `receiverId` at `nowMs`. A receiver heard for the first
   * time gets `fresh()` as its state and no delta (nothing to compare with);
   * a report whose counts make no sense is counted and gives no delta.
   */
  add(receiverId: number, report: ReceiverReport, nowMs: number, fresh: () => State): { state: State; delta: ReportDelta | undefined } {
    const known = this.receivers.get(receiverId);
    if (!known) {
      if (this.receivers.size >= this.maxReceivers) this.forgetStalest();
      const state = fresh();
      this.receivers.set(receiverId, { previous: report, lastMs: nowMs, state });
      return { state, delta: undefined };
    }
    const expected = forward32(report.chunksExpected, known.previous.chunksExpected);
    const lost = forward32(report.chunksLost, known.previous.chunksLost);
    const intervalMs = nowMs - known.lastMs;
    known.previous = report;
    known.lastMs = nowMs;
    if (expected === undefined || lost === undefined || lost > expected || intervalMs <= 0) {
      this.ignored++;
      return { state: known.state, delta: undefined };
    }
    return { state: known.state, delta: { expected, lost, intervalMs } };
  }

  get(receiverId: number): State | undefined {
    return this.receivers.get(receiverId)?.state;
  }

  get size(): number {
    return this.receivers.size;
  }

  /** The receivers heard from within staleAfterMs of `nowMs`. */
  *fresh(nowMs: number): IterableIterator<State> {
    for (const r of this.receivers.values()) if (nowMs - r.lastMs <= this.staleAfterMs) yield r.state;
  }

  /** When each receiver was last heard, with its state. */
  *all(): IterableIterator<{ lastMs: number; state: State }> {
    yield* this.receivers.values();
  }

  private forgetStalest(): void {
    let stalest: number | undefined;
    let oldestMs = Infinity;
    for (const [id, r] of this.receivers) if (r.lastMs < oldestMs) [stalest, oldestMs] = [id, r.lastMs];
    if (stalest !== undefined) this.receivers.delete(stalest);
  }
}
