import { describe, expect, test } from "bun:test";
import { FrameClock, spreadSchedule } from "../../src/pacer/frame-clock.ts";

describe("FrameClock", () => {
  test("deadlines are absolute multiples of the interval: no drift after many frames", () => {
    const clock = new FrameClock(30, 1000);
    expect(clock.dueMs(0)).toBe(1000);
    expect(clock.dueMs(300)).toBeCloseTo(11000, 9);
    expect(clock.dueMs(108_000)).toBeCloseTo(1000 + 3_600_000, 6);
  });

  test("refuses a non-positive rate", () => {
    expect(() => new FrameClock(0, 0)).toThrow("fps must be positive");
    expect(() => new FrameClock(Number.NaN, 0)).toThrow("fps must be positive");
  });
});

describe("spreadSchedule", () => {
  test("covers every datagram exactly once, in order, inside the window", () => {
    for (const [count, window] of [
      [1, 20],
      [31, 20],
      [150, 26.7],
      [1000, 16],
      [7, 1],
    ] as const) {
      const slots = spreadSchedule(count, window);
      let next = 0;
      for (const slot of slots) {
        expect(slot.from).toBe(next);
        expect(slot.to).toBeGreaterThan(slot.from);
        expect(slot.atMs).toBeGreaterThanOrEqual(0);
        expect(slot.atMs).toBeLessThan(Math.max(window, 1));
        next = slot.to;
      }
      expect(next).toBe(count);
    }
  });

  test("spreads evenly: no slot carries much more than its share", () => {
    const slots = spreadSchedule(150, 26);
    expect(slots.length).toBe(13);
    const sizes = slots.map((s) => s.to - s.from);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });
});
