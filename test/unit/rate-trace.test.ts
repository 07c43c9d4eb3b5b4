import { describe, expect, test } from "bun:test";
import { RateTrace } from "../../src/rate/rate-trace.ts";

const point = (quality: number) => ({ targetMbps: 5, quality, scale: 1, fps: 30 });

describe("RateTrace", () => {
  test("one point a quarter second at most, timed from the first", () => {
    const trace = new RateTrace();
    for (let t = 1000; t <= 2000; t += 33) trace.record(t, point(t));
    const times = trace.traced().map((p) => p.t);
    expect(times[0]).toBe(0);
    expect(times).toEqual([0, 264, 528, 792]); // 33 ms apart: the first of each quarter second
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(250);
  });

  test("bounded: past its capacity the oldest points go", () => {
    const trace = new RateTrace(4);
    for (let i = 0; i < 10; i++) trace.record(i * 250, point(i));
    expect(trace.traced().map((p) => p.quality)).toEqual([6, 7, 8, 9]);
  });

  test("traced() is a copy: the caller cannot change the trace", () => {
    const trace = new RateTrace();
    trace.record(0, point(1));
    trace.traced().pop();
    expect(trace.traced()).toHaveLength(1);
  });
});
