import type { ReceiverReport } from "../protocol/feedback-report.ts";

/*
 * How many bits per second the path to the receivers can carry, from their
 * reports, in the spirit of WebRTC's GCC (draft-ietf-rmcat-gcc): a queue
 * building (the one-way delay growing) or heavy loss means the stream sends
 * more than the bottleneck carries, so the target drops to a little under
 * what is actually arriving; otherwise it climbs, fast while far from the
 * last capacity seen and gently near it, where the next overshoot is likely.
 * Pure: given reports and the time.
 */

export interface RateControllerOptions {
  /** The lowest target: below this a stream is not worth sending (and the climb starts from somewhere). */
  minBps: number;
  /** One-way delay growing faster than this (µs per s) is a queue building. */
  overuseTrendUsPerS: number;
  /** Loss (before FEC and resends) above this share in a report is congestion, whatever the delay does. */
  congestionLoss: number;
  /** Congested reports in a row before acting: one late or lossy report is not a trend. */
  congestedReportsToAct: number;
  /** After a congestion, the target is this share of what arrives. */
  backoff: number;
  /** Growth per second while far from the last capacity seen. */
  fastGrowthPerS: number;
  /** Growth per second near it, as a share of that capacity. */
  gentleGrowthPerS: number;
  /** A receiver that has not reported for this long no longer steers. */
  staleAfterMs: number;
}

const DEFAULTS: RateControllerOptions = {
  minBps: 250_000,
  overuseTrendUsPerS: 40_000,
  congestionLoss: 0.1,
  congestedReportsToAct: 2,
  backoff: 0.85,
  fastGrowthPerS: 1.8,
  gentleGrowthPerS: 0.12,
  staleAfterMs: 1000,
};

/** The arrival rate is smoothed over about this long: a 100 ms report holds only 3 frames. */
const ARRIVAL_SMOOTHING_MS = 300;
/** The estimate never runs further ahead of what arrives than this (GCC's 1.5): it must stay something the path has shown. */
const MAX_AHEAD_OF_ARRIVALS = 1.5;

export type RateState = "unconstrained" | "decrease" | "hold" | "increase";

interface Receiver {
  previous: ReceiverReport;
  lastMs: number;
  /** Smoothed arrival rate, bits/s. */
  arrivalBps: number | undefined;
  /** Undefined until the path first showed congestion: until then the stream sends what it has. */
  estimateBps: number | undefined;
  congestedInARow: number;
  state: RateState;
  /** The arrival rate at the last congestions: where the link's capacity was (mean and spread, bits/s). */
  capacity: { meanBps: number; deviationBps: number } | undefined;
}

export class RateController {
  private readonly options: RateControllerOptions;
  private readonly receivers = new Map<number, Receiver>();
  readonly stats = { decreases: 0, reportsIgnored: 0 };

