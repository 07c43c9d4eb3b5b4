import { describe, expect, test } from "bun:test";
import { FrameClock } from "../../src/pacer/frame-clock.ts";
import { PacedSender } from "../../src/pacer/paced-sender.ts";
import { SoundRideAlong } from "../../src/pacer/sound-ride-along.ts";
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

describe("SoundRideAlong", () => {
  const packet = (byte: number) => [new Uint8Array([byte]), new Uint8Array([byte, byte])];

  test("a batch within the early margin takes the sound along, once, and says so", () => {
    const ride = new SoundRideAlong(4);
    let taken = 0;
    const datagrams = packet(7);
    ride.hold(datagrams, 100, () => taken++);
    expect(ride.take(95)).toBeUndefined(); // 5 ms early: too early
    expect(taken).toBe(0);
    expect(ride.take(96)).toBe(datagrams);
    expect(taken).toBe(1);
    expect(ride.take(97)).toBeUndefined();
    expect(ride.release()).toBeUndefined(); // its own timer then has nothing to send
    expect(taken).toBe(1);
  });

  test("with no batch in time, its due time releases it for its own send; a late batch finds nothing", () => {
    const ride = new SoundRideAlong(4);
    let taken = 0;
    const datagrams = packet(3);
    ride.hold(datagrams, 50, () => taken++);
    expect(ride.release()).toBe(datagrams);
    expect(ride.take(50)).toBeUndefined();
    expect(taken).toBe(0);
  });

  test("a packet overdue is taken by any batch", () => {
    const ride = new SoundRideAlong(4);
    ride.hold(packet(1), 10, () => {});
    expect(ride.take(1000)).toHaveLength(2);
  });

  test("one packet waits at a time: a second before the first went is a bug, said", () => {
    const ride = new SoundRideAlong();
    ride.hold(packet(1), 10, () => {});
    expect(() => ride.hold(packet(2), 30, () => {})).toThrow("already waiting");
    ride.take(10);
    expect(() => ride.hold(packet(2), 30, () => {})).not.toThrow();
  });
});

describe("PacedSender with sound riding along", () => {
  test("sound due during a frame goes at the head of a batch, in the same socket call, and every picture datagram still goes once", async () => {
    const calls: Uint8Array[][] = [];
    const socket = {
      send: async (datagrams: readonly Uint8Array[], from = 0, to = datagrams.length) => {
        calls.push(datagrams.slice(from, to));
      },
    };
    const ride = new SoundRideAlong(4);
    const picture = Array.from({ length: 60 }, (_, i) => new Uint8Array(1000).fill(i));
    const sound = [new Uint8Array([0xaa]), new Uint8Array([0xbb])];
    let takenAtMs: number | undefined;
    const start = performance.now();
    // Due 15 ms into a 30 ms window: a batch goes within the margin before it.
    ride.hold(sound, start + 15, () => (takenAtMs = performance.now()));
    await new PacedSender(socket, undefined, start, ride).sendFrame(picture, 30);
    expect(takenAtMs).toBeDefined();
    expect(takenAtMs! - start).toBeGreaterThanOrEqual(15 - 4); // never earlier than the margin
    const withSound = calls.filter((call) => call.includes(sound[0]!));
    expect(withSound).toHaveLength(1);
    expect(withSound[0]!.slice(0, 2)).toEqual(sound);
    expect(withSound[0]!.length).toBeGreaterThan(2); // with picture datagrams, not alone
    const sentPicture = calls.flat().filter((d) => d.length === 1000);
    expect(sentPicture).toEqual(picture);
  });

  test("sound due after the frame is left for its own timer", async () => {
    const socket = { send: async () => {} };
    const ride = new SoundRideAlong(4);
    const start = performance.now();
    ride.hold([new Uint8Array([1])], start + 200, () => {});
    await new PacedSender(socket, undefined, start, ride).sendFrame([new Uint8Array(500), new Uint8Array(500)], 10);
    expect(ride.release()).toHaveLength(1);
  });
});
