// What a sender's rate trace (send --json: rate.trace) says about how it
// followed a bottleneck's schedule of rates, for bench:network's rate suite.
// Pure: a trace and a schedule in, numbers out.
import type { RateStep } from "../../src/relay/bottleneck.ts";
import type { RateTracePoint } from "../../src/rate/rate-trace.ts";

export interface RateFollowing {
  /** Longest time from a drop in capacity until the target was at or below it (null: never within the trace, or no drop). */
  fitMs: number | null;
  /** Longest time from a return of capacity until the target was back at 80% of it (null: not within the trace). */
  climbMs: number | null;
  /** Mean target over capacity where the capacity held steady: from 3 s into the stream, 1.5 s after a drop, 1 s after climbing back. */
  chosenOverCapacity: number | null;
  /** Largest distance of the target from its mean there, as a share of the mean: how much it swings once settled. */
  swing: number | null;
}

/** Back after a return of capacity: the target at this share of it (the controller settles at 87–105%). */
const CLIMBED_BACK = 0.8;
/** A stream's start is not a steady link: the first step's steady part begins this late. */
const START_MS = 3000;
/** After a drop, the steady part begins this long after the change; after a return, this long after it climbed back. */
const SETTLE_MS = 1500;
const AFTER_CLIMB_MS = 1000;
/** Steady parts shorter than this are not judged. */
const MIN_STEADY_MS = 500;

export function rateFollowing(trace: readonly RateTracePoint[], schedule: readonly RateStep[], endMs: number): RateFollowing {
  const targetAt = (p: RateTracePoint) => p.targetMbps ?? Infinity;
  const fits: (number | null)[] = [];
  let climbMs: number | null = null;
  const ratios: number[] = [];
  let swing: number | null = null;
  for (let i = 0; i < schedule.length; i++) {
    const step = schedule[i]!;
    const until = schedule[i + 1]?.fromMs ?? endMs;
    const during = trace.filter((p) => p.t >= step.fromMs && p.t < until);
    let steadyFrom = i === 0 ? START_MS : step.fromMs + SETTLE_MS;
    if (i > 0 && step.mbit < schedule[i - 1]!.mbit) {
      const fitted = during.find((p) => targetAt(p) <= step.mbit);
      fits.push(fitted ? fitted.t - step.fromMs : null);
    }
    if (i > 0 && step.mbit > schedule[i - 1]!.mbit) {
      const back = during.find((p) => targetAt(p) >= CLIMBED_BACK * step.mbit);
      climbMs = back ? back.t - step.fromMs : null;
      steadyFrom = back ? back.t + AFTER_CLIMB_MS : Infinity;
    }
    if (until - steadyFrom < MIN_STEADY_MS) continue;
    const steady = during.filter((p) => p.t >= steadyFrom && p.targetMbps !== null);
    if (steady.length > 0) {
      const mean = steady.reduce((sum, p) => sum + p.targetMbps!, 0) / steady.length;
      ratios.push(mean / step.mbit);
      const widest = Math.max(...steady.map((p) => Math.abs(p.targetMbps! - mean) / mean));
      swing = Math.max(swing ?? 0, widest);
    }
  }
  return {
    fitMs: fits.length === 0 || fits.includes(null) ? null : Math.max(...(fits as number[])),
    climbMs,
    chosenOverCapacity: ratios.length ? ratios.reduce((a, b) => a + b, 0) / ratios.length : null,
    swing,
  };
}
