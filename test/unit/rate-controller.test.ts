import { describe, expect, test } from "bun:test";
import { ArrivalLog } from "../../src/feedback/arrival-log.ts";
import { ReportBuilder, REPORT_INTERVAL_MS } from "../../src/feedback/report-builder.ts";
import type { ReceiverReport } from "../../src/protocol/feedback-report.ts";
import type { ReceiverState } from "../../src/protocol/feedback-receiver-state.ts";
import { RateController } from "../../src/rate/rate-controller.ts";
import { Bottleneck, parseRateSchedule } from "../../src/relay/bottleneck.ts";
import { seededRandom } from "../../src/util/random.ts";
import { receiverReport } from "../helpers/reports.ts";

const FPS = 30;
const DATAGRAM = 1200;
const ONE_WAY_MS = 10;

interface Sample {
  atMs: number;
  /** What the controller allowed (undefined: unconstrained). */
  targetBps: number | undefined;
  capacityBps: number;
}

/**
 * A sender at 30 fps whose frames would be `naturalBps` unconstrained and
 * shrink to the controller's target, each spread over 70% of its interval
 * through a bottleneck; the receiver's arrival log and report builder (the
 * real ones) report every 100 ms, and reports reach the controller one
 * one-way delay later. Fake clock, 1 ms steps.
 */
function simulate(options: {
  schedule: string;
  queueMs: number;
  naturalBps: number;
  seconds: number;
  tamper?: (report: ReceiverReport, atMs: number) => ReceiverReport;
  controller?: RateController;
  /** Random loss after the bottleneck (0–1), from `seed`: a lossy radio hop, not a queue. */
  randomLoss?: number;
  seed?: number;
}): Sample[] {
  const random = seededRandom(options.seed ?? 1);
  const link = new Bottleneck(parseRateSchedule(options.schedule), options.queueMs);
  const controller = options.controller ?? new RateController();
  const log = new ArrivalLog();
  const builder = new ReportBuilder();
  const arrivals: { atMs: number; sentMs: number; frame: number; position: number; captureUs: number }[] = [];
  const reports: { atMs: number; report: ReceiverReport; rttMs: number }[] = [];
  let newestSentMs = 0;
  const counts = { highestFrame: 0, chunksExpected: 0, chunksLost: 0, chunksRebuilt: 0, framesComplete: 0, framesDropped: 0 };
  const samples: Sample[] = [];
  const intervalMs = 1000 / FPS;
  let nextFrameMs = 0;
  let frame = 0;
  let queued: { atMs: number; frame: number; position: number; captureUs: number }[] = [];
  for (let now = 0; now < options.seconds * 1000; now++) {
    if (now >= nextFrameMs) {
      const target = controller.targetBps(now);
      const bits = Math.min(options.naturalBps, target ?? Infinity) / FPS;
      const datagrams = Math.max(1, Math.round(bits / 8 / DATAGRAM));
      for (let position = 0; position < datagrams; position++) {
        queued.push({ atMs: nextFrameMs + (position * 0.7 * intervalMs) / datagrams, frame, position, captureUs: Math.round(nextFrameMs * 1000) });
      }
      counts.chunksExpected += datagrams;
      counts.highestFrame = frame++;
      controller.sent(datagrams * DATAGRAM, now);
      nextFrameMs += intervalMs;
      samples.push({ atMs: now, targetBps: target, capacityBps: link.rateAt(now) * 1e6 });
    }
    // Datagrams due by now enter the bottleneck in order.
    const due = queued.filter((d) => d.atMs <= now);
    queued = queued.filter((d) => d.atMs > now);
    for (const d of due) {
      const leaves = link.admit(DATAGRAM + 28, d.atMs);
      if (leaves === undefined || random() < (options.randomLoss ?? 0)) counts.chunksLost++;
      else arrivals.push({ ...d, sentMs: d.atMs, atMs: leaves + ONE_WAY_MS });
    }
    arrivals.sort((a, b) => a.atMs - b.atMs);
    while (arrivals.length > 0 && arrivals[0]!.atMs <= now) {
      const a = arrivals.shift()!;
      log.arrived(a.frame, a.position, a.captureUs, DATAGRAM, a.atMs);
      newestSentMs = a.sentMs;
    }
    const report = builder.due(now, counts, log, 120);
    // The sender times the round trip from the echo: when it sent that datagram, less how long the receiver held it.
    if (report) reports.push({ atMs: now + ONE_WAY_MS, report: options.tamper ? options.tamper(report, now) : report, rttMs: now + ONE_WAY_MS - newestSentMs - report.echoHoldUs / 1000 });
    while (reports.length > 0 && reports[0]!.atMs <= now) {
      const { report: r, rttMs } = reports.shift()!;
      controller.report(1, r, { nowMs: now, rttSampleMs: rttMs });
    }
  }
  return samples;
}

