import { describe, expect, test } from "bun:test";
import { HeardTimeline } from "../../src/speaker/heard-timeline.ts";

// 48 kHz: 48 device samples a ms, 0.048 a µs; packets of 20 ms (960 samples).
const PER_US = 0.048;
const PER_MS = 48;

describe("HeardTimeline", () => {
  test("a sample is heard when the device reaches its place in the stream, plus the device's latency", () => {
    const t = new HeardTimeline();
    t.add(1_000_000, 20_000, 0, PER_US, 0);
    t.add(1_020_000, 20_000, 960, PER_US, 0);
    // At 100 ms the device has taken 480 samples (10 ms): the second packet's start is 10 ms on, heard 5 ms after that.
    expect(t.heardAtMs(1_020_000, 100, 480, PER_MS, 5)).toBeCloseTo(115, 6);
    // 7.5 ms into the first packet: 360 samples in, already taken 120 samples ago.
    expect(t.heardAtMs(1_007_500, 100, 480, PER_MS, 5)).toBeCloseTo(102.5, 6);
  });

  test("silence put before a packet, or sound left out of its start, moves when its instants are heard", () => {
    const t = new HeardTimeline();
    t.add(0, 20_000, 0, PER_US, 0);
    // 5 ms of silence (240 samples) went in before the next packet: it starts at 1200, not 960.
    t.add(20_000, 20_000, 1200, PER_US, 0);
    expect(t.heardAtMs(20_000, 0, 0, PER_MS, 0)).toBeCloseTo(25, 6);
    // The next had its first 4 ms left out: its sound starts at capture 44 ms, right after the one before.
    t.add(44_000, 16_000, 2160, PER_US, 0);
    expect(t.heardAtMs(44_000, 0, 0, PER_MS, 0)).toBeCloseTo(45, 6);
    expect(t.heardAtMs(42_000, 0, 0, PER_MS, 0)).toBeUndefined(); // left out: never heard
  });

  test("a device playing fast or slow, and a resampled stream, are both counted", () => {
    const t = new HeardTimeline();
    // Written stretched by 1% (more device samples per capture µs).
    t.add(0, 20_000, 0, PER_US * 1.01, 0);
    t.add(20_000, 20_000, 969.6, PER_US * 1.01, 0);
    // The device takes 1% more a ms than nominal: 969.6 samples are 20 ms.
    expect(t.heardAtMs(20_000, 0, 0, PER_MS * 1.01, 0)).toBeCloseTo(20, 6);
  });

  test("sound not yet queued, or from before anything kept, is not known", () => {
    const t = new HeardTimeline();
    expect(t.heardAtMs(0, 0, 0, PER_MS, 0)).toBeUndefined();
    t.add(100_000, 20_000, 0, PER_US, 0);
    expect(t.heardAtMs(120_000, 0, 0, PER_MS, 0)).toBeUndefined();
    expect(t.heardAtMs(99_999, 0, 0, PER_MS, 0)).toBeUndefined();
  });

  test("capture times that wrap past 2^32 µs are followed", () => {
    const t = new HeardTimeline();
    const last = 0xffff_ffff - 9_999; // 10 ms before the wrap
    t.add(last, 20_000, 0, PER_US, 0);
    const afterWrap = (last + 15_000) >>> 0; // 5 ms after it
    expect(afterWrap).toBeLessThan(last);
    expect(t.heardAtMs(afterWrap, 0, 0, PER_MS, 0)).toBeCloseTo(15, 6);
  });

  test("bounded: only the last two seconds of packets are kept", () => {
    const t = new HeardTimeline();
    for (let n = 0; n < 10_000; n++) t.add(n * 20_000, 20_000, n * 960, PER_US, n * 20);
    expect(t.heardAtMs(0, 200_000, 0, PER_MS, 0)).toBeUndefined();
    expect(t.heardAtMs(9_999 * 20_000, 200_000, 9_999 * 960, PER_MS, 0)).toBeCloseTo(200_000, 6);
    expect((t as unknown as { queued: unknown[] }).queued.length).toBeLessThanOrEqual(102);
  });
});
