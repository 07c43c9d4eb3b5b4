import { describe, expect, test } from "bun:test";
import { ArrivalLog } from "../../src/feedback/arrival-log.ts";
import { REPORT_INTERVAL_MS, ReportBuilder, SILENT_AFTER_MS } from "../../src/feedback/report-builder.ts";

/** Frames captured every 33 ms whose datagrams arrive after `delayMs(i)`, starting from a capture clock far from ours. */
function feed(log: ArrivalLog, frames: number, delayMs: (i: number) => number, captureBaseUs = 0xffff_0000) {
  for (let i = 0; i < frames; i++) {
    const captureUs = (captureBaseUs + i * 33_000) >>> 0; // wraps past 2^32 on the way
    const arrivalMs = 5000 + i * 33 + delayMs(i);
    for (let position = 0; position < 3; position++) log.arrived(i, position, captureUs, 1000, arrivalMs + position);
  }
}

describe("ArrivalLog", () => {
  test("the delay trend is ~0 on a steady path, positive while a queue builds, negative while it drains", () => {
    const steady = new ArrivalLog();
    feed(steady, 30, () => 20);
    expect(Math.abs(steady.delayTrendUsPerS())).toBeLessThan(50);
    const building = new ArrivalLog();
    feed(building, 30, (i) => 20 + i * 3.3); // +3.3 ms per 33 ms: 100 ms of delay gained per second
    expect(building.delayTrendUsPerS()).toBeGreaterThan(90_000);
    expect(building.delayTrendUsPerS()).toBeLessThan(110_000);
    const draining = new ArrivalLog();
    feed(draining, 30, (i) => 200 - i * 3.3);
    expect(draining.delayTrendUsPerS()).toBeLessThan(-90_000);
  });


  test("resends on a lossy link are no queue: only each frame's first datagram, in frame order, times the one-way delay", () => {
    const log = new ArrivalLog();
    for (let i = 0; i < 30; i++) {
      const arrivalMs = 5000 + i * 33 + 20;
      for (let position = 0; position < 3; position++) log.arrived(i, position, i * 33_000, 1000, arrivalMs + position);
      // A datagram of the frame before, resent after a NACK: it arrives a round trip (and more) late, then the frame goes on.
      if (i > 0) log.arrived(i - 1, 1, (i - 1) * 33_000, 1000, arrivalMs + 3);
      log.arrived(i, 3, i * 33_000, 1000, arrivalMs + 4 + (i % 5) * 6);
    }
    expect(Math.abs(log.delayTrendUsPerS())).toBeLessThan(50);
  });
  test("the echo names the newest datagram and how long ago it came; the rate is per interval", () => {
    const log = new ArrivalLog();
    expect(log.echo(0)).toBeUndefined();
    log.arrived(4, 0, 0, 500, 1000);
    log.arrived(4, 1, 0, 500, 1010);
    expect(log.echo(1012)).toEqual({ frameNumber: 4, position: 1, holdUs: 2000 });
    expect(log.takeReceiveRate(1100)).toBeCloseTo(10_000); // 1000 bytes over 100 ms
    log.arrived(5, 0, 33_000, 2000, 1150);
    expect(log.takeReceiveRate(1200)).toBeCloseTo(20_000);
    log.reset();
    expect(log.echo(1300)).toBeUndefined();
  });
});

