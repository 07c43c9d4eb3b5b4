import { describe, expect, test } from "bun:test";
import { FrameClock } from "../../src/pacer/frame-clock.ts";
import { PacedSender } from "../../src/pacer/paced-sender.ts";
import { TokenBucket } from "../../src/pacer/token-bucket.ts";

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

describe("TokenBucket", () => {
  test("starts full, then lets bytes through at the rate", () => {
    const bucket = new TokenBucket(10, 100, 0); // 10 bytes/ms, burst 100
    expect(bucket.delayMs(100, 0)).toBe(0);
    bucket.take(100, 0);
    expect(bucket.delayMs(50, 0)).toBe(5);
    expect(bucket.delayMs(50, 5)).toBe(0);
    bucket.take(50, 5);
    expect(bucket.delayMs(10, 5)).toBe(1);
  });

  test("more than the burst at once is refused, never waited for forever", () => {
    expect(() => new TokenBucket(10, 100, 0).delayMs(101, 0)).toThrow("exceed the 100-byte burst");
  });

  test("never saves up more than the burst", () => {
    const bucket = new TokenBucket(10, 100, 0);
    bucket.take(100, 0);
    expect(bucket.delayMs(100, 1_000_000)).toBe(0);
    bucket.take(100, 1_000_000);
    expect(bucket.delayMs(100, 1_000_000)).toBe(10);
  });

  test("over a long run the average rate is the configured rate", () => {
    const bucket = new TokenBucket(3, 50, 0);
    let now = 0;
    let sent = 0;
    while (now < 10_000) {
      const wait = bucket.delayMs(40, now);
      now += wait;
      bucket.take(40, now);
      sent += 40;
    }
    expect(sent / now).toBeGreaterThan(2.95);
    expect(sent / now).toBeLessThan(3.05);
  });

  test("a rate change keeps what was earned, up to the new burst", () => {
    const bucket = new TokenBucket(1, 100, 0);
    bucket.configure(5, 20, 0);
    expect(bucket.delayMs(20, 0)).toBe(0);
    bucket.take(20, 0);
    expect(bucket.delayMs(10, 0)).toBe(2);
    expect(() => bucket.configure(0, 10, 0)).toThrow("rate must be a positive number");
  });
});

describe("PacedSender", () => {
  async function pace(count: number, size: number, windowMs: number, maxBytesPerMs?: number) {
    const sendTimes: number[] = [];
    const socket = {
      send: async (datagrams: readonly Uint8Array[], from = 0, to = datagrams.length) => {
        for (let i = from; i < to; i++) sendTimes.push(performance.now());
      },
    };
    const datagrams = Array.from({ length: count }, () => new Uint8Array(size));
    const start = performance.now();
    await new PacedSender(socket, maxBytesPerMs).sendFrame(datagrams, windowMs);
    return { sendTimes: sendTimes.map((t) => t - start), total: performance.now() - start };
  }

  test("spreads a frame over its window instead of one burst", async () => {
    const { sendTimes, total } = await pace(100, 1400, 40);
    expect(sendTimes.length).toBe(100);
    expect(total).toBeGreaterThan(30);
    expect(total).toBeLessThan(80);
    // The first quarter of the datagrams goes out in the first part of the window, not all at once.
    expect(sendTimes[50]!).toBeGreaterThan(10);
  });

  test("a rate cap stretches the frame beyond its window", async () => {
    // 100 × 1000 bytes at 1000 bytes/ms (8 Mbit/s) cannot take less than ~100 ms.
    const { total } = await pace(100, 1000, 10, 1000);
    expect(total).toBeGreaterThan(90);
  });
});