/** The samples in [fromMs, toMs): never none, so that a check over them cannot pass by having nothing to check. */
const during = (samples: Sample[], fromMs: number, toMs: number) => {
  const within = samples.filter((s) => s.atMs >= fromMs && s.atMs < toMs);
  expect(within.length).toBeGreaterThan(0);
  return within;
};
const mbit = (bps: number | undefined) => (bps ?? Infinity) / 1e6;

describe("RateController against a simulated bottleneck", () => {
  test("an 8 Mbit/s link with a 100 ms queue: below the link within a second, then settled within ±15%, never oscillating wider", () => {
    const samples = simulate({ schedule: "8", queueMs: 100, naturalBps: 30e6, seconds: 20 });
    const firstFit = samples.find((s) => mbit(s.targetBps) <= 8);
    expect(firstFit!.atMs).toBeLessThan(1000);
    const steady = during(samples, 4000, 20_000).map((s) => mbit(s.targetBps));
    const mean = steady.reduce((a, b) => a + b, 0) / steady.length;
    expect(mean).toBeGreaterThan(8 * 0.8);
    expect(mean).toBeLessThan(8 * 1.02);
    for (const t of steady) {
      expect(t).toBeGreaterThan(mean * 0.85);
      expect(t).toBeLessThan(mean * 1.15);
    }
  });

  test("25 → 6 → 25 Mbit/s: under 6 within a second of the drop, back near 25 within 5 s of the return", () => {
    const samples = simulate({ schedule: "25,6@6s,25@10s", queueMs: 100, naturalBps: 40e6, seconds: 18 });
    const before = during(samples, 4000, 6000).map((s) => mbit(s.targetBps));
    for (const t of before) expect(t).toBeGreaterThan(25 * 0.75);
    const fitted = samples.find((s) => s.atMs >= 6000 && mbit(s.targetBps) <= 6)!;
    expect(fitted.atMs - 6000).toBeLessThan(1000);
    // One overshoot may follow while it learns the new capacity; then it stays under it.
    for (const s of during(samples, 8500, 10_000)) expect(mbit(s.targetBps)).toBeLessThan(6 * 1.1);
    const back = samples.find((s) => s.atMs >= 10_000 && mbit(s.targetBps) >= 25 * 0.8)!;
    expect(back).toBeDefined();
    expect(back.atMs - 10_000).toBeLessThan(5000);
  });

  test("a clean path: the start doubles up past the stream's own rate within a second, and nothing is cut", () => {
    const controller = new RateController();
    const samples = simulate({ schedule: "100", queueMs: 100, naturalBps: 30e6, seconds: 10, controller });
    for (const s of during(samples, 1000, 10_000)) expect(mbit(s.targetBps)).toBeGreaterThanOrEqual(30);
    expect(controller.stats.decreases).toBe(0);
  });

  test("random loss with room to spare never spirals: at 2–30% loss, over 50 seeds each, the target never falls below 80% of what the stream needs", () => {
    const needBps = 30e6;
    const worst: Record<string, number> = {};
    for (const loss of [0.02, 0.1, 0.15, 0.2, 0.3]) {
      let lowest = Infinity;
      for (let seed = 1; seed <= 50; seed++) {
        const samples = simulate({ schedule: "1000", queueMs: 100, naturalBps: needBps, seconds: 6, randomLoss: loss, seed });
        for (const s of during(samples, 1000, 6000)) lowest = Math.min(lowest, mbit(s.targetBps));
      }
      worst[`${loss * 100}%`] = lowest;
    }
    expect(worst).toEqual(Object.fromEntries(Object.entries(worst).map(([loss, lowest]) => [loss, Math.max(lowest, (0.8 * needBps) / 1e6)])));
  }, 60_000);

  test("a single late report, or a single lossy one, changes nothing", () => {
    const late = new RateController();
    simulate({
      schedule: "100",
      queueMs: 100,
      naturalBps: 30e6,
      seconds: 6,
      controller: late,
      tamper: (report, atMs) => (atMs >= 3000 && atMs < 3100 ? { ...report, delayTrendUsPerS: 500_000 } : report),
    });
    expect(late.stats.decreases).toBe(0);
    // 30% of one report's chunks lost: a burst, below what is acted on at once.
    const lossy = new RateController();
    let previousExpected = 0;
    let extraLoss = 0;
    simulate({
      schedule: "100",
      queueMs: 100,
      naturalBps: 30e6,
      seconds: 6,
      controller: lossy,
      tamper: (report, atMs) => {
        if (atMs >= 3000 && atMs < 3100) extraLoss = Math.round(0.3 * (report.chunksExpected - previousExpected));
        previousExpected = report.chunksExpected;
        return { ...report, chunksLost: report.chunksLost + extraLoss };
      },
    });
    expect(lossy.stats.decreases).toBe(0);
  });
});

