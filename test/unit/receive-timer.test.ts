import { describe, expect, test } from "bun:test";
import { nextWakeUp, ReceiveTimer, SHARE_MS, type Presenting } from "../../src/commands/receive-timer.ts";

describe("nextWakeUp", () => {
  test("housekeeping alone while no frame waits, or while the next is due well after it", () => {
    expect(nextWakeUp(100, undefined)).toEqual({ atMs: 100, present: false, housekeeping: true });
    expect(nextWakeUp(100, 100 + SHARE_MS + 1)).toEqual({ atMs: 100, present: false, housekeeping: true });
  });

  test("a frame is shown at its time, never moved; housekeeping due close to it, before or after, runs with it", () => {
    // Housekeeping due 3 ms before the frame waits for it; due 3 ms after, comes early.
    expect(nextWakeUp(100, 103)).toEqual({ atMs: 103, present: true, housekeeping: true });
    expect(nextWakeUp(100, 97)).toEqual({ atMs: 97, present: true, housekeeping: true });
    // Well before the housekeeping: the frame alone.
    expect(nextWakeUp(100, 100 - SHARE_MS - 1)).toEqual({ atMs: 100 - SHARE_MS - 1, present: true, housekeeping: false });
    // A frame already overdue goes at once (its time is in the past: the timer fires without delay).
    expect(nextWakeUp(100, 50)).toEqual({ atMs: 50, present: true, housekeeping: false });
  });
});

/** A session whose frames are due at the given times (local ms), each shown once. */
function fakeSession(dueAtMs: number[]): Presenting & { shownAtMs: number[]; late: number[] } {
  const waiting = [...dueAtMs];
  const shownAtMs: number[] = [];
  const late: number[] = [];
  return {
    shownAtMs,
    late,
    nextPresentMs: () => waiting[0],
    present(nowMs) {
      while (waiting.length && waiting[0]! <= nowMs + 0.5) {
        late.push(nowMs - waiting.shift()!);
        shownAtMs.push(nowMs);
      }
    },
  };
}

describe("ReceiveTimer", () => {
  test("shows each frame at its time, keeps housekeeping about every period, and wakes fewer times than the two apart", async () => {
    const start = performance.now();
    // 30 frames a second for 600 ms, as a stream held to its sound's clock.
    const session = fakeSession(Array.from({ length: 18 }, (_, i) => start + 20 + (i * 1000) / 30));
    const housekeepingAtMs: number[] = [];
    let wakeUps = 0;
    // Each callback the timer sets is a wake-up: counted through a wrapper for the whole run.
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = ((fn: () => void, ms?: number) => realSetTimeout(() => (wakeUps++, fn()), ms)) as typeof setTimeout;
    const timer = new ReceiveTimer(() => session, () => housekeepingAtMs.push(performance.now()), 10);
    try {
      await Bun.sleep(650);
    } finally {
      timer.stop();
      globalThis.setTimeout = realSetTimeout;
    }
    expect(session.shownAtMs).toHaveLength(18);
    // Never early; late only by the event loop's own lateness (a shared machine: generous).
    for (const ms of session.late) expect(ms).toBeGreaterThanOrEqual(-0.5);
    expect(Math.max(...session.late)).toBeLessThan(25);
    // Housekeeping went on throughout, at most some 14 ms apart as planned (plus the loop's lateness).
    const gaps = housekeepingAtMs.slice(1).map((t, i) => t - housekeepingAtMs[i]!);
    expect(housekeepingAtMs.length).toBeGreaterThanOrEqual(40);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(10 - 2 * SHARE_MS - 0.5);
    // Apart, 18 showings and some 60 housekeepings would each wake it: most showings share one.
    expect(wakeUps).toBeLessThan(housekeepingAtMs.length + 18 - 5);
  });

  test("a frame that starts waiting between wake-ups is shown at its time once schedule() is called", async () => {
    const waiting: number[] = [];
    const shownLateMs: number[] = [];
    const session: Presenting = {
      nextPresentMs: () => waiting[0],
      present: (nowMs) => {
        if (waiting.length && waiting[0]! <= nowMs + 0.5) shownLateMs.push(nowMs - waiting.shift()!);
      },
    };
    // A long period: only the frame's own time can bring the wake-up that shows it.
    const timer = new ReceiveTimer(() => session, () => {}, 1000);
    try {
      await Bun.sleep(15);
      waiting.push(performance.now() + 27);
      timer.schedule();
      await Bun.sleep(80);
      expect(shownLateMs).toHaveLength(1);
      expect(shownLateMs[0]!).toBeGreaterThanOrEqual(-0.5);
      expect(shownLateMs[0]!).toBeLessThan(25);
    } finally {
      timer.stop();
    }
  });

  test("stopped, it neither shows nor keeps house", async () => {
    const session = fakeSession([performance.now() + 20]);
    let housekeepings = 0;
    const timer = new ReceiveTimer(() => session, () => housekeepings++, 10);
    timer.stop();
    await Bun.sleep(40);
    expect(session.shownAtMs).toHaveLength(0);
    expect(housekeepings).toBe(0);
  });
});
