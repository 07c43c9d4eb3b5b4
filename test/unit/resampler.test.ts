import { describe, expect, test } from "bun:test";
import { StereoResampler } from "../../src/speaker/resampler.ts";

/** `frames` of a stereo sine (left at `hz`, right at half its amplitude), from sample `from`, at 48 kHz. */
function sine(hz: number, from: number, frames: number): Float32Array {
  const out = new Float32Array(frames * 2);
  for (let i = 0; i < frames; i++) {
    const v = Math.sin((2 * Math.PI * hz * (from + i)) / 48_000);
    out[2 * i] = v;
    out[2 * i + 1] = v / 2;
  }
  return out;
}

describe("StereoResampler", () => {
  test("ratio 1 hands the samples on unchanged", () => {
    const r = new StereoResampler();
    const block = sine(1000, 0, 960);
    expect(r.push(block, 1)).toEqual(block);
  });

  test.each([0.98, 0.995, 1.002, 1.02])("at ratio %d, 20 ms blocks come out as one seamless sine at 1 kHz / ratio, and as many samples as the ratio says", (ratio) => {
    const r = new StereoResampler();
    const out: number[] = [];
    for (let b = 0; b < 50; b++) out.push(...r.push(sine(1000, b * 960, 960), ratio));
    const frames = out.length / 2;
    expect(Math.abs(frames - 50 * 960 * ratio)).toBeLessThanOrEqual(1);
    // Each output sample is the source sine at the input time it stands for (linear interpolation: error under 0.2%).
    for (let i = 0; i < frames - 1; i++) {
      const expected = Math.sin((2 * Math.PI * 1000 * (i / ratio)) / 48_000);
      expect(Math.abs(out[2 * i]! - expected)).toBeLessThan(0.003);
      expect(Math.abs(out[2 * i + 1]! - expected / 2)).toBeLessThan(0.002);
    }
  });

  test("refuses ratios far from 1 and empty blocks give nothing", () => {
    const r = new StereoResampler();
    expect(() => r.push(sine(1000, 0, 10), 3)).toThrow(RangeError);
    expect(() => r.push(sine(1000, 0, 10), Number.NaN)).toThrow(RangeError);
    expect(r.push(new Float32Array(0), 1.01)).toHaveLength(0);
  });

  test("a block's output is good until the next push: the next block's does not depend on what was done with it", () => {
    const a = new StereoResampler();
    const b = new StereoResampler();
    const first = a.push(sine(1000, 0, 960), 1.01);
    b.push(sine(1000, 0, 960), 1.01);
    first.fill(0); // the caller may scale it in place (the volume), as the speaker does
    expect([...a.push(sine(1000, 960, 960), 1.01)]).toEqual([...b.push(sine(1000, 960, 960), 1.01)]);
  });
});
