import { expect, test } from "bun:test";
import { halvePlane, i420Planes, i420Size, scaleI420, scalePlane } from "../../src/encoder/plane-scaler.ts";

const plane = (w: number, h: number, at: (x: number, y: number) => number) => Uint8Array.from({ length: w * h }, (_, i) => at(i % w, Math.floor(i / w)));

test("I420 sizes round the chroma planes up for odd sides", () => {
  expect(i420Size(4, 2)).toBe(8 + 2 + 2);
  expect(i420Size(5, 3)).toBe(15 + 2 * 3 * 2);
  const data = new Uint8Array(i420Size(5, 3));
  const { y, u, v } = i420Planes({ width: 5, height: 3, data });
  expect([y.length, u.length, v.length]).toEqual([15, 6, 6]);
  expect(() => i420Planes({ width: 5, height: 3, data: new Uint8Array(20) })).toThrow(RangeError);
});

test("a flat plane stays flat at every rate-control size", () => {
  for (const [dw, dh] of [
    [960, 540],
    [640, 360],
    [480, 270],
    [320, 180],
  ] as const) {
    const dst = new Uint8Array(dw * dh);
    scalePlane(new Uint8Array(1280 * 720).fill(77), 1280, 720, dst, dw, dh);
    expect(dst.every((v) => v === 77)).toBe(true);
  }
});

test("halving averages each 2×2 block, rounded", () => {
  const src = Uint8Array.from([0, 1, 10, 20, 2, 3, 30, 40]);
  const { plane: out, width, height } = halvePlane(src, 4, 2);
  expect([width, height]).toEqual([2, 1]);
  expect([...out]).toEqual([2, 25]); // (0+1+2+3+2)>>2 = 2, (10+20+30+40+2)>>2 = 25
});

test("a horizontal ramp stays a ramp, ends near the source's ends, never out of range", () => {
  const sw = 1280;
  const src = plane(sw, 4, (x) => Math.round((x * 255) / (sw - 1)));
  const dw = 960;
  const dst = new Uint8Array(dw * 2);
  scalePlane(src, sw, 4, dst, dw, 2);
  for (let x = 1; x < dw; x++) expect(dst[x]!).toBeGreaterThanOrEqual(dst[x - 1]!);
  expect(dst[0]!).toBeLessThanOrEqual(1);
  expect(dst[dw - 1]!).toBeGreaterThanOrEqual(254);
  // Each output pixel near the source's value at the same relative place.
  for (let x = 0; x < dw; x += 97) expect(Math.abs(dst[x]! - ((x + 0.5) / dw) * 255)).toBeLessThan(2);
});

test("a quarter-size picture averages every source pixel (no aliasing of fine stripes)", () => {
  // One-pixel stripes: sampling would see all black or all white; averaging sees grey.
  const src = plane(64, 64, (x) => (x % 2 ? 255 : 0));
  const dst = new Uint8Array(16 * 16);
  scalePlane(src, 64, 64, dst, 16, 16);
  for (const v of dst) expect(Math.abs(v - 128)).toBeLessThanOrEqual(1);
});

test("scaleI420 scales all three planes, and gives the same picture back at its own size", () => {
  const width = 8;
  const height = 6;
  const data = new Uint8Array(i420Size(width, height));
  const planes = i420Planes({ width, height, data });
  planes.y.fill(200);
  planes.u.fill(60);
  planes.v.fill(180);
  const same = { width, height, data };
  expect(scaleI420(same, 8, 6)).toBe(same);
  const small = scaleI420(same, 4, 4);
  const out = i420Planes(small);
  expect([out.y.length, out.u.length, out.v.length]).toEqual([16, 4, 4]);
  expect([...new Set(out.y)]).toEqual([200]);
  expect([...new Set(out.u)]).toEqual([60]);
  expect([...new Set(out.v)]).toEqual([180]);
  expect(() => scaleI420(same, 0, 4)).toThrow(RangeError);
});

test("a 1-pixel-wide or -high plane scales without reading outside it", () => {
  const dst = new Uint8Array(3);
  scalePlane(Uint8Array.from([9, 9, 9, 9, 9]), 1, 5, dst, 1, 3);
  expect([...dst]).toEqual([9, 9, 9]);
  scalePlane(Uint8Array.from([4, 4, 4, 4, 4, 4]), 6, 1, dst, 3, 1);
  expect([...dst]).toEqual([4, 4, 4]);
});
