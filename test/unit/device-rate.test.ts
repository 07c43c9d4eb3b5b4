import { describe, expect, test } from "bun:test";
import { DeviceRate } from "../../src/speaker/device-rate.ts";

/** A device taking `chunk`-sample buffers at `speed` × 48 kHz, fed 960 samples every 20 ms (kept ahead of it); observed every 10 ms. */
function simulate(speed: number, chunk: number, seconds: number): DeviceRate {
  const rate = new DeviceRate(48_000);
  let written = 1920;
  for (let now = 0; now <= seconds * 1000; now += 10) {
    const consumed = Math.floor((now * 48 * speed) / chunk) * chunk;
    while (written - consumed < 2 * chunk + 960) written += 960;
    rate.observe(now, written, written - consumed);
  }
  return rate;
}

describe("DeviceRate", () => {
  test("taken at its word until it has been measured for 3 s", () => {
    expect(simulate(1.05, 1024, 2).ratio).toBe(1);
  });

  test.each([1, 1.016, 0.9998, 1.067])("a device at %d × its rate is measured within 0.05%, through its buffer-sized steps", (speed) => {
    expect(Math.abs(simulate(speed, 1024, 12).ratio - speed)).toBeLessThan(0.0005);
  });

  test("a queue that ran dry starts the measurement again; an absurd rate is not believed", () => {
    const rate = simulate(1.016, 1024, 12);
    rate.observe(12_010, 1000, 0);
    expect(rate.ratio).toBe(1);
    const stalled = new DeviceRate(48_000);
    for (let now = 0; now <= 5000; now += 10) stalled.observe(now, 1_000_000, 1_000_000 - now * 48 * 3);
    expect(stalled.ratio).toBe(1);
  });

  test("the position follows a device whose speed wanders (a loaded disk driver): within a few ms of what it really took", () => {
    const rate = new DeviceRate(48_000);
    let written = 1920;
    let consumed = 0;
    let worstMs = 0;
    for (let now = 0; now <= 20_000; now += 10) {
      // 3% fast and slow by turns, every 2 s; 256-sample buffers.
      const speed = 1 + 0.03 * Math.sign(Math.sin((now / 2000) * Math.PI));
      consumed += 480 * speed;
      const taken = Math.ceil(consumed / 256) * 256;
      while (written - taken < 2 * 256 + 960) written += 960;
      rate.observe(now, written, written - taken);
      const smoothed = rate.consumedAt(now);
      if (smoothed !== undefined && now > 1000) worstMs = Math.max(worstMs, Math.abs(smoothed - consumed - 128) / 48);
    }
    // The line runs half a buffer ahead of the play position (a buffer is taken whole), give or take its steps.
    expect(worstMs).toBeLessThan(4);
  });

  test("the 10 s rate is refitted at most every half second (not on every tick), and follows a change by then", () => {
    const rate = new DeviceRate(48_000);
    let consumed = 0;
    let speed = 1.01;
    for (let now = 0; now <= 4000; now += 10) {
      consumed += 480 * speed;
      rate.observe(now, consumed + 2000, 2000);
    }
    const before = rate.ratio;
    expect(before).toBeCloseTo(1.01, 4);
    // Much faster for 300 ms: the fit from 4000 ms stands until 4500.
    speed = 1.08;
    for (let now = 4010; now <= 4300; now += 10) {
      consumed += 480 * speed;
      rate.observe(now, consumed + 2000, 2000);
      expect(rate.ratio).toBe(before);
    }
    for (let now = 4310; now <= 4500; now += 10) {
      consumed += 480 * speed;
      rate.observe(now, consumed + 2000, 2000);
    }
    expect(rate.ratio).toBeGreaterThan(before);
  });
});