describe("ArrivalLog's delivery rate", () => {
  test("a frame's datagrams measure the path: bytes after the first over the time they took, the fastest frame since the last report", () => {
    const log = new ArrivalLog();
    // Frame 1: 5 datagrams of 1000 bytes, 1 ms apart: 4000 bytes in 4 ms.
    for (let i = 0; i < 5; i++) log.arrived(1, i, 0, 1000, 100 + i);
    expect(log.deliveryMeasured).toBe(false); // still open: the frame may go on
    log.frameDone(1);
    expect(log.deliveryMeasured).toBe(true);
    // Frame 2, slower (8 ms apart), closed by frame 3's first datagram; a resend of frame 1 in between is no part of it.
    for (let i = 0; i < 5; i++) log.arrived(2, i, 33_000, 1000, 133 + 8 * i);
    log.arrived(1, 9, 0, 1000, 160);
    log.arrived(3, 0, 66_000, 1000, 170);
    expect(log.takeDeliveryRate()).toBeCloseTo(1_000_000); // frame 1's 1 MB/s, the faster
    expect(log.takeDeliveryRate()).toBe(0);
    // A frame still coming in (its tail lost to a full queue, say) counts as far as it came, when nothing closed.
    for (let i = 0; i < 4; i++) log.arrived(4, i, 99_000, 1000, 200 + 10 * i);
    expect(log.takeDeliveryRate()).toBeCloseTo(100_000);
    // Too few datagrams say nothing.
    const few = new ArrivalLog();
    few.arrived(5, 0, 132_000, 1000, 300);
    few.arrived(5, 1, 132_000, 1000, 301);
    few.frameDone(5);
    expect(few.takeDeliveryRate()).toBe(0);
  });

  test("a token bucket's burst allowance does not count: the rate is that of the frame's second half", () => {
    const log = new ArrivalLog();
    // 8 datagrams of 1000 bytes: the first 4 through the bucket at once, the rest held to 1 a ms.
    for (let i = 0; i < 4; i++) log.arrived(1, i, 0, 1000, 100 + 0.01 * i);
    for (let i = 4; i < 8; i++) log.arrived(1, i, 0, 1000, 100 + (i - 3));
    log.frameDone(1);
    expect(log.takeDeliveryRate()).toBeCloseTo(1_000_000); // 3000 bytes after the 5th over 3 ms, not 7000 over 4
  });

  test("a resend of a frame's datagram, a round trip late, is no part of its train", () => {
    const log = new ArrivalLog();
    for (let i = 0; i < 8; i++) if (i !== 2) log.arrived(1, i, 0, 1000, 100 + i);
    log.arrived(1, 2, 0, 1000, 140); // answered by a NACK
    log.frameDone(1);
    expect(log.takeDeliveryRate()).toBeCloseTo(1_000_000); // positions 4–7 over 3 ms, not stretched to 40
  });

  test("the first report goes as soon as a frame is measured", () => {
    const log = new ArrivalLog();
    const builder = new ReportBuilder();
    const counts = { highestFrame: 0, chunksExpected: 5, chunksLost: 0, chunksRebuilt: 0, framesComplete: 1, framesDropped: 0 };
    for (let i = 0; i < 5; i++) log.arrived(0, i, 0, 1000, 10 + i);
    expect(builder.due(15, counts, log, 120)).toBeUndefined();
    log.frameDone(0);
    expect(builder.due(16, counts, log, 120)).toMatchObject({ reportNumber: 0 });
  });
});

describe("ReportBuilder", () => {
  const counts = { highestFrame: 9, chunksExpected: 100, chunksLost: 4, chunksRebuilt: 3, framesComplete: 9, framesDropped: 0 };

  test("one report per interval, numbered, carrying counts, rate, trend, echo and the budget", () => {
    const log = new ArrivalLog();
    const builder = new ReportBuilder();
    expect(builder.due(0, counts, log, 120)).toBeUndefined(); // nothing arrived yet
    log.arrived(9, 7, 0, 1200, 10);
    // The first report waits for a frame's delivery rate, at most an interval.
    expect(builder.due(20, counts, log, 120)).toBeUndefined();
    const first = builder.due(10 + REPORT_INTERVAL_MS, counts, log, 120)!;
    expect(first).toMatchObject({ reportNumber: 0, ...counts, echoFrameNumber: 9, echoPosition: 7, echoHoldUs: REPORT_INTERVAL_MS * 1000, latencyBudgetMs: 120 });
    expect(builder.due(10 + 2 * REPORT_INTERVAL_MS - 1, counts, log, 120)).toBeUndefined();
    expect(builder.due(10 + 2 * REPORT_INTERVAL_MS, counts, log, 120)!.reportNumber).toBe(1);
    // The stream went quiet (ended, or its sender is gone): no more reports into the void.
    expect(builder.due(10 + SILENT_AFTER_MS + 1, counts, log, 120)).toBeUndefined();
  });
});
