import { describe, expect, test } from "bun:test";
import type { ReceiverReport } from "../../src/protocol/feedback-report.ts";
import { AdaptiveEncoding } from "../../src/rate/adaptive-encoding.ts";
import { receiverReport } from "../helpers/reports.ts";

const CEILING = { quality: 80, width: 1280, height: 720 };
const report = (n: number, fields: Partial<ReceiverReport> = {}) => receiverReport(n, { receiveBytesPerSecond: 4_000_000, ...fields }, 300);
const state = (n: number, deliveryBytesPerSecond: number) => ({ reportNumber: n, deliveryBytesPerSecond, decodeLagMs: 0, framesSkippedForTime: 0 });

describe("AdaptiveEncoding", () => {
  test("not adapting: every frame at the ceiling, none left out, the reason says fixed", () => {
    const encoding = new AdaptiveEncoding({ ceiling: CEILING, adapt: false });
    for (let i = 0; i < 5; i++) expect(encoding.next(i, 30, 25, 0, 33 * i)).toMatchObject({ quality: 80, width: 1280, height: 720, frameStride: 1 });
    expect(encoding.isProbe(0)).toBe(false);
    expect(encoding.stats(200)).toMatchObject({ reason: "fixed", targetMbps: null });
    expect(encoding.leavesOutForProbe(10)).toBe(false);
  });

  test("adapting: the first frame is a full-size probe; the next are left out until a receiver answers, then follow the path it measured", () => {
    const encoding = new AdaptiveEncoding({ ceiling: CEILING, adapt: true });
    const probe = encoding.next(0, 30, 25, 0, 0);
    expect(probe).toMatchObject({ width: 1280, height: 720, frameStride: 1 });
    expect(encoding.isProbe(0)).toBe(true);
    expect(encoding.stats(0).reason).toBe("starting");
    expect(new AdaptiveEncoding({ ceiling: CEILING, adapt: true, leaveOutWhileProbing: false }).leavesOutForProbe(10)).toBe(false);
    encoding.sent(42_000, 1, 0, 1);
    // Frames planned meanwhile stay at full size; those due before the answer are left out.
    expect(encoding.next(1, 30, 25, 0, 20)).toMatchObject({ width: 1280, height: 720 });
    expect(encoding.leavesOutForProbe(33)).toBe(true);
    expect(encoding.leavesOutForProbe(66)).toBe(true);
    // The answer: 2 Mbit/s arrived of a probe sent at 336 Mbit/s.
    encoding.report(1, report(0, { receiveBytesPerSecond: 250_000 }), { nowMs: 90, rttSampleMs: 20 });
    encoding.receiverState(1, state(0, 250_000), 90);
    expect(encoding.leavesOutForProbe(100)).toBe(false);
    const next = encoding.next(3, 30, 25, 0, 100);
    expect(next).not.toBe("skip");
    expect(encoding.stats(100)).toMatchObject({ reason: "link limit", probeMbps: 2 });
    expect(encoding.stats(100).targetMbps).toBeCloseTo(1.7, 1);
    // 1.7 Mbit/s of 720p at 30 fps: far too little for full size at the lowest quality.
    expect((next as { scale: number }).scale).toBeLessThan(1);
  });

  test("on a fast path the probe's answer lets the next frames go at full quality and size", () => {
    const encoding = new AdaptiveEncoding({ ceiling: CEILING, adapt: true });
    encoding.next(0, 30, 0, 0, 0);
    encoding.sent(42_000, 1, 0, 1);
    encoding.report(1, report(0), { nowMs: 5, rttSampleMs: 3 });
    encoding.receiverState(1, state(0, 40_000_000), 5); // 320 Mbit/s: as fast as it left
    expect(encoding.next(1, 30, 0, 0, 33)).toMatchObject({ quality: 80, scale: 1, frameStride: 1 });
    expect(encoding.stats(33).reason).toBe("full quality");
  });

  test("a path far too narrow for the picture lowers the frame rate: frames between the stride are skipped, not encoded", () => {
    const encoding = new AdaptiveEncoding({ ceiling: CEILING, adapt: true });
    encoding.next(0, 30, 0, 0, 0);
    encoding.sent(42_000, 1, 0, 1);
    // 0.1 Mbit/s arrived: below what even the smallest picture needs at 30 fps.
    encoding.report(1, report(0, { receiveBytesPerSecond: 12_500 }), { nowMs: 90, rttSampleMs: 20 });
    encoding.receiverState(1, state(0, 12_500), 90);
    const plans = Array.from({ length: 12 }, (_, i) => encoding.next(3 + i, 30, 0, 0, 100 + 33 * i));
    const stride = (plans.find((p) => p !== "skip") as { frameStride: number }).frameStride;
    expect(stride).toBeGreaterThan(1);
    expect(plans.filter((p) => p === "skip").length).toBeGreaterThanOrEqual(Math.floor((12 * (stride - 1)) / stride));
    expect(encoding.stats(500).fps).toBeCloseTo(30 / stride, 1);
    // The trace saw the frame rate fall.
    expect(encoding.traced().at(-1)!.fps).toBeCloseTo(30 / stride, 1);
  });
});
