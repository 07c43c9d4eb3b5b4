import { describe, expect, test } from "bun:test";
import { Bottleneck, parseRateSchedule } from "../../src/relay/bottleneck.ts";

/** Offers `mbit` of `bytes`-sized datagrams for `ms` from `startMs`; returns each datagram's departure (undefined: dropped). */
function offer(link: Bottleneck, mbit: number, ms: number, bytes = 1250, startMs = 0): { atMs: number; leavesMs: number | undefined }[] {
  const gapMs = (bytes * 8) / (1000 * mbit);
  const fates = [];
  for (let t = startMs; t < startMs + ms; t += gapMs) fates.push({ atMs: t, leavesMs: link.admit(bytes, t) });
  return fates;
}

/** Mbit/s leaving the link in [fromMs, toMs). */
function carried(fates: { leavesMs: number | undefined }[], bytes: number, fromMs: number, toMs: number): number {
  const n = fates.filter((f) => f.leavesMs !== undefined && f.leavesMs >= fromMs && f.leavesMs < toMs).length;
  return (n * bytes * 8) / (1000 * (toMs - fromMs));
}

describe("rate schedule", () => {
  test("a single rate, or rates from times in s or ms", () => {
    expect(parseRateSchedule("8")).toEqual([{ fromMs: 0, mbit: 8 }]);
    expect(parseRateSchedule("25,6@3s,25@7s")).toEqual([
      { fromMs: 0, mbit: 25 },
      { fromMs: 3000, mbit: 6 },
      { fromMs: 7000, mbit: 25 },
    ]);
    expect(parseRateSchedule("2.5, 1@1500ms")).toEqual([
      { fromMs: 0, mbit: 2.5 },
      { fromMs: 1500, mbit: 1 },
    ]);
  });

  test("malformed schedules say what is wrong", () => {
    expect(() => parseRateSchedule("fast")).toThrow('"fast" is not MBIT or MBIT@TIME');
    expect(() => parseRateSchedule("25,6")).toThrow("needs @TIME");
    expect(() => parseRateSchedule("25@1s,6@2s")).toThrow("first rate holds from the start");
    expect(() => parseRateSchedule("25,6@3s,8@2s")).toThrow("times must increase");
    expect(() => parseRateSchedule("0")).toThrow("0.01 to 100000");
    expect(() => parseRateSchedule("25,6@3")).toThrow("is not MBIT or MBIT@TIME");
  });
});

describe("Bottleneck", () => {
  test("below its rate, a datagram leaves after its own transmission time and nothing queues", () => {
    const link = new Bottleneck([{ fromMs: 0, mbit: 10 }], 100);
    // 1250 bytes = 10 kbit: 1 ms at 10 Mbit/s; offered at 5 Mbit/s (one per 2 ms).
    for (const { atMs, leavesMs } of offer(link, 5, 100)) expect(leavesMs! - atMs).toBeCloseTo(1, 9);
    expect(link.stats.datagramsDropped).toBe(0);
  });

  test("over its rate, it carries exactly its rate, the queue never exceeds its limit and the rest is dropped", () => {
    const link = new Bottleneck([{ fromMs: 0, mbit: 8 }], 100);
    const fates = offer(link, 16, 2000);
    expect(carried(fates, 1250, 200, 2000)).toBeCloseTo(8, 1);
    expect(link.stats.maxQueueMs).toBeLessThanOrEqual(100);
    for (const { atMs, leavesMs } of fates) if (leavesMs !== undefined) expect(leavesMs - atMs).toBeLessThanOrEqual(100 + 1.25 + 1e-9);
    const dropped = fates.filter((f) => f.leavesMs === undefined).length;
    expect(dropped / fates.length).toBeGreaterThan(0.45);
    expect(dropped / fates.length).toBeLessThan(0.55);
    expect(link.stats.datagramsDropped).toBe(dropped);
  });

  test("departures keep arrival order and the link is never idle while something waits", () => {
    const link = new Bottleneck([{ fromMs: 0, mbit: 4 }], 50);
    const sent = offer(link, 12, 500).flatMap((f) => (f.leavesMs === undefined ? [] : [f.leavesMs]));
    for (let i = 1; i < sent.length; i++) expect(sent[i]! - sent[i - 1]!).toBeCloseTo(2.5, 6);
  });

  test("a schedule 25 → 6 → 25 Mbit/s carries each rate in its time, counted from the first datagram", () => {
    const link = new Bottleneck(parseRateSchedule("25,6@3s,25@7s"), 100);
    const fates = offer(link, 40, 10_000, 1250, 5000);
    expect(carried(fates, 1250, 5500, 8000)).toBeCloseTo(25, 0);
    expect(carried(fates, 1250, 8200, 12_000)).toBeCloseTo(6, 0);
    expect(carried(fates, 1250, 12_200, 15_000)).toBeCloseTo(25, 0);
    expect(link.rateAt(5000 + 2999)).toBe(25);
    expect(link.rateAt(5000 + 3000)).toBe(6);
    expect(link.rateAt(5000 + 7000)).toBe(25);
  });

  test("what queued before a change of rate leaves at the rates in force while it is sent", () => {
    const link = new Bottleneck(parseRateSchedule("8,4@10ms"), 1000);
    // 20 kbit at t = 0: 10 ms at 8 Mbit/s carries 80 kbit, so it all leaves by 2.5 ms.
    expect(link.admit(2500, 0)).toBeCloseTo(2.5, 9);
    // 100 kbit at t = 5 ms: 80 - 20 + ... : 5 ms at 8 (40 kbit) then 60 kbit at 4 Mbit/s = 15 ms → leaves at 25 ms.
    expect(link.admit(12_500, 5)).toBeCloseTo(25, 9);
  });

  test("the queue limit is in time at the rate of the moment: after a drop in rate, what queued drains slowly and newcomers are dropped", () => {
    const link = new Bottleneck(parseRateSchedule("10,1@1s"), 100);
    const early = offer(link, 20, 1000);
    const before = link.stats.datagramsDropped;
    const late = offer(link, 20, 1000, 1250, 1000);
    // 100 ms queued at 10 Mbit/s is 1 s at 1 Mbit/s: nothing new gets in until it has drained.
    expect(late.filter((f) => f.atMs < 1900 && f.leavesMs !== undefined)).toEqual([]);
    expect(link.stats.datagramsDropped).toBeGreaterThan(before);
    expect(carried([...early, ...late], 1250, 1000, 2000)).toBeCloseTo(1, 1);
    for (const { atMs, leavesMs } of late) if (leavesMs !== undefined) expect(leavesMs - atMs).toBeLessThanOrEqual(100 + 10 + 1e-9);
  });

  test("settings it cannot follow are refused", () => {
    expect(() => new Bottleneck([], 100)).toThrow("starts with the rate at time 0");
    expect(() => new Bottleneck([{ fromMs: 5, mbit: 1 }], 100)).toThrow("starts with the rate at time 0");
    expect(() => new Bottleneck([{ fromMs: 0, mbit: 1 }], -1)).toThrow("0 ms or more");
  });
});
