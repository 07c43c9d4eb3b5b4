import { describe, expect, test } from "bun:test";
import { FramePresenter } from "../../src/session/frame-presenter.ts";

describe("FramePresenter", () => {
  test("no clock to follow: every frame at once, nothing held or measured", () => {
    const p = new FramePresenter<number>();
    expect(p.add(1, 500, 0)).toEqual([1]);
    expect(p.add(2, 533, 33)).toEqual([2]);
    const clocked = new FramePresenter<number>((captureUs) => captureUs);
    expect(clocked.add(3, undefined, 0)).toEqual([3]); // no capture time: nothing to follow
    expect(p.stats()).toEqual({ held: 0, skipped: 0, offsetMs: null, waitedMs: null });
  });

  test("a frame ready early waits for its time; one ready late is shown at once and counted late", () => {
    const p = new FramePresenter<number>((captureUs) => captureUs);
    expect(p.add(1, 150, 100)).toEqual([]);
    expect(p.nextDueMs(100)).toBe(150);
    expect(p.due(149)).toEqual([]);
    expect(p.due(151)).toEqual([1]);
    expect(p.add(2, 170, 190)).toEqual([2]); // 20 ms late
    const s = p.stats();
    expect(s.held).toBe(1);
    expect(s.waitedMs).toBe(51);
    expect(s.offsetMs!.max).toBe(20);
  });

  test("a waiting frame follows the clock as it moves: shown at its time as the clock has it when that comes", () => {
    let delayMs = 100;
    const p = new FramePresenter<number>((captureUs) => captureUs + delayMs);
    expect(p.add(1, 0, 10)).toEqual([]);
    expect(p.add(2, 33, 20)).toEqual([]);
    expect(p.nextDueMs(20)).toBe(100);
    delayMs = 70; // the delay came down while both waited: they are due 30 ms sooner
    expect(p.nextDueMs(20)).toBe(70);
    expect(p.due(70)).toEqual([1]);
    delayMs = 120; // and up: the second waits longer
    expect(p.due(110)).toEqual([]);
    expect(p.due(153)).toEqual([2]);
    expect(p.stats().offsetMs!.max).toBe(0);
  });

  test("a waiting frame whose clock is gone (the sound stopped) is shown at once", () => {
    let playing = true;
    const p = new FramePresenter<number>((captureUs) => (playing ? captureUs + 100 : undefined));
    expect(p.add(1, 0, 10)).toEqual([]);
    playing = false;
    expect(p.nextDueMs(20)).toBe(20);
    expect(p.due(20)).toEqual([1]);
  });

  test("in order: a late frame never jumps ahead of an earlier one still waiting", () => {
    const p = new FramePresenter<number>((captureUs) => captureUs);
    p.add(1, 200, 100);
    expect(p.add(2, 150, 160)).toEqual([2]); // 1 is not due yet: 2, ready after its time, goes now
    expect(p.due(1000)).toEqual([1]);
  });

  test("bounded in memory: past 192 MB waiting the oldest is dropped, but two always wait", () => {
    const p = new FramePresenter<number>((captureUs) => captureUs);
    const frame4k = 3840 * 2160 * 4; // 33 MB
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) p.add(n, 400 + n, 100, frame4k);
    expect(p.stats().skipped).toBe(2); // six of 33 MB fit in 192 MB
    expect(p.due(1000)).toEqual([3, 4, 5, 6, 7, 8]);
    const huge = new FramePresenter<number>((captureUs) => captureUs);
    for (const n of [1, 2, 3]) huge.add(n, 400 + n, 100, 300 * 1024 * 1024);
    expect(huge.due(1000)).toEqual([2, 3]);
    const small = new FramePresenter<number>((captureUs) => captureUs);
    for (let n = 0; n < 45; n++) small.add(n, 400 + n, 100, 1280 * 720 * 4); // 45 of 720p (1.5 s at 30 fps): 166 MB
    expect(small.stats().skipped).toBe(0);
  });

  test("after a congested spell the sound waits most of a second: frames due that far ahead wait with it", () => {
    const p = new FramePresenter<number>((captureUs) => captureUs);
    expect(p.add(1, 900, 100)).toEqual([]);
    expect(p.due(899)).toEqual([]);
    expect(p.due(900)).toEqual([1]);
  });

  test("flushed at the end: what waits comes out at once, and is not counted as shown at its time", () => {
    const p = new FramePresenter<number>((captureUs) => captureUs);
    p.add(1, 150, 100);
    p.add(2, 183, 120);
    expect(p.flush()).toEqual([1, 2]);
    expect(p.nextDueMs(100)).toBeUndefined();
    expect(p.stats().offsetMs).toBeNull();
  });

  test("a frame due absurdly far ahead (a clock just set, or wrong) is not held", () => {
    const p = new FramePresenter<number>((captureUs) => captureUs);
    expect(p.add(1, 10_000, 0)).toEqual([1]);
  });
});