  constructor(
    options: Partial<RateControllerOptions> = {},
    /** Never aim above this (send --max-rate), bits/s. */
    private readonly maxBps = Infinity,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** A report from `receiverId` arrived (checked to be newer than its last). */
  report(receiverId: number, report: ReceiverReport, nowMs: number): void {
    const receiver = this.receivers.get(receiverId);
    if (!receiver) {
      this.receivers.set(receiverId, { previous: report, lastMs: nowMs, arrivalBps: undefined, estimateBps: undefined, congestedInARow: 0, state: "unconstrained", capacity: undefined });
      return;
    }
    const intervalMs = nowMs - receiver.lastMs;
    const expected = (report.chunksExpected - receiver.previous.chunksExpected) >>> 0;
    const lost = (report.chunksLost - receiver.previous.chunksLost) >>> 0;
    receiver.previous = report;
    receiver.lastMs = nowMs;
    // Counts that went backwards (wrapped far) or more lost than expected: a confused or forged report.
    if (intervalMs <= 0 || expected >= 0x8000_0000 || lost > expected) {
      this.stats.reportsIgnored++;
      return;
    }
    const arrivalBps = report.receiveBytesPerSecond * 8;
    const weight = Math.min(1, intervalMs / ARRIVAL_SMOOTHING_MS);
    receiver.arrivalBps = receiver.arrivalBps === undefined ? arrivalBps : receiver.arrivalBps + weight * (arrivalBps - receiver.arrivalBps);
    const loss = expected === 0 ? 0 : lost / expected;
    const congested = report.delayTrendUsPerS > this.options.overuseTrendUsPerS || loss > this.options.congestionLoss;
    receiver.congestedInARow = congested ? receiver.congestedInARow + 1 : 0;
    if (receiver.congestedInARow >= this.options.congestedReportsToAct) this.decrease(receiver, arrivalBps);
    else if (congested || report.delayTrendUsPerS < -this.options.overuseTrendUsPerS) {
      // One congested report, or a queue still draining: wait and see.
      if (receiver.estimateBps !== undefined) receiver.state = "hold";
    } else this.increase(receiver, intervalMs);
  }

  /** What the stream may send now, bits/s; undefined when nothing constrains it (no fresh report has shown congestion). */
  targetBps(nowMs: number): number | undefined {
    let target: number | undefined;
    for (const receiver of this.receivers.values()) {
      if (nowMs - receiver.lastMs > this.options.staleAfterMs || receiver.estimateBps === undefined) continue;
      target = Math.min(target ?? Infinity, receiver.estimateBps);
    }
    if (target === undefined) return this.maxBps === Infinity ? undefined : this.maxBps;
    return Math.min(this.maxBps, target);
  }

  /** The state of the receiver that sets the target (the slowest), for the stats. */
  state(nowMs: number): RateState {
    const target = this.targetBps(nowMs);
    for (const receiver of this.receivers.values()) if (receiver.estimateBps === target && nowMs - receiver.lastMs <= this.options.staleAfterMs) return receiver.state;
    return "unconstrained";
  }

  private decrease(receiver: Receiver, latestArrivalBps: number): void {
    // While a queue stands, the link is never idle: the latest report's arrival rate is its capacity, not noise.
    const arrival = Math.min(receiver.arrivalBps ?? Infinity, latestArrivalBps);
    const target = Math.max(this.options.minBps, this.options.backoff * arrival);
    // A queue keeps signalling while it drains: cutting again is only right if less arrives than before.
    if (receiver.estimateBps === undefined || target < receiver.estimateBps) {
      receiver.estimateBps = target;
      this.stats.decreases++;
      receiver.capacity = learnCapacity(receiver.capacity, arrival);
    }
    receiver.state = "decrease";
    receiver.congestedInARow = 0;
  }

  private increase(receiver: Receiver, intervalMs: number): void {
    if (receiver.estimateBps === undefined) return;
    const estimate = receiver.estimateBps;
    const capacity = receiver.capacity;
    // More arriving than the capacity seen, without a queue building: the link got better, and that capacity no longer applies.
    if (capacity && (receiver.arrivalBps ?? 0) > capacity.meanBps + 2 * capacity.deviationBps) receiver.capacity = undefined;
    const near = receiver.capacity !== undefined && estimate > receiver.capacity.meanBps - 2 * receiver.capacity.deviationBps;
    const seconds = intervalMs / 1000;
    const grown = near ? estimate + this.options.gentleGrowthPerS * receiver.capacity!.meanBps * seconds : estimate * this.options.fastGrowthPerS ** seconds;
    const ceiling = Math.max(this.options.minBps, MAX_AHEAD_OF_ARRIVALS * (receiver.arrivalBps ?? 0));
    receiver.estimateBps = Math.max(estimate, Math.min(grown, ceiling));
    receiver.state = "increase";
  }
}

/** The spread is never taken below this share of the mean: a few samples are not a certainty. */
const MIN_DEVIATION = 0.04;

/**
 * Mean and spread of the arrival rates at congestion. A sample far outside
 * (over 3 spreads) means the link changed: it starts afresh, as GCC does.
 */
function learnCapacity(capacity: Receiver["capacity"], arrivalBps: number): NonNullable<Receiver["capacity"]> {
  if (!capacity || Math.abs(arrivalBps - capacity.meanBps) > 3 * capacity.deviationBps) return { meanBps: arrivalBps, deviationBps: MIN_DEVIATION * arrivalBps };
  const meanBps = 0.7 * capacity.meanBps + 0.3 * arrivalBps;
  const deviationBps = Math.max(MIN_DEVIATION * meanBps, 0.7 * capacity.deviationBps + 0.3 * Math.abs(arrivalBps - meanBps));
  return { meanBps, deviationBps };
}
