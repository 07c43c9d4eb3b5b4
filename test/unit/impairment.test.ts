import { describe, expect, test } from "bun:test";
import { fragmentsFor, Impairment, REORDER_HOLD_MS } from "../../src/relay/impairment.ts";

function run(impairment: Impairment, count: number, size = 1400, spacingMs = 1) {
  const fates: number[][] = [];
  for (let i = 0; i < count; i++) fates.push(impairment.process(size, i * spacingMs));
  return fates;
}

describe("Impairment", () => {
  test("fragments: ceil((S + 8) / (MTU − 20))", () => {
    expect(fragmentsFor(1400, 1500)).toBe(1);
    expect(fragmentsFor(1472, 1500)).toBe(1);
    expect(fragmentsFor(1473, 1500)).toBe(2);
    expect(fragmentsFor(65501, 1500)).toBe(45);
    expect(fragmentsFor(0, 1500)).toBe(1);
  });

  test("no impairment: everything leaves at once, in order", () => {
    const fates = run(new Impairment(), 100);
    expect(fates).toEqual(Array.from({ length: 100 }, (_, i) => [i]));
  });

  test("random loss hits the rate, and a 65 KB datagram dies with any of its 45 fragments", () => {
    const small = new Impairment({ loss: 0.05, seed: 7 });
    const lostSmall = run(small, 20_000).filter((f) => f.length === 0).length / 20_000;
    expect(lostSmall).toBeGreaterThan(0.045);
    expect(lostSmall).toBeLessThan(0.055);
    const big = new Impairment({ loss: 0.01, seed: 7 });
    const lostBig = run(big, 5000, 65501).filter((f) => f.length === 0).length / 5000;
    const expected = 1 - 0.99 ** 45; // ≈ 36%
    expect(Math.abs(lostBig - expected)).toBeLessThan(0.03);
    expect(big.stats.fragments).toBe(5000 * 45);
  });

  test("Gilbert–Elliott bursts: the average rate is kept and losses come in runs of the mean length", () => {
    const impairment = new Impairment({ burstLoss: { rate: 0.05, meanLength: 4 }, seed: 3 });
    const lost = run(impairment, 100_000).map((f) => f.length === 0);
    const rate = lost.filter(Boolean).length / lost.length;
    expect(rate).toBeGreaterThan(0.04);
    expect(rate).toBeLessThan(0.06);
    const runs: number[] = [];
    let length = 0;
    for (const l of lost) {
      if (l) length++;
      else if (length > 0) {
        runs.push(length);
        length = 0;
      }
    }
    const meanRun = runs.reduce((a, b) => a + b, 0) / runs.length;
    expect(meanRun).toBeGreaterThan(3.5);
    expect(meanRun).toBeLessThan(4.5);
  });

  test("the same seed gives the same run; another seed another", () => {
    const options = { loss: 0.1, reorder: 0.05, duplicate: 0.05, jitterMs: 3 };
    const a = run(new Impairment({ ...options, seed: 42 }), 2000);
    const b = run(new Impairment({ ...options, seed: 42 }), 2000);
    const c = run(new Impairment({ ...options, seed: 43 }), 2000);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  test("reorder holds some back, duplicate sends twice, delay and jitter shift departures", () => {
    const impairment = new Impairment({ reorder: 0.1, duplicate: 0.1, delayMs: 20, jitterMs: 5, seed: 9 });
    const fates = run(impairment, 10_000);
    const all = fates.flat();
    expect(fates.every((f, i) => f.every((t) => t >= i + 20 && t <= i + 20 + 5 + REORDER_HOLD_MS + 0.1))).toBe(true);
    expect(impairment.stats.datagramsDuplicated).toBeGreaterThan(900);
    expect(impairment.stats.datagramsReordered).toBeGreaterThan(900);
    expect(all.length).toBe(10_000 + impairment.stats.datagramsDuplicated);
  });

  test("a rate limit spaces departures by transmission time and drops when the queue is full", () => {
    // 1400 bytes (+ UDP and IP headers: 1428 on the link) at 8 Mbit/s take 1.428 ms; arrivals every 0.1 ms build a queue that overflows at 200 ms.
    const impairment = new Impairment({ rate: [{ fromMs: 0, mbit: 8 }], seed: 1 });
    const fates = run(impairment, 1000, 1400, 0.1);
    const sent = fates.filter((f) => f.length > 0).map((f) => f[0]!);
    for (let i = 1; i < sent.length; i++) expect(sent[i]! - sent[i - 1]!).toBeCloseTo(1.428, 6);
    expect(impairment.stats.datagramsQueueDropped).toBeGreaterThan(0);
    expect(sent.at(-1)! - 0).toBeLessThan(100 + 200 + 2);
  });

  test("bad settings are refused", () => {
    expect(() => new Impairment({ loss: 1 })).toThrow("loss must be a probability");
    expect(() => new Impairment({ reorder: -0.1 })).toThrow("reorder must be a probability");
    expect(() => new Impairment({ burstLoss: { rate: 0.1, meanLength: 0.5 } })).toThrow("mean burst length");
    expect(() => new Impairment({ mtu: 20 })).toThrow("MTU must be at least 68");
  });
});
