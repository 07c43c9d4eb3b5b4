import { describe, expect, test } from "bun:test";
import { compareSound } from "../helpers/sound-compare.ts";
import { seededRandom } from "../../src/util/random.ts";

/** The clip's sound: a 1 kHz beep for the first 100 ms of every second over a quiet 330 Hz hum, interleaved stereo. */
function clipSound(seconds: number): Float32Array {
  const out = new Float32Array(seconds * 48_000 * 2);
  for (let i = 0; i < out.length / 2; i++) {
    const t = i / 48_000;
    const v = t % 1 < 0.1 ? 0.5 * Math.sin(2 * Math.PI * 1000 * t) : 0.05 * Math.sin(2 * Math.PI * 330 * t);
    out[2 * i] = out[2 * i + 1] = v;
  }
  return out;
}

/** `source` as a device `speed` × fast records it when given more sound, after `leadSeconds` of silence, with `gapMs` of silence cut in at 2.5 s. */
function recorded(source: Float32Array, speed: number, leadSeconds: number, gapMs = 0): Float32Array {
  const frames = source.length / 2;
  const lead = Math.round(leadSeconds * 48_000);
  const out = new Float32Array((lead + Math.ceil(frames * speed) + 10) * 2);
  for (let i = 0; i < frames * speed - 1; i++) {
    const at = i / speed;
    const j = Math.floor(at);
    const v = source[2 * j]! + (source[2 * j + 2]! - source[2 * j]!) * (at - j);
    const silenced = gapMs > 0 && at >= 2.5 * 48_000 && at < (2.5 + gapMs / 1000) * 48_000;
    out[2 * (lead + i)] = out[2 * (lead + i) + 1] = silenced ? 0 : v;
  }
  return out;
}

describe("compareSound (the sound tests' judge)", () => {
  test("the source after 0.3 s of silence, kept in time by 8 ms of silence added in the hum every half second: found, and it matches in every second", () => {
    const source = clipSound(5);
    const frames = source.length / 2;
    const padded: number[] = new Array(0.3 * 48_000 * 2).fill(0);
    for (let i = 0; i < frames; i++) {
      if (i % 24_000 === 12_000) padded.push(...new Array(8 * 48 * 2).fill(0));
      padded.push(source[2 * i]!, source[2 * i + 1]!);
    }
    const c = compareSound(source, Float32Array.from(padded));
    // Where it starts, within the shifts the recording holds (8 ms every half second).
    expect(Math.abs(c.lagSamples - 0.3 * 48_000)).toBeLessThan(20 * 48);
    expect(c.presentShare).toBeGreaterThanOrEqual(0.99);
    expect(c.longestGapMs).toBeLessThanOrEqual(10);
    for (const r of c.perSecond) expect(r).toBeGreaterThan(0.95);
  }, 30_000);

  test("stretched by a device 1.6% off and given more sound, the beeps no longer line up: a correlation far below 0.9", () => {
    const source = clipSound(5);
    const c = compareSound(source, recorded(source, 1.016, 0.3));
    expect(Math.min(...c.perSecond.slice(1))).toBeLessThan(0.8);
  }, 30_000);

  test("a 60 ms hole is found as one; noise matches nothing", () => {
    const source = clipSound(5);
    const holed = compareSound(source, recorded(source, 1, 0.1, 60));
    expect(holed.longestGapMs).toBeGreaterThanOrEqual(50);
    expect(holed.presentShare).toBeLessThan(1);
    const random = seededRandom(1);
    const noise = Float32Array.from({ length: source.length }, () => (random() - 0.5) * 0.2);
    expect(Math.max(...compareSound(source, noise).perSecond)).toBeLessThan(0.3);
  }, 30_000);
});