describe("RateController", () => {
  const report = (n: number, fields: Partial<ReceiverReport>) => receiverReport(n, fields);

  test("several receivers: the stream follows the slowest that still reports", () => {
    const controller = new RateController();
    // A queue's signal at most halves the target per cut: 10 → 5 → 2.5 → 0.87 × 2 Mbit/s takes three cuts, two reports each (one more to start).
    for (let n = 0; n < 8; n++) {
      controller.report(1, report(n, { receiveBytesPerSecond: 1_000_000, delayTrendUsPerS: 200_000 }), { nowMs: 100 * n });
      controller.report(2, report(n, { receiveBytesPerSecond: 250_000, delayTrendUsPerS: 200_000 }), { nowMs: 100 * n });
    }
    expect(controller.targetBps(700)).toBeCloseTo(0.87 * 2e6, -3);
    // Receiver 2 falls silent; after three seconds receiver 1 alone steers.
    for (let n = 8; n < 40; n++) controller.report(1, report(n, { receiveBytesPerSecond: 1_000_000, delayTrendUsPerS: 200_000 }), { nowMs: 100 * n });
    expect(controller.targetBps(3900)).toBeCloseTo(0.87 * 8e6, -3);
  });

  test("a link that drops to a quarter: the cut goes to what the latest report saw arrive, not to the one that still held the rate before the drop", () => {
    const controller = new RateController({ startBps: 25e6 });
    // 25 Mbit/s sent (about 300 datagrams of 1042 bytes per 100 ms report), all of it arriving, for two seconds.
    let n = 0;
    const sendAndReport = (arrivingBytesPerS: number, lostPerReport: number) => {
      controller.sent(312_500, 100 * n);
      controller.report(1, report(n, { chunksExpected: 300 * n, chunksLost: lostNow(lostPerReport), receiveBytesPerSecond: arrivingBytesPerS }), { nowMs: 100 * n });
      n++;
    };
    let lost = 0;
    const lostNow = (more: number) => (lost += more);
    for (let i = 0; i < 20; i++) sendAndReport(3_125_000, 0);
    expect(controller.targetBps(100 * n)!).toBeGreaterThanOrEqual(25e6);
    sendAndReport(1_000_000, 200); // the drop came early in this report's interval: 8 Mbit/s arrived
    sendAndReport(750_000, 225); // 6 Mbit/s arriving: three quarters lost
    expect(controller.targetBps(100 * n)!).toBeLessThanOrEqual(0.87 * 6e6 + 1);
  });

  test("receivers claimed from the network are bounded: a flood of ids keeps the newest, and the real one still steers", () => {
    const controller = new RateController();
    for (let n = 0; n < 4; n++) controller.report(1, report(n, { receiveBytesPerSecond: 1_000_000, delayTrendUsPerS: 200_000 }), { nowMs: 100 * n });
    for (let id = 1000; id < 11_000; id++) controller.report(id, report(0, {}), { nowMs: 350 });
    expect((controller as unknown as { receivers: Map<number, unknown> }).receivers.size).toBeLessThanOrEqual(64);
    for (let n = 4; n < 8; n++) controller.report(1, report(n, { receiveBytesPerSecond: 1_000_000, delayTrendUsPerS: 200_000 }), { nowMs: 100 * n });
    expect(controller.targetBps(700)).toBeCloseTo(0.87 * 8e6, -3);
  });

  test("never below its floor, never above --max-rate", () => {
    const capped = new RateController({}, 5e6);
    expect(capped.targetBps(0)).toBe(5e6);
    const floor = new RateController({ minBps: 300_000 });
    for (let n = 0; n < 14; n++) floor.report(1, report(n, { receiveBytesPerSecond: 1000, delayTrendUsPerS: 200_000 }), { nowMs: 100 * n });
    expect(floor.targetBps(1300)).toBe(300_000);
  });

  test("steady loss of a lossy link is not congestion, nor is loss that grows at the same rate; loss that rises with the rate (a policer) is", () => {
    // Each report: 100 datagrams of 1200 bytes sent and announced, `lossShare` of them lost.
    const drive = (controller: RateController, from: number, to: number, lossShare: number, bytesPer100Ms: number, lostSoFar: { n: number }) => {
      for (let n = from; n < to; n++) {
        controller.sent(bytesPer100Ms, 100 * n);
        lostSoFar.n += Math.round(100 * lossShare);
        controller.report(1, report(n, { chunksLost: lostSoFar.n, receiveBytesPerSecond: 10 * bytesPer100Ms * (1 - lossShare) }), { nowMs: 100 * n, rttSampleMs: 20 });
      }
    };
    const lossy = new RateController();
    drive(lossy, 0, 80, 0.15, 120_000, { n: 0 });
    expect(lossy.stats).toMatchObject({ decreases: 0 });
    expect(lossy.targetBps(8000)).toBeGreaterThan(9.6e6);
    const worse = new RateController();
    const worseLost = { n: 0 };
    drive(worse, 0, 30, 0, 120_000, worseLost);
    drive(worse, 30, 80, 0.3, 120_000, worseLost);
    expect(worse.stats).toMatchObject({ decreases: 0 });
    const policed = new RateController();
    const policedLost = { n: 0 };
    drive(policed, 0, 30, 0, 100_000, policedLost);
    expect(policed.stats.decreases).toBe(0);
    // The stream speeds up from 8 to 10 Mbit/s and a policer at 8 drops the 20% above it.
    drive(policed, 30, 45, 0.2, 125_000, policedLost);
    expect(policed.stats.causes["loss-rising"]).toBeGreaterThanOrEqual(1);
    expect(policed.stats.decreases).toBe(policed.stats.causes["loss-rising"]);
    expect(policed.targetBps(4500)!).toBeLessThan(8e6);
  });

  test("a standing queue (round trips well above the least seen) is congestion even when the delay no longer grows", () => {
    const controller = new RateController();
    for (let n = 0; n < 20; n++) controller.report(1, report(n, {}), { nowMs: 100 * n, rttSampleMs: 20 });
    // The recent round trip is the least of the last 300 ms: a queue counts once it has stood that long.
    for (let n = 20; n < 24; n++) controller.report(1, report(n, { delayTrendUsPerS: 0 }), { nowMs: 100 * n, rttSampleMs: 20 + 90 });
    expect(controller.stats.decreases).toBe(0);
    controller.report(1, report(24, { delayTrendUsPerS: 0 }), { nowMs: 2400, rttSampleMs: 20 + 90 });
    expect(controller.targetBps(2400)).toBeCloseTo(0.87 * 8e6, -3);
    // One slow round trip among quick ones is a busy receiver, not a queue.
    const jittery = new RateController();
    for (let n = 0; n < 40; n++) jittery.report(1, report(n, {}), { nowMs: 100 * n, rttSampleMs: n % 10 === 5 ? 150 : 20 });
    expect(jittery.stats.decreases).toBe(0);
  });

  const state = (n: number, fields: Partial<ReceiverState> = {}): ReceiverState => ({ reportNumber: n, deliveryBytesPerSecond: 0, decodeLagMs: 0, framesSkippedForTime: 0, ...fields });

  test("the first frame probes the path: frames wait for its answer; a path that spread it out sets the start just under that rate", () => {
    const narrow = new RateController();
    narrow.sent(40_000, 0, 0, 1); // 320 Mbit/s leaving the sender
    expect(narrow.awaitingProbe(50)).toBe(true);
    narrow.report(1, report(0, { receiveBytesPerSecond: 375_000 }), { nowMs: 120, rttSampleMs: 20 });
    narrow.receiverState(1, state(0, { deliveryBytesPerSecond: 375_000 }), 120); // 3 Mbit/s arriving
    expect(narrow.awaitingProbe(121)).toBe(false);
    expect(narrow.targetBps(121)).toBeCloseTo(0.85 * 3e6, -3);
    expect(narrow.stats.probeBps).toBe(3e6);
    // From there it climbs as after a cut, never far above what arrives; no doubling into the link's queue.
    for (let n = 1; n <= 5; n++) {
      narrow.sent(32_000, 120 + 100 * n);
      narrow.report(1, report(n, { receiveBytesPerSecond: 375_000 }), { nowMs: 120 + 100 * n, rttSampleMs: 20 });
    }
    expect(narrow.state(620)).toBe("increase");
    expect(narrow.targetBps(620)!).toBeLessThanOrEqual(1.15 * 3e6);
    // A path at least as fast as the probe left: the start is raised to it, and may climb on.
    const wide = new RateController();
    wide.sent(40_000, 0, 0, 1);
    wide.report(1, report(0, {}), { nowMs: 5, rttSampleMs: 2 });
    wide.receiverState(1, state(0, { deliveryBytesPerSecond: 30_000_000 }), 5); // 240 Mbit/s
    // …by at most 4 times the start rate (a token bucket lets a probe smaller than its burst allowance through at line rate).
    expect(wide.targetBps(6)).toBe(4 * 10e6);
    expect(wide.state(6)).toBe("startup");
    // A receiver that never answers (an older one): the stream goes on at the start rate after 400 ms.
    const silent = new RateController();
    silent.sent(40_000, 0, 0, 1);
    expect(silent.awaitingProbe(399)).toBe(true);
    expect(silent.awaitingProbe(400)).toBe(false);
    expect(silent.targetBps(400)).toBe(10e6);
  });

  test("a receiver short of CPU (its decoder lagging, or skipping frames) is not a congested path: the rate holds, and says why", () => {
    const drive = (busy: boolean) => {
      const controller = new RateController();
      for (let n = 0; n < 20; n++) controller.report(1, report(n, {}), { nowMs: 100 * n, rttSampleMs: 20 });
      for (let n = 20; n < 30; n++) {
        controller.report(1, report(n, { delayTrendUsPerS: 200_000 }), { nowMs: 100 * n, rttSampleMs: 20 });
        controller.receiverState(1, state(n, busy ? { decodeLagMs: 250, framesSkippedForTime: n } : {}), 100 * n);
      }
      return controller;
    };
    const busy = drive(true);
    expect(busy.stats.decreases).toBe(0);
    expect(busy.stats.busyHolds).toBeGreaterThan(0);
    expect(busy.state(2900)).toBe("receiver-busy");
    expect(busy.receiverBusy(2900)).toBe(true);
    const congested = drive(false);
    expect(congested.stats.causes["delay-growing"]).toBeGreaterThan(0);
    expect(congested.receiverBusy(2900)).toBe(false);
  });

  test("a sender falling behind its own capture times is no queue: its growing lag is taken out of the receiver's delay trend", () => {
    const drive = (senderLagGrows: boolean) => {
      const controller = new RateController();
      for (let n = 0; n < 60; n++) {
        const now = 100 * n;
        // Three frames per report; from 2 s on, the sender's lag (and so the delay the receiver sees) grows 100 ms a second.
        for (let f = 0; f < 3; f++) controller.sent(30_000, now + 33 * f, senderLagGrows && n >= 20 ? (now + 33 * f - 2000) / 10 : 0);
        // The receiver's trend spans the last second too: it shows the growth once its window holds it all.
        controller.report(1, report(n, { delayTrendUsPerS: n >= 30 ? 100_000 : 0 }), { nowMs: now, rttSampleMs: 20 });
      }
      return controller;
    };
    expect(drive(true).stats.decreases).toBe(0);
    expect(drive(false).stats.causes["delay-growing"]).toBeGreaterThan(0);
  });

  test("a cut the path did not confirm (it delivered all that was sent) is undone within 2 s once no queue shows", () => {
    const controller = new RateController();
    let n = 0;
    const at = () => 100 * n;
    // A stream of up to 8 Mbit/s (what its pictures need) that sends what it is allowed, all of it arriving.
    const needBps = 8e6;
    const step = (delayTrendUsPerS: number) => {
      const bytes = Math.min(needBps, controller.targetBps(at()) ?? Infinity) / 8 / 10;
      controller.sent(bytes, at());
      controller.report(1, report(n, { receiveBytesPerSecond: bytes * 10, delayTrendUsPerS }), { nowMs: at(), rttSampleMs: 20 });
      n++;
    };
    while (n < 30) step(0);
    expect(controller.targetBps(at())!).toBeGreaterThanOrEqual(needBps);
    // Busy moments read as growing delay: cut after cut, each while everything sent still arrived, to under 80%.
    while (n < 60 && controller.targetBps(at())! >= 0.8 * needBps) step(200_000);
    const cutMs = at();
    expect(controller.stats.decreases).toBeGreaterThanOrEqual(2);
    expect(controller.targetBps(cutMs)!).toBeLessThan(0.8 * needBps);
    while (n < 100 && controller.targetBps(at())! < 0.95 * needBps) step(0);
    expect(at() - cutMs).toBeLessThan(2000);
  });

  test("a report that goes backwards in its counts is ignored", () => {
    const controller = new RateController();
    controller.report(1, report(5, {}), { nowMs: 0 });
    controller.report(1, report(6, { chunksExpected: 10, chunksLost: 5000 }), { nowMs: 100 });
    expect(controller.stats.reportsIgnored).toBe(1);
    expect(controller.stats.decreases).toBe(0);
  });
});
