import { expect, test } from "bun:test";
import { RateWindow } from "../../src/util/rate-window.ts";

test("rates are per second over the window, not since the start", () => {
  const rates = new RateWindow<"frames">(2000);
  expect(rates.push(0, { frames: 0 })).toEqual({ frames: 0 });
  expect(rates.push(500, { frames: 15 }).frames).toBe(30);
  rates.push(1000, { frames: 30 });
  rates.push(1500, { frames: 45 });
  rates.push(2000, { frames: 60 });
  // The stream stalls: over the last 2 s only the first 0.5 s had frames.
  rates.push(2500, { frames: 60 });
  rates.push(3000, { frames: 60 });
  rates.push(3500, { frames: 60 });
  expect(rates.push(4000, { frames: 60 }).frames).toBe(0);
  expect(rates.push(4500, { frames: 75 }).frames).toBe(7.5);
});

test("growth counts the increase over the window, for ratios", () => {
  const rates = new RateWindow<"lost" | "expected">(1000);
  rates.push(0, { lost: 100, expected: 1000 });
  rates.push(500, { lost: 101, expected: 1100 });
  rates.push(1000, { lost: 104, expected: 1200 });
  expect(rates.growth("lost")).toBe(4);
  expect(rates.growth("expected")).toBe(200);
  rates.push(1500, { lost: 104, expected: 1300 });
  // The sample at 0 fell out: the window now starts at 500.
  expect(rates.growth("lost")).toBe(3);
  expect(rates.growth("expected")).toBe(200);
});

test("memory stays bounded however long it runs", () => {
  const rates = new RateWindow<"n">(2000);
  for (let t = 0; t < 1_000_000; t += 500) rates.push(t, { n: t });
  expect((rates as unknown as { samples: unknown[] }).samples.length).toBeLessThanOrEqual(6);
});
