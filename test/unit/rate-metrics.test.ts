import { expect, test } from "bun:test";
import { rateFollowing } from "../../scripts/bench/rate-metrics.ts";
import { parseRateSchedule } from "../../src/relay/bottleneck.ts";
import type { RateTracePoint } from "../../src/rate/rate-trace.ts";

/** A trace every 250 ms from a function of time. */
const trace = (until: number, at: (t: number) => Omit<RateTracePoint, "t" | "fps">): RateTracePoint[] =>
  Array.from({ length: until / 250 }, (_, i) => ({ t: i * 250, fps: 30, ...at(i * 250) }));

test("a sender that fits 0.5 s after the drop and is back at 80% of the capacity 2 s after the return", () => {
  const schedule = parseRateSchedule("25,6@3s,25@7s");
  const points = trace(12_000, (t) =>
    t < 3500
      ? { targetMbps: 22, quality: 60, scale: 1 }
      : t < 7000
        ? { targetMbps: t % 500 === 0 ? 5.0 : 5.8, quality: 50, scale: 0.5 }
        : t < 9000
          ? { targetMbps: 12, quality: 70, scale: 0.75 }
          : { targetMbps: 22, quality: 58, scale: 1 },
  );
  const result = rateFollowing(points, schedule, 12_000);
  expect(result.fitMs).toBe(500);
  expect(result.climbMs).toBe(2000);
  // Judged where steady: 4.5–7 s (5.0 and 5.8 in turn: mean 5.4 of 6, swing 0.4/5.4) and from 1 s after the climb, 10–12 s (22 of 25).
  expect(result.chosenOverCapacity).toBeCloseTo((5.4 / 6 + 22 / 25) / 2, 5);
  expect(result.swing).toBeCloseTo(0.4 / 5.4, 5);
});

test("never fitting, never climbing back, and a steady target with no swing", () => {
  const schedule = parseRateSchedule("25,6@3s,25@7s");
  const stuck = rateFollowing(trace(10_000, () => ({ targetMbps: 20, quality: 60, scale: 1 })), schedule, 10_000);
  expect(stuck.fitMs).toBeNull();
  const low = rateFollowing(trace(10_000, (t) => (t < 3000 ? { targetMbps: 20, quality: 60, scale: 1 } : { targetMbps: 5, quality: 40, scale: 0.5 })), schedule, 10_000);
  expect(low.fitMs).toBe(0);
  expect(low.climbMs).toBeNull();
  const fixed = rateFollowing(trace(10_000, () => ({ targetMbps: 7.2, quality: 50, scale: 0.75 })), parseRateSchedule("8"), 10_000);
  expect(fixed.swing).toBeCloseTo(0, 9);
  expect(fixed.chosenOverCapacity).toBeCloseTo(0.9, 5);
  expect(fixed.fitMs).toBeNull();
});
