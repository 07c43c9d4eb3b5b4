import { describe, expect, test } from "bun:test";
import { blendOver, blendOverI420 } from "../../src/display/blend.ts";

const image = (width: number, height: number, pixel: number[]) => ({
  width,
  height,
  rgba: Uint8Array.from({ length: width * height * 4 }, (_, i) => pixel[i % 4]!),
});

test("opaque pixels replace, transparent ones leave the picture alone", () => {
  const bottom = image(2, 1, [10, 20, 30, 255]);
  const top = { width: 2, height: 1, rgba: Uint8Array.from([200, 100, 50, 255, 1, 2, 3, 0]) };
  blendOver(bottom, top, 0, 0);
  expect([...bottom.rgba]).toEqual([200, 100, 50, 255, 10, 20, 30, 255]);
});

test("a half-transparent pixel mixes with the opaque picture under it", () => {
  const bottom = image(1, 1, [200, 100, 0, 255]);
  blendOver(bottom, image(1, 1, [0, 0, 0, 128]), 0, 0);
  // 200 × (1 − 128/255) = 99.6
  expect([...bottom.rgba]).toEqual([100, 50, 0, 255]);
});

test("the panel lands at (x, y) and is clipped at the picture's edges", () => {
  const bottom = image(4, 3, [0, 0, 0, 255]);
  blendOver(bottom, image(3, 3, [255, 255, 255, 255]), 2, 1);
  const white = (x: number, y: number) => bottom.rgba[(y * 4 + x) * 4] === 255;
  const map = [0, 1, 2].map((y) => [0, 1, 2, 3].map((x) => (white(x, y) ? "#" : ".")).join(""));
  expect(map).toEqual(["....", "..##", "..##"]);
  // Negative offsets clip too.
  const other = image(2, 2, [0, 0, 0, 255]);
  blendOver(other, image(2, 2, [9, 9, 9, 255]), -1, -1);
  expect([...other.rgba.slice(0, 4)]).toEqual([9, 9, 9, 255]);
  expect(other.rgba[4]).toBe(0);
});

test("over an opaque picture the integer path matches the exact formula for every alpha", () => {
  for (let a = 0; a <= 255; a++) {
    for (const [top, under] of [[0, 255], [255, 0], [37, 201], [128, 128], [254, 1]] as const) {
      const bottom = image(1, 1, [under, under, under, 255]);
      blendOver(bottom, image(1, 1, [top, top, top, a]), 0, 0);
      expect(bottom.rgba[0]).toBe(Math.round((top * a + under * (255 - a)) / 255));
      expect(bottom.rgba[3]).toBe(255);
    }
  }
});

test("over a translucent picture alpha adds up as Porter–Duff says", () => {
  const bottom = image(1, 1, [0, 0, 200, 128]);
  blendOver(bottom, image(1, 1, [200, 0, 0, 128]), 0, 0);
  // out alpha = 128 + 128 × 127/255 = 191.7; red = 200 × 128 / 191.7 = 133.5; blue = 200 × 128 × 127/255 / 191.7 = 66.5
  expect([...bottom.rgba]).toEqual([134, 0, 66, 192]);
});

describe("onto YUV planes", () => {
  /** A 4:2:0 picture of one colour (Y, Cb, Cr). */
  const yuv = (width: number, height: number, y: number, cb: number, cr: number) => {
    const c = ((width + 1) >> 1) * ((height + 1) >> 1);
    const i420 = new Uint8Array(width * height + 2 * c);
    i420.fill(y, 0, width * height);
    i420.fill(cb, width * height, width * height + c);
    i420.fill(cr, width * height + c);
    return { width, height, i420 };
  };

  test("an opaque panel replaces luma and chroma with its colour's (BT.601 full range)", () => {
    const bottom = yuv(4, 4, 16, 128, 128);
    blendOverI420(bottom, image(4, 4, [255, 0, 0, 255]), 0, 0);
    // Red: Y 76, Cb 85, Cr 255.
    expect(Math.abs(bottom.i420[0]! - 76)).toBeLessThanOrEqual(1);
    expect(Math.abs(bottom.i420[16]! - 85)).toBeLessThanOrEqual(1);
    expect(Math.abs(bottom.i420[20]! - 255)).toBeLessThanOrEqual(1);
  });

  test("a transparent panel leaves the planes alone; half alpha mixes", () => {
    const bottom = yuv(2, 2, 200, 100, 150);
    blendOverI420(bottom, image(2, 2, [0, 0, 0, 0]), 0, 0);
    expect([...bottom.i420]).toEqual([200, 200, 200, 200, 100, 150]);
    blendOverI420(bottom, image(2, 2, [0, 0, 0, 128]), 0, 0);
    // Black (Y 0, Cb = Cr = 128) at half: Y 200 → 100, Cb 100 → 114, Cr 150 → 139.
    expect([...bottom.i420]).toEqual([100, 100, 100, 100, 114, 139]);
  });

  test("the panel lands at (x, y), clipped at the edges, and only the chroma blocks it covers change", () => {
    const bottom = yuv(8, 4, 0, 128, 128);
    blendOverI420(bottom, image(4, 4, [255, 255, 255, 255]), 6, 2);
    const luma = [0, 1, 2, 3].map((y) => [...bottom.i420.subarray(y * 8, y * 8 + 8)].map((v) => (v > 128 ? "#" : ".")).join(""));
    expect(luma).toEqual(["........", "........", "......##", "......##"]);
    const u = [...bottom.i420.subarray(32, 40)];
    // White has Cb = Cr = 128: the chroma stays where it was, everywhere.
    expect(new Set(u)).toEqual(new Set([128]));
    blendOverI420(bottom, image(4, 4, [0, 0, 255, 255]), -2, -2);
    // Blue over the top-left 2x2 only: chroma block (0,0) turns blue (Cb 255), its neighbour stays.
    expect(bottom.i420[32]).toBe(255);
    expect(bottom.i420[33]).toBe(128);
  });
});
