import { describe, expect, test } from "bun:test";
import { PlayoutClock } from "../../src/session/playout-clock.ts";
import { seededRandom } from "../../src/util/random.ts";

/** Packets every 20 ms from capture time `startUs` (sender's clock), each arriving `delay(n)` ms after its capture on a local clock `offsetMs` ahead. */
function feed(clock: PlayoutClock, count: number, delay: (n: number) => number, startUs = 5_000_000, offsetMs = 123_456, driftPpm = 0) {
  for (let n = 0; n < count; n++) {
    const senderMs = n * 20;
    const localMs = offsetMs + senderMs * (1 - driftPpm / 1e6) + delay(n);
    clock.arrived((startUs + senderMs * 1000) >>> 0, localMs);
  }
}

describe("PlayoutClock", () => {
  test("a steady path: plays at capture + path delay + the least allowance + margin, nothing more", () => {
    const clock = new PlayoutClock({ marginMs: 10 });
    expect(clock.playoutMs(0)).toBeUndefined();
    feed(clock, 1000, () => 30);
    // Captured at 5 s on the sender = 0 ms on its timeline: local 123456 + 30 + 5 (the least allowance) + 10.
    // (The starting 40 ms allowance has come down to what was measured by then, a quarter of the excess every 25 packets.)
    expect(clock.playoutMs(5_000_000)).toBeCloseTo(123_501, 6);
    expect(clock.playoutMs(5_020_000)).toBeCloseTo(123_521, 6);
  });

  test("the allowance goes up at once when packets come later, and down gently when they stop", () => {
    const clock = new PlayoutClock({ marginMs: 0 });
    feed(clock, 1000, () => 30);
    expect(clock.delayMs).toBe(5);
    // Every 5th packet 60 ms later than the fastest, from packet 500 to 1000; then calm again.
    const late = new PlayoutClock({ marginMs: 0 });
    const arrive = (n: number) => late.arrived((5_000_000 + n * 20_000) >>> 0, 123_456 + n * 20 + (n >= 500 && n < 1000 && n % 5 === 0 ? 90 : 30));
    for (let n = 0; n < 1000; n++) arrive(n);
    expect(late.delayMs).toBeGreaterThanOrEqual(60);
    const before = late.delayMs;
    for (let n = 1000; n < 1100; n++) arrive(n);
    // 100 calm packets (2 s): the late ones are still 20% of the last 500, so it stays up.
    expect(before - late.delayMs).toBeLessThanOrEqual(4);
    expect(late.delayMs).toBeGreaterThan(50);
  });

  test("after a congested spell the allowance comes back within seconds, in steps small enough to leave out unheard", () => {
    const clock = new PlayoutClock({ marginMs: 0 });
    // 2 s of a 600 ms queue building and draining (the bottleneck's), then calm.
    const at = (n: number) => 123_456 + n * 20 + 30 + (n >= 500 && n < 600 ? 6 * (n < 550 ? n - 500 : 600 - n) * 2 : 0);
    let previous = 0;
    let largestStep = 0;
    let seconds = 0;
    for (let n = 0; n < 2500; n++) {
      clock.arrived((5_000_000 + n * 20_000) >>> 0, at(n));
      if (n >= 600) largestStep = Math.max(largestStep, previous - clock.delayMs);
      previous = clock.delayMs;
      if (n === 600) expect(clock.delayMs).toBeGreaterThan(500);
      if (n > 600 && clock.delayMs <= 5 + 50 && !seconds) seconds = ((n - 600) * 20) / 1000;
    }
    expect(largestStep).toBeLessThanOrEqual(25);
    // The spell leaves the last 500 (10 s) after 500 packets; then down a quarter of the excess, at most 25 ms per 25 packets, to within 50 ms (1 ms at a time: 5 minutes).
    expect(seconds).toBeGreaterThan(10);
    expect(seconds).toBeLessThan(20);
  });

  test("the picture's readiness counts too: the larger need wins, the picture with only a timer's margin", () => {
    const clock = new PlayoutClock({ marginMs: 30 });
    for (let n = 0; n < 1000; n++) {
      clock.arrived((5_000_000 + n * 20_000) >>> 0, 123_456 + n * 20 + 10);
      // A frame every 40 ms, ready 45 ms after the fastest sound captured with it.
      if (n % 2 === 0) clock.pictureReady((5_000_000 + n * 20_000) >>> 0, 123_456 + n * 20 + 10 + 45);
    }
    expect(clock.delayMs).toBeCloseTo(47, 6);
    const soundOnly = new PlayoutClock({ marginMs: 30 });
    for (let n = 0; n < 1000; n++) soundOnly.arrived((5_000_000 + n * 20_000) >>> 0, 123_456 + n * 20 + 10);
    expect(soundOnly.delayMs).toBe(35); // 5 (the least allowance) + 30
  });

  test("a receiver warming up (frames ready 250 ms late in the first second) is followed at once, and forgotten all the way within seconds", () => {
    const clock = new PlayoutClock({ marginMs: 30 });
    const delays: number[] = [];
    for (let n = 0; n < 1000; n++) {
      const atMs = 123_456 + n * 20 + 10;
      clock.arrived((5_000_000 + n * 20_000) >>> 0, atMs);
      // A frame every 40 ms, ready 40 ms after the sound captured with it; 250 ms in the first second (decoders loading).
      if (n % 2 === 0) clock.pictureReady((5_000_000 + n * 20_000) >>> 0, atMs + (n < 50 ? 250 : 40));
      delays.push(clock.delayMs);
    }
    expect(delays[49]).toBeGreaterThanOrEqual(252); // the start: picture and sound together
    // What warming up raised was never measured: it comes down by a quarter of the excess a recomputation (at most 25 ms)
    // all the way, not 1 ms at a time once within 50 ms (that held the stream 50 ms late for another 20 s).
    expect(delays[300]! - 42).toBeLessThanOrEqual(50);
    expect(delays[300]! - 42).toBeGreaterThan(5);
    expect(delays[500]! - 42).toBeLessThanOrEqual(2);
    expect(delays[500]! - 42).toBeGreaterThanOrEqual(0);
    for (let n = 50; n < 1000; n++) expect(delays[n - 1]! - delays[n]!).toBeLessThanOrEqual(25);
  });

  test("the picture: a frame late alone is a hiccup, left to the percentile; frames late in a row are a shift, followed from the second", () => {
    const clock = new PlayoutClock({ marginMs: 30 });
    const lateShown: number[] = [];
    for (let n = 0; n < 1500; n++) {
      const atMs = 123_456 + n * 20 + 10;
      const captureUs = (5_000_000 + n * 20_000) >>> 0;
      clock.arrived(captureUs, atMs);
      if (n % 2 !== 0) continue;
      // Ready 40 ms after its sound; one frame 90 ms (n = 600: a hiccup); from n = 1000 on, 90 ms (larger frames).
      const readyMs = atMs + (n === 600 || n >= 1000 ? 90 : 40);
      clock.pictureReady(captureUs, readyMs);
      if (readyMs > clock.playoutMs(captureUs)!) lateShown.push(n);
    }
    // The hiccup is shown late (the allowance is not raised for it); of the shift, only its first frame.
    expect(lateShown).toEqual([600, 1000]);
    expect(clock.delayMs).toBeGreaterThanOrEqual(92);
  });

  test("until its jitter is measured, a cautious 40 ms", () => {
    const clock = new PlayoutClock({ marginMs: 0 });
    feed(clock, 5, () => 30);
    expect(clock.delayMs).toBe(40);
  });

  test("packets rebuilt late (parity, resends) widen the allowance, never move the path's speed", () => {
    const clock = new PlayoutClock({ marginMs: 0 });
    feed(clock, 1000, () => 30);
    const before = clock.playoutMs(5_000_000)!;
    // Every 10th packet also arrives 70 ms late, rebuilt.
    for (let n = 1000; n < 1500; n++) {
      clock.arrived((5_000_000 + n * 20_000) >>> 0, 123_456 + n * 20 + 30);
      if (n % 10 === 0) clock.arrived((5_000_000 + n * 20_000) >>> 0, 123_456 + n * 20 + 100, true);
    }
    expect(clock.delayMs).toBeGreaterThanOrEqual(69);
    expect(clock.playoutMs(5_000_000)! - before).toBeCloseTo(clock.delayMs - 5, 6);
  });

  test("jitter: plays late enough for 99% of packets, by the fastest transit", () => {
    const random = seededRandom(4);
    const clock = new PlayoutClock({ marginMs: 0 });
    const delays: number[] = [];
    feed(clock, 2000, () => {
      const d = 30 + 40 * random() ** 2;
      delays.push(d);
      return d;
    });
    // Once settled (the path's delay comes down to the fastest gently), the last 500.
    const late = delays.filter((d, n) => n >= 1500 && 123_456 + n * 20 + d > clock.playoutMs((5_000_000 + n * 20_000) >>> 0)!).length;
    expect(late / 500).toBeLessThanOrEqual(0.03);
    expect(clock.delayMs).toBeGreaterThan(34); // 99th percentile of 40·u² is 39.2
    expect(clock.delayMs).toBeLessThan(41);
  });

  test("a path that looked slow at first (a busy start) is followed down gently: most of 140 ms within 4 s, each step small enough to leave out unheard", () => {
    const clock = new PlayoutClock({ marginMs: 0 });
    // The first 10 packets 140 ms slower than the rest.
    const at = (n: number) => 123_456 + n * 20 + (n < 10 ? 170 : 30);
    let previous: number | undefined;
    let largestStep = 0;
    const excessAt: number[] = [];
    for (let n = 0; n < 1000; n++) {
      clock.arrived((5_000_000 + n * 20_000) >>> 0, at(n));
      const playout = clock.playoutMs((5_000_000 + n * 20_000) >>> 0)! - n * 20;
      if (previous !== undefined) largestStep = Math.max(largestStep, previous - playout);
      previous = playout;
      excessAt.push(playout - (123_456 + 30) - clock.delayMs);
    }
    // A 1/70 share of the excess a packet (at most 2 ms here; the starting allowance's quarter steps at most 9 ms, 25 packets apart).
    expect(largestStep).toBeLessThan(10);
    expect(excessAt[9]).toBeCloseTo(140, 0);
    expect(excessAt[60]!).toBeGreaterThan(50); // not at once: 1 s after the fast packets began
    expect(excessAt[60]!).toBeLessThan(90);
    expect(excessAt[210]!).toBeLessThan(15); // 4 s after
    expect(excessAt[999]!).toBeCloseTo(0, 6);
  });

  test("capture times wrapping past 2^32 µs keep their spacing", () => {
    const clock = new PlayoutClock({ marginMs: 0 });
    feed(clock, 200, () => 30, 0xffff_ffff - 1_000_000); // wraps after 1 s
    const before = clock.playoutMs((0xffff_ffff - 1_000_000 + 980_000) >>> 0)!;
    const after = clock.playoutMs((0xffff_ffff - 1_000_000 + 1_020_000) >>> 0)!;
    expect(after - before).toBeCloseTo(40, 6);
  });

  test("a sender clock 200 ppm fast is followed: the offset never grows past the window's drift", () => {
    const clock = new PlayoutClock({ marginMs: 0, windowMs: 2000 });
    feed(clock, 30_000, () => 30, 5_000_000, 0, 200); // 10 minutes
    const n = 29_999;
    const arrival = n * 20 * (1 - 200 / 1e6) + 30;
    const playout = clock.playoutMs((5_000_000 + n * 20_000) >>> 0)!;
    // Without following, it would be 120 ms off after 10 minutes; the 2 s window keeps it within 0.4 ms.
    expect(Math.abs(playout - clock.delayMs - arrival)).toBeLessThan(1);
  });

  test("a stream longer than half the capture clock's range (re-based) keeps its mapping", () => {
    const clock = new PlayoutClock({ marginMs: 0 });
    // 40 minutes in 1 s steps: the capture clock passes 2^31 µs (35.8 min).
    for (let s = 0; s <= 2400; s++) clock.arrived((s * 1_000_000) >>> 0, 1000 + s * 1000 + 30);
    expect(clock.playoutMs((2400 * 1_000_000) >>> 0)).toBeCloseTo(1000 + 2_400_000 + 30 + clock.delayMs, 3);
  });
});
